// gzip (RFC 1952): one describe per rule of formats/gzip.ts, checked against real GNU gzip.
import pako from 'pako';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { crc32 } from '../formats/crc32.js';
import {
  FCOMMENT,
  FEXTRA,
  FHCRC,
  FNAME,
  decodeHeader,
  encodeCanonicalHeader,
  encodeTrailer,
  extraSubfieldIds,
  levelForXfl,
} from '../formats/gzip/header.js';
import { innerName } from '../formats/gzip.js';
import { deflateRaw } from '../formats/gzip/stream.js';
import { BufferSink, BufferSource } from '../src/io.js';
import { MemorySpill, normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { DEFAULT_LIMITS } from '../src/types.js';
import { HANDLERS } from '../formats/index.js';
import { PEER, haveTool, norm, run, tempDir } from './helpers.js';
import { arTool, checkGzip, gzipFile, gzipN } from './gzip-ar-helpers.js';
import { tarOf } from './safety-helpers.js';

const HAVE_GZIP = haveTool('gzip');
const HAVE_AR = haveTool('ar');
const HAVE_PY = haveTool('python3');

/** Text-like payload of n bytes (deterministic). */
function text(n: number, seed = 1): Uint8Array {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'reproducible', 'build', 'the', 'of', 'and', '\n', 'gzip', 'archive'];
  let s = seed;
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    s = (s * 1103515245 + 12345) >>> 0;
    const w = words[(s >>> 16) % words.length]! + ' ';
    parts.push(w);
    len += w.length;
  }
  return Buffer.from(parts.join('').slice(0, n));
}

/** A hand-made gzip member with any header fields (for flags no common tool writes). */
function makeMember(
  payload: Uint8Array,
  h: { mtime?: number; xfl?: number; os?: number; extra?: Uint8Array; name?: string; comment?: string; hcrc?: boolean; level?: 1 | 6 | 9; text?: boolean } = {},
): Uint8Array {
  let flags = 0;
  const parts: number[] = [];
  if (h.text) flags |= 1;
  if (h.extra) {
    flags |= FEXTRA;
    parts.push(h.extra.length & 0xff, h.extra.length >> 8, ...h.extra);
  }
  if (h.name !== undefined) {
    flags |= FNAME;
    parts.push(...Buffer.from(h.name, 'latin1'), 0);
  }
  if (h.comment !== undefined) {
    flags |= FCOMMENT;
    parts.push(...Buffer.from(h.comment, 'latin1'), 0);
  }
  if (h.hcrc) flags |= FHCRC;
  const m = h.mtime ?? 1600000000;
  const head = [0x1f, 0x8b, 8, flags, m & 0xff, (m >>> 8) & 0xff, (m >>> 16) & 0xff, m >>> 24, h.xfl ?? 0, h.os ?? 3, ...parts];
  if (h.hcrc) {
    const c = crc32(Uint8Array.from(head)) & 0xffff;
    head.push(c & 0xff, c >> 8);
  }
  const body = pako.deflateRaw(payload, { level: h.level ?? 6 });
  return Buffer.concat([Uint8Array.from(head), body, encodeTrailer(crc32(payload), payload.length)]);
}

function bgzfBlock(payload: Uint8Array): Uint8Array {
  // BGZF (SAM/BAM spec section 4.1): FEXTRA with subfield BC holding the block size - 1.
  const body = pako.deflateRaw(payload);
  const bsize = 18 + body.length + 8 - 1;
  return Buffer.concat([
    Uint8Array.of(0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0, bsize & 0xff, bsize >> 8),
    body,
    encodeTrailer(crc32(payload), payload.length),
  ]);
}

const cat = (...b: Uint8Array[]) => Buffer.concat(b);

describe('RFC 1952 header: decode and encode (formats/gzip/header.ts)', () => {
  it('decodes every optional field in order', () => {
    const extra = Uint8Array.of(0x41, 0x42, 1, 0, 9);
    const m = makeMember(text(10), { extra, name: 'n.txt', comment: 'hi', hcrc: true, mtime: 0x01020304, xfl: 2, os: 11 });
    const h = decodeHeader(m, 0, true);
    if (h === 'short') throw new Error('short');
    expect(h.flags).toBe(FEXTRA | FNAME | FCOMMENT | FHCRC);
    expect(h.mtime).toBe(0x01020304);
    expect([h.xfl, h.os]).toEqual([2, 11]);
    expect(Buffer.from(h.extra!)).toEqual(Buffer.from(extra));
    expect(Buffer.from(h.name!).toString()).toBe('n.txt');
    expect(Buffer.from(h.comment!).toString()).toBe('hi');
    expect(h.hcrc).toBe(crc32(m.subarray(0, h.length - 2)) & 0xffff);
    expect(h.length).toBe(10 + 2 + 5 + 6 + 3 + 2);
  });
  it("returns 'short' for a partial header unless final, then a FormatError naming the field", () => {
    const m = makeMember(text(10), { name: 'a-long-name.txt' });
    expect(decodeHeader(m.subarray(0, 14), 0, false)).toBe('short');
    expect(() => decodeHeader(m.subarray(0, 14), 0, true)).toThrow(/truncated gzip member header at offset 0: FNAME/);
    expect(() => decodeHeader(m.subarray(0, 6), 0, true)).toThrow(/fixed part/);
  });
  it('rejects a bad magic, method or reserved flags', () => {
    expect(() => decodeHeader(Uint8Array.of(0x1f, 0x8c, 8, 0, 0, 0, 0, 0, 0, 3), 5, true)).toThrow(/bad gzip magic at offset 5/);
    expect(() => decodeHeader(Uint8Array.of(0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 3), 0, true)).toThrow(/compression method 7/);
    expect(() => decodeHeader(Uint8Array.of(0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0, 0, 3), 0, true)).toThrow(/reserved gzip flag/);
  });
  it('canonical header is FLG 0, MTIME 0, XFL kept, OS 3', () => {
    expect([...encodeCanonicalHeader(2)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
  });
  it('XFL 2 means level 9, 4 means level 1, anything else 6', () => {
    expect([levelForXfl(2), levelForXfl(4), levelForXfl(0), levelForXfl(7)]).toEqual([9, 1, 6, 6]);
  });
  it('lists FEXTRA subfield ids, undefined when malformed', () => {
    expect(extraSubfieldIds(Uint8Array.of(0x42, 0x43, 2, 0, 1, 2, 0x52, 0x41, 0, 0))).toEqual(['BC', 'RA']);
    expect(extraSubfieldIds(Uint8Array.of(0x42, 0x43, 9, 0, 1))).toBeUndefined();
  });
  it('CRC-32 matches the check value of the standard', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('payload name for nested detection', () => {
  it('strips .gz, maps .tgz to .tar and .svgz to .svg, keeps other names', () => {
    expect(innerName('dir/x.tar.gz')).toBe('x.tar');
    expect(innerName('a.deb!/data.tar.gz')).toBe('data.tar');
    expect(innerName('X.TGZ')).toBe('X.tar');
    expect(innerName('icon.svgz')).toBe('icon.svg');
    expect(innerName('blob')).toBe('blob');
    expect(innerName('.gz')).toBe('.gz');
  });
});

describe.runIf(HAVE_GZIP)('oracle: our output equals `gzip -n` of the same content at the same level', () => {
  const { dir } = tempDir();
  for (const level of [1, 6, 9]) {
    it(`gzip -${level} with name and mtime -> gzip -n -${level}, byte for byte`, async () => {
      const payload = text(15000, level);
      const input = gzipFile(dir, payload, { name: 'notes.txt', mtime: 1234567890 + level, level });
      const r = await norm(input, 'notes.txt.gz');
      expect(r.status).toBe('changed');
      expect(Buffer.from(r.output).equals(gzipN(payload, level))).toBe(true);
      expect(r.changes.map((c) => c.what)).toEqual([`MTIME ${1234567890 + level} -> 0`, 'FNAME "notes.txt" removed']);
      checkGzip(r.output, payload);
    });
  }
  it('a large payload (gzip deflate differs from zlib): header equals gzip -n, data copied raw', async () => {
    const payload = text(300_000, 7);
    const input = gzipFile(dir, payload, { mtime: 1700000000, level: 9 });
    const r = await norm(input, 'big.gz');
    const ref = gzipN(payload, 9);
    expect(Buffer.from(r.output.subarray(0, 10))).toEqual(ref.subarray(0, 10));
    expect(Buffer.from(r.output)).toEqual(ref); // same gzip, same deflater: identical
    checkGzip(r.output, payload);
  });
  it('gzip -n output is already canonical (unchanged)', async () => {
    for (const level of [1, 6, 9]) expect((await norm(gzipN(text(5000), level), 'x.gz')).status).toBe('unchanged');
  });
});

describe.runIf(HAVE_GZIP && HAVE_PY)('Python gzip output (OS 255, FNAME, MTIME) as input', () => {
  it('becomes what gzip -n writes', async () => {
    const payload = text(12000, 3);
    const py = run('python3', [
      '-c',
      'import gzip,io,sys\nd=sys.stdin.buffer.read()\nb=io.BytesIO()\nf=gzip.GzipFile(filename="py.txt",mode="wb",compresslevel=9,fileobj=b,mtime=1111111111)\nf.write(d);f.close()\nsys.stdout.buffer.write(b.getvalue())',
    ], { input: payload });
    expect(py[9]).toBe(255);
    const r = await norm(py, 'py.txt.gz');
    expect(r.changes.map((c) => c.what)).toEqual(['MTIME 1111111111 -> 0', 'FNAME "py.txt" removed', 'OS 255 -> 3']);
    expect(Buffer.from(r.output)).toEqual(gzipN(payload, 9));
  });
});

describe.runIf(HAVE_GZIP)('every member of a multi-member file', () => {
  it('each header canonical, data raw, members kept apart; gzip -dc gives the concatenation', async () => {
    const { dir } = tempDir();
    const a = text(3000, 1);
    const b = text(5000, 2);
    const input = cat(gzipFile(dir, a, { name: 'a', mtime: 1000, level: 1 }), gzipFile(dir, b, { name: 'bb', mtime: 2000, level: 9 }));
    const r = await norm(input, 'multi.gz');
    expect(Buffer.from(r.output)).toEqual(cat(gzipN(a, 1), gzipN(b, 9)));
    expect(r.changes).toEqual([
      { kind: 'timestamp', what: 'MTIME -> 0', count: 2 },
      { kind: 'metadata', what: 'FNAME removed', count: 2 },
    ]);
    checkGzip(r.output, cat(a, b));
  });
});

describe('FEXTRA, FCOMMENT, FHCRC and FTEXT are removed (gzip -n never writes them)', () => {
  it('all optional fields go, data and trailer stay', async () => {
    const payload = text(4000);
    const input = makeMember(payload, { extra: Uint8Array.of(0x58, 0x59, 3, 0, 1, 2, 3), name: 'x', comment: 'built on host42', hcrc: true, text: true, os: 0 });
    if (HAVE_GZIP) checkGzip(input, payload); // the crafted input is valid for gzip itself
    const r = await norm(input, 'x.gz');
    expect(Buffer.from(r.output)).toEqual(makeMember(payload, { mtime: 0 }));
    expect(r.changes.map((c) => c.kind).sort()).toEqual(['extra-field', 'header', 'header', 'header', 'metadata', 'metadata', 'timestamp']);
    if (HAVE_GZIP) checkGzip(r.output, payload);
  });
});

describe('BGZF and dictzip are left untouched (their FEXTRA indexes the blocks)', () => {
  it('BGZF (bgzip, BAM): untouched with a reason', async () => {
    const input = cat(bgzfBlock(text(1000)), bgzfBlock(new Uint8Array(0)));
    const r = await norm(input, 'x.vcf.gz');
    expect(r.status).toBe('untouched');
    expect(r.reason).toMatch(/BGZF/);
    expect(Buffer.from(r.output)).toEqual(input);
  });
  it('dictzip (RA subfield): untouched with a reason', async () => {
    const r = await norm(makeMember(text(100), { extra: Uint8Array.of(0x52, 0x41, 2, 0, 1, 0), name: 'd' }), 'x.dict.dz');
    expect(r.status).toBe('untouched');
    expect(r.reason).toMatch(/dictzip/);
  });
});

describe('bytes after the last member are kept byte for byte, with a notice', () => {
  it('trailing zeros (tape padding)', async () => {
    const input = cat(makeMember(text(500), { name: 'a' }), new Uint8Array(1000));
    const r = await norm(input, 'z.gz');
    expect(Buffer.from(r.output)).toEqual(cat(makeMember(text(500), { mtime: 0 }), new Uint8Array(1000)));
    expect(r.notices).toEqual(['1000 zero bytes after the last gzip member kept as they are']);
    if (HAVE_GZIP) checkGzip(r.output, text(500));
  });
  it('trailing non-gzip data', async () => {
    const tail = Buffer.from('SIGNATURE BLOCK');
    const r = await norm(cat(makeMember(text(50)), tail), 'g.gz');
    expect(Buffer.from(r.output.subarray(r.output.length - tail.length))).toEqual(tail);
    expect(r.notices[0]).toMatch(/15 bytes of trailing data/);
  });
  it('trailing bytes that start like a member must parse as one', async () => {
    const r = await norm(cat(makeMember(text(50)), Uint8Array.of(0x1f, 0x8b, 8, 0)), 'g.gz');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/truncated gzip member header at offset \d+/);
  });
});

describe('nesting: the payload goes through the dispatcher; a changed payload is recompressed', () => {
  it.runIf(HAVE_GZIP && HAVE_AR)('gzip of an `ar rcU` archive -> gzip -n of `ar rcD` of the same members, at each level', async () => {
    const { dir } = tempDir();
    const members = [
      { name: 'one.txt', data: text(700, 1), mtime: 1500000001, uid: 1001, gid: 1002, mode: 0o755 },
      { name: 'a-rather-long-member-name.txt', data: text(900, 2), mtime: 1500000002, uid: 33, gid: 44 },
    ];
    const u = arTool(dir, members, 'rcU');
    const d = arTool(dir, members, 'rcD');
    for (const level of [1, 6, 9]) {
      const input = gzipFile(dir, u, { name: 'lib.a', mtime: 1700000000, level });
      const r = await norm(input, 'lib.a.gz');
      expect(r.status).toBe('changed');
      expect(Buffer.from(r.output), `level ${level}`).toEqual(gzipN(d, level));
      expect(r.changes.some((c) => c.kind === 'compression' && c.what.includes(`level ${level}`))).toBe(true);
      expect(r.changes.some((c) => c.member === 'lib.a' && c.kind === 'owner')).toBe(true);
      checkGzip(r.output, d);
    }
  });
  it.runIf(HAVE_GZIP)('gzip in gzip: the inner one is normalized too', async () => {
    const { dir } = tempDir();
    const payload = text(2000);
    const inner = gzipFile(dir, payload, { name: 'inner.txt', mtime: 1400000000, level: 9 });
    const outer = gzipFile(dir, inner, { name: 'inner.txt.gz', mtime: 1400000001, level: 6 });
    const r = await norm(outer, 'inner.txt.gz.gz');
    expect(Buffer.from(r.output)).toEqual(gzipN(gzipN(payload, 9), 6));
    const again = await norm(r.output, 'inner.txt.gz.gz');
    expect(again.status).toBe('unchanged');
  });
  it.runIf(HAVE_GZIP && HAVE_AR)('multi-member file whose joined payload changes: one member, as gzip -n of the new payload', async () => {
    const { dir } = tempDir();
    const members = [{ name: 'm.txt', data: text(3000, 4), mtime: 1500000009, uid: 12 }];
    const u = arTool(dir, members, 'rcU');
    const cut = 1000;
    const input = cat(gzipFile(dir, u.subarray(0, cut), { name: 'a', level: 1 }), gzipFile(dir, u.subarray(cut), { name: 'b', level: 9 }));
    const r = await norm(input, 'lib.a.gz');
    // XFL of the first member (level 1) decides the level.
    expect(Buffer.from(r.output)).toEqual(gzipN(arTool(dir, members, 'rcD'), 1));
    expect(r.changes.find((c) => c.kind === 'compression')?.what).toMatch(/2 members joined into one/);
  });
  it.runIf(HAVE_GZIP && haveTool('tar'))('tar czf: the tar payload is normalized as the tar handler does it alone', async () => {
    const { dir } = tempDir();
    const { mkdirSync, writeFileSync, utimesSync } = await import('node:fs');
    mkdirSync(`${dir}/t/d`, { recursive: true });
    writeFileSync(`${dir}/t/d/b.txt`, text(2000, 5));
    writeFileSync(`${dir}/t/a.txt`, text(1000, 6));
    utimesSync(`${dir}/t/a.txt`, 1600000000, 1600000000);
    const tgz = run('tar', ['czf', '-', '-C', dir, 't']);
    const r = await norm(tgz, 'src.tgz');
    const alone = await norm(run('gzip', ['-dc'], { input: tgz }), 'src.tar');
    expect(alone.status).toBe('changed');
    expect(r.status).toBe('changed');
    expect(checkGzip(r.output)).toEqual(Buffer.from(alone.output));
    expect(r.changes.some((c) => c.member === 'src.tar')).toBe(true);
    expect((await norm(r.output, 'src.tgz')).status).toBe('unchanged');
  });
  it.runIf(HAVE_PY)('recompression of a large payload equals zlib (python) raw deflate, read in fixed chunks', async () => {
    const payload = text(2_500_000, 9);
    for (const level of [1, 6, 9] as const) {
      const sink = new BufferSink();
      const { crc, size } = await deflateRaw(new BufferSource(payload), level, sink);
      const ref = run('python3', ['-c', `import sys,zlib\nc=zlib.compressobj(${level},zlib.DEFLATED,-15)\nd=sys.stdin.buffer.read()\nsys.stdout.buffer.write(c.compress(d)+c.flush())`], { input: payload });
      expect(Buffer.from(sink.bytes()).equals(ref), `level ${level}`).toBe(true);
      expect(crc).toBe(crc32(payload));
      expect(size).toBe(payload.length);
    }
  }, 60_000);
});

describe('streaming: the payload reaches the spill in bounded pieces, and only when a handler claims it', () => {
  class Spy extends MemorySpill {
    static sizes: number[] = [];
    override async write(c: Uint8Array) {
      Spy.sizes.push(c.length);
      return super.write(c);
    }
  }
  it('a claimed payload larger than limits.spillBytes arrives in chunks of at most 64 KiB', async () => {
    const payload = tarOf(new Uint8Array(8 << 20));
    const input = makeMember(payload, { name: 'z.tar', mtime: 5 });
    Spy.sizes = [];
    const limits = { ...DEFAULT_LIMITS, spillBytes: 1 << 20 };
    const r = await normalizeBytes(input, 'z.tar.gz', defaultOptions({ limits }), HANDLERS, () => new Spy());
    expect(r.status).toBe('changed');
    expect(Spy.sizes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(payload.length);
    expect(Math.max(...Spy.sizes)).toBeLessThanOrEqual(64 * 1024);
  });
  it('8 MiB of zeros, which no handler claims, are never spilled: the deflate data is copied raw', async () => {
    const input = makeMember(new Uint8Array(8 << 20), { name: 'z' });
    Spy.sizes = [];
    const r = await normalizeBytes(input, 'z.gz', defaultOptions({ limits: { ...DEFAULT_LIMITS, spillBytes: 1 << 20 } }), HANDLERS, () => new Spy());
    expect(r.status).toBe('changed');
    expect(Spy.sizes).toEqual([]);
    const out = decodeHeader(r.output, 0, true);
    const inp = decodeHeader(input, 0, true);
    if (out === 'short' || inp === 'short') throw new Error('short header');
    expect(Buffer.from(r.output.subarray(out.length)).equals(Buffer.from(input.subarray(inp.length)))).toBe(true);
  });
});

describe('bad input: FormatError with a clear reason, input left as it is', () => {
  const good = makeMember(text(3000), { name: 'f.txt' });
  const hdrLen = 10 + 6;
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['wrong magic (claimed by the .gz extension)', Buffer.from('not gzip at all'), /bad magic at offset 0/],
    ['truncated fixed header', good.subarray(0, 7), /truncated gzip member header at offset 0: fixed part/],
    ['truncated in FNAME', good.subarray(0, 13), /truncated gzip member header at offset 0: FNAME/],
    ['truncated deflate data', good.subarray(0, hdrLen + 20), /truncated deflate data in gzip member 1/],
    ['truncated trailer', good.subarray(0, good.length - 3), /truncated trailer of gzip member 1.*5 left/],
    ['bad CRC', cat(good.subarray(0, good.length - 8), Uint8Array.of(1, 2, 3, 4), good.subarray(good.length - 4)), /bad CRC32 in gzip member 1 at offset 0: trailer says 0x04030201/],
    ['bad ISIZE', cat(good.subarray(0, good.length - 4), Uint8Array.of(9, 9, 9, 9)), /bad ISIZE in gzip member 1/],
    ['corrupt deflate data', cat(good.subarray(0, hdrLen), Uint8Array.of(0xff, 0xff, 0xff, 0xff), good.subarray(hdrLen + 4)), /corrupt deflate data in gzip member 1/],
    ['reserved flag bits', cat(Uint8Array.of(0x1f, 0x8b, 8, 0x80), good.subarray(4)), /reserved gzip flag bits/],
    ['unknown method', cat(Uint8Array.of(0x1f, 0x8b, 9), good.subarray(3)), /not a gzip file|compression method/],
    ['huge XLEN', Uint8Array.of(0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 1, 2), /truncated gzip member header at offset 0: FEXTRA/],
    ['second member truncated', cat(good, good.subarray(0, 30)), /truncated .* gzip member 2 at offset \d+/],
  ];
  it('zero-length: not an artifact whatever its name (an empty placeholder), left as it is', async () => {
    const r = await norm(new Uint8Array(0), 'f.txt.gz');
    expect(r.status).toBe('ignored');
    expect(r.reason).toBe('empty file');
    expect(r.output.length).toBe(0);
  });
  for (const [what, bytes, reason] of cases) {
    it(what, async () => {
      const r = await norm(bytes, 'f.txt.gz');
      expect(r.status).toBe('error');
      expect(r.reason).toMatch(reason);
      expect(Buffer.from(r.output)).toEqual(Buffer.from(bytes));
    });
  }
  it('unterminated FNAME running to the end of the file', async () => {
    const bytes = cat(Uint8Array.of(0x1f, 0x8b, 8, FNAME, 0, 0, 0, 0, 0, 3), new Uint8Array(200_000).fill(0x41));
    const r = await norm(bytes, 'f.gz');
    expect(r.reason).toMatch(/truncated gzip member header at offset 0: FNAME/);
  });
  it('a bomb over limits.maxMemberBytes is refused, not inflated to the end', async () => {
    const bytes = makeMember(new Uint8Array(4 << 20), { name: 'bomb' });
    const limits = { ...DEFAULT_LIMITS, maxMemberBytes: 1 << 20 };
    const r = await normalizeBytes(bytes, 'bomb.gz', defaultOptions({ limits }), HANDLERS);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/inflates past the limit of 1048576 bytes/);
  });
  it('a ratio over limits.maxRatio is refused', async () => {
    const bytes = makeMember(new Uint8Array(4 << 20), { name: 'bomb' });
    const limits = { ...DEFAULT_LIMITS, maxRatio: 100 };
    const r = await normalizeBytes(bytes, 'bomb.gz', defaultOptions({ limits }), HANDLERS);
    // limits.maxRatio bounds what the whole file decompresses (a 4 KiB file, 4 MiB of zeros).
    expect(r.reason).toMatch(/decompression budget exceeded .*more than 100 times the file's size/);
  });
});

describe('peer fixtures as inputs (their canonical form differs from ours)', () => {
  // strip-nondeterminism sets MTIME to T (1423159771) and keeps it; we write 0 as `gzip -n`
  // does (DESIGN.md section 3), so its .out is not our golden.
  it('strip-nondeterminism vimoutliner_vo_readme_txt.gz: header as gzip -n, data raw, content kept', async () => {
    const input = readFileSync(`${PEER}strip-nondeterminism/gzip/vimoutliner_vo_readme_txt.gz.in`);
    const theirs = readFileSync(`${PEER}strip-nondeterminism/gzip/vimoutliner_vo_readme_txt.gz.out`);
    const r = await norm(input, 'vo_readme.txt.gz', { timestamp: 1423159771 });
    expect([...r.output.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    // Everything after their 10-byte header (which holds MTIME = T) is the same as ours.
    expect(Buffer.from(r.output.subarray(10))).toEqual(theirs.subarray(10));
    expect(theirs.readUInt32LE(4)).toBe(1423159771);
    if (HAVE_GZIP) expect(checkGzip(r.output)).toEqual(run('gzip', ['-dc'], { input }));
    expect((await norm(r.output, 'vo_readme.txt.gz', { timestamp: 1423159771 })).status).toBe('unchanged');
  });
  // add-determinism has no gzip handler and leaves empty.gz alone; we drop FNAME and MTIME.
  it('add-determinism empty.gz: becomes gzip -n of nothing', async () => {
    const input = readFileSync(`${PEER}add-determinism/empty.gz`);
    const r = await norm(input, 'empty.gz', { timestamp: 1234567 });
    expect(r.status).toBe('changed');
    if (HAVE_GZIP) {
      expect(Buffer.from(r.output)).toEqual(gzipN(new Uint8Array(0), 6));
      expect(checkGzip(r.output).length).toBe(0);
    }
  });
});

describe('members() gives the payload and the first header fields (for detnorm diff)', () => {
  it('one member holding all members data, named without .gz', async () => {
    const { gzipHandler } = await import('../formats/gzip.js');
    const bytes = cat(makeMember(text(100, 1), { name: 'orig', mtime: 77, os: 255 }), makeMember(text(50, 2)), new Uint8Array(4));
    const ctx = { options: defaultOptions(), path: 'dir/x.txt.gz', depth: 0, spill: () => new MemorySpill(), notice: () => {}, normalizeMember: async () => ({ changed: false as const }) };
    const out = [];
    for await (const m of gzipHandler.members!(new BufferSource(bytes), ctx)) out.push({ ...m, data: Buffer.from(await m.data!.read(0, m.data!.size)) });
    expect(out).toEqual([{ name: 'x.txt', type: 'file', data: cat(text(100, 1), text(50, 2)), meta: { mtime: 77, os: 255, xfl: 0, flags: FNAME, members: 2, fname: 'orig', trailing: 4 } }]);
  });
});

describe.runIf(HAVE_GZIP)('the reference tool accepts every golden output', () => {
  it('gzip -t and gzip -dc on corpus/gzip/*.out', async () => {
    const { readdirSync } = await import('node:fs');
    const dir = new URL('../corpus/gzip/', import.meta.url).pathname;
    const outs = readdirSync(dir).filter((f) => f.endsWith('.out'));
    expect(outs.length).toBeGreaterThan(5);
    for (const f of outs) checkGzip(readFileSync(dir + f));
  });
});
