// PE/COFF pieces on their own: XXH64 against xxhsum, the CheckSum against pefile, detection,
// the resource walk and CodeView records on crafted images, short import members, and
// malformed images (every one left untouched with its reason).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BufferSource } from '../src/io.js';
import { PeChecksum } from '../formats/pe/checksum.js';
import { peHandler, looksLikeObject } from '../formats/pe/index.js';
import { Xxh64, xxh64 } from '../formats/pe/xxhash64.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { pefilePython } from './pe-helpers.js';

const CORPUS = new URL('../corpus/pe/', import.meta.url).pathname;
const hex = (b: Uint8Array) => Buffer.from(b).reverse().toString('hex');

/** Deterministic pseudo-random bytes. */
function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe.skipIf(!haveTool('xxhsum'))('XXH64 equals xxhsum -H1 (the hash lld-link 14 uses for /Brepro)', () => {
  const t = tempDir('detnorm-xxh-');
  const sizes = [0, 1, 3, 4, 7, 8, 31, 32, 33, 63, 64, 100, 1000, 65_537, 1_000_003];
  it('on inputs of every tail length, whole and in uneven pieces', () => {
    for (const n of sizes) {
      const data = bytesOf(n, n + 7);
      const p = join(t.dir, `d${n}`);
      writeFileSync(p, data);
      const want = execFileSync('xxhsum', ['-H1', p]).toString().split(/\s+/)[0];
      expect(hex(xxh64(data)), `${n} bytes`).toBe(want);
      const h = new Xxh64();
      for (let at = 0, k = 1; at < n; at += k, k = (k * 5 + 3) % 97) h.update(data.subarray(at, Math.min(n, at + k)));
      expect(hex(h.digest()), `${n} bytes in pieces`).toBe(want);
      // An unaligned view takes the copying path.
      const shifted = new Uint8Array(n + 1);
      shifted.set(data, 1);
      expect(hex(xxh64(shifted.subarray(1))), `${n} bytes unaligned`).toBe(want);
    }
    t.cleanup();
  });
});

describe('PE CheckSum', () => {
  const py = pefilePython();
  it.skipIf(!py)('equals pefile\'s generate_checksum, also when summed in odd pieces', () => {
    const t = tempDir('detnorm-cs-');
    for (const [n, at] of [[4096, 216], [4097, 216], [70_001, 64 + 88]] as const) {
      const data = bytesOf(n, n);
      // A minimal MZ/PE header so pefile finds the CheckSum field (at optional header + 64).
      data.set([0x4d, 0x5a], 0);
      new DataView(data.buffer).setUint32(0x3c, 0x80, true);
      data.set([0x50, 0x45, 0, 0], 0x80);
      new DataView(data.buffer).setUint16(0x80 + 4 + 16, 0xe0, true);
      new DataView(data.buffer).setUint16(0x80 + 24, 0x10b, true);
      new DataView(data.buffer).setUint16(0x80 + 4 + 2, 0, true);
      const csAt = 0x80 + 24 + 64;
      void at;
      const p = join(t.dir, `f${n}`);
      writeFileSync(p, data);
      const r = spawnSync(py!, ['-c', 'import pefile,sys; print(pefile.PE(sys.argv[1], fast_load=True).generate_checksum())', p]);
      const want = Number(r.stdout.toString().trim());
      const whole = new PeChecksum(csAt);
      whole.update(data);
      expect(whole.digest(), `${n}`).toBe(want);
      const parts = new PeChecksum(csAt);
      for (let i = 0, k = 1; i < n; i += k, k = (k % 13) + 2) parts.update(data.subarray(i, Math.min(n, i + k)));
      expect(parts.digest(), `${n} in pieces`).toBe(want);
    }
    t.cleanup();
  });
});

describe('PE detection', () => {
  const probe = (head: Uint8Array, name = 'x') => peHandler.detect({ name, size: head.length, head, tail: head });
  it('claims images, COFF objects and import members by content', () => {
    for (const f of ['brepro.exe', 'clang-dwarf.obj', 'import-member.dll']) expect(probe(readFileSync(join(CORPUS, f))), f).toBe(true);
  });
  it('does not claim random bytes, a DOS program without PE header, text, or an empty file', () => {
    for (let s = 1; s <= 200; s++) expect(probe(bytesOf(4096, s)), `seed ${s}`).toBe(false);
    const dos = new Uint8Array(256);
    dos.set([0x4d, 0x5a]);
    expect(probe(dos)).toBe(false);
    expect(probe(Buffer.from('#include <stdio.h>\nint main(void) { return 0; }\n'))).toBe(false);
    expect(probe(new Uint8Array(0))).toBe(false);
  });
  it('a COFF header whose sections do not fit the file is not an object', () => {
    const obj = Uint8Array.from(readFileSync(join(CORPUS, 'clang-dwarf.obj')));
    expect(looksLikeObject(obj, obj.length)).toBe(true);
    expect(looksLikeObject(obj, 100)).toBe(false);
  });
});

describe('PE: short import members', () => {
  it('TimeDateStamp becomes 0; nothing else changes', async () => {
    const m = Uint8Array.from(readFileSync(join(CORPUS, 'import-member.dll')));
    const r = await norm(m, 'lib.dll');
    expect(r.status).toBe('changed');
    const want = Uint8Array.from(m);
    want.set([0, 0, 0, 0], 8);
    expect(Buffer.from(r.output).equals(want)).toBe(true);
  });
  it('a member whose names do not fit its size is rejected', async () => {
    const m = Uint8Array.from(readFileSync(join(CORPUS, 'import-member.dll')));
    const r = await norm(m.subarray(0, m.length - 3), 'lib.dll');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/import member declares/);
  });
});

describe('PE: malformed images are left untouched, each with its reason', () => {
  const base = Uint8Array.from(readFileSync(join(CORPUS, 'brepro.exe')));
  const dv = () => new DataView(base.buffer);
  const pe = dv().getUint32(0x3c, true);
  const opt = pe + 24;
  const table = opt + dv().getUint16(pe + 20, true);
  const variants: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ['truncated in the middle of a section', (b) => b.subarray(0, b.length - 700), /runs past the end of the file/],
    ['a section table past the end', (b) => { new DataView(b.buffer).setUint16(pe + 6, 3000, true); return b; }, /section table .* runs past the end/],
    ['two sections overlapping in the file', (b) => { const v = new DataView(b.buffer); v.setUint32(table + 40 + 20, v.getUint32(table + 20, true) + 16, true); return b; }, /overlaps/],
    ['two sections overlapping in memory', (b) => { const v = new DataView(b.buffer); v.setUint32(table + 40 + 12, v.getUint32(table + 12, true), true); return b; }, /overlaps the previous section/],
    ['a symbol table past the end', (b) => { new DataView(b.buffer).setUint32(pe + 12, b.length - 10, true); new DataView(b.buffer).setUint32(pe + 16, 100, true); return b; }, /symbol table/],
    ['a debug directory outside every section', (b) => { new DataView(b.buffer).setUint32(opt + 112 + 6 * 8, 0x7ff000, true); return b; }, /debug directory .* is not inside a section/],
    ['bad alignments', (b) => { new DataView(b.buffer).setUint32(opt + 36, 300, true); return b; }, /bad alignments/],
  ];
  for (const [name, make, reason] of variants) {
    it(name, async () => {
      const bytes = make(Uint8Array.from(base));
      const r = await norm(bytes, 'bad.exe');
      expect(['error', 'untouched'], `${r.status}`).toContain(r.status);
      expect(r.reason).toMatch(reason);
      expect(Buffer.from(r.output).equals(Buffer.from(bytes))).toBe(true);
    });
  }
  it('a resource tree that points back into itself', async () => {
    const dll = readFileSync(join(CORPUS, 'resource-cycle.dll'));
    const r = await norm(dll, 'resource-cycle.dll');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/resource directory table at 0x0 is reached twice/);
  });
  it('handles a Source (not only a buffer)', async () => {
    const out: Uint8Array[] = [];
    const r = await peHandler.normalize(new BufferSource(base), { length: 0, write: async (c) => void out.push(Uint8Array.from(c)) }, {
      options: (await import('../src/options.js')).defaultOptions(),
      path: 'x',
      depth: 0,
      normalizeMember: async () => ({ changed: false }),
      spill: () => { throw new Error('no spill'); },
      notice: () => {},
    });
    expect(r.status).toBe('normalized');
    expect(Buffer.concat(out).equals(Buffer.from(base))).toBe(true);
  });
});

describe('COFF objects: section checksums (LLVM JamCRC) follow changed contents', () => {
  it('every section whose checksum matched its bytes still matches after normalization', async () => {
    const { crc32 } = await import('../formats/crc32.js');
    const jam = (d: Uint8Array) => ~crc32(d, 0xffffffff) >>> 0;
    const check = (b: Buffer) => {
      const nsec = b.readUInt16LE(2);
      const psym = b.readUInt32LE(8);
      const nsym = b.readUInt32LE(12);
      const res: boolean[] = [];
      for (let i = 0; i < nsym; ) {
        const o = psym + 18 * i;
        const sec = b.readInt16LE(o + 12);
        const naux = b[o + 17]!;
        if (naux > 0 && b[o + 16] === 3 && sec > 0 && sec <= nsec) {
          const h = 20 + 40 * (sec - 1);
          const data = b.subarray(b.readUInt32LE(h + 20), b.readUInt32LE(h + 20) + b.readUInt32LE(h + 16));
          const ck = b.readUInt32LE(o + 18 + 8);
          if (ck !== 0) res.push(ck === jam(data));
        }
        i += 1 + naux;
      }
      return res;
    };
    const input = readFileSync(join(CORPUS, 'clang-dwarf.obj'));
    const before = check(input);
    expect(before.length).toBeGreaterThan(3);
    expect(before.every(Boolean)).toBe(true);
    const r = await norm(input, 'clang-dwarf.obj', { mapPaths: [{ from: '/tmp/detnorm-corpus', to: '/build/src' }] });
    expect(r.status).toBe('changed');
    expect(check(Buffer.from(r.output))).toEqual(before);
  });
});

describe('PE through the CLI: --pe-timestamp, and the reasons for untouched files', () => {
  const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '' } });
  it('--pe-timestamp T -T 1234567890 writes T into the COFF header; the default derives it', () => {
    const t = tempDir('detnorm-pe-cli-');
    const a = join(t.dir, 'a.exe');
    const b = join(t.dir, 'b.exe');
    writeFileSync(a, readFileSync(join(CORPUS, 'mingw-stripped.exe')));
    writeFileSync(b, readFileSync(join(CORPUS, 'mingw-stripped.exe')));
    expect(cli(['--pe-timestamp', 'T', '-T', '1234567890', a]).status).toBe(0);
    expect(cli([b]).status).toBe(0);
    const stamp = (p: string) => { const x = readFileSync(p); return x.readUInt32LE(x.readUInt32LE(0x3c) + 8); };
    expect(stamp(a)).toBe(1234567890);
    expect(Buffer.compare(readFileSync(b), readFileSync(join(CORPUS, 'mingw-stripped.exe.out')))).toBe(0);
    expect(cli(['--pe-timestamp', 'sometimes', a]).status).toBe(2);
    // A malformed image: reported with its path and reason, exit 3, left as it was.
    const bad = join(t.dir, 'bad.exe');
    writeFileSync(bad, readFileSync(join(CORPUS, 'overlap.exe')));
    const r = cli([bad]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${bad}: pe: section .rdata (at 1032) overlaps section .text`);
    expect(Buffer.compare(readFileSync(bad), readFileSync(join(CORPUS, 'overlap.exe')))).toBe(0);
    t.cleanup();
  });
});

describe('PE: a debug section that cannot move keeps its new contents when others are laid out again', () => {
  it('an image whose .debug_loc is renamed (so the debug tail starts after it): idempotent', async () => {
    const b = Buffer.from(readFileSync(join(CORPUS, 'dwarf-pdbpath.exe')));
    const pe = b.readUInt32LE(0x3c);
    const strtab = b.readUInt32LE(pe + 12) + 18 * b.readUInt32LE(pe + 16);
    const at = b.indexOf('.debug_loc\0', strtab, 'latin1');
    expect(at).toBeGreaterThan(0);
    b[at] = 0x78; // "xdebug_loc": not a debug section any more, and it lies between two that are
    const opts = { mapPaths: [{ from: '/tmp/detnorm-corpus', to: '/build/src' }] };
    const r = await norm(b, 'x.exe', opts);
    expect(r.status, r.reason).toBe('changed');
    const again = await norm(r.output, 'x.exe', opts);
    expect(again.status, `${again.reason ?? ''} ${JSON.stringify(again.changes)}`).toBe('unchanged');
  });
});
