// Container images, unit level: JSON tree and canonical form, build times, layer order,
// digests, detection, the walk's layout hand-over, option validation, zstd layers.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalTimeText, formatRfc3339 } from '../formats/oci/config.js';
import { sha256Hex } from '../formats/oci/digest.js';
import { JsonNumber, JsonObject, parseJson, quote, serialize, serializeCanonical } from '../formats/oci/json.js';
import { compareLayerNames } from '../formats/oci/layer.js';
import { looksLikeImageArchive } from '../formats/oci/index.js';
import { normalizeTree, resolveOptions } from '../src/api.js';
import { makeProbe } from '../src/engine.js';
import { BufferSource } from '../src/io.js';
import { defaultOptions, optionsFromJson } from '../src/options.js';
import { FormatError } from '../src/types.js';
import { walk } from '../src/walk.js';
import { directoryHandler } from '../src/directory.js';
import { HANDLERS } from '../formats/index.js';
import { haveTool, run, tempDir } from './helpers.js';
import { VARIANT_A, makeLayout, readTree } from './oci-helpers.js';

const tmp = tempDir('detnorm-oci-unit-');
afterAll(() => tmp.cleanup());
const enc = (s: string) => Buffer.from(s, 'utf8');

describe('json.ts: ordered tree, strict parsing, canonical form', () => {
  it('keeps key order and number text; canonical form sorts keys and compacts', () => {
    const v = parseJson(enc('{ "b": 1, "a": [true, null, 12345678901234567890, -1.5e3], "2": "x" }'), 't') as JsonObject;
    expect(v.entries.map(([k]) => k)).toEqual(['b', 'a', '2']);
    expect((v.getArray('a')![2] as JsonNumber).text).toBe('12345678901234567890');
    expect(Buffer.from(serializeCanonical(v)).toString()).toBe('{"2":"x","a":[true,null,12345678901234567890,-1.5e3],"b":1}');
    expect(Buffer.from(serialize(v, false)).toString()).toBe('{"b":1,"a":[true,null,12345678901234567890,-1.5e3],"2":"x"}');
  });
  it("escapes as Go's encoding/json does", () => {
    expect(quote('a<b>&"\\\n\u0001\u2028é')).toBe('"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\u0001\\u2028é"');
    const round = parseJson(enc(quote('x\u0000y\t')), 't');
    expect(round).toBe('x\u0000y\t');
  });
  it.each([
    ['{"a":1,}', /expected a key/],
    ['{"a":1,"a":2}', /duplicate key/],
    ['[1,]', /unexpected/],
    ['{"a":1} x', /data after/],
    ['"\u0001"', /control character/],
    ['\ufeff{}', /byte order mark/],
    ['{"a":01}', /expected/],
  ])('rejects %j', (text, re) => {
    expect(() => parseJson(enc(text), 't')).toThrow(FormatError);
    expect(() => parseJson(enc(text), 't')).toThrow(re);
  });
  it('rejects invalid UTF-8 and survives deep nesting without recursion', () => {
    expect(() => parseJson(Uint8Array.of(0x22, 0xff, 0x22), 't')).toThrow(/UTF-8/);
    expect(() => parseJson(enc('['.repeat(5000) + ']'.repeat(5000)), 't')).toThrow(/nested too deeply/);
    const deep = '['.repeat(900) + ']'.repeat(900);
    expect(Buffer.from(serializeCanonical(parseJson(enc(deep), 't'))).toString()).toBe(deep);
  });
});

describe('config.ts: build times', () => {
  const o = (x: object) => defaultOptions(x);
  it('without T: 1970-01-01T00:00:00Z; with T: T; clamp keeps earlier times', () => {
    expect(formatRfc3339(1423159771)).toBe('2015-02-05T18:09:31Z');
    expect(canonicalTimeText(o({}), '2023-11-14T22:13:20.123456789Z')).toBe('1970-01-01T00:00:00Z');
    expect(canonicalTimeText(o({}), '1970-01-01T00:00:00Z')).toBeUndefined();
    expect(canonicalTimeText(o({ timestamp: 1423159771 }), '2023-11-14T23:13:20+01:00')).toBe('2015-02-05T18:09:31Z');
    expect(canonicalTimeText(o({ timestamp: 1423159771, clamp: true }), '2010-01-01T00:00:00.5Z')).toBeUndefined();
    expect(canonicalTimeText(o({ timestamp: 1423159771, clamp: true }), '2020-01-01T00:00:00Z')).toBe('2015-02-05T18:09:31Z');
    expect(canonicalTimeText(o({ timestamp: 1423159771, clamp: true }), 'not a time')).toBeUndefined();
    expect(canonicalTimeText(o({ timestamp: 1423159771 }), 'not a time')).toBe('2015-02-05T18:09:31Z');
  });
});

describe('layer.ts: member order', () => {
  it('whiteouts first among siblings (opaque marker first), directories before contents', () => {
    const names = ['usr/bin/zz', 'usr/bin/.wh.t2', 'usr/', 'etc/app.conf', 'etc/.wh..wh..opq', 'etc/', 'usr/bin/', 'usr/bin/-x', 'etc/.wh.a', 'etc/.abc', 'etc-x'];
    expect([...names].sort(compareLayerNames)).toEqual([
      'etc/', 'etc/.wh..wh..opq', 'etc/.wh.a', 'etc/.abc', 'etc/app.conf', 'etc-x', 'usr/', 'usr/bin/', 'usr/bin/.wh.t2', 'usr/bin/-x', 'usr/bin/zz',
    ]);
  });
});

describe('digest.ts', () => {
  it('accepts sha256 only; other algorithms and malformed digests are FormatErrors', () => {
    expect(sha256Hex(`sha256:${'a'.repeat(64)}`, 'w')).toBe('a'.repeat(64));
    expect(() => sha256Hex(`sha512:${'a'.repeat(128)}`, 'w')).toThrow(/not supported/);
    expect(() => sha256Hex(`sha256:${'A'.repeat(64)}`, 'w')).toThrow(/not supported|malformed/);
    expect(() => sha256Hex('sha256:../../etc/passwd', 'w')).toThrow(/malformed/);
  });
});

describe('options: ociOwners and keepLayers', () => {
  it('validated in the library API and read from corpus option files', () => {
    expect(resolveOptions({ ociOwners: 'zero', keepLayers: 2 })).toMatchObject({ ociOwners: 'zero', keepLayers: 2 });
    expect(() => resolveOptions({ keepLayers: -1 })).toThrow(TypeError);
    expect(() => resolveOptions({ ociOwners: 'root' as 'zero' })).toThrow(TypeError);
    expect(optionsFromJson({ ociOwners: 'zero', keepLayers: 1 })).toMatchObject({ ociOwners: 'zero', keepLayers: 1 });
  });
});

describe.skipIf(!haveTool('python3'))('walk: a layout directory is one artifact', () => {
  it('claimed by the oci handler (detectDirectory) the directory is one entry; without, its files are walked; -oci turns it off', async () => {
    const root = join(tmp.dir, 'tree');
    mkdirSync(root);
    makeLayout(join(root, 'img'), VARIANT_A);
    writeFileSync(join(root, 'other.txt'), 'x');
    const w = walk([root], { directoryFormat: (names) => directoryHandler(names, HANDLERS, ['oci'])?.name });
    expect(w.files.map((f) => [f.path.slice(root.length), f.directory])).toEqual([['/img', 'oci'], ['/other.txt', undefined]]);
    expect(walk([root], { directoryFormat: (names) => directoryHandler(names, HANDLERS, ['zip'])?.name }).files.length).toBeGreaterThan(5);
    expect(walk([root]).files.length).toBeGreaterThan(5);
    const before = readTree(join(root, 'img'));
    const off = await normalizeTree(root, { jobs: 1, formats: '-oci' });
    expect(off.reports.every((r) => r.format !== 'oci')).toBe(true);
    // Without the oci handler the blobs are gzip files and tars, normalized one by one: the
    // image is then broken, which is why the layout is one artifact by default.
    const on = tempDir('detnorm-oci-unit2-');
    makeLayout(join(on.dir, 'img'), VARIANT_A);
    const r = await normalizeTree([join(on.dir, 'img')], { jobs: 2 });
    expect(r.reports.map((x) => [x.format, x.status])).toEqual([['oci', 'changed']]);
    on.cleanup();
    void before;
  });
});

describe('detection', () => {
  it('a tar is an image archive only with image metadata members in view', async () => {
    const dir = join(tmp.dir, 'det');
    mkdirSync(dir);
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, 'index.json'), '{}');
    writeFileSync(join(dir, 'manifest.json'), '{"short_name":"pwa"}');
    const probe = async (members: string[]) => {
      const t = run('tar', ['-cf', '-', '-C', dir, ...members]);
      return looksLikeImageArchive(await makeProbe(new BufferSource(t), 'x.tar'));
    };
    expect(await probe(['oci-layout', 'index.json'])).toBe(true);
    expect(await probe(['oci-layout'])).toBe(false);
    expect(await probe(['manifest.json'])).toBe(false);
    expect(await probe(['manifest.json', 'index.json'])).toBe(false);
  });
});

describe.skipIf(!haveTool('zstd') || !haveTool('python3'))('zstd layers', () => {
  it('a zstd layer is kept as it is and reported; the rest of the image is normalized', async () => {
    const dir = join(tmp.dir, 'zst');
    makeLayout(dir, { ...VARIANT_A, compression: 'none' });
    const idx = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    const manHex = idx.manifests[0].digest.slice(7);
    const man = JSON.parse(readFileSync(join(dir, 'blobs/sha256', manHex), 'utf8'));
    const tarHex = man.layers[1].digest.slice(7);
    const zst = run('zstd', ['-q', '-c', join(dir, 'blobs/sha256', tarHex)]);
    const { createHash } = await import('node:crypto');
    const h = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    writeFileSync(join(dir, 'blobs/sha256', h(zst)), zst);
    man.layers[1] = { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: `sha256:${h(zst)}`, size: zst.length };
    const mb = Buffer.from(JSON.stringify(man));
    writeFileSync(join(dir, 'blobs/sha256', h(mb)), mb);
    idx.manifests[0] = { ...idx.manifests[0], digest: `sha256:${h(mb)}`, size: mb.length };
    writeFileSync(join(dir, 'index.json'), JSON.stringify(idx));
    run('rm', [join(dir, 'blobs/sha256', manHex), join(dir, 'blobs/sha256', tarHex)]);
    const r = await normalizeTree(dir, { jobs: 1 });
    const rep = r.reports[0]!;
    expect(rep.status).toBe('changed');
    expect(rep.notices.join('\n')).toMatch(/zstd-compressed layer/);
    const after = readTree(dir);
    expect(after.get(`blobs/sha256/${h(zst)}`)?.equals(zst)).toBe(true);
    // The reference tool reads it (when it is there: the rest of the test needs only zstd).
    if (haveTool('skopeo')) expect(JSON.parse(run('skopeo', ['inspect', `oci:${dir}`]).toString()).Layers).toContain(`sha256:${h(zst)}`);
  });
});
