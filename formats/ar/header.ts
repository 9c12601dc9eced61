// The 60-byte ar member header (common to GNU/SysV and BSD ar; see ar(5) and binutils
// include/aout/ar.h): name 16, mtime 12 (decimal), uid 6 (decimal), gid 6 (decimal),
// mode 8 (octal), size 10 (decimal), then "`\n". Fields are ASCII, left-aligned, space-padded.
// Pure functions: decode keeps the raw name field; encode writes canonical field text.
import { FormatError } from '../../src/types.js';

export const GLOBAL_MAGIC = '!<arch>\n';
export const THIN_MAGIC = '!<thin>\n';
export const HEADER_SIZE = 60;
const FMAG = '`\n';

export const FIELDS = {
  name: [0, 16],
  mtime: [16, 12],
  uid: [28, 6],
  gid: [34, 6],
  mode: [40, 8],
  size: [48, 10],
  fmag: [58, 2],
} as const;

export interface ArHeader {
  /** The 16-byte name field exactly as stored (latin1), trailing spaces included. */
  readonly rawName: string;
  /** Numeric fields; undefined when blank, NaN when not a number. */
  readonly mtime: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  /** Octal mode as a number. */
  readonly mode: number | undefined;
  readonly size: number;
  /** The numeric fields' text as stored, trailing spaces removed (for messages about odd values). */
  readonly text: { readonly mtime: string; readonly uid: string; readonly gid: string; readonly mode: string };
}

/** A numeric field for messages: "blank", the number (mode in octal), or the stored text quoted when it is no number. */
export function showField(h: ArHeader, key: 'mtime' | 'uid' | 'gid' | 'mode'): string {
  const v = h[key];
  if (v === undefined) return 'blank';
  if (Number.isNaN(v)) return JSON.stringify(h.text[key]);
  return key === 'mode' ? v.toString(8) : String(v);
}

/** The fields a header is written from: undefined writes a blank field. */
export interface ArHeaderFields {
  /** At most 16 bytes (latin1 string); padded with spaces. */
  readonly name: string;
  readonly mtime?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Written in octal. */
  readonly mode?: number;
  readonly size: number;
}

function field(b: Uint8Array, [start, len]: readonly [number, number]): string {
  return Buffer.from(b.buffer, b.byteOffset + start, len).toString('latin1');
}

function parseNumber(text: string, radix: 8 | 10): number | undefined {
  const t = text.replace(/ +$/, '');
  if (t === '') return undefined;
  const re = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  return re.test(t) ? parseInt(t, radix) : NaN;
}

/** Decode a header; `at` is its file offset, for messages. Throws FormatError when malformed. */
export function decodeHeader(b: Uint8Array, at: number): ArHeader {
  if (b.length < HEADER_SIZE) throw new FormatError(`truncated ar member header at offset ${at}: ${b.length} of ${HEADER_SIZE} bytes`);
  if (field(b, FIELDS.fmag) !== FMAG) throw new FormatError(`bad ar member header at offset ${at}: no "\`\\n" terminator`);
  const sizeText = field(b, FIELDS.size);
  const size = parseNumber(sizeText, 10);
  if (size === undefined || Number.isNaN(size)) {
    throw new FormatError(`bad ar member header at offset ${at}: size field "${sizeText.trim()}" is not a decimal number`);
  }
  return {
    rawName: field(b, FIELDS.name),
    mtime: parseNumber(field(b, FIELDS.mtime), 10),
    uid: parseNumber(field(b, FIELDS.uid), 10),
    gid: parseNumber(field(b, FIELDS.gid), 10),
    mode: parseNumber(field(b, FIELDS.mode), 8),
    size,
    text: {
      mtime: field(b, FIELDS.mtime).replace(/ +$/, ''),
      uid: field(b, FIELDS.uid).replace(/ +$/, ''),
      gid: field(b, FIELDS.gid).replace(/ +$/, ''),
      mode: field(b, FIELDS.mode).replace(/ +$/, ''),
    },
  };
}

function put(out: Uint8Array, [start, len]: readonly [number, number], text: string, what: string): void {
  if (text.length > len) throw new RangeError(`ar header ${what} "${text}" does not fit in ${len} bytes`);
  for (let i = 0; i < text.length; i++) out[start + i] = text.charCodeAt(i) & 0xff;
}

/** Encode a header: every field left-aligned and padded with spaces. */
export function encodeHeader(f: ArHeaderFields): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE).fill(0x20);
  put(out, FIELDS.name, f.name, 'name');
  if (f.mtime !== undefined) put(out, FIELDS.mtime, String(f.mtime), 'mtime');
  if (f.uid !== undefined) put(out, FIELDS.uid, String(f.uid), 'uid');
  if (f.gid !== undefined) put(out, FIELDS.gid, String(f.gid), 'gid');
  if (f.mode !== undefined) put(out, FIELDS.mode, f.mode.toString(8), 'mode');
  put(out, FIELDS.size, String(f.size), 'size');
  put(out, FIELDS.fmag, FMAG, 'terminator');
  return out;
}

/** Largest size the 10-digit size field can hold. */
export const MAX_FIELD_SIZE = 9_999_999_999;
