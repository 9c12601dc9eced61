// ELF reader/writer (System V gABI, "ELF-64 Object File Format" and the 32-bit original):
// file header, section headers (with extended numbering), program headers, notes and
// SHF_COMPRESSED sections (Elf32/64_Chdr, zlib). 32/64-bit, both byte orders. Pure functions
// over an in-memory Uint8Array: every offset and size read from the file is checked against
// the buffer before use, so hostile headers give a FormatError, never an out-of-range read.
import pako from 'pako';
import { FormatError } from '../../src/types.js';
import { isElf } from './detect.js';

export { isElf };

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_SYMTAB_SHNDX = 18;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_COMPRESSED = 0x800;

export const PT_LOAD = 1;
export const NT_GNU_BUILD_ID = 3;

/** Endian-aware accessors over one buffer. 64-bit values are numbers and must be safe integers. */
export class Bin {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(o: number): number {
    return this.view.getUint8(o);
  }
  u16(o: number): number {
    return this.view.getUint16(o, this.le);
  }
  u32(o: number): number {
    return this.view.getUint32(o, this.le);
  }
  i32(o: number): number {
    return this.view.getInt32(o, this.le);
  }
  u64(o: number): number {
    const a = this.view.getUint32(o, this.le);
    const b = this.view.getUint32(o + 4, this.le);
    const [lo, hi] = this.le ? [a, b] : [b, a];
    if (hi >= 0x200000) throw new FormatError(`64-bit value at ${o} too large`);
    return hi * 0x100000000 + lo;
  }
  i64(o: number): number {
    const a = this.view.getUint32(o, this.le);
    const b = this.view.getInt32(o + (this.le ? 4 : 0), this.le);
    const lo = this.le ? a : this.view.getUint32(o + 4, this.le);
    const hi = b;
    if (hi >= 0x200000 || hi < -0x200000) throw new FormatError(`64-bit value at ${o} out of range`);
    return hi * 0x100000000 + lo;
  }
  /** An unsigned field of 1, 2, 4 or 8 bytes. */
  uN(o: number, n: number): number {
    switch (n) {
      case 1:
        return this.u8(o);
      case 2:
        return this.u16(o);
      case 4:
        return this.u32(o);
      case 8:
        return this.u64(o);
      default:
        throw new FormatError(`bad field size ${n}`);
    }
  }
  setU16(o: number, v: number): void {
    this.view.setUint16(o, v, this.le);
  }
  setU32(o: number, v: number): void {
    this.view.setUint32(o, v >>> 0, this.le);
  }
  setU64(o: number, v: number): void {
    this.view.setBigUint64(o, BigInt(v), this.le);
  }
  setI64(o: number, v: number): void {
    this.view.setBigInt64(o, BigInt(v), this.le);
  }
  setUN(o: number, n: number, v: number): void {
    if (v < 0 || (n < 8 && v >= 2 ** (8 * n))) throw new FormatError(`value ${v} does not fit in ${n} bytes`);
    switch (n) {
      case 1:
        this.view.setUint8(o, v);
        return;
      case 2:
        return this.setU16(o, v);
      case 4:
        return this.setU32(o, v);
      case 8:
        return this.setU64(o, v);
      default:
        throw new FormatError(`bad field size ${n}`);
    }
  }
}

export interface Header {
  readonly is64: boolean;
  readonly le: boolean;
  readonly type: number;
  readonly machine: number;
  readonly phoff: number;
  readonly shoff: number;
  readonly ehsize: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

export interface Section {
  readonly index: number;
  name: string;
  readonly nameOff: number;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** File offset of this section's header. */
  readonly headerOffset: number;
}

export interface Segment {
  readonly type: number;
  readonly offset: number;
  readonly filesz: number;
}

export interface Elf {
  readonly bytes: Uint8Array;
  readonly bin: Bin;
  readonly header: Header;
  readonly sections: Section[];
  readonly segments: Segment[];
}

function need(cond: boolean, why: string): void {
  if (!cond) throw new FormatError(why);
}

/** Parse the headers of an ELF image held in memory. */
export function parseElf(bytes: Uint8Array): Elf {
  need(bytes.length >= 52 && isElf(bytes), 'not an ELF file (bad identification)');
  need(bytes[6] === 1, `unsupported ELF version ${bytes[6]}`);
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const bin = new Bin(bytes, le);
  const ehsize = is64 ? 64 : 52;
  need(bytes.length >= ehsize, 'truncated ELF header');
  const type = bin.u16(16);
  const machine = bin.u16(18);
  const phoff = is64 ? bin.u64(32) : bin.u32(28);
  const shoff = is64 ? bin.u64(40) : bin.u32(32);
  const o = is64 ? 52 : 40;
  const hdrSize = bin.u16(o);
  const phentsize = bin.u16(o + 2);
  let phnum = bin.u16(o + 4);
  const shentsize = bin.u16(o + 6);
  let shnum = bin.u16(o + 8);
  let shstrndx = bin.u16(o + 10);
  need(hdrSize === ehsize, `e_ehsize ${hdrSize} is not ${ehsize}`);
  const wantSh = is64 ? 64 : 40;
  const wantPh = is64 ? 56 : 32;
  const sections: Section[] = [];
  if (shoff !== 0) {
    need(shentsize === wantSh, `e_shentsize ${shentsize} is not ${wantSh}`);
    need(shoff + wantSh <= bytes.length, `section header table at ${shoff} is outside the file`);
    // Extended numbering lives in section header 0.
    const s0 = readShdr(bin, is64, shoff, 0);
    if (shnum === 0) shnum = s0.size;
    if (shstrndx === 0xffff) shstrndx = s0.link;
    if (phnum === 0xffff) phnum = s0.info;
    need(shnum > 0 && shoff + shnum * wantSh <= bytes.length, `section header table (${shnum} entries at ${shoff}) is outside the file`);
    for (let i = 0; i < shnum; i++) sections.push(readShdr(bin, is64, shoff + i * wantSh, i));
  } else {
    shnum = 0;
  }
  const segments: Segment[] = [];
  if (phnum > 0) {
    need(phentsize === wantPh, `e_phentsize ${phentsize} is not ${wantPh}`);
    need(phoff + phnum * wantPh <= bytes.length, `program header table (${phnum} entries at ${phoff}) is outside the file`);
    for (let i = 0; i < phnum; i++) {
      const p = phoff + i * wantPh;
      segments.push(
        is64
          ? { type: bin.u32(p), offset: bin.u64(p + 8), filesz: bin.u64(p + 32) }
          : { type: bin.u32(p), offset: bin.u32(p + 4), filesz: bin.u32(p + 16) },
      );
    }
  }
  // A segment's file bytes must be in the file: the layout keeps them in place, and one past
  // the end would move every other section after it on each run. Not in a separate debug file,
  // whose program headers are its binary's (eu-strip -f keeps their sizes) and pin nothing.
  if (!isSeparateDebugFile(type, sections)) segments.forEach((p, i) => need(p.filesz === 0 || p.offset + p.filesz <= bytes.length, `program header ${i} (${p.filesz} bytes at ${p.offset}) is outside the file`));
  for (const s of sections) {
    if (s.type !== SHT_NOBITS && s.type !== SHT_NULL) {
      need(s.offset + s.size <= bytes.length, `section ${s.index} (${s.size} bytes at ${s.offset}) is outside the file`);
    }
  }
  if (sections.length > 0) {
    need(shstrndx < sections.length, `e_shstrndx ${shstrndx} out of range`);
    const strtab = sections[shstrndx]!;
    const base = strtab.offset;
    if (shstrndx !== 0) {
      // The name table is read whatever its type says: it must hold bytes, inside the file
      // (a SHT_NULL or SHT_NOBITS one escapes the section bounds check above).
      need(strtab.type !== SHT_NOBITS && strtab.type !== SHT_NULL, `e_shstrndx ${shstrndx} names a section of type ${strtab.type}, which holds no bytes`);
      need(base + strtab.size <= bytes.length, `section name table (${strtab.size} bytes at ${base}) is outside the file`);
      const table = bytes.subarray(base, base + strtab.size);
      for (const s of sections) {
        need(s.nameOff < strtab.size, `section ${s.index} name offset ${s.nameOff} is outside .shstrtab`);
        let end = table.indexOf(0, s.nameOff);
        if (end < 0) end = table.length;
        s.name = Buffer.from(table.buffer, table.byteOffset + s.nameOff, end - s.nameOff).toString('latin1');
      }
    }
  }
  const header: Header = { is64, le, type, machine, phoff, shoff, ehsize, phentsize, phnum, shentsize, shnum, shstrndx };
  return { bytes, bin, header, sections, segments };
}

/**
 * True for a separate debug file (objcopy --only-keep-debug, eu-strip -f, rpm's
 * find-debuginfo): a linked file (not ET_REL) whose loaded sections all lost their contents
 * (SHT_NOBITS) except the notes, one of them at least a read-only or code section. Its program
 * headers are those of the binary it was split from and describe that file, not this one. A
 * program or library always has loaded contents (code, .dynsym, .rodata) and its only
 * SHT_NOBITS sections are writable (.bss, .tbss): none is taken for a debug file.
 */
export function isSeparateDebugFile(type: number, sections: readonly Section[]): boolean {
  if (type === ET_REL) return false;
  let stripped = false;
  for (const s of sections) {
    if (s.type === SHT_NULL || !(s.flags & SHF_ALLOC)) continue;
    if (s.type !== SHT_NOBITS && s.type !== SHT_NOTE) return false;
    if (s.type === SHT_NOBITS && !(s.flags & SHF_WRITE)) stripped = true;
  }
  return stripped;
}

function readShdr(bin: Bin, is64: boolean, p: number, index: number): Section {
  if (is64) {
    return {
      index,
      name: '',
      nameOff: bin.u32(p),
      type: bin.u32(p + 4),
      flags: bin.u64(p + 8),
      addr: bin.u64(p + 16),
      offset: bin.u64(p + 24),
      size: bin.u64(p + 32),
      link: bin.u32(p + 40),
      info: bin.u32(p + 44),
      addralign: bin.u64(p + 48),
      entsize: bin.u64(p + 56),
      headerOffset: p,
    };
  }
  return {
    index,
    name: '',
    nameOff: bin.u32(p),
    type: bin.u32(p + 4),
    flags: bin.u32(p + 8),
    addr: bin.u32(p + 12),
    offset: bin.u32(p + 16),
    size: bin.u32(p + 20),
    link: bin.u32(p + 24),
    info: bin.u32(p + 28),
    addralign: bin.u32(p + 32),
    entsize: bin.u32(p + 36),
    headerOffset: p,
  };
}

/** Offset of sh_offset / sh_size inside a section header. */
export function shdrFieldOffsets(is64: boolean): { offset: number; size: number } {
  return is64 ? { offset: 24, size: 32 } : { offset: 16, size: 20 };
}

/** Raw bytes of a section as stored in the file (empty for NOBITS). */
export function rawSection(elf: Elf, s: Section): Uint8Array {
  if (s.type === SHT_NOBITS || s.type === SHT_NULL) return new Uint8Array(0);
  return elf.bytes.subarray(s.offset, s.offset + s.size);
}

export interface Chdr {
  readonly type: number;
  readonly size: number;
  readonly addralign: number;
  /** Size of the Chdr itself (12 or 24). */
  readonly headerSize: number;
}

export function isCompressed(s: Section): boolean {
  return (s.flags & SHF_COMPRESSED) !== 0;
}

export function readChdr(elf: Elf, s: Section): Chdr {
  const raw = rawSection(elf, s);
  const bin = new Bin(raw, elf.header.le);
  if (elf.header.is64) {
    need(raw.length >= 24, `compressed section ${s.name} shorter than its header`);
    return { type: bin.u32(0), size: bin.u64(8), addralign: bin.u64(16), headerSize: 24 };
  }
  need(raw.length >= 12, `compressed section ${s.name} shorter than its header`);
  return { type: bin.u32(0), size: bin.u32(4), addralign: bin.u32(8), headerSize: 12 };
}

export const ELFCOMPRESS_ZLIB = 1;

/**
 * The contents of a section, decompressed when SHF_COMPRESSED (zlib only). The declared size
 * is checked against `maxBytes` and the compression ratio before anything is allocated, and
 * inflation stops as soon as it produces more than declared.
 */
export function sectionData(elf: Elf, s: Section, maxBytes: number, maxRatio: number): Uint8Array {
  const raw = rawSection(elf, s);
  if (!isCompressed(s)) return raw;
  const ch = readChdr(elf, s);
  if (ch.type !== ELFCOMPRESS_ZLIB) throw new FormatError(`section ${s.name}: unsupported compression type ${ch.type}`);
  const payload = raw.subarray(ch.headerSize);
  need(ch.size <= maxBytes, `section ${s.name}: declared uncompressed size ${ch.size} exceeds the limit`);
  need(ch.size <= Math.max(1024, payload.length * maxRatio), `section ${s.name}: declared uncompressed size ${ch.size} is implausible for ${payload.length} compressed bytes`);
  const out = new Uint8Array(ch.size);
  let at = 0;
  const inf = new pako.Inflate({ chunkSize: 65536 });
  inf.onData = (chunk: Uint8Array) => {
    if (at + chunk.length > out.length) throw new FormatError(`section ${s.name}: inflates to more than its declared ${ch.size} bytes`);
    out.set(chunk, at);
    at += chunk.length;
  };
  inf.push(payload, true);
  if (inf.err) throw new FormatError(`section ${s.name}: zlib error: ${inf.msg}`);
  need((inf as unknown as { ended: boolean }).ended, `section ${s.name}: truncated zlib stream`);
  need(at === ch.size, `section ${s.name}: inflates to ${at} bytes, header says ${ch.size}`);
  return out;
}

/** Compress section contents the way GNU as/ld do (zlib, level 6) behind a Chdr whose ch_addralign is `addralign`. */
export function compressSection(is64: boolean, le: boolean, addralign: number, data: Uint8Array): Uint8Array {
  const headerSize = is64 ? 24 : 12;
  const z = pako.deflate(data, { level: 6 });
  const out = new Uint8Array(headerSize + z.length);
  const bin = new Bin(out, le);
  if (is64) {
    bin.setU32(0, ELFCOMPRESS_ZLIB);
    bin.setU64(8, data.length);
    bin.setU64(16, addralign);
  } else {
    bin.setU32(0, ELFCOMPRESS_ZLIB);
    bin.setU32(4, data.length);
    bin.setU32(8, addralign);
  }
  out.set(z, headerSize);
  return out;
}

export interface Note {
  readonly type: number;
  readonly name: string;
  /** Offset of the descriptor inside the note section. */
  readonly descOffset: number;
  readonly descSize: number;
}

/** Notes of a SHT_NOTE section (4-byte aligned name and descriptor, as every producer writes them). */
export function parseNotes(data: Uint8Array, le: boolean): Note[] {
  const bin = new Bin(data, le);
  const out: Note[] = [];
  let p = 0;
  while (p + 12 <= data.length) {
    const namesz = bin.u32(p);
    const descsz = bin.u32(p + 4);
    const type = bin.u32(p + 8);
    const nameAt = p + 12;
    // Arithmetic, not `& ~3`: a 32-bit size near 2^32 would wrap to a small one.
    const descAt = nameAt + Math.ceil(namesz / 4) * 4;
    need(descAt <= data.length && descAt + descsz <= data.length, `note at ${p} runs past its section`);
    const name = Buffer.from(data.buffer, data.byteOffset + nameAt, Math.max(0, namesz - 1)).toString('latin1');
    out.push({ type, name, descOffset: descAt, descSize: descsz });
    p = descAt + Math.ceil(descsz / 4) * 4;
  }
  return out;
}

/** The GNU build-id note: its section and where the id bytes are. */
export interface BuildIdNote {
  readonly section: Section;
  readonly fileOffset: number;
  readonly size: number;
}

export function findBuildId(elf: Elf): BuildIdNote | undefined {
  for (const s of elf.sections) {
    if (s.type !== SHT_NOTE || isCompressed(s)) continue;
    for (const n of parseNotes(rawSection(elf, s), elf.header.le)) {
      if (n.type === NT_GNU_BUILD_ID && n.name === 'GNU') return { section: s, fileOffset: s.offset + n.descOffset, size: n.descSize };
    }
  }
  return undefined;
}
