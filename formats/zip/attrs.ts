// Canonical per-entry metadata (DESIGN.md section 3): file type and mode in the external
// attributes, "version made by"/"version needed", general-purpose flags, DOS time.
//
// File type comes from the Unix mode in the high 16 bits of the external attributes when the
// entry was made on a Unix-like host (or the field holds a valid type), else from the name (a
// trailing `/`) or the MS-DOS directory bit. Archives from MS-DOS/Windows or JDK tools carry no
// Unix modes: their files become 0100644 (no exec bit can be known), directories 040755.
// Regular files: 0100644, or 0100755 when any execute bit was set; directories: 040755 plus
// the MS-DOS directory bit 0x10; symlinks: 0120777 (target = member data, unchanged); other
// types (fifo, device, socket) keep their type with 0644/0755.
import { canonicalTime } from '../../src/time.js';
import type { Options } from '../../src/types.js';
import { ZIP_NO_TIME, fromDos, toDos, type DosDateTime } from './dostime.js';
import { FLAG_UTF8, type ExtraField } from './records.js';
import type { Entry } from './reader.js';

export const HOST_UNIX = 3;
/** Version made by: Unix host, spec 3.0 (as Info-ZIP 3.0 writes). */
export const VERSION_MADE_BY = (HOST_UNIX << 8) | 30;
const UNIX_LIKE_HOSTS = new Set([3, 19]); // Unix, OS X (Darwin)
const DOS_DIR = 0x10;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const VALID_TYPES = new Set([0o010000, 0o020000, S_IFDIR, 0o060000, S_IFREG, S_IFLNK, 0o140000]);
const NEEDED_BY_METHOD: Record<number, number> = { 0: 10, 8: 20, 9: 21, 12: 46, 14: 63, 93: 63, 95: 63, 98: 63 };

export type Kind = 'file' | 'dir' | 'symlink' | 'other';

export function kindAndMode(e: Entry): { kind: Kind; external: number } {
  const host = e.versionMadeBy >> 8;
  const high = e.externalAttributes >>> 16;
  const type = high & S_IFMT;
  const validType = VALID_TYPES.has(type);
  const unix = UNIX_LIKE_HOSTS.has(host) || validType ? high : 0;
  const utype = unix & S_IFMT;
  const nameDir = e.name.length > 0 && e.name[e.name.length - 1] === 0x2f;
  const dosDir = (e.externalAttributes & DOS_DIR) !== 0 && (unix === 0 || utype === 0);
  if (utype === S_IFLNK) return { kind: 'symlink', external: ((S_IFLNK | 0o777) << 16) >>> 0 };
  if (utype === S_IFDIR || nameDir || dosDir) return { kind: 'dir', external: (((S_IFDIR | 0o755) << 16) | DOS_DIR) >>> 0 };
  const exec = (unix & 0o111) !== 0;
  const perm = exec ? 0o755 : 0o644;
  if (utype !== 0 && utype !== S_IFREG) return { kind: 'other', external: ((utype | perm) << 16) >>> 0 };
  return { kind: 'file', external: ((S_IFREG | perm) << 16) >>> 0 };
}

/** APPNOTE 4.4.3.2: the version needed for a method (and for a directory). */
export function versionNeeded(e: Entry, kind: Kind): number {
  let v = NEEDED_BY_METHOD[e.method] ?? Math.max(e.versionNeeded & 0xff, 20);
  if (kind === 'dir') v = Math.max(v, 20);
  return v;
}

function isAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return false;
  return true;
}

const strict = new TextDecoder('utf-8', { fatal: true });
function isUtf8(b: Uint8Array): boolean {
  try {
    strict.decode(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * Flags: only the UTF-8 flag (bit 11), set when the name or comment is not ASCII and is valid
 * UTF-8 (or was already flagged). Non-UTF-8 legacy names keep the flag clear.
 */
export function canonicalFlags(name: Uint8Array, comment: Uint8Array, original: number): number {
  if (isAscii(name) && isAscii(comment)) return 0;
  if ((isUtf8(name) && isUtf8(comment)) || original & FLAG_UTF8) return FLAG_UTF8;
  return 0;
}

/** The UTC mtime of an Info-ZIP "UT" (0x5455) extra field, if it has one. */
export function extendedMtime(fields: readonly ExtraField[]): number | undefined {
  const f = fields.find((x) => x.id === 0x5455);
  if (!f || f.data.length < 5 || (f.data[0]! & 1) === 0) return undefined;
  return new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength).getInt32(1, true);
}

/**
 * DOS date/time to write. Without --clamp (or when the entry is newer than T): T, or zip's
 * "no time" 1980-01-01 12:01:00 UTC; with --clamp an entry at or before T keeps its fields.
 * `.clj` sources get 2 s less than the rest so compiled classes stay newer (Clojure reloads a
 * source newer than its class).
 */
export function canonicalDosTime(e: Entry, options: Options, clj: boolean): DosDateTime {
  // The original time only matters with --clamp.
  const original = options.clamp ? (extendedMtime(e.localExtra) ?? extendedMtime(e.centralExtra) ?? fromDos(e.date, e.time)) : undefined;
  const t = canonicalTime(options, original, ZIP_NO_TIME);
  if (options.clamp && options.timestamp !== undefined && original !== undefined && t === original && original <= options.timestamp) {
    return { date: e.date, time: e.time };
  }
  const even = Math.max(t - (((t % 2) + 2) % 2), ZIP_NO_TIME);
  return clj ? cachedDos(even - 2, ZIP_NO_TIME - 2) : cachedDos(even, ZIP_NO_TIME);
}

// Most entries of an archive get the same time: remember the last conversion.
let lastIn = NaN;
let lastFloor = NaN;
let lastOut: DosDateTime = { date: 0, time: 0 };
function cachedDos(t: number, floor: number): DosDateTime {
  if (t !== lastIn || floor !== lastFloor) {
    lastOut = toDos(t, floor);
    lastIn = t;
    lastFloor = floor;
  }
  return lastOut;
}
