// COFF structures shared by objects and images (Microsoft "PE Format" specification, sections
// "COFF File Header", "Section Table", "COFF Relocations", "COFF Symbol Table", "COFF String
// Table"): the file header, section headers with their names resolved through the string
// table ("/4" and LLVM's "//BASE64" forms), relocations and symbols. Pure functions over an
// in-memory Uint8Array; every offset and count read from the file is checked against the
// buffer first, so hostile headers give a FormatError, never an out-of-range read.
import { FormatError } from '../../src/types.js';

export const MACHINES: ReadonlyMap<number, string> = new Map([
  [0x014c, 'i386'],
  [0x8664, 'x86-64'],
  [0xaa64, 'ARM64'],
  [0x01c4, 'ARMv7 Thumb-2'],
  [0xa641, 'ARM64EC'],
]);

export const FILE_HEADER_SIZE = 20;
export const SECTION_HEADER_SIZE = 40;
export const SYMBOL_SIZE = 18;
export const RELOC_SIZE = 10;

export const SCN_CNT_CODE = 0x20;
export const SCN_CNT_INITIALIZED_DATA = 0x40;
export const SCN_CNT_UNINITIALIZED_DATA = 0x80;
export const SCN_LNK_NRELOC_OVFL = 0x01000000;
export const SCN_MEM_DISCARDABLE = 0x02000000;

export function need(cond: boolean, why: string): asserts cond {
  if (!cond) throw new FormatError(why);
}

export function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32(b, 0, v);
  return b;
}

export interface FileHeader {
  /** File offset of the header. */
  readonly at: number;
  readonly machine: number;
  readonly nsections: number;
  readonly timeDateStamp: number;
  readonly symtabOffset: number;
  readonly nsymbols: number;
  readonly optSize: number;
  readonly characteristics: number;
}

export interface Section {
  /** 1-based section number, as symbols and the spec count them. */
  readonly number: number;
  readonly name: string;
  /** File offset of this section's header. */
  readonly headerAt: number;
  readonly virtualSize: number;
  readonly virtualAddress: number;
  readonly rawSize: number;
  readonly rawPtr: number;
  readonly relocPtr: number;
  readonly linenoPtr: number;
  /** Relocation entries (with IMAGE_SCN_LNK_NRELOC_OVFL: the real count, the extra first entry not included). */
  readonly nrelocs: number;
  /** IMAGE_SCN_LNK_NRELOC_OVFL with a count of 0xffff: the first entry holds the real count. */
  readonly relocOverflow: boolean;
  readonly nlinenos: number;
  readonly characteristics: number;
}

export interface Coff {
  readonly bytes: Uint8Array;
  readonly header: FileHeader;
  readonly sections: readonly Section[];
  /** Offset and size of the string table (0, 0 when there is no symbol table). */
  readonly strtabAt: number;
  readonly strtabSize: number;
}

export function readFileHeader(b: Uint8Array, at: number): FileHeader {
  need(at + FILE_HEADER_SIZE <= b.length, `truncated COFF file header at ${at}`);
  return {
    at,
    machine: u16(b, at),
    nsections: u16(b, at + 2),
    timeDateStamp: u32(b, at + 4),
    symtabOffset: u32(b, at + 8),
    nsymbols: u32(b, at + 12),
    optSize: u16(b, at + 16),
    characteristics: u16(b, at + 18),
  };
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Parse the section table and the string table of a COFF file (object or image). */
export function parseCoff(bytes: Uint8Array, header: FileHeader): Coff {
  const tableAt = header.at + FILE_HEADER_SIZE + header.optSize;
  need(tableAt + header.nsections * SECTION_HEADER_SIZE <= bytes.length, `section table (${header.nsections} entries at ${tableAt}) runs past the end of the file`);
  let strtabAt = 0;
  let strtabSize = 0;
  if (header.symtabOffset !== 0) {
    need(header.symtabOffset + header.nsymbols * SYMBOL_SIZE + 4 <= bytes.length, `symbol table (${header.nsymbols} symbols at ${header.symtabOffset}) and its string table run past the end of the file`);
    strtabAt = header.symtabOffset + header.nsymbols * SYMBOL_SIZE;
    strtabSize = u32(bytes, strtabAt);
    need(strtabSize >= 4 && strtabAt + strtabSize <= bytes.length, `string table size ${strtabSize} at ${strtabAt} does not fit the file`);
  }
  const stringAt = (off: number, what: string): string => {
    need(strtabSize > 0 && off >= 4 && off < strtabSize, `${what}: string table offset ${off} is outside the string table`);
    const start = strtabAt + off;
    const end = bytes.indexOf(0, start);
    need(end >= 0 && end < strtabAt + strtabSize, `${what}: string at ${off} is not terminated inside the string table`);
    return latin1(bytes.subarray(start, end));
  };
  const sections: Section[] = [];
  for (let i = 0; i < header.nsections; i++) {
    const h = tableAt + i * SECTION_HEADER_SIZE;
    const raw = bytes.subarray(h, h + 8);
    const nul = raw.indexOf(0);
    let name = latin1(nul < 0 ? raw : raw.subarray(0, nul));
    if (name.startsWith('//') && name.length > 2) {
      let off = 0;
      for (const ch of name.slice(2)) {
        const d = BASE64.indexOf(ch);
        need(d >= 0, `section ${i + 1}: bad base64 name "${name}"`);
        off = off * 64 + d;
      }
      name = stringAt(off, `section ${i + 1} name`);
    } else if (/^\/\d+$/.test(name)) {
      name = stringAt(Number(name.slice(1)), `section ${i + 1} name`);
    }
    const characteristics = u32(bytes, h + 36);
    let nrelocs = u16(bytes, h + 32);
    const relocPtr = u32(bytes, h + 24);
    const relocOverflow = (characteristics & SCN_LNK_NRELOC_OVFL) !== 0 && nrelocs === 0xffff;
    if (relocOverflow) {
      need(relocPtr + RELOC_SIZE <= bytes.length, `section ${name}: relocation count entry at ${relocPtr} is outside the file`);
      nrelocs = u32(bytes, relocPtr);
      need(nrelocs >= 1, `section ${name}: extended relocation count ${nrelocs}`);
      nrelocs -= 1;
    }
    sections.push({
      number: i + 1,
      name,
      headerAt: h,
      virtualSize: u32(bytes, h + 8),
      virtualAddress: u32(bytes, h + 12),
      rawSize: u32(bytes, h + 16),
      rawPtr: u32(bytes, h + 20),
      relocPtr,
      linenoPtr: u32(bytes, h + 28),
      nrelocs,
      relocOverflow,
      nlinenos: u16(bytes, h + 34),
      characteristics,
    });
  }
  return { bytes, header, sections, strtabAt, strtabSize };
}

/** The relocation table of a section: offset and byte length (the overflow count entry included). */
export function relocTable(s: Section): { at: number; size: number; first: number } {
  const count = s.nrelocs + (s.relocOverflow ? 1 : 0);
  return { at: s.relocPtr, size: count * RELOC_SIZE, first: s.relocOverflow ? RELOC_SIZE : 0 };
}

/** Whether a section has bytes in the file (uninitialized data and empty sections do not). */
export function hasRawData(s: Section): boolean {
  return s.rawPtr !== 0 && s.rawSize > 0;
}

/** Section alignment from the characteristics (IMAGE_SCN_ALIGN_*), 1 when unset. */
export function sectionAlign(s: Section): number {
  const n = (s.characteristics >>> 20) & 0xf;
  return n === 0 || n > 14 ? 1 : 1 << (n - 1);
}

export interface Symbol {
  readonly index: number;
  /** File offset of the entry. */
  readonly at: number;
  readonly value: number;
  readonly section: number;
  readonly storageClass: number;
  readonly naux: number;
}

export const SYM_CLASS_STATIC = 3;

/** Every symbol entry (aux records skipped), bounded by the table's declared size. */
export function readSymbols(c: Coff): Symbol[] {
  const { bytes, header } = c;
  const out: Symbol[] = [];
  for (let i = 0; i < header.nsymbols; ) {
    const at = header.symtabOffset + i * SYMBOL_SIZE;
    const naux = bytes[at + 17]!;
    need(i + 1 + naux <= header.nsymbols, `symbol ${i}: ${naux} aux records run past the symbol table`);
    const sec = u16(bytes, at + 12);
    out.push({ index: i, at, value: u32(bytes, at + 8), section: sec >= 0x8000 ? sec - 0x10000 : sec, storageClass: bytes[at + 16]!, naux });
    i += 1 + naux;
  }
  return out;
}

export function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** Raw bytes [rawPtr, rawPtr + rawSize) of every section with data lie inside the file and do not overlap. */
export function checkRawRanges(c: Coff, extra: ReadonlyArray<{ at: number; size: number; what: string }>): void {
  const ranges: Array<{ at: number; end: number; what: string }> = [];
  for (const s of c.sections) {
    if (!hasRawData(s)) continue;
    need(s.rawPtr + s.rawSize <= c.bytes.length, `section ${s.name} (${s.rawSize} bytes at ${s.rawPtr}) runs past the end of the file (${c.bytes.length} bytes)`);
    ranges.push({ at: s.rawPtr, end: s.rawPtr + s.rawSize, what: `section ${s.name}` });
  }
  for (const s of c.sections) {
    if (s.nrelocs === 0 && !s.relocOverflow) continue;
    const t = relocTable(s);
    need(t.at + t.size <= c.bytes.length, `relocations of section ${s.name} (${t.size} bytes at ${t.at}) run past the end of the file`);
    ranges.push({ at: t.at, end: t.at + t.size, what: `relocations of ${s.name}` });
  }
  for (const s of c.sections) {
    if (s.nlinenos === 0) continue;
    need(s.linenoPtr + s.nlinenos * 6 <= c.bytes.length, `line numbers of section ${s.name} run past the end of the file`);
    ranges.push({ at: s.linenoPtr, end: s.linenoPtr + s.nlinenos * 6, what: `line numbers of ${s.name}` });
  }
  for (const e of extra) if (e.size > 0) ranges.push({ at: e.at, end: e.at + e.size, what: e.what });
  ranges.sort((a, b) => a.at - b.at || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const p = ranges[i - 1]!;
    const r = ranges[i]!;
    need(r.at >= p.end, `${r.what} (at ${r.at}) overlaps ${p.what} (${p.at}..${p.end})`);
  }
}
