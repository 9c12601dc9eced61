// PE images (Microsoft "PE Format" specification: "MS-DOS Stub", "Signature", "Optional
// Header" for PE32 and PE32+, "Optional Header Data Directories", "Section Table"): the headers
// of an executable or DLL held in memory, its data directories, and RVA to file offset mapping.
// Everything read is checked against the buffer; sections whose raw data run past the end of
// the file, overlap each other, the headers or the symbol table, or whose address ranges
// overlap, make the image malformed (FormatError: it is left untouched).
import { FILE_HEADER_SIZE, SECTION_HEADER_SIZE, checkRawRanges, need, parseCoff, readFileHeader, u16, u32, type Coff, type Section } from './coff.js';

export const DIR_EXPORT = 0;
export const DIR_IMPORT = 1;
export const DIR_RESOURCE = 2;
export const DIR_SECURITY = 4;
export const DIR_DEBUG = 6;
export const DIR_LOAD_CONFIG = 10;
export const DIR_BOUND_IMPORT = 11;
export const DIR_DELAY_IMPORT = 13;
export const DIR_CLR = 14;

export interface DataDir {
  readonly rva: number;
  readonly size: number;
}

export interface PeImage {
  readonly bytes: Uint8Array;
  readonly coff: Coff;
  /** File offset of the optional header. */
  readonly optAt: number;
  readonly pe32plus: boolean;
  readonly sectionAlignment: number;
  readonly fileAlignment: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  readonly sizeOfInitializedData: number;
  readonly checksum: number;
  readonly dirs: readonly DataDir[];
  /** End of the section table (the headers proper). */
  readonly headersEnd: number;
}

/** Offsets of optional header fields (the same for PE32 and PE32+). */
export const OPT_SIZE_OF_INITIALIZED_DATA = 8;
export const OPT_SIZE_OF_IMAGE = 56;
export const OPT_CHECKSUM = 64;

/** The PE signature's offset when `head` is an MZ file with a PE header, else undefined. */
export function peOffset(head: Uint8Array, size: number): number | undefined {
  if (head.length < 64 || head[0] !== 0x4d || head[1] !== 0x5a) return undefined;
  const at = u32(head, 0x3c);
  if (at < 4 || at + 24 > size || at + 4 > head.length) return undefined;
  return head[at] === 0x50 && head[at + 1] === 0x45 && head[at + 2] === 0 && head[at + 3] === 0 ? at : undefined;
}

function isPow2(x: number): boolean {
  return x > 0 && (x & (x - 1)) === 0;
}

export function parseImage(bytes: Uint8Array): PeImage {
  const sig = peOffset(bytes, bytes.length);
  need(sig !== undefined, 'not a PE image (no MZ header with a PE signature)');
  const header = readFileHeader(bytes, sig + 4);
  const optAt = header.at + FILE_HEADER_SIZE;
  need(header.optSize >= 2 && optAt + header.optSize <= bytes.length, `optional header (${header.optSize} bytes at ${optAt}) runs past the end of the file`);
  const magic = u16(bytes, optAt);
  need(magic === 0x10b || magic === 0x20b, magic === 0x107 ? 'ROM image: not supported' : `unknown optional header magic 0x${magic.toString(16)}`);
  const pe32plus = magic === 0x20b;
  const dirsAt = pe32plus ? 112 : 96;
  need(header.optSize >= dirsAt, `optional header of ${header.optSize} bytes is too short for ${pe32plus ? 'PE32+' : 'PE32'}`);
  const ndirs = u32(bytes, optAt + dirsAt - 4);
  need(ndirs <= 16 && dirsAt + ndirs * 8 <= header.optSize, `${ndirs} data directories do not fit the ${header.optSize}-byte optional header`);
  const dirs: DataDir[] = [];
  for (let i = 0; i < 16; i++) dirs.push(i < ndirs ? { rva: u32(bytes, optAt + dirsAt + i * 8), size: u32(bytes, optAt + dirsAt + i * 8 + 4) } : { rva: 0, size: 0 });
  const sectionAlignment = u32(bytes, optAt + 32);
  const fileAlignment = u32(bytes, optAt + 36);
  need(isPow2(fileAlignment) && isPow2(sectionAlignment) && sectionAlignment >= fileAlignment, `bad alignments (section ${sectionAlignment}, file ${fileAlignment})`);
  const coff = parseCoff(bytes, header);
  const headersEnd = optAt + header.optSize + header.nsections * SECTION_HEADER_SIZE;
  const extra = [{ at: 0, size: headersEnd, what: 'the headers' }];
  if (header.symtabOffset !== 0) extra.push({ at: header.symtabOffset, size: coff.strtabAt + coff.strtabSize - header.symtabOffset, what: 'the symbol and string tables' });
  const cert = dirs[DIR_SECURITY]!;
  if (cert.size > 0) {
    need(cert.rva + cert.size <= bytes.length, `certificate table (${cert.size} bytes at ${cert.rva}) runs past the end of the file`);
    extra.push({ at: cert.rva, size: cert.size, what: 'the certificate table' });
  }
  checkRawRanges(coff, extra);
  // Address ranges: ascending and disjoint (the loader requires it).
  let end = 0;
  for (const s of coff.sections) {
    const span = s.virtualSize || s.rawSize;
    need(s.virtualAddress >= end, `section ${s.name} at RVA 0x${s.virtualAddress.toString(16)} overlaps the previous section or the headers`);
    need(s.virtualAddress % sectionAlignment === 0, `section ${s.name} at RVA 0x${s.virtualAddress.toString(16)} is not aligned to ${sectionAlignment}`);
    end = s.virtualAddress + span;
    if (end === s.virtualAddress) end++;
  }
  return {
    bytes,
    coff,
    optAt,
    pe32plus,
    sectionAlignment,
    fileAlignment,
    sizeOfImage: u32(bytes, optAt + OPT_SIZE_OF_IMAGE),
    sizeOfHeaders: u32(bytes, optAt + 60),
    sizeOfInitializedData: u32(bytes, optAt + OPT_SIZE_OF_INITIALIZED_DATA),
    checksum: u32(bytes, optAt + OPT_CHECKSUM),
    dirs,
    headersEnd,
  };
}

/** The section holding [rva, rva + len) in its raw data, or undefined. */
export function sectionAt(img: PeImage, rva: number, len: number): Section | undefined {
  for (const s of img.coff.sections) {
    if (rva >= s.virtualAddress && rva + len <= s.virtualAddress + Math.min(s.rawSize, s.virtualSize || s.rawSize) && s.rawPtr !== 0) return s;
  }
  return undefined;
}

/** File offset of [rva, rva + len), which must lie in the headers or in one section's raw data. */
export function rvaToOffset(img: PeImage, rva: number, len: number, what: string): number {
  const first = img.coff.sections.reduce((m, s) => Math.min(m, s.virtualAddress), Infinity);
  if (rva + len <= Math.min(img.sizeOfHeaders, first) && rva + len <= img.bytes.length) return rva;
  const s = sectionAt(img, rva, len);
  need(s !== undefined, `${what} (${len} bytes at RVA 0x${rva.toString(16)}) is not inside a section's data`);
  return s.rawPtr + (rva - s.virtualAddress);
}

/**
 * Like rvaToOffset, but undefined when the range lies in a section that has no data in this
 * file (as in a debug file from objcopy --only-keep-debug, whose loaded sections are empty).
 */
export function locate(img: PeImage, rva: number, len: number, what: string): number | undefined {
  const s = img.coff.sections.find((x) => rva >= x.virtualAddress && rva < x.virtualAddress + (x.virtualSize || x.rawSize));
  if (s && (s.rawPtr === 0 || s.rawSize === 0)) return undefined;
  return rvaToOffset(img, rva, len, what);
}

/** The bytes of a section as loaded: its raw data up to its virtual size. */
export function sectionBytes(img: PeImage, s: Section): Uint8Array {
  if (s.rawPtr === 0) return new Uint8Array(0);
  return img.bytes.subarray(s.rawPtr, s.rawPtr + Math.min(s.rawSize, s.virtualSize || s.rawSize));
}
