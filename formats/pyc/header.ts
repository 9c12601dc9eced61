// The pyc header (PEP 552, importlib._bootstrap_external._classify_pyc). 3.7+: magic (4),
// flags u32 LE, then either source mtime u32 + source size u32 (flags bit 0 clear) or the
// 8-byte importlib.util.source_hash of the source (bit 0 set; bit 1 = check_source).
// 3.6: magic, mtime, size (12 bytes). Pure functions: parse, and encode a new header.
import { FormatError } from '../../src/types.js';
import type { PyVersion } from './magic.js';

export type PycHeader =
  | {
      readonly kind: 'timestamp';
      readonly size: 12 | 16;
      readonly magic: Uint8Array;
      readonly flags: number;
      readonly mtime: number;
      readonly sourceSize: number;
    }
  | {
      readonly kind: 'hash';
      readonly size: 16;
      readonly magic: Uint8Array;
      readonly flags: number;
      readonly checkSource: boolean;
      readonly hash: Uint8Array;
    };

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function parseHeader(bytes: Uint8Array, version: PyVersion): PycHeader {
  const size = version.minor >= 7 ? 16 : 12;
  if (bytes.length < size) throw new FormatError(`truncated pyc header: ${bytes.length} bytes, need ${size}`);
  const magic = bytes.subarray(0, 4);
  if (size === 12) return { kind: 'timestamp', size, magic, flags: 0, mtime: u32(bytes, 4), sourceSize: u32(bytes, 8) };
  const flags = u32(bytes, 4);
  if (flags & ~0b11) throw new FormatError(`invalid pyc flags 0x${flags.toString(16)}`);
  if (flags & 1) return { kind: 'hash', size: 16, magic, flags, checkSource: (flags & 2) !== 0, hash: bytes.subarray(8, 16) };
  return { kind: 'timestamp', size: 16, magic, flags, mtime: u32(bytes, 8), sourceSize: u32(bytes, 12) };
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export function encodeHeader(h: PycHeader): Uint8Array {
  const out = new Uint8Array(h.size);
  out.set(h.magic, 0);
  if (h.kind === 'timestamp') {
    if (h.size === 12) {
      put32(out, 4, h.mtime);
      put32(out, 8, h.sourceSize);
    } else {
      put32(out, 4, h.flags);
      put32(out, 8, h.mtime);
      put32(out, 12, h.sourceSize);
    }
  } else {
    put32(out, 4, h.flags);
    out.set(h.hash, 8);
  }
  return out;
}

/** A timestamp header with another mtime (mod 2**32, as CPython stores it). */
export function withMtime(h: PycHeader & { kind: 'timestamp' }, mtime: number): PycHeader {
  return { ...h, mtime: mtime >>> 0 };
}

/** The hash-based header py_compile writes for --invalidation-mode checked-hash/unchecked-hash. */
export function hashHeader(magic: Uint8Array, checked: boolean, hash: Uint8Array): PycHeader {
  return { kind: 'hash', size: 16, magic, flags: checked ? 0b11 : 0b01, checkSource: checked, hash };
}
