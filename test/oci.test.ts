// Container images (issue 10): OCI image layouts (directories, through the tree walk) and
// docker-save / OCI-archive tars, made here with Python and skopeo (no container engine).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTree, type TreeOptions } from '../src/api.js';
import { diffPaths } from '../src/diff.js';
import { haveTool, norm, run, tempDir } from './helpers.js';
import { VARIANT_A, VARIANT_B, makeLayout, readTree, verifyLayout, type ImageVariant } from './oci-helpers.js';

const tools = haveTool('python3') && haveTool('skopeo') && haveTool('umoci');
const d = describe.skipIf(!tools);
const tmp = tempDir('detnorm-oci-');
afterAll(() => tmp.cleanup());

let n = 0;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
function layout(v: ImageVariant): string {
  const dir = join(tmp.dir, `L${n++}`);
  makeLayout(dir, v);
  return dir;
}

async function normDir(dir: string, opts: TreeOptions = {}) {
  const r = await normalizeTree(dir, { jobs: 1, ...opts });
  expect(r.reports).toHaveLength(1);
  return r.reports[0]!;
}

function same(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v));
}

function dockerArchive(dir: string, out: string): Buffer {
  run('skopeo', ['copy', '-q', `oci:${dir}:latest`, `docker-archive:${out}:example/app:latest`]);
  return readFileSync(out);
}

d('OCI layout directory: convergence', () => {
  it('two builds (time, user names, member order, gzip header, JSON style) normalize to identical bytes', async () => {
    const a = layout(VARIANT_A);
    const b = layout(VARIANT_B);
    expect(same(readTree(a), readTree(b))).toBe(false);
    const ra = await normDir(a);
    const rb = await normDir(b);
    expect([ra.status, rb.status]).toEqual(['changed', 'changed']);
    expect(ra.format).toBe('oci');
    const ta = readTree(a);
    expect(same(ta, readTree(b))).toBe(true);
    expect(verifyLayout(ta)).toEqual({ blobs: 4, layers: 2 });
    const kinds = new Set(ra.changes.map((c) => c.kind));
    for (const k of ['timestamp', 'owner', 'metadata']) expect(kinds).toContain(k);
  });

  it('numeric owners are kept by default and zeroed with ociOwners zero', async () => {
    const a = layout(VARIANT_A);
    const b = layout({ ...VARIANT_B, uid: 2000 });
    await normDir(a);
    await normDir(b);
    expect(same(readTree(a), readTree(b))).toBe(false);
    const listing = (dir: string) => {
      const idx = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
      const man = JSON.parse(readFileSync(join(dir, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
      return run('tar', ['--numeric-owner', '-tvzf', join(dir, 'blobs/sha256', man.layers[0].digest.slice(7))]).toString();
    };
    expect(listing(a)).toMatch(/ 1000\/1000 /);
    expect(listing(a)).not.toMatch(/alice/);
    const a0 = layout(VARIANT_A);
    const b0 = layout({ ...VARIANT_B, uid: 2000 });
    await normDir(a0, { ociOwners: 'zero' });
    await normDir(b0, { ociOwners: 'zero' });
    expect(same(readTree(a0), readTree(b0))).toBe(true);
    expect(listing(a0)).toMatch(/ 0\/0 /);
  });

  it('with T every recorded time is T, and the result is the same from both builds', async () => {
    const a = layout(VARIANT_A);
    const b = layout(VARIANT_B);
    await normDir(a, { timestamp: 1423159771 });
    await normDir(b, { timestamp: 1423159771 });
    const ta = readTree(a);
    expect(same(ta, readTree(b))).toBe(true);
    const text = [...ta.values()].filter((v) => v[0] === 0x7b).map((v) => v.toString()).join('\n');
    expect(text).toContain('"created":"2015-02-05T18:09:31Z"');
    expect(text).not.toMatch(/2023-|2024-/);
  });

  it('is idempotent: a second run changes nothing and rewrites nothing', async () => {
    const a = layout(VARIANT_A);
    await normDir(a);
    const before = readTree(a);
    const mtime = statSync(join(a, 'index.json')).mtimeMs;
    const again = await normDir(a);
    expect(again.status).toBe('unchanged');
    expect(same(before, readTree(a))).toBe(true);
    expect(statSync(join(a, 'index.json')).mtimeMs).toBe(mtime);
  });

  it('an uncompressed-layer image converges too and check mode writes nothing', async () => {
    const a = layout({ ...VARIANT_A, compression: 'none' });
    const b = layout({ ...VARIANT_B, compression: 'none' });
    const before = readTree(a);
    const chk = await normDir(a, { check: true });
    expect(chk.status).toBe('changed');
    expect(same(before, readTree(a))).toBe(true);
    await normDir(a);
    await normDir(b);
    expect(same(readTree(a), readTree(b))).toBe(true);
    verifyLayout(readTree(a));
  });
});

d('OCI layout directories in a tree, through the worker pool', () => {
  it('two layouts and a file with two workers: each layout is one report, both converge', async () => {
    const root = join(tmp.dir, `tree${n++}`);
    mkdirSync(root);
    makeLayout(join(root, 'a'), VARIANT_A);
    makeLayout(join(root, 'b'), VARIANT_B);
    writeFileSync(join(root, 'readme.txt'), 'hi');
    const r = await normalizeTree(root, { jobs: 2 });
    expect(r.reports.map((x) => [x.path.slice(root.length), x.format ?? null, x.status])).toEqual([
      ['/a', 'oci', 'changed'],
      ['/b', 'oci', 'changed'],
      ['/readme.txt', null, 'ignored'],
    ]);
    expect(same(readTree(join(root, 'a')), readTree(join(root, 'b')))).toBe(true);
  });
});

d('OCI layout directory: reference tools accept the output', () => {
  it('skopeo inspect, skopeo copy to dir:, umoci stat and unpack (whiteouts, setuid, 1777, owners)', async () => {
    const a = layout(VARIANT_A);
    await normDir(a);
    const info = JSON.parse(run('skopeo', ['inspect', `oci:${a}`]).toString());
    expect(info.Created).toBe('1970-01-01T00:00:00Z');
    expect(info.Layers).toHaveLength(2);
    const out = join(tmp.dir, `copy${n++}`);
    run('skopeo', ['copy', '-q', `oci:${a}:latest`, `dir:${out}`]);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toContain(info.Layers[1]);
    expect(run('umoci', ['stat', '--image', `${a}:latest`]).toString()).toContain('ADD app');
    const bundle = join(tmp.dir, `bundle${n++}`);
    run('umoci', ['unpack', '--image', `${a}:latest`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    expect(() => statSync(join(rootfs, 'etc/os-release'))).toThrow(); // opaque whiteout applied
    expect(() => statSync(join(rootfs, 'usr/bin/t2'))).toThrow(); // whiteout applied
    expect(readFileSync(join(rootfs, 'etc/app.conf'), 'utf8')).toBe('x=1\n');
    expect(statSync(join(rootfs, 'usr/bin/tool')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(statSync(join(rootfs, 'etc/app.conf')).mode & 0o7777).toBe(0o600);
    expect(statSync(join(rootfs, 'usr/bin/tool')).uid).toBe(1000);
    expect(statSync(join(rootfs, 'usr/bin/t3')).ino).toBe(statSync(join(rootfs, 'usr/bin/tool')).ino);
  });
});

d('layers: whiteouts first, pax time records dropped', () => {
  it('lists the opaque marker first in its directory and keeps whiteouts as empty files', async () => {
    const a = layout(VARIANT_A);
    await normDir(a);
    const idx = JSON.parse(readFileSync(join(a, 'index.json'), 'utf8'));
    const man = JSON.parse(readFileSync(join(a, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
    const layer2 = join(a, 'blobs/sha256', man.layers[1].digest.slice(7));
    const names = run('tar', ['-tzf', layer2]).toString().trim().split('\n');
    expect(names).toEqual(['etc/', 'etc/.wh..wh..opq', 'etc/app.conf', 'usr/bin/.wh.t2', 'usr/bin/a-file']);
    const raw = execFileSync('sh', ['-c', `gzip -dc ${layer2}`]);
    expect(raw.toString('latin1')).not.toMatch(/atime=|ctime=/);
  });
});

d('--keep-layers', () => {
  it('keepLayers 1 keeps the first layer blob and its digest; the second is normalized', async () => {
    const a = layout(VARIANT_A);
    const idx0 = JSON.parse(readFileSync(join(a, 'index.json'), 'utf8'));
    const man0 = JSON.parse(readFileSync(join(a, 'blobs/sha256', idx0.manifests[0].digest.slice(7)), 'utf8'));
    const first = man0.layers[0].digest as string;
    const firstBytes = readFileSync(join(a, 'blobs/sha256', first.slice(7)));
    const ino = statSync(join(a, 'blobs/sha256', first.slice(7))).ino;
    const r = await normDir(a, { keepLayers: 1 });
    expect(r.status).toBe('changed');
    const idx = JSON.parse(readFileSync(join(a, 'index.json'), 'utf8'));
    const man = JSON.parse(readFileSync(join(a, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
    expect(man.layers[0].digest).toBe(first);
    expect(man.layers[1].digest).not.toBe(man0.layers[1].digest);
    expect(readFileSync(join(a, 'blobs/sha256', first.slice(7))).equals(firstBytes)).toBe(true);
    expect(statSync(join(a, 'blobs/sha256', first.slice(7))).ino).toBe(ino);
    verifyLayout(readTree(a));
  });
});

d('--keep-layers by digest', () => {
  it('keepLayerDigests keeps exactly the named layer (the second here), through the CLI flag too', async () => {
    const a = layout(VARIANT_A);
    const idx0 = JSON.parse(readFileSync(join(a, 'index.json'), 'utf8'));
    const man0 = JSON.parse(readFileSync(join(a, 'blobs/sha256', idx0.manifests[0].digest.slice(7)), 'utf8'));
    const second = man0.layers[1].digest as string;
    const secondBytes = readFileSync(join(a, 'blobs/sha256', second.slice(7)));
    const r = await normDir(a, { keepLayerDigests: [second] });
    expect(r.status).toBe('changed');
    const idx = JSON.parse(readFileSync(join(a, 'index.json'), 'utf8'));
    const man = JSON.parse(readFileSync(join(a, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
    expect(man.layers[1].digest).toBe(second);
    expect(man.layers[0].digest).not.toBe(man0.layers[0].digest);
    expect(readFileSync(join(a, 'blobs/sha256', second.slice(7))).equals(secondBytes)).toBe(true);
    verifyLayout(readTree(a));
    // The same through the CLI, on a fresh copy: --keep-layers sha256:HEX.
    const b = layout(VARIANT_A);
    const cli = new URL('../dist/cli.mjs', import.meta.url).pathname;
    execFileSync(process.execPath, [cli, '-q', '--keep-layers', second, b]);
    expect(readFileSync(join(b, 'blobs/sha256', second.slice(7))).equals(secondBytes)).toBe(true);
    verifyLayout(readTree(b));
  });
  it('a malformed digest is refused', async () => {
    const { resolveOptions } = await import('../src/api.js');
    expect(() => resolveOptions({ keepLayerDigests: ['sha256:xyz'] })).toThrow(TypeError);
  });
});

d('bad input: the image is left untouched and the problem reported', () => {
  const cases: Array<[string, (dir: string, man: { config: { digest: string }; layers: Array<{ digest: string }> }) => void, RegExp]> = [
    ['a blob whose digest does not match its name', (dir, man) => {
      const p = join(dir, 'blobs/sha256', man.layers[1].digest.slice(7));
      const b = readFileSync(p);
      b[b.length - 1] ^= 1;
      writeFileSync(p, b);
    }, /does not match its name/],
    ['a missing layer blob', (dir, man) => unlinkSync(join(dir, 'blobs/sha256', man.layers[0].digest.slice(7))), /is missing/],
    ['a manifest pointing at a missing config', (dir, man) => unlinkSync(join(dir, 'blobs/sha256', man.config.digest.slice(7))), /config: blob .* is missing/],
    ['a blob of another size than its descriptor', (dir) => {
      const p = join(dir, 'index.json');
      writeFileSync(p, readFileSync(p, 'utf8').replace(/"size":(\d+)/, (_m, s) => `"size":${Number(s) + 1}`));
    }, /descriptor says/],
    ['a config whose diff_ids do not match the layers', (dir, man) => {
      // Replace the first layer by a valid gzip'd tar with other content, under its own digest.
      const other = layout({ ...VARIANT_A, extraFile: 'x' });
      const idx = JSON.parse(readFileSync(join(other, 'index.json'), 'utf8'));
      const m2 = JSON.parse(readFileSync(join(other, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
      const l = m2.layers[2];
      cpSync(join(other, 'blobs/sha256', l.digest.slice(7)), join(dir, 'blobs/sha256', l.digest.slice(7)));
      const mp = join(dir, 'index.json');
      const ix = JSON.parse(readFileSync(mp, 'utf8'));
      const manPath = join(dir, 'blobs/sha256', ix.manifests[0].digest.slice(7));
      const mj = JSON.parse(readFileSync(manPath, 'utf8'));
      mj.layers[0] = l;
      const mb = Buffer.from(JSON.stringify(mj));
      const h = sha256(mb);
      writeFileSync(join(dir, 'blobs/sha256', h), mb);
      unlinkSync(manPath);
      ix.manifests[0].digest = `sha256:${h}`;
      ix.manifests[0].size = mb.length;
      writeFileSync(mp, JSON.stringify(ix));
      void man;
    }, /diff_ids\[0\]/],
  ];
  for (const [what, breakIt, reason] of cases) {
    it(what, async () => {
      const a = layout(VARIANT_A);
      const idx = JSON.parse(readFileSync(join(a, 'index.json'), 'utf8'));
      const man = JSON.parse(readFileSync(join(a, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
      breakIt(a, man);
      const before = readTree(a);
      const r = await normDir(a);
      expect(r.status).toBe('error');
      expect(r.reason).toMatch(reason);
      expect(same(before, readTree(a))).toBe(true);
    });
  }
});


d('docker save archives (written by skopeo docker-archive:)', () => {
  let ta: Buffer;
  let tb: Buffer;
  beforeAll(() => {
    ta = dockerArchive(layout(VARIANT_A), join(tmp.dir, 'a.tar'));
    tb = dockerArchive(layout(VARIANT_B), join(tmp.dir, 'b.tar'));
  });

  it('two builds normalize to identical bytes, idempotently', async () => {
    expect(ta.equals(tb)).toBe(false);
    const ra = await norm(ta, 'a.tar');
    const rb = await norm(tb, 'b.tar');
    expect(ra.format).toBe('oci');
    expect([ra.status, rb.status]).toEqual(['changed', 'changed']);
    expect(Buffer.from(ra.output).equals(Buffer.from(rb.output))).toBe(true);
    const again = await norm(ra.output, 'a.tar');
    expect(again.status).toBe('unchanged');
  });

  it('skopeo reads the output; re-saving it with skopeo gives the same legacy ids, config and layers', async () => {
    const r = await norm(ta, 'a.tar');
    const out = join(tmp.dir, 'a.norm.tar');
    writeFileSync(out, r.output);
    const info = JSON.parse(run('skopeo', ['inspect', `docker-archive:${out}`]).toString());
    expect(info.Created).toBe('1970-01-01T00:00:00Z');
    const oci = join(tmp.dir, `fromtar${n++}`);
    run('skopeo', ['copy', '-q', `docker-archive:${out}`, `oci:${oci}:latest`]);
    verifyLayout(readTree(oci));
    const resaved = join(tmp.dir, 'resaved.tar');
    run('skopeo', ['copy', '-q', `docker-archive:${out}`, `docker-archive:${resaved}:example/app:latest`]);
    const names = (f: string) => run('tar', ['-tf', f]).toString().trim().split('\n').sort();
    expect(names(resaved)).toEqual(names(out));
    // skopeo writes the same bytes for every member: legacy ids, json, manifest.json, layers
    // (only the outer tar headers differ).
    const x1 = join(tmp.dir, `x${n++}`);
    const x2 = join(tmp.dir, `x${n++}`);
    mkdirSync(x1);
    mkdirSync(x2);
    run('tar', ['-xf', out, '-C', x1]);
    run('tar', ['-xf', resaved, '-C', x2]);
    expect(same(readTree(x1), readTree(x2))).toBe(true);
  });

  it('an image archive inside gzip is found through the gzip handler', async () => {
    const gz = run('gzip', ['-c', '-n'], { input: ta });
    const r = await norm(gz, 'a.tar.gz');
    expect(r.status).toBe('changed');
    const inner = run('gzip', ['-dc'], { input: r.output });
    expect(inner.equals(Buffer.from((await norm(ta, 'a.tar')).output))).toBe(true);
  });

  it('a config whose name is not its digest: left untouched and reported', async () => {
    const x = join(tmp.dir, `bad${n++}`);
    mkdirSync(x);
    run('tar', ['-xf', join(tmp.dir, 'a.tar'), '-C', x]);
    const cfg = run('sh', ['-c', `ls ${x}/[0-9a-f]*.json`]).toString().trim();
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('"amd64"', '"arm64"'));
    const bad = join(tmp.dir, 'bad.tar');
    run('tar', ['-cf', bad, '-C', x, '.']);
    const r = await norm(readFileSync(bad), 'bad.tar');
    expect(r.format).toBe('oci');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/does not match its name/);
  });

  it('diff names the layer that differs', async () => {
    const c = dockerArchive(layout({ ...VARIANT_B, extraFile: 'one' }), join(tmp.dir, 'c.tar'));
    const e = dockerArchive(layout({ ...VARIANT_A, extraFile: 'two' }), join(tmp.dir, 'e.tar'));
    const dc = join(tmp.dir, 'dc');
    const de = join(tmp.dir, 'de');
    mkdirSync(dc);
    mkdirSync(de);
    writeFileSync(join(dc, 'img.tar'), c);
    writeFileSync(join(de, 'img.tar'), e);
    const r = await diffPaths(join(dc, 'img.tar'), join(de, 'img.tar'));
    expect(r.identical).toBe(false);
    // What is left after normalization is in layer 3 only; the other layers differ only in what
    // normalization removes (marked normalized).
    const left = r.pairs[0]!.differences.filter((x) => !x.normalized).map((x) => x.member ?? '');
    expect(left.some((m) => m.startsWith('layer 3'))).toBe(true);
    expect(left.some((m) => m.startsWith('layer 1') || m.startsWith('layer 2'))).toBe(false);
    console.log(r.pairs[0]!.differences.map((d) => `${d.normalized} ${d.member}: ${d.detail} | ${d.cause}`).join('\n'));
  });
});

// Docker before 25 saved each layer as a real file <legacy id>/layer.tar, named so in
// manifest.json, with no <digest>.tar beside it. Made here from skopeo's archive.
const PRE25 = `
import json, os, shutil, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
x = out + '.d'
with tarfile.open(src) as t: t.extractall(x)
m = json.load(open(os.path.join(x, 'manifest.json')))
for img in m:
    layers = []
    for l in img['Layers']:
        for d in sorted(os.listdir(x)):
            p = os.path.join(x, d, 'layer.tar')
            if os.path.islink(p) and os.path.basename(os.readlink(p)) == l:
                os.unlink(p); shutil.copyfile(os.path.join(x, l), p); layers.append(d + '/layer.tar'); break
        else: raise SystemExit('no legacy directory for ' + l)
    for l in img['Layers']: os.unlink(os.path.join(x, l))
    img['Layers'] = layers
json.dump(m, open(os.path.join(x, 'manifest.json'), 'w'), separators=(',', ':'))
with tarfile.open(out, 'w', format=tarfile.GNU_FORMAT) as t:
    for n in sorted(os.listdir(x)): t.add(os.path.join(x, n), arcname=n)
shutil.rmtree(x)
`;

d('docker save archives of Docker before 25 (each layer a real <id>/layer.tar)', () => {
  const pre25 = (v: ImageVariant, name: string): Buffer => {
    const modern = join(tmp.dir, `${name}.modern.tar`);
    dockerArchive(layout(v), modern);
    const out = join(tmp.dir, `${name}.tar`);
    run('python3', ['-c', PRE25, modern, out]);
    return readFileSync(out);
  };
  const layersOf = (tar: string): string[] => JSON.parse(run('tar', ['-xOf', tar, 'manifest.json']).toString())[0].Layers;

  it('two builds normalize to identical bytes, idempotently; skopeo reads the output', async () => {
    const a = pre25(VARIANT_A, 'p25a');
    const b = pre25(VARIANT_B, 'p25b');
    expect(a.equals(b)).toBe(false);
    expect(layersOf(join(tmp.dir, 'p25a.tar')).every((l) => /^[0-9a-f]{64}\/layer\.tar$/.test(l))).toBe(true);
    const ra = await norm(a, 'a.tar');
    const rb = await norm(b, 'b.tar');
    expect(ra.format).toBe('oci');
    expect([ra.status, rb.status]).toEqual(['changed', 'changed']);
    expect(Buffer.from(ra.output).equals(Buffer.from(rb.output))).toBe(true);
    expect((await norm(ra.output, 'a.tar')).status).toBe('unchanged');
    const out = join(tmp.dir, 'p25a.norm.tar');
    writeFileSync(out, ra.output);
    // Still the old layout: real layer files under legacy ids, named so in manifest.json.
    expect(layersOf(out).every((l) => /^[0-9a-f]{64}\/layer\.tar$/.test(l))).toBe(true);
    expect(run('tar', ['-tvf', out]).toString()).not.toMatch(/^l/m);
    const info = JSON.parse(run('skopeo', ['inspect', `docker-archive:${out}`]).toString());
    expect(info.Created).toBe('1970-01-01T00:00:00Z');
    const oci = join(tmp.dir, `p25oci${n++}`);
    run('skopeo', ['copy', '-q', `docker-archive:${out}`, `oci:${oci}:latest`]);
    verifyLayout(readTree(oci));
  });

  it('keepLayerDigests by diff_id keeps that layer byte for byte', async () => {
    const a = pre25(VARIANT_A, 'p25k');
    const tar = join(tmp.dir, 'p25k.tar');
    const manifest = JSON.parse(run('tar', ['-xOf', tar, 'manifest.json']).toString())[0];
    const config = JSON.parse(run('tar', ['-xOf', tar, manifest.Config]).toString());
    const first = config.rootfs.diff_ids[0] as string;
    const firstBytes = run('tar', ['-xOf', tar, manifest.Layers[0]]);
    const r = await norm(a, 'a.tar', { keepLayerDigests: [first.replace(/^sha256:/, '')] });
    expect(r.status).toBe('changed');
    const out = join(tmp.dir, 'p25k.norm.tar');
    writeFileSync(out, r.output);
    const m2 = JSON.parse(run('tar', ['-xOf', out, 'manifest.json']).toString())[0];
    const c2 = JSON.parse(run('tar', ['-xOf', out, m2.Config]).toString());
    expect(c2.rootfs.diff_ids[0]).toBe(first);
    expect(run('tar', ['-xOf', out, m2.Layers[0]]).equals(firstBytes)).toBe(true);
    expect(c2.rootfs.diff_ids[1]).not.toBe(config.rootfs.diff_ids[1]);
  });
});

d('OCI-archive tars', () => {
  it('an OCI layout in a tar (GNU tar, two builds) normalizes to identical bytes that skopeo reads', async () => {
    const outs: Buffer[] = [];
    for (const v of [VARIANT_A, VARIANT_B]) {
      const dir = layout(v);
      const t = join(tmp.dir, `oa${n++}.tar`);
      run('tar', ['-cf', t, '-C', dir, '.']);
      const r = await norm(readFileSync(t), 'image.tar');
      expect(r.format).toBe('oci');
      outs.push(Buffer.from(r.output));
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(true);
    const t = join(tmp.dir, 'oa.norm.tar');
    writeFileSync(t, outs[0]!);
    expect(JSON.parse(run('skopeo', ['inspect', `oci-archive:${t}`]).toString()).Created).toBe('1970-01-01T00:00:00Z');
    const x = join(tmp.dir, `ox${n++}`);
    mkdirSync(x);
    run('tar', ['-xf', t, '-C', x]);
    verifyLayout(readTree(x));
  });

  it('Docker 25+ archives (OCI layout plus manifest.json and repositories): manifest.json follows the renamed blobs', async () => {
    const outs: Buffer[] = [];
    for (const v of [VARIANT_A, VARIANT_B]) {
      const dir = layout(v);
      const idx = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
      const man = JSON.parse(readFileSync(join(dir, 'blobs/sha256', idx.manifests[0].digest.slice(7)), 'utf8'));
      const path = (dg: string) => `blobs/sha256/${dg.slice(7)}`;
      const item = { Config: path(man.config.digest), RepoTags: ['example/app:latest'], Layers: man.layers.map((l: { digest: string }) => path(l.digest)) };
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify([item]));
      writeFileSync(join(dir, 'repositories'), JSON.stringify({ 'example/app': { latest: man.layers[1].digest.slice(7) } }));
      const t = join(tmp.dir, `d25-${n++}.tar`);
      run('tar', ['-cf', t, '-C', dir, 'blobs', 'index.json', 'manifest.json', 'oci-layout', 'repositories']);
      const r = await norm(readFileSync(t), 'image.tar');
      expect(r.format).toBe('oci');
      outs.push(Buffer.from(r.output));
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(true);
    const x = join(tmp.dir, `d25x${n++}`);
    mkdirSync(x);
    const t = join(tmp.dir, 'd25.norm.tar');
    writeFileSync(t, outs[0]!);
    run('tar', ['-xf', t, '-C', x]);
    const files = readTree(x);
    const mj = JSON.parse(files.get('manifest.json')!.toString());
    const idx = JSON.parse(files.get('index.json')!.toString());
    const man = JSON.parse(files.get(`blobs/sha256/${idx.manifests[0].digest.slice(7)}`)!.toString());
    expect(mj[0].Config).toBe(`blobs/sha256/${man.config.digest.slice(7)}`);
    expect(mj[0].Layers).toEqual(man.layers.map((l: { digest: string }) => `blobs/sha256/${l.digest.slice(7)}`));
    for (const p of [mj[0].Config, ...mj[0].Layers]) expect(files.has(p)).toBe(true);
    expect(JSON.parse(run('skopeo', ['inspect', `oci-archive:${t}`]).toString()).Layers).toEqual(man.layers.map((l: { digest: string }) => l.digest));
  });

  it('a plain tar holding a manifest.json of another kind stays a plain tar', async () => {
    const x = join(tmp.dir, `plain${n++}`);
    mkdirSync(x);
    writeFileSync(join(x, 'manifest.json'), '{"name":"web app"}');
    writeFileSync(join(x, 'repositories'), 'none');
    const t = join(tmp.dir, 'plain.tar');
    run('tar', ['-cf', t, '-C', x, 'manifest.json', 'repositories']);
    const r = await norm(readFileSync(t), 'plain.tar');
    expect(r.format).toBe('tar');
    rmSync(x, { recursive: true });
  });
});
