// Property tests (fast-check) for gzip and ar: idempotence, convergence (random times, owners,
// names, levels give the same output) and content preserved. A few hundred runs in-process
// on inputs built by independent test writers, and a handful through the real tools.
import fc from 'fast-check';
import pako from 'pako';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../formats/crc32.js';
import { haveTool, norm, run, tempDir } from './helpers.js';
import { arTool, gzipFile, gzipN } from './gzip-ar-helpers.js';

// ---------- gzip: an independent member writer (RFC 1952) ----------
interface GzHead {
  mtime: number;
  os: number;
  name?: string;
  comment?: string;
  extra?: Uint8Array;
  hcrc: boolean;
  ftext: boolean;
}
const XFL: Record<number, number> = { 1: 4, 6: 0, 9: 2 };

function member(payload: Uint8Array, level: 1 | 6 | 9, h: GzHead): Buffer {
  const flags = (h.ftext ? 1 : 0) | (h.hcrc ? 2 : 0) | (h.extra ? 4 : 0) | (h.name !== undefined ? 8 : 0) | (h.comment !== undefined ? 16 : 0);
  const head = Buffer.alloc(10);
  head.set([0x1f, 0x8b, 8, flags]);
  head.writeUInt32LE(h.mtime, 4);
  head[8] = XFL[level]!;
  head[9] = h.os;
  const parts: Buffer[] = [head];
  if (h.extra) parts.push(Buffer.from([h.extra.length & 0xff, h.extra.length >> 8]), Buffer.from(h.extra));
  if (h.name !== undefined) parts.push(Buffer.from(h.name, 'latin1'), Buffer.of(0));
  if (h.comment !== undefined) parts.push(Buffer.from(h.comment, 'latin1'), Buffer.of(0));
  if (h.hcrc) {
    const c = crc32(Buffer.concat(parts)) & 0xffff;
    parts.push(Buffer.from([c & 0xff, c >> 8]));
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(payload), 0);
  trailer.writeUInt32LE(payload.length, 4);
  return Buffer.concat([...parts, Buffer.from(pako.deflateRaw(payload, { level })), trailer]);
}

const noNul = fc.string({ maxLength: 20 }).map((s) => s.replace(/\0/g, ''));
const gzHead: fc.Arbitrary<GzHead> = fc.record({
  mtime: fc.nat({ max: 0xffffffff }),
  os: fc.integer({ min: 0, max: 255 }),
  name: fc.option(noNul, { nil: undefined }),
  comment: fc.option(noNul, { nil: undefined }),
  // Any FEXTRA subfield except BC (BGZF) and RA (dictzip), which we leave untouched on purpose.
  extra: fc.option(fc.uint8Array({ maxLength: 12 }).map((d) => Uint8Array.from([0x58, 0x58, d.length, 0, ...d])), { nil: undefined }),
  hcrc: fc.boolean(),
  ftext: fc.boolean(),
});
const level = fc.constantFrom(1 as const, 6 as const, 9 as const);
// Mostly text-like payloads (compressible) plus raw bytes.
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.array(fc.constantFrom('alpha ', 'beta ', 'gamma\n', 'build ', '0123 '), { maxLength: 400 }).map((a) => Buffer.from(a.join(''))),
);
const members = fc.array(fc.tuple(payload, level, gzHead), { minLength: 1, maxLength: 3 });

const canonical = (p: Uint8Array, l: 1 | 6 | 9) => member(p, l, { mtime: 0, os: 3, hcrc: false, ftext: false });

describe('gzip properties (in-process)', () => {
  it('canonical form = header of gzip -n + the same deflate data, for any header', async () => {
    await fc.assert(
      fc.asyncProperty(members, async (ms) => {
        const input = Buffer.concat(ms.map(([p, l, h]) => member(p, l, h)));
        const r = await norm(input, 'x.gz', { formats: ['gzip'] });
        expect(Buffer.from(r.output)).toEqual(Buffer.concat(ms.map(([p, l]) => canonical(p, l))));
      }),
      { numRuns: 200 },
    );
  });
  it('idempotent', async () => {
    await fc.assert(
      fc.asyncProperty(members, async (ms) => {
        const once = await norm(Buffer.concat(ms.map(([p, l, h]) => member(p, l, h))), 'x.gz', { formats: ['gzip'] });
        const twice = await norm(once.output, 'x.gz', { formats: ['gzip'] });
        expect(twice.status).toBe('unchanged');
      }),
      { numRuns: 150 },
    );
  });
  it('convergent: two random headers on the same data give the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(payload, level, gzHead, gzHead, async (p, l, h1, h2) => {
        const a = await norm(member(p, l, h1), 'a.gz', { formats: ['gzip'] });
        const b = await norm(member(p, l, h2), 'b.gz', { formats: ['gzip'] });
        expect(Buffer.from(a.output)).toEqual(Buffer.from(b.output));
      }),
      { numRuns: 150 },
    );
  });
  it('content preserved (pako.ungzip of the output gives the payload)', async () => {
    await fc.assert(
      fc.asyncProperty(members, async (ms) => {
        const r = await norm(Buffer.concat(ms.map(([p, l, h]) => member(p, l, h))), 'x.gz', { formats: ['gzip'] });
        // pako.ungzip reads every member (multi-member aware) and checks CRC and ISIZE.
        expect(Buffer.from(pako.ungzip(r.output))).toEqual(Buffer.concat(ms.map(([p]) => p)));
      }),
      { numRuns: 100 },
    );
  });
});

// ---------- ar: an independent GNU/BSD writer ----------
interface ArIn {
  name: string;
  data: Uint8Array;
  mtime: number;
  uid: number;
  gid: number;
  mode: number;
}
const field = (v: string, n: number) => v.padEnd(n, ' ');

function writeAr(ms: readonly ArIn[], style: 'gnu' | 'bsd'): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  const longs: string[] = [];
  const fields = style === 'gnu' ? ms.map((m) => {
    if (m.name.length <= 15) return `${m.name}/`;
    const off = longs.join('').length;
    longs.push(`${m.name}/\n`);
    return `/${off}`;
  }) : ms.map((m) => `#1/${m.name.length}`);
  const hdr = (name: string, mtime: string, uid: string, gid: string, mode: string, size: number) =>
    Buffer.from(field(name, 16) + field(mtime, 12) + field(uid, 6) + field(gid, 6) + field(mode, 8) + field(String(size), 10) + '`\n', 'latin1');
  if (longs.length) {
    let table = longs.join('');
    if (table.length % 2) table += '\n';
    parts.push(hdr('//', '', '', '', '', table.length), Buffer.from(table, 'latin1'));
  }
  ms.forEach((m, i) => {
    const pre = style === 'bsd' ? Buffer.from(m.name, 'latin1') : Buffer.alloc(0);
    const size = pre.length + m.data.length;
    parts.push(hdr(fields[i]!, String(m.mtime), String(m.uid), String(m.gid), m.mode.toString(8), size), pre, Buffer.from(m.data));
    if (size % 2) parts.push(Buffer.from('\n'));
  });
  return Buffer.concat(parts);
}

const arName = fc.stringMatching(/^[a-z0-9_.+-]{1,30}$/).filter((n) => n !== 'debian-binary' && !n.startsWith('__.SYMDEF'));
const arMeta = fc.record({
  mtime: fc.nat({ max: 99999999999 }),
  uid: fc.nat({ max: 999999 }),
  gid: fc.nat({ max: 999999 }),
  mode: fc.constantFrom(0o100644, 0o100755, 0o100600, 0o644, 0o100664),
});
// Member data that no other handler claims (so only ar rules apply).
const arData = fc.uint8Array({ maxLength: 200 }).map((d) => Uint8Array.from([0x23, ...d]));
const arMembers = fc.uniqueArray(fc.record({ name: arName, data: arData }), { minLength: 0, maxLength: 8, selector: (m) => m.name });
const withMeta = (ms: { name: string; data: Uint8Array }[], metas: { mtime: number; uid: number; gid: number; mode: number }[]): ArIn[] =>
  ms.map((m, i) => ({ ...m, ...(metas[i % Math.max(1, metas.length)] ?? { mtime: 0, uid: 0, gid: 0, mode: 0o644 }) }));
const CANON = [{ mtime: 0, uid: 0, gid: 0, mode: 0o644 }];
const style = fc.constantFrom('gnu' as const, 'bsd' as const);
const metas = fc.array(arMeta, { minLength: 1, maxLength: 8 });

describe('ar properties (in-process)', () => {
  it('canonical form = the same archive with mtime 0, uid/gid 0, mode 644 (GNU and BSD naming)', async () => {
    await fc.assert(
      fc.asyncProperty(arMembers, metas, style, async (ms, meta, st) => {
        const r = await norm(writeAr(withMeta(ms, meta), st), 'x.a', { formats: ['ar'] });
        expect(Buffer.from(r.output)).toEqual(writeAr(withMeta(ms, CANON), st));
      }),
      { numRuns: 200 },
    );
  });
  it('idempotent, also with T, clamp and sorting', async () => {
    const opts = fc.record({ timestamp: fc.option(fc.nat({ max: 2 ** 33 }), { nil: undefined }), clamp: fc.boolean(), sortArMembers: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(arMembers, metas, style, opts, async (ms, meta, st, o) => {
        const options = { ...o, formats: ['ar'] };
        const once = await norm(writeAr(withMeta(ms, meta), st), 'x.a', options);
        const twice = await norm(once.output, 'x.a', options);
        expect(twice.status).toBe('unchanged');
      }),
      { numRuns: 150 },
    );
  });
  it('convergent: random times/owners/modes and (sorted) random orders give the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(arMembers, metas, metas, fc.nat(), style, async (ms, m1, m2, seed, st) => {
        const shuffled = [...ms].sort((a, b) => ((a.name.length * 31 + seed) % 7) - ((b.name.length * 31 + seed) % 7));
        const a = await norm(writeAr(withMeta(ms, m1), st), 'a.a', { formats: ['ar'], sortArMembers: true });
        const b = await norm(writeAr(withMeta(shuffled, m2), st), 'b.a', { formats: ['ar'], sortArMembers: true });
        expect(Buffer.from(a.output)).toEqual(Buffer.from(b.output));
        const sorted = [...ms].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
        expect(Buffer.from(a.output)).toEqual(writeAr(withMeta(sorted, CANON), st));
      }),
      { numRuns: 150 },
    );
  });
});

// ---------- a handful through the real tools ----------
const HAVE = haveTool('gzip') && haveTool('ar');
describe.runIf(HAVE)('properties through the real tools (gzip, ar)', () => {
  const { dir } = tempDir('detnorm-prop-');
  const fname = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,39}$/);
  it('gzip with random name/mtime/level -> gzip -n, and gzip -dc gives the payload', async () => {
    await fc.assert(
      fc.asyncProperty(payload, fname, fc.integer({ min: 1, max: 2 ** 31 - 1 }), level, async (p, name, mtime, l) => {
        const r = await norm(gzipFile(dir, p, { name, mtime, level: l }), `${name}.gz`, { formats: ['gzip'] });
        expect(Buffer.from(r.output)).toEqual(gzipN(p, l));
        expect(run('gzip', ['-dc'], { input: r.output })).toEqual(Buffer.from(p));
      }),
      { numRuns: 6 },
    );
  });
  it('ar rcU with random mtimes/uids/modes -> ar rcD; ar p gives every member back', async () => {
    const realMembers = fc.uniqueArray(fc.record({ name: fname, data: arData }), { minLength: 1, maxLength: 5, selector: (m) => m.name });
    await fc.assert(
      fc.asyncProperty(realMembers, metas, async (ms, meta) => {
        const members = withMeta(ms, meta).map((m) => ({ ...m, mtime: m.mtime % 2 ** 31, uid: m.uid % 60000, gid: m.gid % 60000, mode: m.mode & 0o777 }));
        const u = arTool(dir, members, 'rcU');
        const r = await norm(u, 'x.a', { formats: ['ar'] });
        expect(Buffer.from(r.output)).toEqual(arTool(dir, members, 'rcD'));
        const f = `${dir}/p.a`;
        (await import('node:fs')).writeFileSync(f, r.output);
        for (const m of members) expect(run('ar', ['p', f, m.name])).toEqual(Buffer.from(m.data));
      }),
      { numRuns: 6 },
    );
  });
});
