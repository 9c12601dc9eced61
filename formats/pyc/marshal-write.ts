// Canonical marshal writer: the form add-determinism writes (and CPython would write if
// FLAG_REF followed value equality instead of reference counts, CPython issues 78274/98819):
//   - depth-first, in the order of the tree;
//   - an object equal (same MNode id) to one already completely written becomes TYPE_REF,
//     except the singletons None/True/False/Ellipsis/StopIteration/NULL, written as themselves;
//   - FLAG_REF is set exactly on the objects some ref points to, and ref indices number those
//     objects in the order they start in the output;
//   - tuples of fewer than 256 items are SMALL_TUPLE, strings keep their type variant, and
//     short-ASCII strings (z/Z) carry a one-byte length.
// No recursion: an explicit stack, so deep trees cannot overflow the JS stack.
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

  /** Write n and everything under it, depth-first, with an explicit stack. */
  object(root: MNode): void {
    const nodes: MNode[] = [];
    const next: number[] = []; // next child index (items) or layout field index (code)
    const sub: number[] = []; // code: next u32 / object index, packed as u32Index * 65536 + objIndex
    if (this.enter(root)) {
      nodes.push(root);
      next.push(0);
      sub.push(0);
    }
    const fields = this.layout.fields;
    while (nodes.length > 0) {
      const top = nodes.length - 1;
      const n = nodes[top]!;
      const items = n.items!;
      let child: MNode | undefined;
      if (n.t === T.CODE) {
        let fi = next[top]!;
        let ui = sub[top]! >>> 16;
        let oi = sub[top]! & 0xffff;
        while (fi < fields.length && fields[fi]!.kind === 'u32') {
          this.u32(n.u32![ui++]!);
          fi++;
        }
        if (fi < fields.length) {
          child = items[oi++];
          fi++;
        }
        next[top] = fi;
        sub[top] = ui * 65536 + oi;
      } else {
        const i = next[top]!;
        if (i < items.length) {
          child = items[i];
          next[top] = i + 1;
        }
      }
      if (child) {
        if (this.enter(child)) {
          nodes.push(child);
          next.push(0);
          sub.push(0);
        }
        continue;
      }
      if (n.t === T.DICT) this.b(T.NULL);
      this.done[n.id] = 1;
      nodes.pop();
      next.pop();
      sub.pop();
    }
  }

  /** Write n's start; true when it is a container whose children must follow. */
  private enter(n: MNode): boolean {
    if (isSingleton(n)) {
      this.b(n.t);
      return false;
    }
    const id = n.id;
    if (this.done[id]) {
      this.hit[id] = 1;
      this.refAt.push(this.len);
      this.refTo.push(id);
      this.b(T.REF);
      this.u32(0);
      return false;
    }
    this.offset[id] = this.len;
    this.order.push(id);
    const t = n.t;
    if (n.buf) {
      const s = n.s!;
      const e = n.e!;
      this.b(t);
      if (isStringType(t)) {
        if (t === T.SHORT_ASCII || t === T.SHORT_ASCII_INTERNED) this.b(e - s);
        else this.u32(e - s);
      }
      this.room(e - s);
      this.out.set(n.buf.subarray(s, e), this.len);
      this.len += e - s;
      this.done[id] = 1;
      return false;
    }
    const items = n.items!;
    if (t === T.TUPLE && items.length < 256) {
      this.b(T.SMALL_TUPLE);
      this.b(items.length);
    } else if (t === T.CODE || t === T.DICT || t === T.SLICE) {
      this.b(t);
    } else {
      this.b(t);
      this.u32(items.length);
    }
    return true;
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

