// Zip record layouts (PKWARE APPNOTE 6.3.10, sections 4.3 and 4.5): local file header, central
// directory header, end of central directory (EOCD), zip64 EOCD and locator, data descriptor,
// extra fields. Pure encode/decode of fixed fields; no I/O, no policy. Every multi-byte field
// is little-endian. Decoders throw FormatError on a wrong signature or a short buffer.
import { FormatError } from '../../src/types.js';

export const SIG_LOCAL = 0x04034b50;
export const SIG_CENTRAL = 0x02014b50;
export const SIG_EOCD = 0x06054b50;
export const SIG_ZIP64_EOCD = 0x06064b50;
export const SIG_ZIP64_LOCATOR = 0x07064b50;
export const SIG_DESCRIPTOR = 0x08074b50;

export const LOCAL_SIZE = 30;
export const CENTRAL_SIZE = 46;
export const EOCD_SIZE = 22;
export const ZIP64_EOCD_SIZE = 56;
export const ZIP64_LOCATOR_SIZE = 20;

export const EXTRA_ZIP64 = 0x0001;
/** Android zipalign's alignment field: u16 alignment, then zero padding. */
export const EXTRA_ALIGN = 0xd935;
/** Info-ZIP Unicode Path: version u8, CRC-32 of the header name u32, UTF-8 name. */
export const EXTRA_UNICODE_PATH = 0x7075;

export const FLAG_ENCRYPTED = 0x0001;
export const FLAG_DESCRIPTOR = 0x0008;
export const FLAG_STRONG_ENCRYPTION = 0x0040;
export const FLAG_UTF8 = 0x0800;
export const FLAG_CD_ENCRYPTED = 0x2000;

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

export interface LocalHeader {
  versionNeeded: number;
  flags: number;
  method: number;
  time: number;
  date: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  nameLength: number;
  extraLength: number;
}

export interface CentralHeader {
  versionMadeBy: number;
  versionNeeded: number;
  flags: number;
  method: number;
  time: number;
  date: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  nameLength: number;
  extraLength: number;
  commentLength: number;
  diskStart: number;
  internalAttributes: number;
  externalAttributes: number;
  localOffset: number;
}

export interface Eocd {
  disk: number;
  cdDisk: number;
  entriesOnDisk: number;
  entries: number;
  cdSize: number;
  cdOffset: number;
  commentLength: number;
}

export interface Zip64Eocd {
  /** Size of the record after its first 12 bytes (44 plus any extensible data). */
  recordSize: number;
  versionMadeBy: number;
  versionNeeded: number;
  disk: number;
  cdDisk: number;
  entriesOnDisk: number;
  entries: number;
  cdSize: number;
  cdOffset: number;
}

export interface Zip64Locator {
  cdDisk: number;
  eocdOffset: number;
  disks: number;
}

export interface ExtraField {
  id: number;
  data: Uint8Array;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function need(b: Uint8Array, n: number, what: string): void {
  if (b.length < n) throw new FormatError(`truncated ${what}: ${b.length} of ${n} bytes`);
}

function sig(v: DataView, want: number, what: string, at?: number): void {
  const got = v.getUint32(0, true);
  if (got !== want) {
    throw new FormatError(`bad ${what} signature 0x${got.toString(16).padStart(8, '0')}${at === undefined ? '' : ` at offset ${at}`}`);
  }
}

/** A u64 as a safe integer (zip64 fields); larger values are malformed for our purposes. */
export function getU64(v: DataView, off: number, what: string): number {
  const x = v.getBigUint64(off, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${what} too large (${x})`);
  return Number(x);
}

export function decodeLocal(b: Uint8Array, at?: number): LocalHeader {
  need(b, LOCAL_SIZE, 'local file header');
  return decodeLocalAt(view(b), 0, at);
}

/** Decode a local header at `off` of a DataView. */
export function decodeLocalAt(v: DataView, off: number, at?: number): LocalHeader {
  if (off + LOCAL_SIZE > v.byteLength) throw new FormatError(`truncated local file header at offset ${at ?? off}`);
  const got = v.getUint32(off, true);
  if (got !== SIG_LOCAL) {
    throw new FormatError(`bad local file header signature 0x${got.toString(16).padStart(8, '0')}${at === undefined ? '' : ` at offset ${at}`}`);
  }
  return {
    versionNeeded: v.getUint16(off + 4, true),
    flags: v.getUint16(off + 6, true),
    method: v.getUint16(off + 8, true),
    time: v.getUint16(off + 10, true),
    date: v.getUint16(off + 12, true),
    crc: v.getUint32(off + 14, true),
    compressedSize: v.getUint32(off + 18, true),
    uncompressedSize: v.getUint32(off + 22, true),
    nameLength: v.getUint16(off + 26, true),
    extraLength: v.getUint16(off + 28, true),
  };
}

export function encodeLocal(h: LocalHeader): Uint8Array {
  const b = new Uint8Array(LOCAL_SIZE);
  writeLocal(view(b), 0, h);
  return b;
}

/** Write a local header into `v` at `o` (the writer's buffer, no allocation). */
export function writeLocal(v: DataView, o: number, h: LocalHeader): void {
  v.setUint32(o, SIG_LOCAL, true);
  v.setUint16(o + 4, h.versionNeeded, true);
  v.setUint16(o + 6, h.flags, true);
  v.setUint16(o + 8, h.method, true);
  v.setUint16(o + 10, h.time, true);
  v.setUint16(o + 12, h.date, true);
  v.setUint32(o + 14, h.crc, true);
  v.setUint32(o + 18, h.compressedSize, true);
  v.setUint32(o + 22, h.uncompressedSize, true);
  v.setUint16(o + 26, h.nameLength, true);
  v.setUint16(o + 28, h.extraLength, true);
}

export function decodeCentral(b: Uint8Array, at?: number): CentralHeader {
  need(b, CENTRAL_SIZE, 'central directory header');
  return decodeCentralAt(view(b), 0, at);
}

/** Decode a central header at `off` of a DataView (the central directory read in one piece). */
export function decodeCentralAt(v: DataView, off: number, at?: number): CentralHeader {
  if (off + CENTRAL_SIZE > v.byteLength) throw new FormatError(`truncated central directory header at offset ${at ?? off}`);
  const got = v.getUint32(off, true);
  if (got !== SIG_CENTRAL) {
    throw new FormatError(`bad central directory header signature 0x${got.toString(16).padStart(8, '0')}${at === undefined ? '' : ` at offset ${at}`}`);
  }
  return {
    versionMadeBy: v.getUint16(off + 4, true),
    versionNeeded: v.getUint16(off + 6, true),
    flags: v.getUint16(off + 8, true),
    method: v.getUint16(off + 10, true),
    time: v.getUint16(off + 12, true),
    date: v.getUint16(off + 14, true),
    crc: v.getUint32(off + 16, true),
    compressedSize: v.getUint32(off + 20, true),
    uncompressedSize: v.getUint32(off + 24, true),
    nameLength: v.getUint16(off + 28, true),
    extraLength: v.getUint16(off + 30, true),
    commentLength: v.getUint16(off + 32, true),
    diskStart: v.getUint16(off + 34, true),
    internalAttributes: v.getUint16(off + 36, true),
    externalAttributes: v.getUint32(off + 38, true),
    localOffset: v.getUint32(off + 42, true),
  };
}

export function encodeCentral(h: CentralHeader): Uint8Array {
  const b = new Uint8Array(CENTRAL_SIZE);
  writeCentral(view(b), 0, h);
  return b;
}

/** Write a central header into `v` at `o`. */
export function writeCentral(v: DataView, o: number, h: CentralHeader): void {
  v.setUint32(o, SIG_CENTRAL, true);
  v.setUint16(o + 4, h.versionMadeBy, true);
  v.setUint16(o + 6, h.versionNeeded, true);
  v.setUint16(o + 8, h.flags, true);
  v.setUint16(o + 10, h.method, true);
  v.setUint16(o + 12, h.time, true);
  v.setUint16(o + 14, h.date, true);
  v.setUint32(o + 16, h.crc, true);
  v.setUint32(o + 20, h.compressedSize, true);
  v.setUint32(o + 24, h.uncompressedSize, true);
  v.setUint16(o + 28, h.nameLength, true);
  v.setUint16(o + 30, h.extraLength, true);
  v.setUint16(o + 32, h.commentLength, true);
  v.setUint16(o + 34, h.diskStart, true);
  v.setUint16(o + 36, h.internalAttributes, true);
  v.setUint32(o + 38, h.externalAttributes, true);
  v.setUint32(o + 42, h.localOffset, true);
}

export function decodeEocd(b: Uint8Array, at?: number): Eocd {
  need(b, EOCD_SIZE, 'end of central directory record');
  const v = view(b);
  sig(v, SIG_EOCD, 'end of central directory', at);
  return {
    disk: v.getUint16(4, true),
    cdDisk: v.getUint16(6, true),
    entriesOnDisk: v.getUint16(8, true),
    entries: v.getUint16(10, true),
    cdSize: v.getUint32(12, true),
    cdOffset: v.getUint32(16, true),
    commentLength: v.getUint16(20, true),
  };
}

export function encodeEocd(e: Eocd): Uint8Array {
  const b = new Uint8Array(EOCD_SIZE);
  const v = view(b);
  v.setUint32(0, SIG_EOCD, true);
  v.setUint16(4, e.disk, true);
  v.setUint16(6, e.cdDisk, true);
  v.setUint16(8, e.entriesOnDisk, true);
  v.setUint16(10, e.entries, true);
  v.setUint32(12, e.cdSize, true);
  v.setUint32(16, e.cdOffset, true);
  v.setUint16(20, e.commentLength, true);
  return b;
}

export function decodeZip64Eocd(b: Uint8Array, at?: number): Zip64Eocd {
  need(b, ZIP64_EOCD_SIZE, 'zip64 end of central directory record');
  const v = view(b);
  sig(v, SIG_ZIP64_EOCD, 'zip64 end of central directory', at);
  return {
    recordSize: getU64(v, 4, 'zip64 EOCD record size'),
    versionMadeBy: v.getUint16(12, true),
    versionNeeded: v.getUint16(14, true),
    disk: v.getUint32(16, true),
    cdDisk: v.getUint32(20, true),
    entriesOnDisk: getU64(v, 24, 'zip64 entry count'),
    entries: getU64(v, 32, 'zip64 entry count'),
    cdSize: getU64(v, 40, 'zip64 central directory size'),
    cdOffset: getU64(v, 48, 'zip64 central directory offset'),
  };
}

export function encodeZip64Eocd(e: Zip64Eocd): Uint8Array {
  const b = new Uint8Array(ZIP64_EOCD_SIZE);
  const v = view(b);
  v.setUint32(0, SIG_ZIP64_EOCD, true);
  v.setBigUint64(4, BigInt(e.recordSize), true);
  v.setUint16(12, e.versionMadeBy, true);
  v.setUint16(14, e.versionNeeded, true);
  v.setUint32(16, e.disk, true);
  v.setUint32(20, e.cdDisk, true);
  v.setBigUint64(24, BigInt(e.entriesOnDisk), true);
  v.setBigUint64(32, BigInt(e.entries), true);
  v.setBigUint64(40, BigInt(e.cdSize), true);
  v.setBigUint64(48, BigInt(e.cdOffset), true);
  return b;
}

export function decodeZip64Locator(b: Uint8Array, at?: number): Zip64Locator {
  need(b, ZIP64_LOCATOR_SIZE, 'zip64 end of central directory locator');
  const v = view(b);
  sig(v, SIG_ZIP64_LOCATOR, 'zip64 locator', at);
  return { cdDisk: v.getUint32(4, true), eocdOffset: getU64(v, 8, 'zip64 EOCD offset'), disks: v.getUint32(16, true) };
}

export function encodeZip64Locator(l: Zip64Locator): Uint8Array {
  const b = new Uint8Array(ZIP64_LOCATOR_SIZE);
  const v = view(b);
  v.setUint32(0, SIG_ZIP64_LOCATOR, true);
  v.setUint32(4, l.cdDisk, true);
  v.setBigUint64(8, BigInt(l.eocdOffset), true);
  v.setUint32(16, l.disks, true);
  return b;
}

/** Split an extra-field block into fields; a trailing fragment shorter than a field header is an error. */
/** A field of a decoded extra block: its bytes are viewed only when asked for (most are only counted). */
class LazyExtra implements ExtraField {
  constructor(
    readonly id: number,
    private readonly block: Uint8Array,
    private readonly at: number,
    private readonly len: number,
  ) {}
  get data(): Uint8Array {
    return this.block.subarray(this.at, this.at + this.len);
  }
}

export function decodeExtra(b: Uint8Array, what = 'extra field'): ExtraField[] {
  return [...decodeExtraAt(b, 0, b.length, what)];
}

/** The extra fields of an entry that has none (shared: never written to). */
export const NO_FIELDS: readonly ExtraField[] = Object.freeze([]);

/**
 * decodeExtra over `block[start, end)` without a view of it (per member, issue 20); `prefix` +
 * `name` make the error's subject ("extra field of " + member) only when there is an error.
 */
export function decodeExtraAt(block: Uint8Array, start: number, end: number, what: string, name = ''): readonly ExtraField[] {
  if (start === end) return NO_FIELDS;
  const out: ExtraField[] = [];
  let i = start;
  while (i < end) {
    // Some writers (old zipalign) pad the extra block with 1-3 zero bytes: ignore a zero tail.
    if (end - i < 4) {
      if (block.subarray(i, end).every((x) => x === 0)) break;
      throw new FormatError(`truncated ${what}${name}: ${end - i} stray bytes`);
    }
    const id = block[i]! | (block[i + 1]! << 8);
    const len = block[i + 2]! | (block[i + 3]! << 8);
    if (i + 4 + len > end) throw new FormatError(`${what}${name} 0x${id.toString(16).padStart(4, '0')} overruns its block`);
    out.push(new LazyExtra(id, block, i + 4, len));
    i += 4 + len;
  }
  return out;
}

export function encodeExtra(fields: readonly ExtraField[]): Uint8Array {
  const total = fields.reduce((n, f) => n + 4 + f.data.length, 0);
  const b = new Uint8Array(total);
  const v = view(b);
  let i = 0;
  for (const f of fields) {
    v.setUint16(i, f.id, true);
    v.setUint16(i + 2, f.data.length, true);
    b.set(f.data, i + 4);
    i += 4 + f.data.length;
  }
  return b;
}

/** Values a zip64 extra field carries: only those whose header field is at its maximum. */
export interface Zip64Values {
  uncompressedSize?: number;
  compressedSize?: number;
  localOffset?: number;
  diskStart?: number;
}

/**
 * Decode a zip64 extra field (APPNOTE 4.5.3): its values appear in a fixed order, and only for
 * the header fields that hold 0xFFFFFFFF (0xFFFF for the disk).
 */
export function decodeZip64Extra(
  data: Uint8Array,
  want: { uncompressedSize: boolean; compressedSize: boolean; localOffset: boolean; diskStart: boolean },
): Zip64Values {
  const v = view(data);
  const out: Zip64Values = {};
  let i = 0;
  const take = (what: string): number => {
    if (i + 8 > data.length) throw new FormatError(`zip64 extra field too short for ${what}`);
    const x = getU64(v, i, what);
    i += 8;
    return x;
  };
  if (want.uncompressedSize) out.uncompressedSize = take('uncompressed size');
  if (want.compressedSize) out.compressedSize = take('compressed size');
  if (want.localOffset) out.localOffset = take('local header offset');
  if (want.diskStart) {
    if (i + 4 > data.length) throw new FormatError('zip64 extra field too short for disk number');
    out.diskStart = v.getUint32(i, true);
  }
  return out;
}

export function encodeZip64Extra(values: Zip64Values): ExtraField {
  const parts: number[] = [];
  if (values.uncompressedSize !== undefined) parts.push(values.uncompressedSize);
  if (values.compressedSize !== undefined) parts.push(values.compressedSize);
  if (values.localOffset !== undefined) parts.push(values.localOffset);
  const data = new Uint8Array(parts.length * 8);
  const v = view(data);
  parts.forEach((x, k) => v.setBigUint64(k * 8, BigInt(x), true));
  return { id: EXTRA_ZIP64, data };
}

/** A data descriptor after member data: optional signature, CRC, then 4- or 8-byte sizes. */
export interface DataDescriptor {
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Bytes it occupies. */
  length: number;
}

/**
 * Decode a data descriptor from `b` (at least 24 bytes or up to the end), matching it against
 * the central directory's values, which decide between the four possible layouts.
 */
export function decodeDescriptor(b: Uint8Array, expect: { crc: number; compressedSize: number; uncompressedSize: number }): DataDescriptor | undefined {
  return decodeDescriptorAt(view(b), 0, b.length, expect);
}

/** decodeDescriptor over the `n` bytes at `off` of `v` (a read window: no view, no array per member). */
export function decodeDescriptorAt(v: DataView, off: number, n: number, expect: { crc: number; compressedSize: number; uncompressedSize: number }): DataDescriptor | undefined {
  // Signed first, then unsigned; 32-bit sizes before 64-bit ones.
  for (let s = 0; s < 2; s++) {
    const signed = s === 0;
    const base = signed ? 4 : 0;
    // int32: arbitrary bytes as a uint32 >= 2^31 would deopt this hot loop (the signature is < 2^31).
    if (signed && (n < 4 || v.getInt32(off, true) !== SIG_DESCRIPTOR)) continue;
    for (let w = 0; w < 2; w++) {
      const wide = w === 1;
      const len = base + (wide ? 20 : 12);
      if (n < len) continue;
      const crc = v.getUint32(off + base, true);
      const cs = wide ? Number(v.getBigUint64(off + base + 4, true)) : v.getUint32(off + base + 4, true);
      const us = wide ? Number(v.getBigUint64(off + base + 12, true)) : v.getUint32(off + base + 8, true);
      if (crc === expect.crc && cs === expect.compressedSize && us === expect.uncompressedSize) {
        return { crc, compressedSize: cs, uncompressedSize: us, length: len };
      }
    }
  }
  return undefined;
}
