// The zip handler's rules, one describe per rule of issue 4, on archives crafted with
// test/zip-helpers.ts (odd hosts, extra fields, descriptors, prefixes, hostile layouts).
import pako from 'pako';
import { describe, expect, it } from 'vitest';
import { fromDos, ZIP_NO_TIME } from '../formats/zip/dostime.js';
import { readArchive, type Archive } from '../formats/zip/reader.js';
import { BufferSource } from '../src/io.js';
import { DEFAULT_LIMITS } from '../src/types.js';
import { norm } from './helpers.js';
import { buildZip, crc32, type RawEntry } from './zip-helpers.js';

const T = 1423159771;
const enc = new TextEncoder();

async function parse(b: Uint8Array): Promise<Archive> {
  return readArchive(new BufferSource(b), DEFAULT_LIMITS);
}
async function names(b: Uint8Array): Promise<string[]> {
  return (await parse(b)).entries.map((e) => e.displayName);
}
async function ok(b: Uint8Array, name = 'a.zip', opts = {}) {
  const r = await norm(b, name, opts);
  expect(r.status, r.reason).toMatch(/changed|unchanged/);
  const again = await norm(r.output, name, opts);
  expect(again.status, 'idempotent').toBe('unchanged');
  return r;
}

describe('reader: hostile and malformed archives are rejected (untouched, with a reason)', () => {
  const good = buildZip([{ name: 'a.txt', data: 'aaaa' }, { name: 'b.txt', data: 'bbbb' }]);
  async function rejects(b: Uint8Array, re: RegExp, opts = {}) {
    const r = await norm(b, 'x.zip', opts);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(re);
    expect(Buffer.from(r.output).equals(Buffer.from(b))).toBe(true);
  }
  it('truncated file (no end record)', async () => rejects(good.subarray(0, good.length - 5), /no end of central directory/));
  it('two entries sharing one local header', async () => {
    const b = Uint8Array.from(good);
    // second central record's local offset (at cd + 46 + 5 + 42) := 0
    const cd = new DataView(b.buffer).getUint32(b.length - 22 + 16, true);
    new DataView(b.buffer).setUint32(cd + 46 + 5 + 42, 0, true);
    await rejects(b, /shares its local header/);
  });
  it('overlapping local headers', async () => {
    const b = buildZip([{ name: 'a.txt', data: 'x'.repeat(100) }, { name: 'b.txt', data: 'bbbb' }]);
    const cd = new DataView(b.buffer).getUint32(b.length - 22 + 16, true);
    new DataView(b.buffer).setUint32(cd + 46 + 5 + 42, 40, true); // into a.txt's data
    await rejects(b, /overlaps|bad local file header signature/);
  });
  it('entry pointing outside the member area', async () => {
    const b = Uint8Array.from(good);
    const cd = new DataView(b.buffer).getUint32(b.length - 22 + 16, true);
    new DataView(b.buffer).setUint32(cd + 42, 0x7fffffff, true);
    await rejects(b, /outside|past/);
  });
  it('declared compressed size that runs into the central directory', async () => {
    const b = Uint8Array.from(good);
    const cd = new DataView(b.buffer).getUint32(b.length - 22 + 16, true);
    new DataView(b.buffer).setUint32(cd + 46 + 5 + 20, 9999, true);
    await rejects(b, /disagree|runs past/);
  });
  it('local header name that differs from the central directory', async () => {
    const b = Uint8Array.from(good);
    b[30] = 0x41;
    await rejects(b, /name differs/);
  });
  it('stored member whose sizes differ', async () => {
    const b = buildZip([{ name: 'a.txt', data: 'aaaa' }]);
    const v = new DataView(b.buffer);
    const cd = v.getUint32(b.length - 22 + 16, true);
    v.setUint32(cd + 24, 5, true);
    v.setUint32(22, 5, true);
    await rejects(b, /stored member/);
  });
  it('zip bomb: declared ratio beyond limits.maxRatio', async () => {
    const b = buildZip([{ name: 'a.bin', data: new Uint8Array(1 << 20), method: 8 }]);
    await rejects(b, /ratio|zip bomb/, { limits: { ...DEFAULT_LIMITS, maxRatio: 100 } });
  });
  it('zip bomb: member larger than limits.maxMemberBytes', async () => {
    const b = buildZip([{ name: 'a.bin', data: new Uint8Array(1 << 20), method: 8 }]);
    await rejects(b, /exceeds the limit/, { limits: { ...DEFAULT_LIMITS, maxMemberBytes: 1000 } });
  });
  it('a nested member that inflates past its declared size is an error, not an OOM', async () => {
    // a .gz member (so it is inflated for the gzip handler) whose header understates its size
    const gz = pako.gzip(new Uint8Array(200000), { level: 9 });
    const b = buildZip([{ name: 'x.gz', data: gz, method: 8 }]);
    const v = new DataView(b.buffer);
    const cd = v.getUint32(b.length - 22 + 16, true);
    const real = v.getUint32(cd + 24, true);
    v.setUint32(cd + 24, real - 10, true);
    v.setUint32(22, real - 10, true);
    await rejects(b, /inflates past|CRC|disagree/);
  });
  it('corrupt deflate data of a probed member', async () => {
    const b = buildZip([{ name: 'x.gz', data: pako.gzip(enc.encode('hello '.repeat(500))), method: 8 }]);
    b[40] ^= 0xff;
    b[41] ^= 0xff;
    const r = await norm(b, 'x.zip');
    expect(r.status).toBe('error');
  });
  it('spanned archives', async () => {
    const b = Uint8Array.from(good);
    new DataView(b.buffer).setUint16(b.length - 22 + 4, 1, true);
    await rejects(b, /spanned/);
  });
});

describe('canonical entry: DOS time from T in UTC (floor 1980-01-01 12:01:00, clamp honoured)', () => {
  const z = buildZip([
    { name: 'old.txt', data: 'o', date: (39 << 9) | (1 << 5) | 1, time: 0 }, // 2019-01-01 00:00
    { name: 'new.txt', data: 'n', date: (45 << 9) | (1 << 5) | 1, time: 0 }, // 2025-01-01
    { name: 'src/a.clj', data: '(ns a)' },
  ]);
  const times = async (b: Uint8Array) => Object.fromEntries((await parse(b)).entries.map((e) => [e.displayName, fromDos(e.date, e.time)]));
  it('without T: the no-time floor; .clj 2 s earlier', async () => {
    const t = await times((await ok(z)).output);
    expect(t).toEqual({ 'old.txt': ZIP_NO_TIME, 'new.txt': ZIP_NO_TIME, 'src/a.clj': ZIP_NO_TIME - 2 });
  });
  it('with T: T floored to 2 s', async () => {
    const t = await times((await ok(z, 'a.zip', { timestamp: T })).output);
    expect(t).toEqual({ 'old.txt': T - 1, 'new.txt': T - 1, 'src/a.clj': T - 3 });
  });
  it('with --clamp: only later times become T', async () => {
    const c = 1600000000;
    const t = await times((await ok(z, 'a.zip', { timestamp: c, clamp: true })).output);
    expect(t['old.txt']).toBe(Date.UTC(2019, 0, 1) / 1000);
    expect(t['new.txt']).toBe(c);
  });
  it('a T before 1980 gives the floor', async () => {
    const t = await times((await ok(z, 'a.zip', { timestamp: 0 })).output);
    expect(t['old.txt']).toBe(ZIP_NO_TIME);
  });
});

describe('canonical entry: flags, versions, attributes, extra fields, descriptors', () => {
  const entries: RawEntry[] = [
    { name: 'dir/', madeBy: 0x031e, external: ((0o40700 << 16) | 0x10) >>> 0, localExtra: [{ id: 0x5455, data: new Uint8Array([1, 0, 0, 0, 0]) }] },
    { name: 'dir/run', data: '#!/bin/sh\n', madeBy: 0x0317, external: (0o100700 << 16) >>> 0, method: 8, descriptor: 'signed' },
    { name: 'dir/link', data: '../x', madeBy: 0x031e, external: (0o120755 << 16) >>> 0 },
    { name: 'win/', madeBy: 0x000b, external: 0x10 },
    { name: 'win/a.txt', data: 'w', madeBy: 0x0a14, external: 0x20, internal: 1, flags: 0x0006, method: 8, descriptor: 'plain' },
    { name: 'fifo', madeBy: 0x031e, external: (0o010600 << 16) >>> 0 },
  ];
  it('gives Unix modes with the file type kept, drops extras and descriptors', async () => {
    const r = await ok(buildZip(entries));
    const a = await parse(r.output);
    const got = Object.fromEntries(a.entries.map((e) => [e.displayName, [e.versionMadeBy, e.versionNeeded, e.flags, (e.externalAttributes >>> 16).toString(8), e.externalAttributes & 0xffff, e.internalAttributes, e.localExtra.length + e.centralExtra.length, e.descriptorLength]]));
    expect(got).toEqual({
      'dir/': [0x031e, 20, 0, '40755', 0x10, 0, 0, 0],
      'dir/link': [0x031e, 10, 0, '120777', 0, 0, 0, 0],
      'dir/run': [0x031e, 20, 0, '100755', 0, 0, 0, 0],
      fifo: [0x031e, 10, 0, '10644', 0, 0, 0, 0],
      'win/': [0x031e, 20, 0, '40755', 0x10, 0, 0, 0],
      'win/a.txt': [0x031e, 20, 0, '100644', 0, 0, 0, 0],
    });
    // symlink target unchanged
    const link = a.entries.find((e) => e.displayName === 'dir/link')!;
    expect(Buffer.from(r.output.subarray(link.dataOffset, link.dataOffset + 4)).toString()).toBe('../x');
  });
  it('sets the UTF-8 flag exactly when the name is not ASCII; uses a matching Unicode Path field', async () => {
    const latin = Buffer.from('caf\xe9', 'latin1');
    const up = new Uint8Array(5 + 5);
    up[0] = 1;
    new DataView(up.buffer).setUint32(1, crc32(latin), true);
    up.set(enc.encode('café'), 5);
    const r = await ok(
      buildZip([
        { name: 'ascii.txt', data: 'a', flags: 0x800 },
        { name: 'ü.txt', data: 'u' },
        { name: latin, data: 'c', centralExtra: [{ id: 0x7075, data: up }] },
        { name: Buffer.from('x\xff.bin', 'latin1'), data: 'x' },
      ]),
    );
    const a = await parse(r.output);
    expect(a.entries.map((e) => [Buffer.from(e.name).toString('hex'), e.flags])).toEqual([
      [Buffer.from('ascii.txt').toString('hex'), 0],
      [Buffer.from('café').toString('hex'), 0x800],
      [Buffer.from('x\xff.bin', 'latin1').toString('hex'), 0],
      [Buffer.from('ü.txt').toString('hex'), 0x800],
    ]);
  });
  it('keeps entry and archive comments', async () => {
    const r = await ok(buildZip([{ name: 'a', data: 'a', comment: 'hello' }], { comment: 'archive' }));
    const a = await parse(r.output);
    expect(Buffer.from(a.comment).toString()).toBe('archive');
    expect(Buffer.from(a.entries[0]!.comment).toString()).toBe('hello');
  });
});

describe('order: bytewise by name, duplicates stable; jar, wheel, mimetype rules', () => {
  it('bytewise, duplicates in their original order', async () => {
    const r = await ok(buildZip([{ name: 'b', data: '1' }, { name: 'a/x', data: '2' }, { name: 'B', data: '3' }, { name: 'b', data: '4' }, { name: 'a-x', data: '5' }]));
    const a = await parse(r.output);
    expect(a.entries.map((e) => e.displayName + '=' + Buffer.from(r.output.subarray(e.dataOffset, e.dataOffset + 1)).toString())).toEqual(['B=3', 'a-x=5', 'a/x=2', 'b=1', 'b=4']);
  });
  it('jar-like: META-INF/ then META-INF/MANIFEST.MF first', async () => {
    const z = buildZip([{ name: 'A.class', data: 'x' }, { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n\r\n' }, { name: 'META-INF/a', data: 'y' }, { name: 'META-INF/', external: (0o40755 << 16) >>> 0 }]);
    for (const ext of ['jar', 'war', 'ear', 'aar', 'apk', 'jmod', 'xpi']) {
      expect(await names((await ok(z, `x.${ext}`)).output)).toEqual(['META-INF/', 'META-INF/MANIFEST.MF', 'A.class', 'META-INF/a']);
    }
    // A manifest makes it a jar whatever its name (the bytes decide; see "flavour by content").
    expect(await names((await ok(z, 'x.zip')).output)).toEqual(['META-INF/', 'META-INF/MANIFEST.MF', 'A.class', 'META-INF/a']);
    // Without one, the name breaks the tie.
    const bare = buildZip([{ name: 'A.class', data: 'x' }, { name: 'META-INF/a', data: 'y' }, { name: 'META-INF/', external: (0o40755 << 16) >>> 0 }]);
    expect(await names((await ok(bare, 'x.jar')).output)).toEqual(['META-INF/', 'A.class', 'META-INF/a']);
    expect(await names((await ok(bare, 'x.zip')).output)).toEqual(['A.class', 'META-INF/', 'META-INF/a']);
  });
  it('wheel: *.dist-info/ last, RECORD the very last', async () => {
    const z = buildZip([{ name: 'p-1.dist-info/RECORD', data: 'p-1.dist-info/RECORD,,\n' }, { name: 'p-1.dist-info/WHEEL', data: 'w' }, { name: 'z.py', data: 'z' }, { name: 'p/__init__.py', data: '' }]);
    expect(await names((await ok(z, 'p-1-py3-none-any.whl')).output)).toEqual(['p/__init__.py', 'z.py', 'p-1.dist-info/WHEEL', 'p-1.dist-info/RECORD']);
  });
  it('a first `mimetype` member stays first (EPUB/ODF)', async () => {
    const z = buildZip([{ name: 'mimetype', data: 'application/epub+zip' }, { name: 'META-INF/container.xml', data: '<x/>' }, { name: 'OEBPS/a.html', data: 'a' }]);
    expect(await names((await ok(z, 'b.epub')).output)).toEqual(['mimetype', 'META-INF/container.xml', 'OEBPS/a.html']);
  });
});

describe('flavour by content: the bytes decide, the name only breaks a tie', () => {
  const MANIFEST = 'Manifest-Version: 1.0\r\nMain-Class: Main\r\nCreated-By: 17 (Debian)\r\n\r\n';
  // `jar cfe app.jar Main Main.class LICENSE ABOUT` writes the manifest first, then the files.
  const jar = buildZip([
    { name: 'META-INF/', external: (0o40755 << 16) >>> 0 },
    { name: 'META-INF/MANIFEST.MF', data: MANIFEST },
    { name: 'Main.class', data: 'cafebabe' },
    { name: 'LICENSE', data: 'MIT' },
    { name: 'ABOUT', data: 'about' },
  ]);
  it('a META-INF/MANIFEST.MF makes a jar under any name, or none: manifest first', async () => {
    for (const name of ['-', 'app.zip', 'app.whl', 'app', 'app.jar']) {
      expect(await names((await ok(jar, name)).output), name).toEqual(['META-INF/', 'META-INF/MANIFEST.MF', 'ABOUT', 'LICENSE', 'Main.class']);
    }
  });
  it('a NAME.dist-info/WHEEL and RECORD pair makes a wheel: RECORD last, its rows follow changed members', async () => {
    const gz = Uint8Array.from(pako.gzip('data\n', { level: 6 }));
    gz.set([0x00, 0xe1, 0xf5, 0x05], 4); // an MTIME, which the gzip handler zeroes
    const rec = 'p-1.dist-info/RECORD,,\np/__init__.py,,0\np/d.gz,,\np-1.dist-info/WHEEL,,1\n';
    const whl = buildZip([
      { name: 'p-1.dist-info/RECORD', data: rec },
      { name: 'p-1.dist-info/WHEEL', data: 'w' },
      { name: 'p/d.gz', data: gz },
      { name: 'p/__init__.py', data: '' },
    ]);
    const want = await ok(whl, 'p-1-py3-none-any.whl');
    for (const name of ['-', 'p.jar', 'p.zip']) {
      const r = await ok(whl, name);
      expect(await names(r.output), name).toEqual(['p/__init__.py', 'p/d.gz', 'p-1.dist-info/WHEEL', 'p-1.dist-info/RECORD']);
      expect(Buffer.from(r.output).equals(Buffer.from(want.output)), name).toBe(true);
    }
    expect(want.changes.map((c) => c.what).join('\n')).toMatch(/RECORD/);
  });
  it('a dist-info without its RECORD, or a RECORD in another dist-info, is no wheel: the name decides', async () => {
    const half = buildZip([{ name: 'p-1.dist-info/WHEEL', data: 'w' }, { name: 'z.py', data: 'z' }]);
    expect(await names((await ok(half, '-')).output)).toEqual(['p-1.dist-info/WHEEL', 'z.py']);
    expect(await names((await ok(half, 'p-1-py3-none-any.whl')).output)).toEqual(['z.py', 'p-1.dist-info/WHEEL']);
    const split = buildZip([{ name: 'p-1.dist-info/WHEEL', data: 'w' }, { name: 'q-1.dist-info/RECORD', data: '' }, { name: 'z.py', data: 'z' }]);
    expect(await names((await ok(split, '-')).output)).toEqual(['p-1.dist-info/WHEEL', 'q-1.dist-info/RECORD', 'z.py']);
  });
  it('an AndroidManifest.xml with a classes.dex makes an apk: a v1-signed one is left untouched under any name', async () => {
    const apk = buildZip([
      { name: 'classes.dex', data: 'dex\n035\0' },
      { name: 'AndroidManifest.xml', data: 'axml' },
      { name: 'META-INF/MANIFEST.MF', data: MANIFEST },
      { name: 'META-INF/CERT.SF', data: 'Signature-Version: 1.0\r\n\r\n' },
      { name: 'META-INF/CERT.RSA', data: 'sig' },
    ]);
    for (const name of ['-', 'app.zip', 'app.jar', 'app.apk']) {
      const r = await norm(apk, name);
      expect(r.status, name).toBe('untouched');
      expect(r.reason).toMatch(/signed APK/);
    }
  });
  it('an AndroidManifest.xml alone (an .aar holds one, with classes.jar) leaves the flavour to the name', async () => {
    const aar = buildZip([{ name: 'classes.jar', data: 'PK' }, { name: 'AndroidManifest.xml', data: '<manifest/>' }, { name: 'META-INF/', external: (0o40755 << 16) >>> 0 }]);
    expect(await names((await ok(aar, '-')).output)).toEqual(['AndroidManifest.xml', 'META-INF/', 'classes.jar']);
    expect(await names((await ok(aar, 'lib.aar')).output)).toEqual(['META-INF/', 'AndroidManifest.xml', 'classes.jar']);
  });
  it('the jmod magic makes a jmod under any name', async () => {
    const jm = buildZip([{ name: 'classes/module-info.class', data: 'x' }, { name: 'META-INF/', external: (0o40755 << 16) >>> 0 }], { prefix: new Uint8Array([0x4a, 0x4d, 1, 0]), relative: true });
    for (const name of ['-', 'm.zip', 'm.jmod']) expect(await names((await ok(jm, name)).output), name).toEqual(['META-INF/', 'classes/module-info.class']);
  });
});

describe('prefixes: jmod JM header and pyzip shebang kept, offsets made file offsets', () => {
  it('relative offsets become absolute and the prefix stays', async () => {
    const prefix = enc.encode('#!/usr/bin/env python3\n');
    const z = buildZip([{ name: '__main__.py', data: 'print(1)\n' }], { prefix, relative: true });
    const r = await ok(z, 'app.pyz');
    expect(Buffer.from(r.output.subarray(0, prefix.length)).equals(Buffer.from(prefix))).toBe(true);
    const a = await parse(r.output);
    expect(a.delta).toBe(0);
    expect(a.entries[0]!.localOffset).toBe(prefix.length);
  });
  it('jmod header', async () => {
    const z = buildZip([{ name: 'classes/module-info.class', data: 'x' }], { prefix: new Uint8Array([0x4a, 0x4d, 1, 0]), relative: true });
    const r = await ok(z, 'm.jmod');
    expect([...r.output.subarray(0, 6)]).toEqual([0x4a, 0x4d, 1, 0, 0x50, 0x4b]);
  });
});

describe('nesting: members that are a supported format go through ctx.normalizeMember', () => {
  it('zip in zip in zip, stored and deflated', async () => {
    const inner = buildZip([{ name: 'i.txt', data: 'inner', date: 0x5555 }]);
    const mid = buildZip([{ name: 'inner.zip', data: inner, method: 8 }, { name: 'z', data: 'z', date: 0x5555 }]);
    const outer = buildZip([{ name: 'mid.zip', data: mid, method: 0 }]);
    const r = await ok(outer, 'o.zip');
    const o = await parse(r.output);
    const e = o.entries[0]!;
    const m = r.output.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
    const again = await norm(m, 'mid.zip');
    expect(again.status).toBe('unchanged');
    expect(r.changes.some((c) => c.member?.startsWith('mid.zip!/inner.zip'))).toBe(true);
  });
  it('nesting deeper than limits.maxDepth keeps the deep member as it is, with a notice', async () => {
    let z = buildZip([{ name: 'leaf', data: 'x', date: 0x5555 }]);
    for (let i = 0; i < 5; i++) z = buildZip([{ name: `l${i}.zip`, data: z, method: 8, date: 0x5555 }]);
    const r = await norm(z, 'deep.zip', { limits: { ...DEFAULT_LIMITS, maxDepth: 2 } });
    expect(r.status).toBe('changed');
    expect(r.notices.join('\n')).toMatch(/nesting deeper than 2/);
  });
});

describe('encrypted members: archive left untouched and reported', () => {
  it('traditional PKWARE encryption bit', async () => {
    const r = await norm(buildZip([{ name: 'a', data: 'x', flags: 1 }]), 'e.zip');
    expect(r.status).toBe('untouched');
    expect(r.reason).toMatch(/encrypted/);
  });
});

describe('zip64: more than 65,535 entries', () => {
  it('writes a zip64 end record only when needed and reads it back', async () => {
    const many: RawEntry[] = [];
    for (let i = 0; i < 65540; i++) many.push({ name: `f${String(i).padStart(5, '0')}`, data: '' });
    const z = buildZip(many.slice(0, 65535)); // 65,535 entries: the count field is 0xFFFF
    const r = await ok(z);
    expect((await parse(r.output)).zip64).toBe(true);
    const small = await ok(buildZip(many.slice(0, 100)));
    expect((await parse(small.output)).zip64).toBe(false);
  }, 60000);
});

describe('members(): what detnorm diff sees of a zip', () => {
  it('lists entries in file order with type, stored fields and uncompressed data', async () => {
    const { zipHandler } = await import('../formats/zip/index.js');
    const { defaultOptions } = await import('../src/options.js');
    const { MemorySpill } = await import('../src/engine.js');
    const z = buildZip([
      { name: 'b.txt', data: 'bee'.repeat(50), method: 8, date: 0x5021, time: 0x6000 },
      { name: 'a/', external: ((0o40755 << 16) | 0x10) >>> 0 },
      { name: 'l', data: 'b.txt', external: (0o120777 << 16) >>> 0 },
    ]);
    const ctx = { options: defaultOptions(), path: 'x.zip', depth: 0, spill: () => new MemorySpill(), notice: () => {}, normalizeMember: async () => ({ changed: false as const }) };
    const out = [];
    for await (const m of zipHandler.members!(new BufferSource(z), ctx)) out.push(m);
    expect(out.map((m) => [m.name, m.type, m.meta.mode, m.meta.linkTarget])).toEqual([
      ['b.txt', 'file', '100644', undefined],
      ['a/', 'dir', '40755', undefined],
      ['l', 'symlink', '120777', 'b.txt'],
    ]);
    expect(out[0]!.meta.dosTime).toBe('2020-01-01 12:00:00');
    expect(Buffer.from(await out[0]!.data!.read(0, 150)).toString()).toBe('bee'.repeat(50));
  });
});

describe('Unicode Path names sort as the names written', () => {
  it('orders by the UTF-8 name taken from the 0x7075 field (idempotent)', async () => {
    const raw = Buffer.from('z\xe9', 'latin1');
    const up = new Uint8Array(5 + 3);
    up[0] = 1;
    new DataView(up.buffer).setUint32(1, crc32(raw), true);
    up.set(enc.encode('aé'), 5);
    const r = await ok(buildZip([{ name: 'b.txt', data: 'b' }, { name: raw, data: 'a', localExtra: [{ id: 0x7075, data: up }] }]));
    expect(await names(r.output)).toEqual(['aé', 'b.txt']);
  });
});

describe('which members are probed for nested formats', () => {
  const gz = pako.gzip(enc.encode('payload '.repeat(100)), { header: { time: 1600000000, name: 'x' } } as never);
  it('a deflated member with an unknown extension is probed by content (512 bytes) and nested', async () => {
    const r = await ok(buildZip([{ name: 'data.bin', data: gz, method: 8 }]), 'p.zip');
    expect(r.changes.some((c) => c.member === 'data.bin')).toBe(true);
  });
  it('a member named as a class, source or text file is not probed', async () => {
    const r = await ok(buildZip([{ name: 'A.class', data: gz, method: 8 }, { name: 'notes.txt', data: gz, method: 0 }]), 'p.zip');
    expect(r.changes.some((c) => c.member !== undefined)).toBe(false);
  });
});

describe('reading: an archive read whole (up to limits.spillBytes) and one read in windows give the same bytes', () => {
  it('every corpus zip, from a file, both ways', async () => {
    const { normalizeFile } = await import('../src/api.js');
    const { copyFileSync, readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tempDir } = await import('./helpers.js');
    const corpus = new URL('../corpus/zip/', import.meta.url).pathname;
    const { dir, cleanup } = tempDir('zip-whole-');
    const inputs = readdirSync(corpus).filter((f) => /\.(zip|jar|whl|apk|pyz|jmod)$/.test(f));
    expect(inputs.length).toBeGreaterThan(5);
    for (const f of inputs) {
      const whole = join(dir, `whole-${f}`);
      const windowed = join(dir, `windowed-${f}`);
      copyFileSync(join(corpus, f), whole);
      copyFileSync(join(corpus, f), windowed);
      const a = await normalizeFile(whole, { timestamp: 1423159771 });
      const b = await normalizeFile(windowed, { timestamp: 1423159771, limits: { spillBytes: 64 } });
      expect(b.status, f).toBe(a.status);
      expect(readFileSync(windowed).equals(readFileSync(whole)), f).toBe(true);
    }
    cleanup();
  });
});
