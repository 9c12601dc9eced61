// The 512-byte tar header (POSIX.1-1988 ustar, GNU tar 1.34's "gnu" (old GNU magic) layout):
// pure decode and encode, field by field, exactly as GNU tar 1.34 writes them:
//  - numeric fields: zero-padded octal in width-1 digits then NUL ("0000644\0"); when the value
//    does not fit, GNU format uses base-256 (first byte 0x80, or 0xff-led two's complement for
//    negatives), other formats cannot hold it (the caller writes a pax record instead);
//  - checksum: unsigned byte sum with the field as 8 spaces, written "%06o\0 ";
//  - magic/version: "ustar\0" "00" (ustar, pax) or "ustar " " \0" (GNU);
//  - devmajor/devminor: GNU writes them only for device entries (NULs otherwise), ustar and
//    pax write "0000000\0" in member headers and NULs in pax extended headers.
// Names are carried as latin1 "byte strings" (one char per byte), so comparisons are bytewise.
import { FormatError } from '../../src/types.js';

export const BLOCK = 512;
/** GNU tar's default record: blocking factor 20. */
export const RECORD = 20 * BLOCK;

export type TarFormat = 'gnu' | 'ustar' | 'posix';

/** Field offsets and widths (POSIX.1-1988, GNU tar's tar.h). */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
  /** GNU: atime, ctime (12 each) at 345 and 357; sparse area from 386; isextended 482; realsize 483. */
  gnuAtime: [345, 12],
  gnuCtime: [357, 12],
  gnuIsExtended: [482, 1],
  gnuRealSize: [483, 12],
} as const;

/** Bytes <-> latin1 string (one char per byte). */
export function bstr(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
export function bytesOf(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** A NUL-terminated (or field-filling) string field, as a byte string. */
export function cString(block: Uint8Array, [at, width]: readonly [number, number]): string {
  let end = at;
  while (end < at + width && block[end] !== 0) end++;
  return bstr(block.subarray(at, end));
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Unsigned byte sum of the header with the checksum field counted as spaces. */
export function checksumOf(block: Uint8Array): { unsigned: number; signed: number } {
  let u = 0;
  let s = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    u += b;
    s += b > 127 ? b - 256 : b;
  }
  return { unsigned: u, signed: s };
}

/**
 * A numeric field as GNU tar's from_header reads it: leading spaces, octal digits, ended by
 * NUL or space; or base-256 (high bit of the first byte; 0xff-led means negative). An empty
 * field (all NULs or spaces) is 0. Values beyond 2^53 are a FormatError.
 */
export function parseNumeric(block: Uint8Array, [at, width]: readonly [number, number], what: string, where: number): number {
  const f = block.subarray(at, at + width);
  const first = f[0]!;
  if (first & 0x80) {
    const negative = (first & 0x40) !== 0;
    // Two's complement over the whole field, the first byte's top bit being the marker.
    let v = 0n;
    for (let i = 0; i < width; i++) v = (v << 8n) | BigInt(i === 0 ? first & 0x7f : f[i]!);
    if (negative) v -= 1n << BigInt(width * 8 - 1);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new FormatError(`${what} field out of range at offset ${where}`);
    }
    return Number(v);
  }
  let i = 0;
  while (i < width && f[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < width; i++) {
    const c = f[i]!;
    if (c >= 0x30 && c <= 0x37) {
      v = v * 8 + (c - 0x30);
      digits++;
      if (v > Number.MAX_SAFE_INTEGER) throw new FormatError(`${what} field out of range at offset ${where}`);
    } else break;
  }
  for (; i < width; i++) {
    const c = f[i]!;
    if (c !== 0 && c !== 0x20) throw new FormatError(`bad ${what} field ${JSON.stringify(bstr(f))} at offset ${where}`);
  }
  void digits;
  return v;
}

/** Zero-padded octal in width-1 digits then NUL, or undefined when it does not fit. */
export function octalField(value: number, width: number): Uint8Array | undefined {
  if (!Number.isSafeInteger(value) || value < 0) return undefined;
  const digits = value.toString(8);
  if (digits.length > width - 1) return undefined;
  const out = new Uint8Array(width);
  out.set(bytesOf(digits.padStart(width - 1, '0')), 0);
  return out;
}

/** GNU base-256: 0x80 then big-endian magnitude, or the two's complement (0xff-led) for negatives. */
export function base256Field(value: number, width: number): Uint8Array | undefined {
  if (!Number.isSafeInteger(value)) return undefined;
  const bits = BigInt(width * 8 - 1);
  let v = BigInt(value);
  if (v >= 1n << bits || v < -(1n << bits)) return undefined;
  if (v < 0) v += 1n << BigInt(width * 8);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (value >= 0) out[0] = 0x80;
  return out;
}

/** Largest value an octal field of `width` bytes holds. */
export function maxOctal(width: number): number {
  return 8 ** (width - 1) - 1;
}

/** A numeric field as GNU tar's to_chars writes it for `format` (undefined: not representable). */
export function numericField(value: number, width: number, format: TarFormat): Uint8Array | undefined {
  return octalField(value, width) ?? (format === 'gnu' ? base256Field(value, width) : undefined);
}

/** What goes into one header block. Strings are byte strings; absent numeric fields are NUL-filled. */
export interface HeaderFields {
  /** The name field (at most 100 bytes; longer is truncated as GNU tar does). */
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  /** Written for device entries (and for every ustar/pax member header as 0). */
  devmajor?: number;
  devminor?: number;
  /** ustar prefix (at most 155 bytes). */
  prefix?: string;
  /** GNU: raw bytes 369..512 (sparse map, isextended, realsize) kept for 'S' entries. */
  gnuSparseArea?: Uint8Array;
}

function putString(block: Uint8Array, [at, width]: readonly [number, number], s: string): void {
  const b = bytesOf(s);
  block.set(b.subarray(0, width), at);
}

function putNumeric(block: Uint8Array, [at, width]: readonly [number, number], v: number, format: TarFormat, what: string): void {
  const f = numericField(v, width, format);
  if (!f) throw new FormatError(`${what} ${v} cannot be written in a ${format} header`);
  block.set(f, at);
}

/** Write the checksum as GNU tar does: six octal digits, NUL, space. */
export function setChecksum(block: Uint8Array): void {
  block.fill(0x20, 148, 156);
  const sum = checksumOf(block).unsigned;
  block.set(bytesOf(sum.toString(8).padStart(6, '0')), 148);
  block[154] = 0;
  block[155] = 0x20;
}

/** Encode one header block in `format`. */
export function encodeHeader(h: HeaderFields, format: TarFormat): Uint8Array {
  const block = new Uint8Array(BLOCK);
  putString(block, F.name, h.name);
  putNumeric(block, F.mode, h.mode, format, 'mode');
  putNumeric(block, F.uid, h.uid, format, 'uid');
  putNumeric(block, F.gid, h.gid, format, 'gid');
  putNumeric(block, F.size, h.size, format, 'size');
  putNumeric(block, F.mtime, h.mtime, format, 'mtime');
  putString(block, F.typeflag, h.typeflag);
  putString(block, F.linkname, h.linkname);
  if (format === 'gnu') {
    putString(block, F.magic, 'ustar ');
    putString(block, F.version, ' \0');
  } else {
    putString(block, F.magic, 'ustar\0');
    putString(block, F.version, '00');
  }
  putString(block, F.uname, h.uname);
  putString(block, F.gname, h.gname);
  if (h.devmajor !== undefined) putNumeric(block, F.devmajor, h.devmajor, format, 'devmajor');
  if (h.devminor !== undefined) putNumeric(block, F.devminor, h.devminor, format, 'devminor');
  if (h.prefix) putString(block, F.prefix, h.prefix);
  if (format === 'gnu' && h.gnuSparseArea) block.set(h.gnuSparseArea, 369);
  setChecksum(block);
  return block;
}

/** The header fields as read, with nothing interpreted beyond the field syntax. */
export interface DecodedHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  magic: 'ustar' | 'gnu' | 'v7';
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  prefix: string;
}

/** Which header family the magic says. */
export function magicOf(block: Uint8Array): 'ustar' | 'gnu' | 'v7' {
  const m = bstr(block.subarray(257, 263));
  if (m === 'ustar ') return 'gnu';
  if (m === 'ustar\0') return 'ustar';
  return 'v7';
}

/** True when the stored checksum matches (unsigned, or the signed sum old tars wrote). */
export function checksumOk(block: Uint8Array): boolean {
  let stored: number;
  try {
    stored = parseNumeric(block, F.chksum, 'checksum', 0);
  } catch {
    return false;
  }
  // An all-space or empty field parses as 0, which no real header sums to.
  const { unsigned, signed } = checksumOf(block);
  return stored === unsigned || stored === signed;
}

/** Decode a header block at archive offset `where` (checksum verified). */
export function decodeHeader(block: Uint8Array, where: number): DecodedHeader {
  if (!checksumOk(block)) throw new FormatError(`bad header checksum at offset ${where}`);
  const magic = magicOf(block);
  const typeflag = String.fromCharCode(block[156]!);
  const num = (f: readonly [number, number], what: string) => parseNumeric(block, f, what, where);
  const isUstar = magic !== 'v7';
  return {
    name: cString(block, F.name),
    mode: num(F.mode, 'mode'),
    uid: num(F.uid, 'uid'),
    gid: num(F.gid, 'gid'),
    size: num(F.size, 'size'),
    mtime: num(F.mtime, 'mtime'),
    typeflag,
    linkname: cString(block, F.linkname),
    magic,
    uname: isUstar ? cString(block, F.uname) : '',
    gname: isUstar ? cString(block, F.gname) : '',
    devmajor: isUstar ? num(F.devmajor, 'devmajor') : 0,
    devminor: isUstar ? num(F.devminor, 'devminor') : 0,
    // GNU headers keep atime/ctime where ustar keeps the prefix.
    prefix: magic === 'ustar' ? cString(block, F.prefix) : '',
  };
}

/** Header-only entries whose size field does not count archive data. */
export function sizeIsData(typeflag: string): boolean {
  return !(typeflag === '1' || typeflag === '2' || typeflag === '3' || typeflag === '4' || typeflag === '5' || typeflag === '6');
}

/**
 * Split a long name into ustar prefix and name as GNU tar's split_long_name does: the last
 * '/' within the first 156 bytes (a trailing '/' not counting), leaving a name of 1..100 bytes.
 */
export function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (name.length <= 100) return { prefix: '', name };
  if (name.length > 155 + 100 + 1) return undefined;
  let length = name.length;
  if (length > 156) length = 156;
  else if (name[length - 1] === '/') length--;
  let i = length - 1;
  for (; i > 0; i--) if (name[i] === '/') break;
  const nlen = name.length - i - 1;
  if (i === 0 || nlen > 100 || nlen === 0) return undefined;
  return { prefix: name.slice(0, i), name: name.slice(i + 1) };
}
