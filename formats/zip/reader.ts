// Random-access zip reader over a Source (APPNOTE 6.3.10). Finds the end record, reads the
// central directory through a bounded buffer, then checks every local header against it.
// Beyond what common readers check, it rejects: local headers that overlap or are shared by two
// entries, entries pointing outside the file or into the central directory, local headers or
// data descriptors that disagree with the central directory, stored sizes that differ,
// declared sizes over the limits or with an impossible deflate ratio (zip bombs), spanned
// archives. A prefix before the first local header (jmod "JM", a pyzip shebang, an SFX stub)
// is found, and offsets written relative to the zip start (as `cat prefix a.zip` gives) are
// accepted: `delta` is added to every declared offset.
import { BufferSource } from '../../src/io.js';
import { FormatError, type Limits, type Source } from '../../src/types.js';
import {
  CENTRAL_SIZE,
  EOCD_SIZE,
  EXTRA_ZIP64,
  FLAG_DESCRIPTOR,
  LOCAL_SIZE,
  SIG_EOCD,
  U16_MAX,
  U32_MAX,
  ZIP64_EOCD_SIZE,
  ZIP64_LOCATOR_SIZE,
  decodeCentralAt,
  decodeDescriptor,
  decodeDescriptorAt,
  decodeEocd,
  decodeExtraAt,
  decodeLocalAt,
  decodeZip64Eocd,
  decodeZip64Extra,
  decodeZip64Locator,
  NO_FIELDS,
  type ExtraField,
  SIG_ZIP64_LOCATOR,
  SIG_ZIP64_EOCD,
} from './records.js';
import { WindowReader, plain } from './window.js';

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export interface Entry {
  /** Position in the central directory. */
  readonly index: number;
  readonly name: Uint8Array;
  /** The name for messages (UTF-8, lossy). */
  readonly displayName: string;
  readonly comment: Uint8Array;
  readonly versionMadeBy: number;
  readonly versionNeeded: number;
  readonly flags: number;
  readonly method: number;
  readonly time: number;
  readonly date: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly internalAttributes: number;
  readonly externalAttributes: number;
  readonly centralExtra: readonly ExtraField[];
  /** Absolute offset of the local header in the source. */
  readonly localOffset: number;
  /** Filled by the local-header pass. */
  localExtra: readonly ExtraField[];
  /** Absolute offset of the member data. */
  dataOffset: number;
  /** Bytes of the data descriptor after the data (0 when none). */
  descriptorLength: number;
}

export interface Archive {
  /** Bytes before the first local header (kept verbatim). */
  readonly prefixLength: number;
  /** Added to every declared offset to get a file offset. */
  readonly delta: number;
  readonly cdStart: number;
  readonly cdSize: number;
  readonly comment: Uint8Array;
  /** In central directory order. */
  readonly entries: readonly Entry[];
  readonly zip64: boolean;
  /** An APK Signing Block sits right before the central directory. */
  readonly signingBlock: boolean;
  /** Offset of the end record (or of the zip64 end record when present). */
  readonly endRecords: number;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const NO_BYTES = new Uint8Array(0);

export function displayName(name: Uint8Array): string {
  return decoder.decode(name);
}

// Signatures are compared as int32 (getInt32): every signature is below 2^31, and arbitrary bytes
// read as a uint32 >= 2^31 would be a heap double where V8 saw small integers (issue 20: a "lost
// precision" deopt and a second TurboFan compile of readArchive).

/** Find the end record: the last signature whose comment length reaches exactly the end of the file. */
async function findEocd(src: Source): Promise<number> {
  if (src.size < EOCD_SIZE) throw new FormatError(`too short for a zip (${src.size} bytes)`);
  const tailLen = Math.min(src.size, EOCD_SIZE + U16_MAX);
  const base = src.size - tailLen;
  const tail = await src.read(base, tailLen);
  const v = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
    if (tail[i] === 0x50 && tail[i + 1] === 0x4b && v.getInt32(i, true) === SIG_EOCD) {
      if (i + EOCD_SIZE + v.getUint16(i + 20, true) === tailLen) return base + i;
    }
  }
  throw new FormatError('no end of central directory record');
}

export async function readArchive(src: Source, limits: Limits): Promise<Archive> {
  const eocdAt = await findEocd(src);
  const eocd = decodeEocd(await src.read(eocdAt, EOCD_SIZE), eocdAt);
  const comment = new Uint8Array(await src.read(eocdAt + EOCD_SIZE, eocd.commentLength));

  let entries = eocd.entries;
  let cdSize = eocd.cdSize;
  let cdOffset = eocd.cdOffset;
  let cdEnd = eocdAt;
  let zip64 = false;
  let endRecords = eocdAt;
  if (eocdAt >= ZIP64_LOCATOR_SIZE) {
    const locBytes = await src.read(eocdAt - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE);
    if (new DataView(locBytes.buffer, locBytes.byteOffset, 4).getInt32(0, true) === SIG_ZIP64_LOCATOR) {
      const loc = decodeZip64Locator(locBytes, eocdAt - ZIP64_LOCATOR_SIZE);
      if (loc.disks > 1 || loc.cdDisk !== 0) throw new FormatError('spanned (multi-disk) archives are not supported');
      // The zip64 end record: at its declared offset, or (with a prefix and relative offsets)
      // right before the locator.
      const limit = eocdAt - ZIP64_LOCATOR_SIZE;
      let at = -1;
      for (const cand of [loc.eocdOffset, limit - ZIP64_EOCD_SIZE]) {
        if (cand >= 0 && cand + ZIP64_EOCD_SIZE <= limit) {
          const b = await src.read(cand, 4);
          if (new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) === SIG_ZIP64_EOCD) {
            at = cand;
            break;
          }
        }
      }
      if (at < 0) throw new FormatError('zip64 locator points to no zip64 end record');
      const z = decodeZip64Eocd(await src.read(at, ZIP64_EOCD_SIZE), at);
      if (z.recordSize < 44 || at + 12 + z.recordSize > limit) throw new FormatError(`zip64 end record size ${z.recordSize} is wrong`);
      if (z.disk !== 0 || z.cdDisk !== 0) throw new FormatError('spanned (multi-disk) archives are not supported');
      if (z.entries !== z.entriesOnDisk) throw new FormatError('spanned (multi-disk) archives are not supported');
      entries = z.entries;
      cdSize = z.cdSize;
      cdOffset = z.cdOffset;
      cdEnd = at;
      endRecords = at;
      zip64 = true;
    }
  }
  if (!zip64) {
    if (eocd.disk !== 0 || eocd.cdDisk !== 0 || eocd.entries !== eocd.entriesOnDisk) {
      throw new FormatError('spanned (multi-disk) archives are not supported');
    }
  }
  if (cdSize > cdEnd) throw new FormatError(`central directory size ${cdSize} exceeds its room (${cdEnd} bytes)`);
  const cdStart = cdEnd - cdSize;
  const delta = cdStart - cdOffset;
  if (delta < 0) throw new FormatError(`central directory offset ${cdOffset} points past the central directory (at ${cdStart})`);

  // Central directory, read in one piece (bounded by limits.memoryBytes) and decoded in place.
  if (cdSize > limits.memoryBytes) throw new FormatError(`central directory of ${cdSize} bytes exceeds the memory limit`);
  const list: Entry[] = [];
  const cdBytes = plain(await src.read(cdStart, cdSize));
  const cdv = new DataView(cdBytes.buffer, cdBytes.byteOffset, cdBytes.byteLength);
  let p = 0;
  while (p < cdSize) {
    const h = decodeCentralAt(cdv, p, cdStart + p);
    const nameAt = p + CENTRAL_SIZE;
    const end = nameAt + h.nameLength + h.extraLength + h.commentLength;
    if (end > cdSize) throw new FormatError(`truncated central directory entry at offset ${cdStart + p}`);
    const name = cdBytes.subarray(nameAt, nameAt + h.nameLength);
    const extraAt = nameAt + h.nameLength;
    const entryComment = h.commentLength ? cdBytes.subarray(extraAt + h.extraLength, end) : NO_BYTES;
    p = end;
    const dn = displayName(name);
    const extra = decodeExtraAt(cdBytes, extraAt, extraAt + h.extraLength, 'extra field of ', dn);
    let { compressedSize, uncompressedSize, localOffset, diskStart } = h;
    if (compressedSize === U32_MAX || uncompressedSize === U32_MAX || localOffset === U32_MAX || diskStart === U16_MAX) {
      const f = extra.find((x) => x.id === EXTRA_ZIP64);
      if (!f) throw new FormatError(`${dn}: header needs a zip64 extra field and has none`);
      const z = decodeZip64Extra(f.data, {
        uncompressedSize: uncompressedSize === U32_MAX,
        compressedSize: compressedSize === U32_MAX,
        localOffset: localOffset === U32_MAX,
        diskStart: diskStart === U16_MAX,
      });
      uncompressedSize = z.uncompressedSize ?? uncompressedSize;
      compressedSize = z.compressedSize ?? compressedSize;
      localOffset = z.localOffset ?? localOffset;
      diskStart = z.diskStart ?? diskStart;
    }
    if (diskStart !== 0) throw new FormatError('spanned (multi-disk) archives are not supported');
    list.push({
      index: list.length,
      name,
      displayName: dn,
      comment: entryComment,
      versionMadeBy: h.versionMadeBy,
      versionNeeded: h.versionNeeded,
      flags: h.flags,
      method: h.method,
      time: h.time,
      date: h.date,
      crc: h.crc,
      compressedSize,
      uncompressedSize,
      internalAttributes: h.internalAttributes,
      externalAttributes: h.externalAttributes,
      centralExtra: extra,
      localOffset: localOffset + delta,
      localExtra: [],
      dataOffset: 0,
      descriptorLength: 0,
    });
  }
  // More than 65,535 entries without zip64: some writers keep only the low 16 bits of the count.
  if (list.length !== entries && !(!zip64 && list.length % 0x10000 === entries)) {
    throw new FormatError(`central directory holds ${list.length} entries, the end record says ${entries}`);
  }

  const signingBlock = await hasSigningBlock(src, cdStart);
  await checkLocals(src, list, cdStart, limits);
  let prefixLength = cdStart;
  for (const e of list) if (e.localOffset < prefixLength) prefixLength = e.localOffset;
  return { prefixLength, delta, cdStart, cdSize, comment, entries: list, zip64, signingBlock, endRecords };
}

const APK_SIG_MAGIC = new TextEncoder().encode('APK Sig Block 42');

async function hasSigningBlock(src: Source, cdStart: number): Promise<boolean> {
  if (cdStart < 32) return false;
  const b = await src.read(cdStart - 16, 16);
  return b.every((x, i) => x === APK_SIG_MAGIC[i]);
}

/** Read every local header (in file order) and check it against the central directory. */
async function checkLocals(src: Source, list: Entry[], cdStart: number, limits: Limits): Promise<void> {
  const byOffset = [...list].sort((a, b) => a.localOffset - b.localOffset || a.index - b.index);
  const win = new WindowReader(src);
  const inMemory = src instanceof BufferSource;
  let prevEnd = 0;
  let prevName = '';
  for (const e of byOffset) {
    const dn = e.displayName;
    if (e.localOffset < prevEnd) {
      throw new FormatError(
        e.localOffset === byOffset[byOffset.indexOf(e) - 1]?.localOffset
          ? `${dn}: shares its local header at offset ${e.localOffset} with ${prevName}`
          : `${dn}: local header at offset ${e.localOffset} overlaps ${prevName}`,
      );
    }
    if (e.localOffset + LOCAL_SIZE > cdStart) throw new FormatError(`${dn}: local header offset ${e.localOffset} points outside the member area`);
    // Synchronous when the window holds the bytes (always, for an archive read whole).
    const rel = win.held(e.localOffset, LOCAL_SIZE);
    const w = rel >= 0 ? undefined : await win.viewAt(e.localOffset, LOCAL_SIZE);
    const h = w ? decodeLocalAt(w.view, w.at, e.localOffset) : decodeLocalAt(win.view, rel, e.localOffset);
    if (h.nameLength !== e.name.length) throw new FormatError(`${dn}: local header name differs from the central directory`);
    const varLen = h.nameLength + h.extraLength;
    if (e.localOffset + LOCAL_SIZE + varLen > cdStart) throw new FormatError(`${dn}: local header at ${e.localOffset} runs into the central directory`);
    // Name and extra fields read where the window holds them (no view per member).
    const held = win.held(e.localOffset + LOCAL_SIZE, varLen);
    const vars = held >= 0 ? win.bytes : await win.read(e.localOffset + LOCAL_SIZE, varLen);
    const v0 = held >= 0 ? held : 0;
    const name = e.name;
    for (let i = 0; i < h.nameLength; i++) {
      if (vars[v0 + i] !== name[i]) throw new FormatError(`${dn}: local header name differs from the central directory`);
    }
    // Kept with the entry: a view when the archive is in memory anyway, else a copy (a view
    // would keep its whole read window alive).
    const localExtra = !h.extraLength
      ? NO_FIELDS
      : inMemory
        ? decodeExtraAt(vars, v0 + h.nameLength, v0 + varLen, 'local extra field of ', dn)
        : decodeExtraAt(vars.slice(v0 + h.nameLength, v0 + varLen), 0, h.extraLength, 'local extra field of ', dn);
    if ((h.flags & FLAG_DESCRIPTOR) === 0) {
      let cs = h.compressedSize;
      let us = h.uncompressedSize;
      if (cs === U32_MAX || us === U32_MAX) {
        const f = localExtra.find((x) => x.id === EXTRA_ZIP64);
        if (f) {
          const z = decodeZip64Extra(f.data, { uncompressedSize: us === U32_MAX, compressedSize: cs === U32_MAX, localOffset: false, diskStart: false });
          cs = z.compressedSize ?? cs;
          us = z.uncompressedSize ?? us;
        }
      }
      if (cs !== e.compressedSize || us !== e.uncompressedSize || h.crc !== e.crc) {
        throw new FormatError(`${dn}: local header sizes or CRC disagree with the central directory`);
      }
    }
    if (h.method !== e.method) throw new FormatError(`${dn}: local header compression method disagrees with the central directory`);
    e.localExtra = localExtra;
    e.dataOffset = e.localOffset + LOCAL_SIZE + varLen;
    const dataEnd = e.dataOffset + e.compressedSize;
    if (dataEnd > cdStart) throw new FormatError(`${dn}: data (${e.compressedSize} bytes at ${e.dataOffset}) runs past the member area`);
    if (e.method === METHOD_STORED && e.compressedSize !== e.uncompressedSize && (e.flags & 1) === 0) {
      throw new FormatError(`${dn}: stored member with compressed size ${e.compressedSize} and uncompressed size ${e.uncompressedSize}`);
    }
    if (e.uncompressedSize > limits.maxMemberBytes) {
      throw new FormatError(`${dn}: uncompressed size ${e.uncompressedSize} exceeds the limit of ${limits.maxMemberBytes} bytes`);
    }
    if (e.method === METHOD_DEFLATED && e.uncompressedSize > limits.maxRatio * Math.max(e.compressedSize, 1)) {
      throw new FormatError(`${dn}: declared expansion ${e.uncompressedSize}/${e.compressedSize} exceeds ratio ${limits.maxRatio} (zip bomb?)`);
    }
    if (e.flags & FLAG_DESCRIPTOR) {
      const want = Math.max(0, Math.min(24, cdStart - dataEnd, win.size - dataEnd));
      const at = win.held(dataEnd, want);
      const d = at >= 0 ? decodeDescriptorAt(win.view, at, want, e) : decodeDescriptor(await win.readUpTo(dataEnd, want), e);
      if (!d) throw new FormatError(`${dn}: data descriptor missing or disagrees with the central directory`);
      e.descriptorLength = d.length;
    }
    prevEnd = dataEnd + e.descriptorLength;
    prevName = dn;
  }
}
