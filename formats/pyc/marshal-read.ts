// Marshal reader for the data of a CPython 3.6-3.14 pyc (Python/marshal.c r_object, marshal
// versions 4 and 5). It builds a tree of MNode and gives every node the id of its equality
// class (hash-consing), so the writer can tell "equal to an object already written" in O(1):
//   - leaves (strings, ints, floats, ...) are equal when type variant and payload bytes are
//     equal (floats therefore by bit pattern; 'z' and 'a' with the same text are different);
//   - tuples, frozensets, slices and code objects are equal when their parts are;
//   - mutable objects (list, set, dict) are only equal to themselves: merging two equal lists
//     would alias them after loading, which changes what the program sees.
// Existing references (TYPE_REF) resolve to the node they name, so FLAG_REF bits and ref
// indices of the input do not survive into the tree. A TYPE_LONG that fits in 32 bits is
// turned into TYPE_INT (as CPython writes it). No recursion: containers are completed from an
// explicit stack limited like CPython's MAX_MARSHAL_STACK_DEPTH, so hostile input raises
// FormatError, never a JS stack overflow.
import { FormatError } from '../../src/types.js';
import type { CodeLayout } from './code-layout.js';

export const FLAG_REF = 0x80;
/** CPython's MAX_MARSHAL_STACK_DEPTH. */
export const MAX_DEPTH = 2000;

// Type codes (Python/marshal.c).
export const T = {
  NULL: 0x30, // '0'
  NONE: 0x4e, // 'N'
  FALSE: 0x46, // 'F'
  TRUE: 0x54, // 'T'
  STOPITER: 0x53, // 'S'
  ELLIPSIS: 0x2e, // '.'
  INT: 0x69, // 'i'
  INT64: 0x49, // 'I'
  FLOAT: 0x66, // 'f'
  BINARY_FLOAT: 0x67, // 'g'
  COMPLEX: 0x78, // 'x'
  BINARY_COMPLEX: 0x79, // 'y'
  LONG: 0x6c, // 'l'
  STRING: 0x73, // 's'
  INTERNED: 0x74, // 't'
  REF: 0x72, // 'r'
  TUPLE: 0x28, // '('
  LIST: 0x5b, // '['
  DICT: 0x7b, // '{'
  CODE: 0x63, // 'c'
  UNICODE: 0x75, // 'u'
  UNKNOWN: 0x3f, // '?'
  SET: 0x3c, // '<'
  FROZENSET: 0x3e, // '>'
  SLICE: 0x3a, // ':'
  ASCII: 0x61, // 'a'
  ASCII_INTERNED: 0x41, // 'A'
  SMALL_TUPLE: 0x29, // ')'
  SHORT_ASCII: 0x7a, // 'z'
  SHORT_ASCII_INTERNED: 0x5a, // 'Z'
} as const;

/** One marshalled object. `t` is the type code without FLAG_REF (tuples are always TUPLE). */
export interface MNode {
  readonly t: number;
  /** Equality class: equal ids = objects the canonical writer may share through a ref. */
  readonly id: number;
  /**
   * Leaf payload, bytes [s, e) of `buf`: string content (without its length), or the
   * number's bytes as marshalled (TYPE_LONG and text floats with their size prefix).
   */
  readonly buf?: Uint8Array;
  readonly s?: number;
  readonly e?: number;
  /** Children: sequence items; dict keys and values alternating; slice parts; code objects. */
  readonly items?: readonly MNode[];
  /** Code objects: the raw u32 fields in layout order. */
  readonly u32?: readonly number[];
}

const SINGLETON_TYPES = [T.NULL, T.NONE, T.FALSE, T.TRUE, T.STOPITER, T.ELLIPSIS];
/** The singletons: never written as refs (their ids are 1..6). */
export const SINGLETONS: ReadonlyMap<number, MNode> = new Map(SINGLETON_TYPES.map((t, i) => [t, { t, id: i + 1 }]));
export function isSingleton(n: MNode): boolean {
  return n.id <= SINGLETON_TYPES.length;
}

const STRING_TYPES: ReadonlySet<number> = new Set([
  T.STRING, T.INTERNED, T.UNICODE, T.ASCII, T.ASCII_INTERNED, T.SHORT_ASCII, T.SHORT_ASCII_INTERNED,
]);
export function isStringType(t: number): boolean {
  return STRING_TYPES.has(t);
}

/** A leaf's payload bytes (a view, not a copy). */
export function leafBytes(n: MNode): Uint8Array {
  return n.buf!.subarray(n.s!, n.e!);
}

/**
 * Hash-consing table shared by the reader and by anyone building new nodes (path mapping):
 * an open-addressing table keyed by a 32-bit hash of the node's type and content (leaves) or
 * type and child ids (containers), with a full comparison on every hash match.
 */
export class Interner {
  private next = SINGLETON_TYPES.length + 1;
  private mask = 1023;
  private hashes = new Int32Array(1024);
  private nodes: Array<MNode | undefined> = new Array(1024);
  private size = 0;
  get count(): number {
    return this.next;
  }
  /** A fresh id equal to nothing else (mutable objects). */
  unique(): number {
    return this.next++;
  }
  private grow(): void {
    const oldN = this.nodes;
    const oldH = this.hashes;
    const cap = oldN.length * 2;
    this.mask = cap - 1;
    this.hashes = new Int32Array(cap);
    this.nodes = new Array(cap);
    for (let i = 0; i < oldN.length; i++) {
      const n = oldN[i];
      if (!n) continue;
      let j = oldH[i]! & this.mask;
      while (this.nodes[j]) j = (j + 1) & this.mask;
      this.nodes[j] = n;
      this.hashes[j] = oldH[i]!;
    }
  }
  private insert(h: number, j: number, n: MNode): MNode {
    this.nodes[j] = n;
    this.hashes[j] = h;
    if (++this.size * 2 > this.nodes.length) this.grow();
    return n;
  }
  leaf(t: number, buf: Uint8Array, s: number, e: number): MNode {
    let h = Math.imul(0x811c9dc5 ^ t, 0x01000193) ^ (e - s);
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h |= 0;
    let j = h & this.mask;
    for (let n = this.nodes[j]; n; n = this.nodes[j]) {
      if (this.hashes[j] === h && n.t === t && n.buf && n.e! - n.s! === e - s) {
        const nb = n.buf;
        let i = 0;
        const d = n.s! - s;
        for (i = s; i < e; i++) if (nb[i + d] !== buf[i]) break;
        if (i === e) return n;
      }
      j = (j + 1) & this.mask;
    }
    return this.insert(h, j, { t, id: this.next++, buf, s, e });
  }
  container(t: number, items: MNode[], mutable: boolean): MNode {
    if (mutable) return { t, id: this.unique(), items };
    let h = Math.imul(0x811c9dc5 ^ t, 0x01000193) ^ items.length;
    for (let i = 0; i < items.length; i++) h = Math.imul(h ^ items[i]!.id, 0x01000193);
    h |= 0;
    let j = h & this.mask;
    for (let n = this.nodes[j]; n; n = this.nodes[j]) {
      if (this.hashes[j] === h && n.t === t && n.items && !n.u32 && sameIds(n.items, items)) return n;
      j = (j + 1) & this.mask;
    }
    return this.insert(h, j, { t, id: this.next++, items });
  }
  code(u32: number[], items: MNode[]): MNode {
    let h = 0x811c9dc5 ^ T.CODE;
    for (let i = 0; i < u32.length; i++) h = Math.imul(h ^ u32[i]!, 0x01000193);
    for (let i = 0; i < items.length; i++) h = Math.imul(h ^ items[i]!.id, 0x01000193);
    h |= 0;
    let j = h & this.mask;
    for (let n = this.nodes[j]; n; n = this.nodes[j]) {
      if (this.hashes[j] === h && n.t === T.CODE && sameU32(n.u32!, u32) && sameIds(n.items!, items)) return n;
      j = (j + 1) & this.mask;
    }
    return this.insert(h, j, { t: T.CODE, id: this.next++, items, u32 });
  }
}

function sameIds(a: readonly MNode[], b: readonly MNode[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.id !== b[i]!.id) return false;
  return true;
}
function sameU32(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface ReadResult {
  readonly root: MNode;
  /** Offset just after the top object. */
  readonly end: number;
  /** How many TYPE_LONG values were rewritten as TYPE_INT. */
  readonly longsShortened: number;
}

export interface ReadOptions {
  readonly layout: CodeLayout;
  readonly interner: Interner;
  /** Called for each code object's co_filename (after resolution); may return a replacement. */
  readonly mapFilename?: (node: MNode) => MNode;
  /**
   * Put set and frozenset items in the order of their marshal serialization (sortKey), as
   * CPython 3.11+ writes them (bpo-37596); older versions write them in hash order, which
   * depends on PYTHONHASHSEED.
   */
  readonly sortSets?: boolean;
}

/** Read one marshalled object from `buf` at `start`. Throws FormatError on malformed data. */
export function readMarshal(buf: Uint8Array, start: number, opts: ReadOptions): ReadResult {
  const r = new Reader(buf, start, opts);
  const root = r.read();
  return { root, end: r.pos, longsShortened: r.longsShortened };
}

/** A container being read: its children arrive one by one (an explicit stack, no recursion). */
interface Frame {
  readonly t: number;
  readonly slot: number;
  readonly items: MNode[];
  /** Children still expected (sequences, slices); -1 for dicts (until a NULL key). */
  left: number;
  /** Code objects: u32 fields and the next layout field index. */
  readonly u32?: number[];
  field: number;
}

class Reader {
  pos: number;
  longsShortened = 0;
  private readonly refs: Array<MNode | undefined> = [];
  private readonly view: DataView;
  private readonly it: Interner;
  private readonly stack: Frame[] = [];
  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly opts: ReadOptions,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.it = opts.interner;
  }

  private need(n: number, what: string): void {
    if (n > this.buf.length - this.pos) {
      throw new FormatError(`truncated marshal data: ${what} needs ${n} bytes at offset ${this.pos}, ${this.buf.length - this.pos} left`);
    }
  }
  private skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }
  /** A leaf whose payload is the next n bytes. */
  private fixed(t: number, n: number, what: string): MNode {
    this.need(n, what);
    const s = this.pos;
    this.pos += n;
    return this.it.leaf(t, this.buf, s, this.pos);
  }
  private byte(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  private u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** A u32 element count, checked against the bytes left (each element takes at least `min`). */
  private count(what: string, min: number): number {
    const at = this.pos;
    const n = this.u32(what);
    if (n > (this.buf.length - this.pos) / min) {
      throw new FormatError(`bad marshal data: ${what} of ${n} at offset ${at} exceeds the ${this.buf.length - this.pos} bytes left`);
    }
    return n;
  }

  /** The top object: read objects, completing containers from an explicit stack. */
  read(): MNode {
    for (;;) {
      let node = this.start();
      // Deliver completed nodes to their parents until one still wants children.
      while (node !== undefined) {
        const f = this.stack[this.stack.length - 1];
        if (!f) return node;
        node = this.accept(f, node);
      }
    }
  }

  private push(t: number, slot: number, left: number, u32?: number[]): MNode | undefined {
    if (this.stack.length >= MAX_DEPTH) throw new FormatError(`marshal data nested deeper than ${MAX_DEPTH} at offset ${this.pos}`);
    const f: Frame = { t, slot, items: [], left, u32, field: 0 };
    if (u32) {
      this.codeU32s(f);
      if (f.field === this.opts.layout.fields.length) return this.complete(f, false);
    } else if (left === 0) {
      return this.complete(f, false);
    }
    this.stack.push(f);
    return undefined;
  }

  /** Read a code object's u32 fields up to its next object field. */
  private codeU32s(f: Frame): void {
    const fields = this.opts.layout.fields;
    while (f.field < fields.length && fields[f.field]!.kind === 'u32') {
      f.u32!.push(this.u32(`code ${fields[f.field]!.name}`));
      f.field++;
    }
  }

  /** Give a child to frame f; returns the completed container when f is done. */
  private accept(f: Frame, child: MNode): MNode | undefined {
    if (f.t === T.DICT) {
      if (f.items.length % 2 === 0 && child.t === T.NULL) return this.complete(f, true);
      f.items.push(child);
      return undefined;
    }
    if (f.u32) {
      const { layout, mapFilename } = this.opts;
      f.items.push(mapFilename && f.items.length === layout.filenameObj ? mapFilename(child) : child);
      f.field++;
      this.codeU32s(f);
      return f.field === layout.fields.length ? this.complete(f, true) : undefined;
    }
    f.items.push(child);
    return --f.left === 0 ? this.complete(f, true) : undefined;
  }

  private complete(f: Frame, onStack: boolean): MNode {
    if (onStack) this.stack.pop();
    const it = this.it;
    let node: MNode;
    if (f.u32) node = it.code(f.u32, f.items);
    else if (this.opts.sortSets && (f.t === T.SET || f.t === T.FROZENSET) && f.items.length > 1) {
      const keyed = f.items.map((n) => ({ n, k: sortKey(n, this.opts.layout) }));
      keyed.sort((a, b) => Buffer.compare(a.k, b.k));
      node = it.container(f.t, keyed.map((x) => x.n), f.t === T.SET);
    } else node = it.container(f.t, f.items, f.t === T.LIST || f.t === T.SET || f.t === T.DICT);
    if (f.slot >= 0) this.refs[f.slot] = node;
    return node;
  }

  /** Start the object at pos: a finished node, or undefined when a container was pushed. */
  private start(): MNode | undefined {
    const at = this.pos;
    const code = this.byte('type code');
    const t = code & ~FLAG_REF;
    let slot = -1;
    if (code & FLAG_REF) {
      slot = this.refs.length;
      this.refs.push(undefined);
    }
    switch (t) {
      case T.SMALL_TUPLE:
        return this.push(T.TUPLE, slot, this.byte('tuple size'));
      case T.TUPLE:
      case T.FROZENSET:
      case T.LIST:
      case T.SET:
        return this.push(t, slot, this.count('sequence size', 1));
      case T.DICT:
        return this.push(t, slot, -1);
      case T.SLICE:
        return this.push(t, slot, 3);
      case T.CODE:
        return this.push(t, slot, -1, []);
    }
    const node = this.leaf(t, at);
    if (slot >= 0) this.refs[slot] = node;
    return node;
  }

  private leaf(t: number, at: number): MNode {
    const it = this.it;
    switch (t) {
      case T.NULL:
      case T.NONE:
      case T.FALSE:
      case T.TRUE:
      case T.STOPITER:
      case T.ELLIPSIS:
        return SINGLETONS.get(t)!;
      case T.INT:
        return this.fixed(t, 4, 'int');
      case T.INT64:
        return this.fixed(t, 8, 'int64');
      case T.BINARY_FLOAT:
        return this.fixed(t, 8, 'float');
      case T.BINARY_COMPLEX:
        return this.fixed(t, 16, 'complex');
      case T.FLOAT: {
        const s = this.pos;
        this.skip(this.byte('float text length'), 'float text');
        return it.leaf(t, this.buf, s, this.pos);
      }
      case T.COMPLEX: {
        const s = this.pos;
        this.skip(this.byte('complex text length'), 'complex text');
        this.skip(this.byte('complex text length'), 'complex text');
        return it.leaf(t, this.buf, s, this.pos);
      }
      case T.LONG:
        return this.long(at);
      case T.SHORT_ASCII:
      case T.SHORT_ASCII_INTERNED:
        return this.fixed(t, this.byte('string length'), 'string');
      case T.STRING:
      case T.INTERNED:
      case T.UNICODE:
      case T.ASCII:
      case T.ASCII_INTERNED:
        return this.fixed(t, this.count('string length', 1), 'string');
      case T.REF: {
        const n = this.u32('ref index');
        if (n >= this.refs.length) throw new FormatError(`bad marshal data: ref ${n} at offset ${at} but only ${this.refs.length} objects are flagged`);
        const target = this.refs[n];
        if (!target) throw new FormatError(`bad marshal data: ref ${n} at offset ${at} points into an object still being read`);
        return target;
      }
      default:
        throw new FormatError(`bad marshal data: unknown type code 0x${t.toString(16)} at offset ${at}`);
    }
  }

  private long(at: number): MNode {
    const n = this.i32('long size');
    const digits = Math.abs(n);
    if (digits > (this.buf.length - this.pos) / 2) throw new FormatError(`bad marshal data: long of ${digits} digits at offset ${at} exceeds the data`);
    const s = this.pos;
    let top = 0;
    for (let i = 0; i < digits; i++) {
      top = this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8);
      if (top > 0x7fff) throw new FormatError(`bad marshal data: long digit out of range at offset ${this.pos}`);
      this.pos += 2;
    }
    if (digits > 0 && top === 0) throw new FormatError(`bad marshal data: unnormalized long at offset ${at}`);
    // Values in [-2**31, 2**31) are written as TYPE_INT by CPython: do the same.
    if (digits <= 3) {
      let v = 0;
      for (let i = digits - 1; i >= 0; i--) v = v * 32768 + (this.buf[s + 2 * i]! | (this.buf[s + 2 * i + 1]! << 8));
      if (n < 0) v = -v;
      if (v >= -0x80000000 && v <= 0x7fffffff) {
        this.longsShortened++;
        const b = new Uint8Array(4);
        new DataView(b.buffer).setInt32(0, v, true);
        return this.it.leaf(T.INT, b, 0, 4);
      }
    }
    return this.it.leaf(T.LONG, this.buf, s - 4, this.pos);
  }
}

/** Largest serialization sortKey builds for one set item (hostile ref DAGs expand exponentially). */
export const MAX_SORT_KEY = 1 << 20;

/**
 * The order key of a set item: its marshal serialization without references or FLAG_REF
 * (every repeated object written in full), SMALL_TUPLE for tuples under 256 items.
 */
export function sortKey(root: MNode, layout: CodeLayout): Buffer {
  const out: number[] = [];
  const push = (b: number) => {
    out.push(b);
    if (out.length > MAX_SORT_KEY) throw new FormatError(`set item serializes to more than ${MAX_SORT_KEY} bytes`);
  };
  const u32 = (v: number) => {
    push(v & 0xff);
    push((v >>> 8) & 0xff);
    push((v >>> 16) & 0xff);
    push((v >>> 24) & 0xff);
  };
  // Work list of nodes and raw u32 fields, processed front to back.
  const work: Array<MNode | number> = [root];
  while (work.length > 0) {
    const n = work.pop()!;
    if (typeof n === 'number') {
      u32(n);
      continue;
    }
    const t = n.t;
    if (isSingleton(n)) {
      push(t);
    } else if (n.buf) {
      push(t);
      const len = n.e! - n.s!;
      if (isStringType(t)) {
        if (t === T.SHORT_ASCII || t === T.SHORT_ASCII_INTERNED) push(len);
        else u32(len);
      }
      if (out.length + len > MAX_SORT_KEY) throw new FormatError(`set item serializes to more than ${MAX_SORT_KEY} bytes`);
      for (let i = n.s!; i < n.e!; i++) out.push(n.buf[i]!);
    } else if (t === T.CODE) {
      push(t);
      const seq: Array<MNode | number> = [];
      let ui = 0;
      let oi = 0;
      for (const f of layout.fields) seq.push(f.kind === 'u32' ? n.u32![ui++]! : n.items![oi++]!);
      for (let i = seq.length - 1; i >= 0; i--) work.push(seq[i]!);
    } else {
      const items = n.items!;
      if (t === T.TUPLE && items.length < 256) {
        push(T.SMALL_TUPLE);
        push(items.length);
      } else {
        push(t);
        if (t !== T.DICT && t !== T.SLICE) u32(items.length);
      }
      if (t === T.DICT) work.push(SINGLETONS.get(T.NULL)!);
      for (let i = items.length - 1; i >= 0; i--) work.push(items[i]!);
    }
  }
  return Buffer.from(out);
}
