// A read cache over a Source: reads that fall inside the current window (1 MiB by default) cost
// no I/O. Used for the many small reads of a zip (local headers, descriptors, small members),
// which come in increasing offset order.
import { BufferSource, CHUNK } from '../../src/io.js';
import type { Source } from '../../src/types.js';

export class WindowReader implements Source {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  private dv: DataView | undefined;
  readonly size: number;
  private readonly window: number;
  constructor(
    readonly src: Source,
    window = CHUNK,
  ) {
    this.size = src.size;
    // Bytes already in memory: one window over all of them (its reads are views, not copies).
    this.window = src instanceof BufferSource ? Math.max(window, src.size) : window;
  }
  /** Exactly `length` bytes at `offset` (RangeError beyond the end). May alias the window: copy to keep. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const rel = offset - this.start;
    if (rel >= 0 && rel + length <= this.buf.length) return this.buf.subarray(rel, rel + length);
    if (length >= this.window) return this.src.read(offset, length);
    if (offset < 0 || offset + length > this.src.size) return this.src.read(offset, length); // throws
    const n = Math.min(this.window, this.src.size - offset);
    this.buf = plain(await this.src.read(offset, n));
    this.dv = undefined;
    this.start = offset;
    return this.buf.subarray(0, length);
  }
  /** The bytes if the current window holds them (no I/O, no waiting), else undefined. */
  peek(offset: number, length: number): Uint8Array | undefined {
    const rel = offset - this.start;
    return rel >= 0 && rel + length <= this.buf.length ? this.buf.subarray(rel, rel + length) : undefined;
  }
  /** Where the window holds [offset, offset+length) (read it through `view`), or -1: no I/O, no waiting. */
  held(offset: number, length: number): number {
    const rel = offset - this.start;
    return rel >= 0 && rel + length <= this.buf.length ? rel : -1;
  }
  /** The current window's bytes (read them at held()'s offsets; valid until the next read). */
  get bytes(): Uint8Array {
    return this.buf;
  }
  /** The current window as a DataView. */
  get view(): DataView {
    return (this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }
  /** The window holding [offset, offset+length) as a DataView and the position in it. */
  async viewAt(offset: number, length: number): Promise<{ view: DataView; at: number }> {
    await this.read(offset, length);
    const rel = offset - this.start;
    if (rel >= 0 && rel + length <= this.buf.length) {
      this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      return { view: this.dv, at: rel };
    }
    const b = await this.src.read(offset, length);
    return { view: new DataView(b.buffer, b.byteOffset, b.byteLength), at: 0 };
  }
  /** Up to `length` bytes at `offset`, fewer at the end of the source. */
  async readUpTo(offset: number, length: number): Promise<Uint8Array> {
    return this.read(offset, Math.max(0, Math.min(length, this.src.size - offset)));
  }
}

/** A plain Uint8Array view of bytes (a Node Buffer's subarray goes through a slower JS constructor). */
export function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
