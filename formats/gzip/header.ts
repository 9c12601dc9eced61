// RFC 1952 section 2.3: the gzip member header, decoded and encoded by pure functions.
// Layout: ID1 ID2 CM FLG MTIME(4, LE) XFL OS, then FEXTRA (XLEN + data), FNAME (NUL-ended),
// FCOMMENT (NUL-ended), FHCRC (2 bytes), in that order when their flag bits are set.
import { FormatError } from '../../src/types.js';

export const ID1 = 0x1f;
export const ID2 = 0x8b;
export const CM_DEFLATE = 8;
export const FTEXT = 0x01;
export const FHCRC = 0x02;
export const FEXTRA = 0x04;
export const FNAME = 0x08;
export const FCOMMENT = 0x10;
const RESERVED = 0xe0;
/** OS byte `gzip -n` writes on Unix. */
export const OS_UNIX = 3;

export interface GzipHeader {
  readonly flags: number;
  readonly mtime: number;
  readonly xfl: number;
  readonly os: number;
  /** FEXTRA data (without XLEN). */
  readonly extra?: Uint8Array;
  /** FNAME bytes (without the NUL). */
  readonly name?: Uint8Array;
  /** FCOMMENT bytes (without the NUL). */
  readonly comment?: Uint8Array;
  /** FHCRC value. */
  readonly hcrc?: number;
  /** Header length in bytes. */
  readonly length: number;
}

/** True when bytes start with the gzip magic and CM 8. */
export function isGzipMagic(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === ID1 && b[1] === ID2 && b[2] === CM_DEFLATE;
}

/**
 * Decode the header at the start of `b`. Returns 'short' when `b` ends before the header does
 * and `final` is false (the caller reads more); with `final`, a short header is a FormatError.
 * `at` is the header's file offset, for messages.
 */
export function decodeHeader(b: Uint8Array, at: number, final: boolean): GzipHeader | 'short' {
  const short = (what: string): 'short' => {
    if (final) throw new FormatError(`truncated gzip member header at offset ${at}: ${what}`);
    return 'short';
  };
  if (b.length < 10) return short('fixed part');
  if (b[0] !== ID1 || b[1] !== ID2) throw new FormatError(`bad gzip magic at offset ${at}`);
  if (b[2] !== CM_DEFLATE) throw new FormatError(`unsupported gzip compression method ${b[2]} at offset ${at}`);
  const flags = b[3]!;
  if (flags & RESERVED) throw new FormatError(`reserved gzip flag bits set (FLG 0x${flags.toString(16)}) at offset ${at}`);
  const mtime = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  const xfl = b[8]!;
  const os = b[9]!;
  let p = 10;
  let extra: Uint8Array | undefined;
  let name: Uint8Array | undefined;
  let comment: Uint8Array | undefined;
  let hcrc: number | undefined;
  if (flags & FEXTRA) {
    if (b.length < p + 2) return short('XLEN');
    const xlen = b[p]! | (b[p + 1]! << 8);
    p += 2;
    if (b.length < p + xlen) return short('FEXTRA');
    extra = b.subarray(p, p + xlen);
    p += xlen;
  }
  if (flags & FNAME) {
    const end = b.indexOf(0, p);
    if (end < 0) return short('FNAME');
    name = b.subarray(p, end);
    p = end + 1;
  }
  if (flags & FCOMMENT) {
    const end = b.indexOf(0, p);
    if (end < 0) return short('FCOMMENT');
    comment = b.subarray(p, end);
    p = end + 1;
  }
  if (flags & FHCRC) {
    if (b.length < p + 2) return short('FHCRC');
    hcrc = b[p]! | (b[p + 1]! << 8);
    p += 2;
  }
  return { flags, mtime, xfl, os, extra, name, comment, hcrc, length: p };
}

/** The header `gzip -n` writes: no flags, MTIME 0, the given XFL, OS 3 (Unix). */
export function encodeCanonicalHeader(xfl: number): Uint8Array {
  return Uint8Array.of(ID1, ID2, CM_DEFLATE, 0, 0, 0, 0, 0, xfl & 0xff, OS_UNIX);
}

/** The deflate level an XFL byte indicates (RFC 1952: 2 = maximum compression, 4 = fastest). */
export function levelForXfl(xfl: number): 1 | 6 | 9 {
  return xfl === 2 ? 9 : xfl === 4 ? 1 : 6;
}

/** FEXTRA subfield ids (SI1 SI2 as two ASCII chars), or undefined when the field is malformed. */
export function extraSubfieldIds(extra: Uint8Array): string[] | undefined {
  const ids: string[] = [];
  let p = 0;
  while (p < extra.length) {
    if (p + 4 > extra.length) return undefined;
    const len = extra[p + 2]! | (extra[p + 3]! << 8);
    ids.push(String.fromCharCode(extra[p]!, extra[p + 1]!));
    p += 4 + len;
  }
  return p === extra.length ? ids : undefined;
}

/** The 8-byte member trailer: CRC32 and ISIZE (size mod 2^32), little-endian. */
export function encodeTrailer(crc: number, size: number): Uint8Array {
  const t = new Uint8Array(8);
  const dv = new DataView(t.buffer);
  dv.setUint32(0, crc >>> 0, true);
  dv.setUint32(4, size % 0x100000000, true);
  return t;
}

export function decodeTrailer(b: Uint8Array): { crc: number; isize: number } {
  const dv = new DataView(b.buffer, b.byteOffset, 8);
  return { crc: dv.getUint32(0, true), isize: dv.getUint32(4, true) };
}
