// CPython pyc magic numbers (Lib/importlib/_bootstrap_external.py, from 3.13 on
// Include/internal/pycore_magic_number.h): the first two bytes of a pyc, little-endian,
// followed by "\r\n". Maps a magic to the Python version whose marshal layout it uses.

export interface PyVersion {
  readonly major: number;
  readonly minor: number;
}

/** Magic numbers of Python 1.5 to 2.7 (we recognise them only to leave them alone). */
export const PY2_MAGICS: ReadonlySet<number> = new Set([
  20121, 50428, 50823, 60202, 60717, 62011, 62021, 62041, 62051, 62061, 62071, 62081, 62091, 62092, 62101,
  62111, 62121, 62131, 62151, 62161, 62171, 62181, 62191, 62201, 62211,
]);

/** Inclusive magic ranges of the Python 3 versions whose marshal format we read and write. */
const SUPPORTED: ReadonlyArray<readonly [number, number, number]> = [
  // [first magic, last magic, minor]
  [3360, 3379, 6],
  [3390, 3394, 7],
  [3400, 3413, 8],
  [3420, 3425, 9],
  [3430, 3439, 10],
  [3450, 3495, 11],
  [3500, 3531, 12],
  [3550, 3599, 13],
  [3600, 3649, 14],
];

export type MagicInfo =
  | { readonly kind: 'supported'; readonly magic: number; readonly version: PyVersion; readonly headerSize: number }
  | { readonly kind: 'python2'; readonly magic: number }
  | { readonly kind: 'unsupported'; readonly magic: number; readonly why: string }
  | { readonly kind: 'not-pyc' };

/** Classify the first 4 bytes of a file. */
export function classifyMagic(head: Uint8Array): MagicInfo {
  if (head.length < 4 || head[2] !== 0x0d || head[3] !== 0x0a) return { kind: 'not-pyc' };
  const magic = head[0]! | (head[1]! << 8);
  if (PY2_MAGICS.has(magic)) return { kind: 'python2', magic };
  for (const [lo, hi, minor] of SUPPORTED) {
    if (magic >= lo && magic <= hi) {
      return { kind: 'supported', magic, version: { major: 3, minor }, headerSize: minor >= 7 ? 16 : 12 };
    }
  }
  if (magic >= 3000 && magic < 3360) return { kind: 'unsupported', magic, why: `Python 3.0-3.5 pyc (magic ${magic}) is not supported` };
  if (magic >= 3650 && magic < 4000) return { kind: 'unsupported', magic, why: `pyc magic ${magic} is newer than Python 3.14` };
  return { kind: 'not-pyc' };
}

/** True when the 4 bytes look like any CPython pyc magic (2.x or 3.x, known or too new). */
export function looksLikePyc(head: Uint8Array): boolean {
  return classifyMagic(head).kind !== 'not-pyc';
}
