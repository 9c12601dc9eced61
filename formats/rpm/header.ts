// RPM package file layout (rpm 4.x; spec: rpm's docs/manual/format.md "Package format" and
// lib/header.c / lib/rpmtag.h of rpm 4.18, and the LSB 5 "RPM File Format" chapter):
//  - lead: 96 bytes, magic ED AB EE DB (kept as it is: it holds no time or host);
//  - signature header, padded with zeros to a multiple of 8 bytes;
//  - main header;
//  - payload (a compressed cpio archive).
// A header: magic 8E AD E8 01, 4 reserved bytes, il (index entry count, 32-bit BE), dl (data
// store size), il 16-byte index entries (tag, type, offset, count; big-endian), then the data
// store. Types: 0 NULL, 1 CHAR, 2 INT8, 3 INT16, 4 INT32, 5 INT64, 6 STRING, 7 BIN,
// 8 STRING_ARRAY, 9 I18NSTRING; integers aligned to their size in the store. The first entry
// of a header rpm wrote is its region tag (HEADERSIGNATURES 62 in the signature header,
// HEADERIMMUTABLE 63 in the main header): type BIN, count 16, its offset pointing at a 16-byte
// trailer (the same tag, type BIN, offset -(16 * entries in the region), count 16) placed
// after all other data.
// As rpm 4.18's headerExport writes a header it built (rpmbuild): entries in tag order, the
// data in the same order, each item aligned, the region trailer last, unaligned.
// Pure encode/decode of bytes; no I/O.
import { FormatError } from '../../src/types.js';

export const LEAD_SIZE = 96;
export const LEAD_MAGIC = [0xed, 0xab, 0xee, 0xdb] as const;
export const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01] as const;

export const T_CHAR = 1;
export const T_INT8 = 2;
export const T_INT16 = 3;
export const T_INT32 = 4;
export const T_INT64 = 5;
export const T_STRING = 6;
export const T_BIN = 7;
export const T_STRING_ARRAY = 8;
export const T_I18NSTRING = 9;

/** Region tags. */
export const TAG_HEADERSIGNATURES = 62;
export const TAG_HEADERIMMUTABLE = 63;

/** Signature header tags (rpmtag.h RPMSIGTAG_*). */
export const SIG = {
  SIZE: 1000,
  MD5: 1004,
  PAYLOADSIZE: 1007,
  RESERVEDSPACE: 1008,
  SHA1: 269,
  SHA256: 273,
  LONGSIZE: 270,
  LONGARCHIVESIZE: 271,
  DSA: 267,
  RSA: 268,
  PGP: 1002,
  GPG: 1005,
  PGP5: 1006,
  FILESIGNATURES: 274,
  VERITYSIGNATURES: 276,
  OPENPGP: 278,
} as const;

/** Main header tags (rpmtag.h RPMTAG_*). */
export const TAG = {
  NAME: 1000,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  SIZE: 1009,
  OLDFILENAMES: 1027,
  FILESIZES: 1028,
  FILEMODES: 1030,
  FILEMTIMES: 1034,
  FILEDIGESTS: 1035,
  FILEFLAGS: 1037,
  COOKIE: 1094,
  FILEDEVICES: 1095,
  FILEINODES: 1096,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  PAYLOADFORMAT: 1124,
  PAYLOADCOMPRESSOR: 1125,
  PAYLOADFLAGS: 1126,
  FILEDIGESTALGO: 5011,
  LONGFILESIZES: 5008,
  LONGSIZE: 5009,
  FILESIGNATURES: 5090,
  PAYLOADDIGEST: 5092,
  PAYLOADDIGESTALGO: 5093,
  PAYLOADDIGESTALT: 5097,
  /** RPMTAG_SIG_BASE + 20: also the tag number in the main header. */
  VERITYSIGNATURES: 276,
  /** The expanded spec file of a source package (rpm 4.18). */
  SPEC: 5099,
} as const;

/** RPMFILE_GHOST: listed in the header, not in the payload. */
export const RPMFILE_GHOST = 1 << 6;

/** One index entry with its data (the exact bytes it covers, without alignment padding). */
export interface TagEntry {
  readonly tag: number;
  readonly type: number;
  readonly count: number;
  readonly data: Uint8Array;
}

export interface Header {
  /** The region tag (62 or 63). */
  readonly region: number;
  /** Every entry but the region tag, in the input's index order. */
  readonly entries: TagEntry[];
  /** Bytes the header took in the input (16 + 16 * il + dl). */
  readonly byteLength: number;
}

/** Largest index rpm accepts (lib/header_internal.h HEADER_TAGS_MAX, HEADER_DATA_MAX). */
const MAX_IL = 0xffff;
const MAX_DL = 256 * 1024 * 1024;

const be = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function typeAlign(type: number): number {
  return type === T_INT16 ? 2 : type === T_INT32 ? 4 : type === T_INT64 ? 8 : 1;
}

function fixedSize(type: number): number | undefined {
  return type === T_CHAR || type === T_INT8 || type === T_BIN ? 1 : type === T_INT16 ? 2 : type === T_INT32 ? 4 : type === T_INT64 ? 8 : undefined;
}

/** Size of the header whose first 16 bytes are `pre` (magic, reserved, il, dl). */
export function headerSizeFromPreamble(pre: Uint8Array, where: string, maxBytes: number): number {
  if (pre.length < 16) throw new FormatError(`truncated ${where} (no header preamble)`);
  for (let i = 0; i < 4; i++) if (pre[i] !== HEADER_MAGIC[i]) throw new FormatError(`${where}: bad header magic`);
  const v = be(pre);
  const il = v.getUint32(8);
  const dl = v.getUint32(12);
  if (il < 1 || il > MAX_IL) throw new FormatError(`${where}: bad index entry count ${il}`);
  if (dl > MAX_DL) throw new FormatError(`${where}: data store of ${dl} bytes is larger than rpm allows`);
  const size = 16 + 16 * il + dl;
  if (size > maxBytes) throw new FormatError(`${where}: ${size} bytes is over the memory limit`);
  return size;
}

/** Decode a header (its bytes exactly: preamble, index, data store). */
export function decodeHeader(b: Uint8Array, where: string, maxBytes: number): Header {
  const size = headerSizeFromPreamble(b, where, maxBytes);
  if (b.length < size) throw new FormatError(`truncated ${where}`);
  const v = be(b);
  const il = v.getUint32(8);
  const dl = v.getUint32(12);
  const ds = 16 + 16 * il;
  const store = b.subarray(ds, ds + dl);
  const raw: Array<{ tag: number; type: number; offset: number; count: number }> = [];
  for (let i = 0; i < il; i++) {
    const at = 16 + 16 * i;
    raw.push({ tag: v.getInt32(at), type: v.getUint32(at + 4), offset: v.getInt32(at + 8), count: v.getUint32(at + 12) });
  }
  const first = raw[0]!;
  if (first.tag !== TAG_HEADERSIGNATURES && first.tag !== TAG_HEADERIMMUTABLE) throw new Unsupported(`${where}: no region tag (a legacy header without HEADERIMMUTABLE)`);
  if (first.type !== T_BIN || first.count !== 16 || first.offset < 0 || first.offset + 16 > dl) throw new FormatError(`${where}: bad region tag entry`);
  const tv = be(store.subarray(first.offset, first.offset + 16));
  const trailer = { tag: tv.getInt32(0), type: tv.getUint32(4), offset: tv.getInt32(8), count: tv.getUint32(12) };
  if (trailer.tag !== first.tag || trailer.type !== T_BIN || trailer.count !== 16 || trailer.offset > 0 || -trailer.offset % 16 !== 0) throw new FormatError(`${where}: bad region trailer`);
  const ril = -trailer.offset / 16;
  if (ril !== il) throw new Unsupported(`${where}: ${il - ril} entries outside the ${first.tag === TAG_HEADERIMMUTABLE ? 'HEADERIMMUTABLE' : 'HEADERSIGNATURES'} region (a header changed after it was built)`);
  const entries: TagEntry[] = [];
  const seen = new Set<number>();
  // Data items may not overlap (rpm writes each once, in tag order): checked in offset order,
  // which also bounds the string scans below by the size of the data store.
  const byOffset = raw.slice(1).map((e, i) => ({ e, i })).sort((a, b) => a.e.offset - b.e.offset || a.i - b.i);
  const slots = new Array<TagEntry>(raw.length - 1);
  let prevEnd = 0;
  for (const { e, i } of byOffset) {
    if (e.type < 1 || e.type > 9) throw new FormatError(`${where}: tag ${e.tag} has unknown type ${e.type}`);
    if (e.count < 1 || e.count > dl) throw new FormatError(`${where}: tag ${e.tag} has bad count ${e.count}`);
    if (e.offset < 0 || e.offset >= first.offset) throw new FormatError(`${where}: tag ${e.tag} data offset ${e.offset} outside the region`);
    if (e.offset % typeAlign(e.type) !== 0) throw new FormatError(`${where}: tag ${e.tag} data misaligned`);
    if (seen.has(e.tag)) throw new FormatError(`${where}: tag ${e.tag} twice`);
    seen.add(e.tag);
    const fixed = fixedSize(e.type);
    let len: number;
    if (fixed !== undefined) len = fixed * e.count;
    else {
      if (e.type === T_STRING && e.count !== 1) throw new FormatError(`${where}: tag ${e.tag}: a STRING has count 1`);
      let at = e.offset;
      if (e.offset < prevEnd) throw new FormatError(`${where}: tag ${e.tag} data overlaps another entry's`);
      for (let n = 0; n < e.count; n++) {
        const nul = store.indexOf(0, at);
        if (nul < 0 || nul >= first.offset) throw new FormatError(`${where}: tag ${e.tag}: string runs past the data`);
        at = nul + 1;
      }
      len = at - e.offset;
    }
    if (e.offset + len > first.offset) throw new FormatError(`${where}: tag ${e.tag} data runs past the region`);
    if (e.offset < prevEnd) throw new FormatError(`${where}: tag ${e.tag} data overlaps another entry's`);
    prevEnd = e.offset + len;
    slots[i] = { tag: e.tag, type: e.type, count: e.count, data: store.slice(e.offset, e.offset + len) };
  }
  entries.push(...slots);
  return { region: first.tag, entries, byteLength: size };
}

/** A header rpm could read but that we do not rewrite (left untouched, with this reason). */
export class Unsupported extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'Unsupported';
  }
}

/** Encode a header as rpm 4.18 exports one it built: tag order, aligned data, trailer last. */
export function encodeHeader(region: number, entries: readonly TagEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const offsets: number[] = [];
  let pos = 0;
  for (const e of sorted) {
    const a = typeAlign(e.type);
    pos = Math.ceil(pos / a) * a;
    offsets.push(pos);
    pos += e.data.length;
  }
  const trailerAt = pos;
  const dl = pos + 16;
  const il = sorted.length + 1;
  const out = new Uint8Array(16 + 16 * il + dl);
  const v = be(out);
  out.set(HEADER_MAGIC, 0);
  v.setUint32(8, il);
  v.setUint32(12, dl);
  const index = (i: number, tag: number, type: number, offset: number, count: number) => {
    const at = 16 + 16 * i;
    v.setInt32(at, tag);
    v.setUint32(at + 4, type);
    v.setInt32(at + 8, offset);
    v.setUint32(at + 12, count);
  };
  index(0, region, T_BIN, trailerAt, 16);
  const ds = 16 + 16 * il;
  sorted.forEach((e, i) => {
    index(i + 1, e.tag, e.type, offsets[i]!, e.count);
    out.set(e.data, ds + offsets[i]!);
  });
  const tv = be(out.subarray(ds + trailerAt));
  tv.setInt32(0, region);
  tv.setUint32(4, T_BIN);
  tv.setInt32(8, -16 * il);
  tv.setUint32(12, 16);
  return out;
}

// ---- typed views of entry data ----

export function getEntry(h: { entries: readonly TagEntry[] }, tag: number): TagEntry | undefined {
  return h.entries.find((e) => e.tag === tag);
}

export function ints(e: TagEntry): number[] {
  const v = be(e.data);
  const out: number[] = [];
  for (let i = 0; i < e.count; i++) {
    if (e.type === T_INT32) out.push(v.getUint32(4 * i));
    else if (e.type === T_INT16) out.push(v.getUint16(2 * i));
    else if (e.type === T_INT64) out.push(Number(v.getBigUint64(8 * i)));
    else if (e.type === T_INT8 || e.type === T_CHAR) out.push(e.data[i]!);
    else throw new FormatError(`tag ${e.tag}: not an integer`);
  }
  return out;
}

export function intEntry(tag: number, type: number, values: readonly number[]): TagEntry {
  const size = fixedSize(type)!;
  const data = new Uint8Array(size * values.length);
  const v = be(data);
  values.forEach((x, i) => {
    const max = type === T_INT32 ? 0xffffffff : type === T_INT16 ? 0xffff : type === T_INT64 ? Number.MAX_SAFE_INTEGER : 0xff;
    if (!Number.isSafeInteger(x) || x < 0 || x > max) throw new FormatError(`tag ${tag}: value ${x} does not fit its type`);
    if (type === T_INT32) v.setUint32(4 * i, x);
    else if (type === T_INT16) v.setUint16(2 * i, x);
    else if (type === T_INT64) v.setBigUint64(8 * i, BigInt(x));
    else data[i] = x;
  });
  return { tag, type, count: values.length, data };
}

export function strings(e: TagEntry): string[] {
  if (e.type !== T_STRING && e.type !== T_STRING_ARRAY && e.type !== T_I18NSTRING) throw new FormatError(`tag ${e.tag}: not a string`);
  const parts = Buffer.from(e.data).toString('latin1').split('\0');
  return parts.slice(0, e.count);
}

export function stringEntry(tag: number, type: number, values: readonly string[]): TagEntry {
  const data = Buffer.from(values.map((s) => s + '\0').join(''), 'latin1');
  return { tag, type, count: values.length, data: Uint8Array.from(data) };
}

/** The lead's magic is at the start of `b`. */
export function isRpmLead(b: Uint8Array): boolean {
  return b.length >= LEAD_SIZE && LEAD_MAGIC.every((m, i) => b[i] === m) && b[4] === 3;
}
