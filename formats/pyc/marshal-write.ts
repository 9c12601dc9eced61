// Canonical marshal writer: the form add-determinism writes (and CPython would write if
// FLAG_REF followed value equality instead of reference counts, CPython issues 78274/98819):
//   - depth-first, in the order of the tree;
//   - an object equal (same MNode id) to one already completely written becomes TYPE_REF,
//     except the singletons None/True/False/Ellipsis/StopIteration/NULL, written as themselves;
//   - FLAG_REF is set exactly on the objects some ref points to, and ref indices number those
//     objects in the order they start in the output;
//   - tuples of fewer than 256 items are SMALL_TUPLE, strings keep their type variant, and
//     short-ASCII strings (z/Z) carry a one-byte length.
// The tree depth is bounded by the reader (MAX_DEPTH), so recursion here is bounded too.
import type { CodeLayout } from './code-layout.js';
import { FLAG_REF, T, isSingleton, isStringType, type MNode } from './marshal-read.js';

export interface WriteStats {
  /** Objects that carry FLAG_REF in the output. */
  readonly flagged: number;
  /** TYPE_REF records written. */
  readonly refs: number;
}

/** Write `root` in canonical form after `header`; returns the complete bytes. */
export function writeMarshal(root: MNode, header: Uint8Array, idCount: number, layout: CodeLayout): { bytes: Uint8Array; stats: WriteStats } {
  const w = new Writer(header, idCount, layout);
  w.object(root);
  const stats = w.finish();
  return { bytes: w.out.subarray(0, w.len), stats };
}

class Writer {
  out: Uint8Array;
  len: number;
  /** Output offset of the first (complete) write of each id; -1 = not started. */
  private readonly offset: Int32Array;
  /** 1 once the object of that id is completely written. */
  private readonly done: Uint8Array;
  /** Ref index assigned to an id, or -1. */
  private readonly index: Int32Array;
  private readonly hit: Uint8Array;
  /** Ids in the order they started, and the refs to patch (offset of 'r', target id). */
  private readonly order: number[] = [];
  private readonly refAt: number[] = [];
  private readonly refTo: number[] = [];

  constructor(
    header: Uint8Array,
    idCount: number,
    private readonly layout: CodeLayout,
  ) {
    this.out = new Uint8Array(Math.max(1024, header.length * 2));
    this.out.set(header);
    this.len = header.length;
    this.offset = new Int32Array(idCount).fill(-1);
    this.done = new Uint8Array(idCount);
    this.index = new Int32Array(idCount).fill(-1);
    this.hit = new Uint8Array(idCount);
  }

  private room(n: number): void {
    if (this.len + n <= this.out.length) return;
    let size = this.out.length * 2;
    while (size < this.len + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.out.subarray(0, this.len));
    this.out = bigger;
  }
  private b(v: number): void {
    this.room(1);
    this.out[this.len++] = v;
  }
  private u32(v: number): void {
    this.room(4);
    const o = this.out;
    const p = this.len;
    o[p] = v & 0xff;
    o[p + 1] = (v >>> 8) & 0xff;
    o[p + 2] = (v >>> 16) & 0xff;
    o[p + 3] = (v >>> 24) & 0xff;
    this.len += 4;
  }
  private bytes(d: Uint8Array): void {
    this.room(d.length);
    this.out.set(d, this.len);
    this.len += d.length;
  }

  object(n: MNode): void {
    if (isSingleton(n)) {
      this.b(n.t);
      return;
    }
    const id = n.id;
    if (this.done[id]) {
      this.hit[id] = 1;
      this.refAt.push(this.len);
      this.refTo.push(id);
      this.b(T.REF);
      this.u32(0);
      return;
    }
    this.offset[id] = this.len;
    this.order.push(id);
    const t = n.t;
    if (n.data) {
      this.b(t);
      if (isStringType(t)) {
        if (t === T.SHORT_ASCII || t === T.SHORT_ASCII_INTERNED) this.b(n.data.length);
        else this.u32(n.data.length);
      }
      this.bytes(n.data);
    } else if (t === T.CODE) {
      this.b(t);
      this.code(n);
    } else {
      const items = n.items!;
      if (t === T.TUPLE && items.length < 256) {
        this.b(T.SMALL_TUPLE);
        this.b(items.length);
      } else if (t === T.DICT) {
        this.b(t);
      } else if (t !== T.SLICE) {
        this.b(t);
        this.u32(items.length);
      } else {
        this.b(t);
      }
      for (const it of items) this.object(it);
      if (t === T.DICT) this.b(T.NULL);
    }
    this.done[id] = 1;
  }

  /** Code fields in layout order (the reader stored u32s and objects separately). */
  private code(n: MNode): void {
    const u = n.u32!;
    const items = n.items!;
    let ui = 0;
    let oi = 0;
    for (const f of this.layout.fields) {
      if (f.kind === 'u32') this.u32(u[ui++]!);
      else this.object(items[oi++]!);
    }
  }

  finish(): WriteStats {
    let k = 0;
    for (const id of this.order) {
      if (this.hit[id]) {
        this.index[id] = k++;
        this.out[this.offset[id]!]! |= FLAG_REF;
      }
    }
    for (let i = 0; i < this.refAt.length; i++) {
      const p = this.refAt[i]! + 1;
      const v = this.index[this.refTo[i]!]!;
      this.out[p] = v & 0xff;
      this.out[p + 1] = (v >>> 8) & 0xff;
      this.out[p + 2] = (v >>> 16) & 0xff;
      this.out[p + 3] = (v >>> 24) & 0xff;
    }
    return { flagged: k, refs: this.refAt.length };
  }
}

