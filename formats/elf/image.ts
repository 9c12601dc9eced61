// The output file as pieces: byte ranges at file offsets (slices of the input, rebuilt
// sections, the new section header table) with zeros between them. The layout produces one and
// the handler streams it to the sink, so a large file is never assembled a second time in
// memory (an ELF of 200 MB would otherwise cost another 200 MB and its page faults).
import { FormatError, type Sink } from '../../src/types.js';

/** What hashing and reading need of a file's bytes: a Uint8Array is one, and so is an Image. */
export interface ByteRange {
  readonly length: number;
  subarray(start: number, end: number): Uint8Array;
}

export interface Piece {
  readonly at: number;
  readonly data: Uint8Array;
}

const ZERO_CHUNK = 1 << 16;

export class Image implements ByteRange {
  private pieces: Piece[];

  /** `pieces` must not overlap and must end within `length`; empty pieces are dropped. */
  constructor(
    pieces: readonly Piece[],
    readonly length: number,
  ) {
    this.pieces = pieces.filter((p) => p.data.length > 0).sort((a, b) => a.at - b.at);
    let end = 0;
    for (const p of this.pieces) {
      if (p.at < end) throw new FormatError(`internal: image pieces overlap at ${p.at}`);
      end = p.at + p.data.length;
    }
    if (end > length) throw new FormatError(`internal: image piece ends at ${end}, past ${length}`);
  }

  /** Index of the first piece that ends after `offset`. */
  private find(offset: number): number {
    let lo = 0;
    let hi = this.pieces.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = this.pieces[mid]!;
      if (p.at + p.data.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Bytes [start, end): a view when one piece holds them all, else a copy with the gaps zero. */
  subarray(start: number, end: number): Uint8Array {
    if (!(start >= 0 && start <= end && end <= this.length)) throw new FormatError(`internal: range ${start}..${end} outside the image (${this.length})`);
    let i = this.find(start);
    const first = this.pieces[i];
    if (first && first.at <= start && end <= first.at + first.data.length) return first.data.subarray(start - first.at, end - first.at);
    const out = new Uint8Array(end - start);
    for (; i < this.pieces.length; i++) {
      const p = this.pieces[i]!;
      if (p.at >= end) break;
      const a = Math.max(start, p.at);
      const b = Math.min(end, p.at + p.data.length);
      out.set(p.data.subarray(a - p.at, b - p.at), a - start);
    }
    return out;
  }

  /** Overwrite [at, at + data.length), which one piece must hold; the piece's bytes are not mutated. */
  patch(at: number, data: Uint8Array): void {
    const i = this.find(at);
    const p = this.pieces[i];
    if (!p || p.at > at || at + data.length > p.at + p.data.length) throw new FormatError(`internal: patch at ${at} is not inside one piece`);
    const rel = at - p.at;
    const parts: Piece[] = [
      { at: p.at, data: p.data.subarray(0, rel) },
      { at, data: Uint8Array.from(data) },
      { at: at + data.length, data: p.data.subarray(rel + data.length) },
    ].filter((x) => x.data.length > 0);
    this.pieces.splice(i, 1, ...parts);
  }

  /** True when the image holds exactly `bytes`. */
  equals(bytes: Uint8Array): boolean {
    if (bytes.length !== this.length) return false;
    let pos = 0;
    const zeros = (a: number, b: number) => {
      for (let k = a; k < b; k++) if (bytes[k] !== 0) return false;
      return true;
    };
    for (const p of this.pieces) {
      if (!zeros(pos, p.at)) return false;
      if (Buffer.compare(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.length), Buffer.from(bytes.buffer, bytes.byteOffset + p.at, p.data.length)) !== 0) return false;
      pos = p.at + p.data.length;
    }
    return zeros(pos, this.length);
  }

  /** Write the whole image, in order, gaps as zeros. */
  async writeTo(sink: Sink): Promise<void> {
    let pos = 0;
    let zero: Uint8Array | undefined;
    const gap = async (to: number) => {
      while (pos < to) {
        const n = Math.min(ZERO_CHUNK, to - pos);
        zero ??= new Uint8Array(ZERO_CHUNK);
        await sink.write(zero.subarray(0, n));
        pos += n;
      }
    };
    for (const p of this.pieces) {
      await gap(p.at);
      await sink.write(p.data);
      pos += p.data.length;
    }
    await gap(this.length);
  }
}
