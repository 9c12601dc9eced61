// Our own zip writer (APPNOTE 6.3.10): local header + data for each entry, then the central
// directory and end records. No data descriptors: sizes and CRC are known before a header is
// written (raw copies, or recompressed data spilled first). Zip64 fields are written only when
// a value does not fit: sizes or an offset >= 0xFFFFFFFF per entry (local header: both sizes;
// central: the overflowing fields in APPNOTE order), and a zip64 end record plus locator when
// the entry count >= 0xFFFF or the directory size or offset >= 0xFFFFFFFF. Offsets are file
// offsets (a prefix such as a jmod "JM" header or a pyzip shebang counts).
import { CHUNK, copyRange } from '../../src/io.js';
import type { Sink, Source } from '../../src/types.js';
import {
  EXTRA_ALIGN,
  LOCAL_SIZE,
  U16_MAX,
  U32_MAX,
  CENTRAL_SIZE,
  encodeEocd,
  encodeExtra,
  writeCentral,
  writeLocal,
  encodeZip64Eocd,
  encodeZip64Extra,
  encodeZip64Locator,
  type ExtraField,
} from './records.js';

export const VERSION_ZIP64 = 45;

/** Everything a written entry's headers hold. */
export interface OutEntry {
  readonly name: Uint8Array;
  readonly comment: Uint8Array;
  readonly versionMadeBy: number;
  /** Without zip64 (the writer raises it to 45 when it adds zip64 fields). */
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
  /** Align the data start to this many bytes with an Android 0xD935 extra field (0: none). */
  readonly align: number;
}

const OUT_BYTES = 256 * 1024;
const CENTRAL_BYTES = 64 * 1024;
/**
 * Buffers of finished writers, for the next archive (issue 20: a fresh zeroed 256 KiB buffer per
 * archive and per flush was a tenth of the CPU of a tree of small jars). A sink never keeps a
 * chunk it was given once write() resolves (Sink.write), so a buffer is reused as soon as it is
 * flushed. A few are kept: nested archives are written while their parent's writer is open.
 */
const freeOut: Uint8Array[] = [];
const freeCentral: Uint8Array[] = [];
const POOL_MAX = 4;
function take(pool: Uint8Array[], size: number): Uint8Array {
  return pool.pop() ?? new Uint8Array(size);
}
function give(pool: Uint8Array[], b: Uint8Array, size: number): void {
  if (b.length === size && pool.length < POOL_MAX) pool.push(b);
}

/** Batches small writes into bounded chunks and tracks the output position. */
export class OutBuffer {
  private buf = take(freeOut, OUT_BYTES);
  private dv = new DataView(this.buf.buffer);
  private fill = 0;
  private flushed = 0;
  constructor(private readonly sink: Sink) {}
  get position(): number {
    return this.flushed + this.fill;
  }
  async write(b: Uint8Array): Promise<void> {
    if (b.length > this.buf.length - this.fill) {
      await this.flush();
      if (b.length >= this.buf.length) {
        await this.sink.write(b);
        this.flushed += b.length;
        return;
      }
    }
    this.buf.set(b, this.fill);
    this.fill += b.length;
  }
  /** Copy a range of a source (small ranges go through the buffer, large ones straight). */
  async copy(src: Source, offset: number, length: number): Promise<void> {
    if (length <= this.buf.length - this.fill || length < 64 * 1024) {
      for (let done = 0; done < length; ) {
        const n = Math.min(CHUNK, length - done);
        await this.write(await src.read(offset + done, n));
        done += n;
      }
      return;
    }
    await this.flush();
    await copyRange(src, offset, length, this.sink);
    this.flushed += length;
  }
  /**
   * The next `length` bytes are the handler's input at `offset`: true when the sink took them so
   * (Sink.copyInput: the output still equals the input there), else nothing is written.
   */
  async copyInput(offset: number, length: number): Promise<boolean> {
    if (!this.sink.copyInput || this.position !== offset) return false;
    await this.flush();
    if (!this.sink.copyInput(offset, length)) return false;
    this.flushed += length;
    return true;
  }
  /** True when `n` more bytes fit: write them at `used` through `view`/`bytes`, then `commit(n)`. */
  room(n: number): boolean {
    return n <= this.buf.length - this.fill;
  }
  get view(): DataView {
    return this.dv;
  }
  get bytes(): Uint8Array {
    return this.buf;
  }
  get used(): number {
    return this.fill;
  }
  commit(n: number): void {
    this.fill += n;
  }
  /** Copy bytes already in hand into the buffer without waiting; false when they do not fit. */
  tryWrite(b: Uint8Array): boolean {
    if (b.length > this.buf.length - this.fill) return false;
    this.buf.set(b, this.fill);
    this.fill += b.length;
    return true;
  }
  async flush(): Promise<void> {
    if (this.fill === 0) return;
    // The sink does not keep the chunk once write() resolves (Sink.write): the buffer is reused.
    await this.sink.write(this.buf.subarray(0, this.fill));
    this.flushed += this.fill;
    this.fill = 0;
  }
  /** Done (everything flushed): the buffer goes back to the pool; the OutBuffer is not used again. */
  release(): void {
    if (this.fill !== 0) return;
    give(freeOut, this.buf, OUT_BYTES);
    this.buf = new Uint8Array(0);
    this.dv = new DataView(this.buf.buffer);
  }
}

/** A growable byte buffer (the central directory while entries are written). */
class ByteList {
  bytes: Uint8Array;
  view: DataView;
  length = 0;
  /** `capacity`: the expected size (the input's central directory), so that grow() rarely has to copy. */
  constructor(capacity: number) {
    this.bytes = capacity <= CENTRAL_BYTES ? take(freeCentral, CENTRAL_BYTES) : new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }
  /** Make room for n more bytes; returns the offset to write at. */
  grow(n: number): number {
    if (this.length + n > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < this.length + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.bytes.subarray(0, this.length));
      this.bytes = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
}

export class ZipWriter {
  readonly out: OutBuffer;
  private central: ByteList;
  private count = 0;
  private maxNeeded = 20;
  /**
   * `centralHint`: the size the central directory will likely have (the input's: the output's
   * entries are never longer unless a name or a zip64 field grows). Sized up front, grow()'s
   * copying branch is not reached in the hot path (issue 20: reached first in a warm process, it
   * sent tryBegin back to the interpreter and cost a second TurboFan compile).
   */
  constructor(sink: Sink, centralHint = 0) {
    this.out = new OutBuffer(sink);
    this.central = new ByteList(centralHint);
  }

  /** Bytes written before the first entry (a prefix), or anything raw. */
  async raw(b: Uint8Array): Promise<void> {
    await this.out.write(b);
  }

  /** Write an entry's local header; the caller then writes exactly `compressedSize` data bytes. */
  async begin(e: OutEntry): Promise<void> {
    if (this.tryBegin(e)) return;
    await this.out.flush();
    if (!this.tryBegin(e)) throw new Error('local header larger than the output buffer');
  }

  /** begin() without waiting: false (nothing written) when the buffer has no room for the header. */
  tryBegin(e: OutEntry): boolean {
    const offset = this.out.position;
    const bigSizes = e.uncompressedSize >= U32_MAX || e.compressedSize >= U32_MAX;
    const bigOffset = offset >= U32_MAX;
    const needed = bigSizes || bigOffset ? Math.max(e.versionNeeded, VERSION_ZIP64) : e.versionNeeded;
    this.maxNeeded = Math.max(this.maxNeeded, needed);
    let localFields: ExtraField[] | undefined;
    if (bigSizes) (localFields ??= []).push(encodeZip64Extra({ uncompressedSize: e.uncompressedSize, compressedSize: e.compressedSize }));
    if (e.align > 1) {
      localFields ??= [];
      const base = offset + LOCAL_SIZE + e.name.length + localFields.reduce((n, f) => n + 4 + f.data.length, 0) + 4 + 2;
      const pad = (e.align - (base % e.align)) % e.align;
      const data = new Uint8Array(2 + pad);
      new DataView(data.buffer).setUint16(0, Math.min(e.align, U16_MAX), true);
      localFields.push({ id: EXTRA_ALIGN, data });
    }
    let localExtraLength = 0;
    if (localFields) for (const f of localFields) localExtraLength += 4 + f.data.length;
    const localLength = LOCAL_SIZE + e.name.length + localExtraLength;
    if (!this.out.room(localLength)) return false;
    const r = this.out;
    const rAt = r.used;
    writeLocal(r.view, rAt, {
      versionNeeded: needed,
      flags: e.flags,
      method: e.method,
      time: e.time,
      date: e.date,
      crc: e.crc,
      compressedSize: bigSizes ? U32_MAX : e.compressedSize,
      uncompressedSize: bigSizes ? U32_MAX : e.uncompressedSize,
      nameLength: e.name.length,
      extraLength: localExtraLength,
    });
    r.bytes.set(e.name, rAt + LOCAL_SIZE);
    if (localFields) r.bytes.set(encodeExtra(localFields), rAt + LOCAL_SIZE + e.name.length);
    this.out.commit(localLength);

    let centralExtra: Uint8Array | undefined;
    if (e.uncompressedSize >= U32_MAX || e.compressedSize >= U32_MAX || bigOffset) {
      const z: { uncompressedSize?: number; compressedSize?: number; localOffset?: number } = {};
      if (e.uncompressedSize >= U32_MAX) z.uncompressedSize = e.uncompressedSize;
      if (e.compressedSize >= U32_MAX) z.compressedSize = e.compressedSize;
      if (bigOffset) z.localOffset = offset;
      centralExtra = encodeExtra([encodeZip64Extra(z)]);
    }
    const cxLen = centralExtra ? centralExtra.length : 0;
    const c = this.central;
    const at = c.grow(CENTRAL_SIZE + e.name.length + cxLen + e.comment.length);
    writeCentral(c.view, at, {
      versionMadeBy: e.versionMadeBy,
      versionNeeded: needed,
      flags: e.flags,
      method: e.method,
      time: e.time,
      date: e.date,
      crc: e.crc,
      compressedSize: Math.min(e.compressedSize, U32_MAX),
      uncompressedSize: Math.min(e.uncompressedSize, U32_MAX),
      nameLength: e.name.length,
      extraLength: cxLen,
      commentLength: e.comment.length,
      diskStart: 0,
      internalAttributes: e.internalAttributes,
      externalAttributes: e.externalAttributes,
      localOffset: Math.min(offset, U32_MAX),
    });
    c.bytes.set(e.name, at + CENTRAL_SIZE);
    if (centralExtra) c.bytes.set(centralExtra, at + CENTRAL_SIZE + e.name.length);
    if (e.comment.length) c.bytes.set(e.comment, at + CENTRAL_SIZE + e.name.length + cxLen);
    this.count++;
    return true;
  }

  /** Central directory, zip64 end records when needed, end record with the archive comment. */
  async finish(comment: Uint8Array, versionMadeBy: number): Promise<void> {
    const cdOffset = this.out.position;
    const cdSize = this.central.length;
    for (let i = 0; i < cdSize; i += CHUNK) await this.out.write(this.central.bytes.subarray(i, Math.min(cdSize, i + CHUNK)));
    give(freeCentral, this.central.bytes, CENTRAL_BYTES);
    this.central.bytes = new Uint8Array(0);
    const need64 = this.count >= U16_MAX || cdSize >= U32_MAX || cdOffset >= U32_MAX;
    if (need64) {
      const at = this.out.position;
      await this.out.write(
        encodeZip64Eocd({
          recordSize: 44,
          versionMadeBy,
          versionNeeded: VERSION_ZIP64,
          disk: 0,
          cdDisk: 0,
          entriesOnDisk: this.count,
          entries: this.count,
          cdSize,
          cdOffset,
        }),
      );
      await this.out.write(encodeZip64Locator({ cdDisk: 0, eocdOffset: at, disks: 1 }));
    }
    const n = Math.min(this.count, U16_MAX);
    await this.out.write(
      encodeEocd({
        disk: 0,
        cdDisk: 0,
        entriesOnDisk: n,
        entries: n,
        cdSize: Math.min(cdSize, U32_MAX),
        cdOffset: Math.min(cdOffset, U32_MAX),
        commentLength: comment.length,
      }),
    );
    await this.out.write(comment);
    await this.out.flush();
    this.out.release();
  }
}
