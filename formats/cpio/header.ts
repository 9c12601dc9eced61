// cpio headers (GNU cpio 2.13's formats, as in its copyout.c / copyin.c):
//  - newc "070701" and crc "070702": 110 bytes, 13 fields of 8 uppercase hex digits; name
//    (namesize counts the NUL) padded so header+name is a multiple of 4; data padded to 4.
//  - odc "070707": 76 bytes of octal (6 digits; mtime and filesize 11); no padding.
//  - bin (0o070707 as a 16-bit word, either byte order): 26 bytes of 16-bit words, mtime and
//    filesize as two words high first; name and data padded to even lengths.
// Pure encode/decode; names are latin1 byte strings.
import { FormatError } from '../../src/types.js';

export type CpioFormat = 'newc' | 'crc' | 'odc' | 'bin-le' | 'bin-be';

export interface CpioHeader {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  filesize: number;
  /** newc/crc: devmajor/devminor; odc/bin: dev in devmajor (devminor 0). */
  devmajor: number;
  devminor: number;
  /** newc/crc: rdevmajor/rdevminor; odc/bin: rdev in rdevmajor (rdevminor 0). */
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
  check: number;
}

export const TRAILER = 'TRAILER!!!';

/** The format a header at the start of `b` uses, or undefined. */
export function cpioFormatOf(b: Uint8Array): CpioFormat | undefined {
  if (b.length >= 6) {
    const m = Buffer.from(b.buffer, b.byteOffset, 6).toString('latin1');
    if (m === '070701') return 'newc';
    if (m === '070702') return 'crc';
    if (m === '070707') return 'odc';
  }
  if (b.length >= 2) {
    if (b[0] === 0xc7 && b[1] === 0x71) return 'bin-le';
    if (b[0] === 0x71 && b[1] === 0xc7) return 'bin-be';
  }
  return undefined;
}

export function headerSize(f: CpioFormat): number {
  return f === 'newc' || f === 'crc' ? 110 : f === 'odc' ? 76 : 26;
}

/** Alignment of name and data ends. */
export function alignment(f: CpioFormat): number {
  return f === 'newc' || f === 'crc' ? 4 : f === 'odc' ? 1 : 2;
}

export function padTo(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function num(b: Uint8Array, at: number, width: number, radix: 8 | 16, what: string, where: number): number {
  const s = Buffer.from(b.buffer, b.byteOffset + at, width).toString('latin1');
  const re = radix === 16 ? /^[0-9A-Fa-f]+$/ : /^[0-7]+$/;
  if (!re.test(s)) throw new FormatError(`bad cpio ${what} field "${s.replace(/[^\x20-\x7e]/g, '?')}" at offset ${where}`);
  return parseInt(s, radix);
}

export function decodeCpio(b: Uint8Array, f: CpioFormat, where: number): CpioHeader {
  if (f === 'newc' || f === 'crc') {
    const n = (i: number, what: string) => num(b, 6 + 8 * i, 8, 16, what, where);
    return {
      ino: n(0, 'ino'),
      mode: n(1, 'mode'),
      uid: n(2, 'uid'),
      gid: n(3, 'gid'),
      nlink: n(4, 'nlink'),
      mtime: n(5, 'mtime'),
      filesize: n(6, 'filesize'),
      devmajor: n(7, 'devmajor'),
      devminor: n(8, 'devminor'),
      rdevmajor: n(9, 'rdevmajor'),
      rdevminor: n(10, 'rdevminor'),
      namesize: n(11, 'namesize'),
      check: n(12, 'check'),
    };
  }
  if (f === 'odc') {
    const o = (at: number, w: number, what: string) => num(b, at, w, 8, what, where);
    return {
      devmajor: o(6, 6, 'dev'),
      devminor: 0,
      ino: o(12, 6, 'ino'),
      mode: o(18, 6, 'mode'),
      uid: o(24, 6, 'uid'),
      gid: o(30, 6, 'gid'),
      nlink: o(36, 6, 'nlink'),
      rdevmajor: o(42, 6, 'rdev'),
      rdevminor: 0,
      mtime: o(48, 11, 'mtime'),
      namesize: o(59, 6, 'namesize'),
      filesize: o(65, 11, 'filesize'),
      check: 0,
    };
  }
  const le = f === 'bin-le';
  const w = (i: number) => (le ? b[2 * i]! | (b[2 * i + 1]! << 8) : (b[2 * i]! << 8) | b[2 * i + 1]!);
  return {
    devmajor: w(1),
    devminor: 0,
    ino: w(2),
    mode: w(3),
    uid: w(4),
    gid: w(5),
    nlink: w(6),
    rdevmajor: w(7),
    rdevminor: 0,
    mtime: w(8) * 65536 + w(9),
    namesize: w(10),
    filesize: w(11) * 65536 + w(12),
    check: 0,
  };
}

function hex8(v: number, what: string): string {
  if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw new FormatError(`cpio ${what} ${v} does not fit a newc header`);
  return v.toString(16).toUpperCase().padStart(8, '0');
}

function oct(v: number, width: number, what: string): string {
  if (!Number.isSafeInteger(v) || v < 0 || v > 8 ** width - 1) throw new FormatError(`cpio ${what} ${v} does not fit an odc header`);
  return v.toString(8).padStart(width, '0');
}

/** Encode a header (without the name). */
export function encodeCpio(h: CpioHeader, f: CpioFormat): Uint8Array {
  if (f === 'newc' || f === 'crc') {
    const s =
      (f === 'newc' ? '070701' : '070702') +
      hex8(h.ino, 'ino') +
      hex8(h.mode, 'mode') +
      hex8(h.uid, 'uid') +
      hex8(h.gid, 'gid') +
      hex8(h.nlink, 'nlink') +
      hex8(h.mtime, 'mtime') +
      hex8(h.filesize, 'filesize') +
      hex8(h.devmajor, 'devmajor') +
      hex8(h.devminor, 'devminor') +
      hex8(h.rdevmajor, 'rdevmajor') +
      hex8(h.rdevminor, 'rdevminor') +
      hex8(h.namesize, 'namesize') +
      hex8(h.check, 'check');
    return Buffer.from(s, 'latin1');
  }
  if (f === 'odc') {
    const s =
      '070707' +
      oct(h.devmajor, 6, 'dev') +
      oct(h.ino, 6, 'ino') +
      oct(h.mode, 6, 'mode') +
      oct(h.uid, 6, 'uid') +
      oct(h.gid, 6, 'gid') +
      oct(h.nlink, 6, 'nlink') +
      oct(h.rdevmajor, 6, 'rdev') +
      oct(h.mtime, 11, 'mtime') +
      oct(h.namesize, 6, 'namesize') +
      oct(h.filesize, 11, 'filesize');
    return Buffer.from(s, 'latin1');
  }
  const out = new Uint8Array(26);
  const le = f === 'bin-le';
  const put = (i: number, v: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new FormatError(`cpio ${what} ${v} does not fit a binary header`);
    out[2 * i] = le ? v & 0xff : v >> 8;
    out[2 * i + 1] = le ? v >> 8 : v & 0xff;
  };
  const put32 = (i: number, v: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new FormatError(`cpio ${what} ${v} does not fit a binary header`);
    put(i, Math.floor(v / 65536), what);
    put(i + 1, v % 65536, what);
  };
  put(0, 0o070707, 'magic');
  put(1, h.devmajor, 'dev');
  put(2, h.ino, 'ino');
  put(3, h.mode, 'mode');
  put(4, h.uid, 'uid');
  put(5, h.gid, 'gid');
  put(6, h.nlink, 'nlink');
  put(7, h.rdevmajor, 'rdev');
  put32(8, h.mtime, 'mtime');
  put(10, h.namesize, 'namesize');
  put32(11, h.filesize, 'filesize');
  return out;
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
