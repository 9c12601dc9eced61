// Byte plumbing shared by the core and the handlers: sources over buffers, sequential
// reading with a bounded buffer, sinks that collect, and range copies. No file system here.
import { createHash } from 'node:crypto';
import { FormatError, type Sink, type Source } from './types.js';

/** Chunk size for copies and streaming reads: fixed, so output never depends on I/O sizes. */
export const CHUNK = 1 << 20;

export class BufferSource implements Source {
  readonly size: number;
  constructor(readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    checkRange(this.size, offset, target.length);
    target.set(this.bytes.subarray(offset, offset + target.length));
  }
}

/** Fill `target` from `src` at `offset`: straight into it when the source can, else by a copy. */
export async function readInto(src: Source, offset: number, target: Uint8Array): Promise<void> {
  if (src.readInto) return src.readInto(offset, target);
  target.set(await src.read(offset, target.length));
}

export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`read of ${length} bytes at ${offset} is outside ${size} bytes`);
  }
}

/** The whole source in memory; refuses sources larger than `max` bytes. */
export async function readAll(src: Source, max = 1 << 30): Promise<Uint8Array> {
  if (src instanceof BufferSource) return src.bytes;
  if (src.size > max) throw new FormatError(`too large to hold in memory (${src.size} bytes)`);
  return src.read(0, src.size);
}

/** A window of another source. */
export class SliceSource implements Source {
  constructor(
    private readonly base: Source,
    private readonly start: number,
    readonly size: number,
  ) {
    checkRange(base.size, start, size);
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    return this.base.read(this.start + offset, length);
  }
  readInto(offset: number, target: Uint8Array): Promise<void> {
    checkRange(this.size, offset, target.length);
    return readInto(this.base, this.start + offset, target);
  }
}

/** Reads a source front to back through a bounded buffer. */
export class SequentialReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private pos = 0;
  constructor(
    readonly src: Source,
    start = 0,
  ) {
    this.pos = start;
    this.bufStart = start;
  }
  get position(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.src.size - this.pos;
  }
  /** Exactly n bytes, or a FormatError "truncated". The result may alias an internal buffer. */
  async readExact(n: number, what = 'data'): Promise<Uint8Array> {
    if (n > this.remaining) throw new FormatError(`truncated ${what}: need ${n} bytes at ${this.pos}, ${this.remaining} left`);
    const inBuf = this.pos - this.bufStart;
    if (inBuf >= 0 && inBuf + n <= this.buf.length) {
      this.pos += n;
      return this.buf.subarray(inBuf, inBuf + n);
    }
    if (n >= CHUNK) {
      const out = await this.src.read(this.pos, n);
      this.pos += n;
      return out;
    }
    const want = Math.min(Math.max(n, CHUNK), this.src.size - this.pos);
    this.buf = await this.src.read(this.pos, want);
    this.bufStart = this.pos;
    this.pos += n;
    return this.buf.subarray(0, n);
  }
  /** Up to n bytes (fewer only at the end). */
  async readUpTo(n: number): Promise<Uint8Array> {
    return this.readExact(Math.min(n, this.remaining));
  }
  skip(n: number, what = 'data'): void {
    if (n > this.remaining) throw new FormatError(`truncated ${what}: need ${n} bytes at ${this.pos}, ${this.remaining} left`);
    this.pos += n;
  }
  /** Copy the next n bytes to a sink in bounded chunks. */
  async copyTo(sink: Sink, n: number, what = 'data'): Promise<void> {
    if (n > this.remaining) throw new FormatError(`truncated ${what}: need ${n} bytes at ${this.pos}, ${this.remaining} left`);
    await copyRange(this.src, this.pos, n, sink);
    this.pos += n;
  }
}

/** Copy [offset, offset+length) of a source to a sink in CHUNK pieces. */
export async function copyRange(src: Source, offset: number, length: number, sink: Sink): Promise<void> {
  let done = 0;
  while (done < length) {
    const n = Math.min(CHUNK, length - done);
    await sink.write(await src.read(offset + done, n));
    done += n;
  }
}

/** Collects everything written into memory. */
export class BufferSink implements Sink {
  private chunks: Uint8Array[] = [];
  private total = 0;
  get length(): number {
    return this.total;
  }
  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    // Copy: callers may reuse their buffers.
    this.chunks.push(Uint8Array.from(chunk));
    this.total += chunk.length;
  }
  bytes(): Uint8Array {
    if (this.chunks.length !== 1) {
      const out = new Uint8Array(this.total);
      let at = 0;
      for (const c of this.chunks) {
        out.set(c, at);
        at += c.length;
      }
      this.chunks = [out];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Compare two sources byte for byte, in bounded chunks. */
export async function sourcesEqual(a: Source, b: Source): Promise<boolean> {
  if (a.size !== b.size) return false;
  for (let at = 0; at < a.size; at += CHUNK) {
    const n = Math.min(CHUNK, a.size - at);
    if (!bytesEqual(await a.read(at, n), await b.read(at, n))) return false;
  }
  return true;
}

/** Hex digest of a Source's bytes with a node:crypto hash (`sha256`, `md5`, ...), read in CHUNK pieces. */
export async function hashSource(src: Source, algo = 'sha256'): Promise<string> {
  const h = createHash(algo);
  for (let at = 0; at < src.size; at += CHUNK) h.update(await src.read(at, Math.min(CHUNK, src.size - at)));
  return h.digest('hex');
}
