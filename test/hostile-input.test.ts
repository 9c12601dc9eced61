// Issue 13 item 1: every parser loop is bounded by the bytes it was given. Crafted files per
// format (huge counts, offsets and sizes, cycles, deep nesting, truncation), each made from a
// real corpus file by a small edit: each must end well under a second (synchronously: the
// per-file deadline is not what stops them), refused with a typed error (the reason names
// what is wrong), the input untouched; inside a container the member is kept as it was.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions, optionsFromJson } from '../src/options.js';
import { FormatError } from '../src/types.js';
import { parseElf } from '../formats/elf/elf.js';
import { check, instrument } from '../scripts/fuzz-core.js';
import { tempDir } from './helpers.js';
import { CLI, arOf, tarOf, wheelOf, zipOf } from './safety-helpers.js';

const C = new URL('../corpus/', import.meta.url).pathname;
const corpus = (p: string) => Buffer.from(readFileSync(C + p));
/** Well under a second on a shared 2-core machine; a hang takes minutes or forever. */
const FAST_MS = 1000;

interface Case {
  readonly title: string;
  readonly bytes: () => Uint8Array;
  readonly name: string;
  /** Reason of the refusal (run 1 status error or untouched); for a container, of the member's notice. */
  readonly reason: RegExp;
  /** The bytes are a container whose member is the hostile part: the container may change, the notice names the member. */
  readonly nested?: boolean;
  readonly options?: Record<string, unknown>;
}

async function run(c: Case) {
  const input = c.bytes();
  const copy = Uint8Array.from(input);
  const escapes: string[] = [];
  // Deadline far beyond FAST_MS: what stops these inputs must be the parsers' own bounds.
  const base = optionsFromJson(c.options ?? {});
  const options = { ...base, limits: { ...base.limits, deadlineMs: 60_000 } };
  const t = performance.now();
  const r = await normalizeBytes(copy, c.name, options, instrument(escapes));
  const ms = performance.now() - t;
  if (process.env.HOSTILE_SHOW) console.log(`${c.title} => ${r.status}: ${r.reason ?? ''} ${r.notices.join(' / ').slice(0, 300)}`);
  expect(escapes, 'only typed errors').toEqual([]);
  expect(ms, `${c.title}: took ${Math.round(ms)} ms`).toBeLessThan(FAST_MS);
  expect(Buffer.from(copy).equals(Buffer.from(input)), 'input buffer untouched').toBe(true);
  if (c.nested) {
    expect(r.notices.join('\n')).toMatch(c.reason);
    expect(r.notices.join('\n')).toMatch(/member kept as it was/);
  } else {
    expect(['error', 'untouched'], `${c.title}: ${r.status} ${r.reason ?? ''}`).toContain(r.status);
    expect(r.reason ?? '').toMatch(c.reason);
    expect(Buffer.from(r.output).equals(Buffer.from(input)), 'output is the input').toBe(true);
  }
  // And the property of item 2 on the same bytes: accepted means idempotent.
  const v = await check(input, c.name, c.options ?? {}, { slowMs: FAST_MS });
  expect(v.ok, `${v.kind}: ${v.detail}`).toBe(true);
  return r;
}

function cases(format: string, list: readonly Case[]): void {
  describe(`${format}: hostile inputs end fast with a typed error, untouched`, () => {
    for (const c of list) it(c.title, () => run(c));
  });
}

// ---- ELF (and the DWARF inside) ----

const ELF_O = 'elf/nomerge-dwarf4.o';
function elfEdit(file: string, edit: (b: Buffer, shoff: number, sh: (i: number) => number) => void): () => Buffer {
  return () => {
    const b = corpus(file);
    const shoff = Number(b.readBigUInt64LE(40));
    edit(b, shoff, (i) => shoff + i * 64);
    return b;
  };
}
/** The issue's 2.6 KB object: a section of type 0 with a huge size as the name table, a name offset 0x7fffffff. */
const issueElf = elfEdit(ELF_O, (b, _shoff, sh) => {
  const strndx = b.readUInt16LE(62);
  b.writeUInt32LE(0, sh(strndx) + 4);
  b.writeBigUInt64LE(0x7fffffffffn, sh(strndx) + 32);
  b.writeUInt32LE(0x7fffffff, sh(1));
});
const sectionOf = (b: Buffer, name: string) => parseElf(b).sections.find((s) => s.name === name)!;

cases('elf', [
  { title: 'the issue\'s object: name table of type 0 and huge size, sh_name 0x7fffffff', bytes: issueElf, name: 'x.o', reason: /names a section of type 0/ },
  { title: 'the same inside an .a', bytes: () => arOf([{ name: 'evil.o', data: issueElf() }]), name: 'libx.a', reason: /evil\.o: elf: .*type 0/, nested: true },
  { title: 'the same inside a wheel', bytes: () => wheelOf([{ name: 'pkg/_evil.so', data: issueElf() }]), name: 'pkg-1.0-py3-none-any.whl', reason: /_evil\.so: elf: .*type 0/, nested: true },
  { title: 'name table of SHT_NOBITS type', bytes: elfEdit(ELF_O, (b, _o, sh) => b.writeUInt32LE(8, sh(b.readUInt16LE(62)) + 4)), name: 'x.o', reason: /names a section of type 8/ },
  { title: 'e_shnum 0 and section 0 declaring 2^40 sections', bytes: elfEdit(ELF_O, (b, _o, sh) => (b.writeUInt16LE(0, 60), b.writeBigUInt64LE(1n << 40n, sh(0) + 32))), name: 'x.o', reason: /outside the file/ },
  { title: 'e_phnum 0xffff and section 0 declaring 2^31 program headers', bytes: elfEdit(ELF_O, (b, _o, sh) => (b.writeUInt16LE(0xffff, 56), b.writeUInt16LE(56, 54), b.writeUInt32LE(0x7fffffff, sh(0) + 44))), name: 'x.o', reason: /program header table/ },
  { title: 'a section at offset 2^52', bytes: elfEdit(ELF_O, (b, _o, sh) => b.writeBigUInt64LE(1n << 52n, sh(1) + 24)), name: 'x.o', reason: /outside the file/ },
  { title: 'a 64-bit field past 2^53', bytes: elfEdit(ELF_O, (b, _o, sh) => b.writeBigUInt64LE(1n << 60n, sh(1) + 32)), name: 'x.o', reason: /too large/ },
  { title: 'a program header whose bytes lie past the end (grew the file 5.8 KB a run)', bytes: () => { const b = corpus('elf/prog-dwarf5'); b.writeBigUInt64LE(30000n, 64 + 8); return b; }, name: 'prog', reason: /program header 0 .* is outside the file/, options: { mapPaths: ['/tmp/detnorm-corpus=/build/src'] } },
  {
    title: 'a note declaring a 4 GiB name',
    bytes: () => {
      const b = corpus('elf/prog-dwarf5');
      const s = sectionOf(b, '.note.gnu.build-id');
      b.writeUInt32LE(0xffffffff, s.offset);
      return b;
    },
    name: 'prog',
    reason: /note at 0 runs past its section/,
  },
  {
    title: 'a compressed section declaring 2^40 uncompressed bytes',
    bytes: () => {
      const b = corpus('elf/util-dwarf4-gz.o');
      const s = parseElf(b).sections.find((x) => x.name === '.debug_info')!;
      b.writeBigUInt64LE(1n << 40n, s.offset + 8);
      return b;
    },
    name: 'util.o',
    reason: /declared uncompressed size \d+ (exceeds the limit|is implausible)/,
    options: { mapPaths: ['/tmp/detnorm-corpus=/build/src'] },
  },
  {
    title: 'DWARF: a unit length past the section end',
    bytes: () => {
      const b = corpus(ELF_O);
      b.writeUInt32LE(0xfffffff0, sectionOf(b, '.debug_info').offset);
      return b;
    },
    name: 'x.o',
    reason: /debug_info/,
    options: { mapPaths: ['/tmp/detnorm-corpus=/build/src'] },
  },
  {
    title: 'DWARF: .debug_abbrev all 0x80 (a LEB128 that never ends)',
    bytes: () => {
      const b = corpus(ELF_O);
      const s = sectionOf(b, '.debug_abbrev');
      b.fill(0x80, s.offset, s.offset + s.size);
      return b;
    },
    name: 'x.o',
    reason: /LEB128|abbrev/,
    options: { mapPaths: ['/tmp/detnorm-corpus=/build/src'] },
  },
  {
    title: 'DWARF 5 line table: a file table of 2^50 entries of flag_present only',
    bytes: () => {
      const b = corpus('elf/main-dwarf5.o');
      const s = sectionOf(b, '.debug_line');
      // unit_length(4) version(2) address_size(1) seg(1) header_length(4) min_inst(1) max_ops(1)
      // default_is_stmt(1) line_base(1) line_range(1) opcode_base(1) std_opcode_lengths(base-1)
      let p = s.offset + 4 + 2 + 2 + 4 + 5;
      const base = b[p]!;
      p += base;
      // directory_entry_format_count = 1: (DW_LNCT_path, DW_FORM_flag_present); count = 2^49 as a ULEB128
      b[p] = 1;
      b[p + 1] = 1;
      b[p + 2] = 0x19;
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).copy(b, p + 3);
      return b;
    },
    name: 'main.o',
    reason: /declares \d+ entries|debug_line/,
    options: { mapPaths: ['/tmp/detnorm-corpus=/build/src'] },
  },
  { title: 'DWARF: zeroed .debug_info bytes under a REL relocation (came back as abbreviation 23)', bytes: () => corpus('elf/regress-dwarf-zeroed.o'), name: 'x.o', reason: /not at a string reference/, options: { mapPaths: ['/tmp/detnorm-corpus=/build/src'] } },
]);

describe('elf: the issue\'s object through the CLI ends in seconds, alone, in an .a, in a wheel (a regression would be stopped by the spawn timeout, not hang npm test)', () => {
  it('alone: exit 3, the reason, untouched; in an .a and a wheel: the member kept, the archive normalized', () => {
    const { dir, cleanup } = tempDir();
    try {
      const files = { 'x.o': issueElf(), 'libx.a': arOf([{ name: 'evil.o', data: issueElf() }]), 'pkg-1.0-py3-none-any.whl': wheelOf([{ name: 'pkg/_evil.so', data: issueElf() }]) };
      for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
      for (const [n, b] of Object.entries(files)) {
        const t = performance.now();
        const r = spawnSync(process.execPath, [CLI, '--deadline', '120', '-v', join(dir, n)], { encoding: 'utf8', timeout: 60_000 });
        const ms = performance.now() - t;
        expect(r.signal, `${n}: killed by the spawn timeout (a hang)`).toBeNull();
        expect(ms, n).toBeLessThan(15_000);
        expect(`${r.stdout}${r.stderr}`).toMatch(/names a section of type 0/);
        if (n === 'x.o') {
          expect(r.status).toBe(3);
          expect(readFileSync(join(dir, n)).equals(Buffer.from(b))).toBe(true);
        } else {
          expect(r.status, r.stderr).toBe(0);
          expect(`${r.stdout}${r.stderr}`).toMatch(/member kept as it was/);
        }
      }
    } finally {
      cleanup();
    }
  }, 90_000);
});

// ---- ar ----

function arWith(edit: (b: Buffer, last: number) => void): () => Buffer {
  return () => {
    const b = corpus('ar/gnu-rcU.a');
    edit(b, b.lastIndexOf(Buffer.from('counter.o/      ')));
    return b;
  };
}
cases('ar', [
  { title: 'a member declaring 9999999999 bytes', bytes: arWith((b, h) => b.write('9999999999', h + 48, 'latin1')), name: 'x.a', reason: /declares 9999999999 bytes/ },
  { title: 'a long name /99999999 past the name table', bytes: arWith((b, h) => b.write('/99999999       ', h, 'latin1')), name: 'x.a', reason: /beyond the \d+-byte name table/ },
  {
    title: 'a BSD name #1/99999 longer than the member',
    bytes: () => {
      const b = Buffer.from(arOf([{ name: 'a.o', data: Buffer.alloc(8) }]));
      b.write('#1/99999        ', 8, 'latin1');
      return b;
    },
    name: 'x.a',
    reason: /BSD name length 99999 exceeds member size/,
  },
  { title: 'a name field padded with NULs (came back as /0, long name lost)', bytes: arWith((b, h) => b.write('counter.o/\0\0\0\0\0\0', h, 'latin1')), name: 'x.a', reason: /holds a NUL or newline byte/ },
  { title: 'a member named "/" after the symbol table', bytes: arWith((b, h) => b.write('/               ', h, 'latin1')), name: 'x.a', reason: /another symbol table/ },
  {
    title: 'a symbol table declaring 2^31 symbols',
    bytes: () => {
      const b = corpus('ar/gnu-rcU.a');
      b.writeUInt32BE(0x7fffffff, 8 + 60);
      return b;
    },
    name: 'x.a',
    reason: /symbol|table/,
  },
]);

it('ar: an mtime field "garbage!" is reported as it is stored, not as NaN', async () => {
  const b = Buffer.from(arOf([{ name: 'a.txt', data: Buffer.from('hello\n') }]));
  b.write('garbage!    ', 8 + 16, 'latin1');
  const r = await normalizeBytes(b, 'x.a', defaultOptions(), instrument([]));
  expect(r.status).toBe('changed');
  const whats = r.changes.map((c) => c.what).join('\n');
  expect(whats).toContain('member mtime "garbage!" -> 0');
  expect(whats).not.toContain('NaN');
  const again = await normalizeBytes(r.output, 'x.a', defaultOptions(), instrument([]));
  expect(again.status).toBe('unchanged');
});

// ---- tar ----

function tarEdit(field: number, text: string): () => Buffer {
  return () => {
    const b = Buffer.from(tarOf([{ name: 'f.txt', data: Buffer.from('hello\n') }]));
    b.write(text, field, 'latin1');
    // header checksum over the edited block
    b.write('        ', 148, 'latin1');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += b[i]!;
    b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    return b;
  };
}
cases('tar', [
  { title: 'a member declaring 77777777777 (8 GiB) bytes', bytes: tarEdit(124, '77777777777\0'), name: 'x.tar', reason: /truncated|past the end|runs past|remain|bytes/ },
  { title: 'a base-256 size of 2^62', bytes: tarEdit(124, '\x80\0\0\0\x40\0\0\0\0\0\0\0'), name: 'x.tar', reason: /size|too large|truncated/ },
  {
    title: 'a pax header whose record claims 999999999 bytes',
    bytes: () => {
      const rec = Buffer.from('999999999 path=a\n');
      const h = Buffer.alloc(512);
      h.write('PaxHeaders/a', 0);
      h.write('0000644\0', 100);
      h.write('0000000\0', 108);
      h.write('0000000\0', 116);
      h.write(rec.length.toString(8).padStart(11, '0') + '\0', 124);
      h.write('00000000000\0', 136);
      h.write('x', 156);
      h.write('ustar\0' + '00', 257);
      h.write('        ', 148);
      let sum = 0;
      for (const x of h) sum += x;
      h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
      return Buffer.concat([h, rec, Buffer.alloc(512 - rec.length), corpus('tar/ustar-mixed.tar')]);
    },
    name: 'x.tar',
    reason: /pax/,
  },
  { title: 'truncated in the middle of a header', bytes: () => corpus('tar/ustar-mixed.tar').subarray(0, 700), name: 'x.tar', reason: /truncated|end/ },
]);

// ---- cpio ----

cases('cpio', [
  {
    title: 'newc: a name size of 0xffffffff',
    bytes: () => {
      const b = corpus('cpio/newc-unsorted.cpio');
      b.write('FFFFFFFF', 94, 'latin1');
      return b;
    },
    name: 'x.cpio',
    reason: /name size/,
  },
  {
    title: 'newc: a file size of 0xffffffff',
    bytes: () => {
      const b = corpus('cpio/newc-unsorted.cpio');
      b.write('FFFFFFFF', 54, 'latin1');
      return b;
    },
    name: 'x.cpio',
    reason: /truncated cpio data/,
  },
  { title: 'no trailer', bytes: () => corpus('cpio/newc-unsorted.cpio').subarray(0, 300), name: 'x.cpio', reason: /truncated|trailer/ },
]);

/** A newc archive of `n` entries that are all links of one inode claiming 2^31-1 links. */
function newcLinks(n: number): Buffer {
  const hex = (v: number) => v.toString(16).padStart(8, '0');
  const parts: Buffer[] = [];
  const entry = (name: string, ino: number, nlink: number, mode: number) => {
    const nm = Buffer.from(name + '\0');
    const h = Buffer.concat([Buffer.from('070701' + [ino, mode, 0, 0, nlink, 1600000000, 0, 0, 1, 0, 0, nm.length, 0].map(hex).join(''), 'latin1'), nm]);
    parts.push(h, Buffer.alloc((4 - (h.length % 4)) % 4));
  };
  for (let i = 0; i < n; i++) entry(`f${i}`, 7, 0x7fffffff, 0o100644);
  entry('TRAILER!!!', 0, 1, 0);
  return Buffer.concat(parts);
}

describe('cpio: hard-link groups cost linear time whatever nlink claims', () => {
  it('5000 links of one inode claiming 2^31-1 links (took 8 s, 29 s for 10000: quadratic)', async () => {
    const input = newcLinks(5000);
    const t = performance.now();
    const r = await normalizeBytes(input, 'x.cpio', defaultOptions(), instrument([]));
    expect(performance.now() - t).toBeLessThan(FAST_MS);
    expect(r.status).toBe('changed');
    const again = await normalizeBytes(r.output, 'x.cpio', defaultOptions(), instrument([]));
    expect(again.status).toBe('unchanged');
  });
});

// ---- zip ----

function eocd(b: Buffer): number {
  return b.lastIndexOf(Buffer.from('PK\x05\x06', 'latin1'));
}
cases('zip', [
  { title: 'end record: central directory at 2^32-1', bytes: () => { const b = corpus('zip/infozip.zip'); b.writeUInt32LE(0xffffffff, eocd(b) + 16); return b; }, name: 'x.zip', reason: /central directory|zip64|outside|past/i },
  { title: 'end record: 65535 entries in a small directory', bytes: () => { const b = corpus('zip/infozip.zip'); const e = eocd(b); b.writeUInt16LE(0xfffe, e + 8); b.writeUInt16LE(0xfffe, e + 10); return b; }, name: 'x.zip', reason: /entries|central directory|count/i },
  { title: 'end record: directory size 2^32-2', bytes: () => { const b = corpus('zip/infozip.zip'); b.writeUInt32LE(0xfffffffe, eocd(b) + 12); return b; }, name: 'x.zip', reason: /central directory|size|outside|past/i },
  {
    title: 'a central entry with a 65535-byte name',
    bytes: () => {
      const b = corpus('zip/infozip.zip');
      const cd = b.readUInt32LE(eocd(b) + 16);
      b.writeUInt16LE(0xffff, cd + 28);
      return b;
    },
    name: 'x.zip',
    reason: /central|name|past|outside|entry/i,
  },
  {
    title: 'a member whose local header is past the end',
    bytes: () => {
      const b = corpus('zip/infozip.zip');
      const cd = b.readUInt32LE(eocd(b) + 16);
      b.writeUInt32LE(0x7ffffff0, cd + 42);
      return b;
    },
    name: 'x.zip',
    reason: /local header|outside|past|offset/i,
  },
  { title: 'a zip nested 20 deep', bytes: () => { let z: Uint8Array = Buffer.from('x'); for (let i = 0; i < 20; i++) z = zipOf([{ name: `l${i}.zip`, data: z, stored: true }]); return z; }, name: 'x.zip', reason: /nesting deeper than/, nested: true },
]);

// ---- gzip ----

cases('gzip', [
  { title: 'FEXTRA declaring 65535 bytes in a short file', bytes: () => Buffer.from([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 1, 2, 3]), name: 'x.gz', reason: /truncated|extra|header/i },
  { title: 'FNAME without its NUL', bytes: () => Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3]), Buffer.alloc(5000, 0x41)]), name: 'x.gz', reason: /truncated|name|header/i },
  { title: 'truncated deflate data', bytes: () => corpus('gzip/best.txt.gz').subarray(0, 40), name: 'x.gz', reason: /truncated|end|deflate|incomplete/i },
]);

// ---- pyc ----

function pycWith(marshal: Uint8Array): () => Buffer {
  return () => Buffer.concat([corpus('pyc/refcount.cpython-311.pyc').subarray(0, 16), marshal]);
}
const deepTuple = () => {
  const n = 200_000;
  const b = Buffer.alloc(n * 2 + 1);
  for (let i = 0; i < n; i++) {
    b[2 * i] = 0x29; // small tuple
    b[2 * i + 1] = 1;
  }
  b[2 * n] = 0x4e; // None
  return b;
};
cases('pyc', [
  { title: 'a list declaring 2^31-1 items', bytes: pycWith(Buffer.from([0x5b, 0xff, 0xff, 0xff, 0x7f, 0x4e])), name: 'x.cpython-311.pyc', reason: /sequence size of 2147483647 .* exceeds/ },
  { title: 'a string declaring 2^31-1 bytes', bytes: pycWith(Buffer.from([0x73, 0xff, 0xff, 0xff, 0x7f, 0x41])), name: 'x.cpython-311.pyc', reason: /string length of 2147483647 .* exceeds/ },
  { title: 'a back-reference to object 2^31-1', bytes: pycWith(Buffer.from([0x72, 0xff, 0xff, 0xff, 0x7f])), name: 'x.cpython-311.pyc', reason: /ref 2147483647/ },
  { title: '200000 nested tuples (no stack overflow)', bytes: pycWith(deepTuple()), name: 'x.cpython-311.pyc', reason: /nested deeper than/ },
]);

// ---- png, gettext .mo, uImage, bFLT ----

cases('png', [
  {
    title: 'a chunk declaring 2^31-1 bytes',
    bytes: () => {
      const b = corpus('png/no-timestamp.png');
      b.writeUInt32BE(0x7fffffff, 8);
      return b;
    },
    name: 'x.png',
    reason: /runs past the end/,
  },
  { title: 'no IEND', bytes: () => corpus('png/no-timestamp.png').subarray(0, 33), name: 'x.png', reason: /no IEND|truncated/ },
]);

cases('gettext-mo', [
  {
    title: 'a string count of 2^32-1',
    bytes: () => {
      const b = corpus('gettext-mo/no-timestamp.mo');
      b.writeUInt32LE(0xffffffff, 8);
      return b;
    },
    name: 'x.mo',
    reason: /string tables \(4294967295 entries/,
    options: { timestamp: 1700000000 },
  },
  {
    title: 'the translation table at offset 2^32-16',
    bytes: () => {
      const b = corpus('gettext-mo/no-timestamp.mo');
      b.writeUInt32LE(0xfffffff0, 16);
      return b;
    },
    name: 'x.mo',
    reason: /string tables .* lie outside the file/,
    options: { timestamp: 1700000000 },
  },
]);

cases('uimage', [
  {
    title: 'a data size of 2^32-1',
    bytes: () => {
      const b = corpus('uimage/kernel.uimage');
      b.writeUInt32BE(0xffffffff, 12);
      return b;
    },
    name: 'x.uimage',
    reason: /image data size 4294967295 runs past the end/,
    options: { timestamp: 1700000000 },
  },
]);

cases('bflt', [
  {
    title: 'relocations at 2^32-16',
    bytes: () => {
      const b = corpus('bflt/hello.bflt');
      b.writeUInt32BE(0xfffffff0, 32);
      return b;
    },
    name: 'x.bflt',
    reason: /implausible bFLT header/,
    options: { timestamp: 1700000000 },
  },
]);

// ---- deb, oci, compressed payloads, PE (other helpers' modules: checked, not edited here) ----

cases('deb', [
  { title: 'data.tar.xz cut short', bytes: () => corpus('deb/build.deb').subarray(0, 1500), name: 'x.deb', reason: /declares \d+ bytes, but only \d+ remain/ },
]);

cases('oci', [
  {
    title: 'an index.json of 100000 nested arrays',
    bytes: () => {
      const json = Buffer.from('['.repeat(100_000) + ']'.repeat(100_000));
      const h = Buffer.alloc(512);
      h.write('index.json', 0);
      h.write('0000644\0', 100);
      h.write('0000000\0', 108);
      h.write('0000000\0', 116);
      h.write(json.length.toString(8).padStart(11, '0') + '\0', 124);
      h.write('00000000000\0', 136);
      h.write('0', 156);
      h.write('ustar\0' + '00', 257);
      h.write('        ', 148);
      let sum = 0;
      for (const x of h) sum += x;
      h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
      const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
      const h2 = Buffer.from(h);
      h2.fill(0, 0, 100);
      h2.write('oci-layout', 0);
      h2.write(layout.length.toString(8).padStart(11, '0') + '\0', 124);
      h2.write('        ', 148);
      sum = 0;
      for (const x of h2) sum += x;
      h2.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
      const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
      return Buffer.concat([h2, layout, pad(layout.length), h, json, pad(json.length), Buffer.alloc(1024)]);
    },
    name: 'image.tar',
    reason: /nested too deeply/,
  },
]);

cases('xz', [
  { title: 'a stream cut in its block', bytes: () => corpus('xz/build-9.tar.xz').subarray(0, 200), name: 'x.tar.xz', reason: /truncated xz stream/ },
]);

cases('pe', [
  {
    title: '65535 sections declared',
    bytes: () => {
      const b = corpus('pe/brepro.exe');
      b.writeUInt16LE(0xffff, b.readUInt32LE(0x3c) + 6);
      return b;
    },
    name: 'x.exe',
    reason: /section table \(65535 entries .*\) runs past the end/,
  },
]);

describe('typed errors: a FormatError is what a parser throws for a fact about the bytes', () => {
  it('FormatError carries the reason', () => {
    expect(new FormatError('x').reason).toBe('x');
  });
});
