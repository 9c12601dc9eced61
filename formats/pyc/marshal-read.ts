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
// turned into TYPE_INT (as CPython writes it). Nesting is limited like CPython's
// MAX_MARSHAL_STACK_DEPTH, so hostile input raises FormatError, never a stack overflow.
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
  /** Leaf payload: string content (without its length), or the fixed/number bytes. */
  readonly data?: Uint8Array;
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

/** Hash-consing table shared by the reader and by anyone building new nodes (path mapping). */
export class Interner {
  private readonly keys = new Map<string, number>();
  private next = SINGLETON_TYPES.length + 1;
  get count(): number {
    return this.next;
  }
  /** A fresh id equal to nothing else (mutable objects). */
  unique(): number {
    return this.next++;
  }
  id(key: string): number {
    let id = this.keys.get(key);
    if (id === undefined) {
      id = this.next++;
      this.keys.set(key, id);
    }
    return id;
  }
  leaf(t: number, data: Uint8Array): MNode {
    const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return { t, id: this.id(String.fromCharCode(t) + b.toString('latin1')), data };
  }
  container(t: number, items: MNode[], mutable: boolean): MNode {
    if (mutable) return { t, id: this.unique(), items };
    let key = String.fromCharCode(t);
    for (const it of items) key += it.id + ',';
    return { t, id: this.id(key), items };
  }
  code(u32: number[], items: MNode[]): MNode {
    let key = 'c' + u32.join(',') + '|';
    for (const it of items) key += it.id + ',';
    return { t: T.CODE, id: this.id(key), items, u32 };
  }
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
}

/** Read one marshalled object from `buf` at `start`. Throws FormatError on malformed data. */
export function readMarshal(buf: Uint8Array, start: number, opts: ReadOptions): ReadResult {
  const r = new Reader(buf, start, opts);
  const root = r.object(0);
  return { root, end: r.pos, longsShortened: r.longsShortened };
}

class Reader {
  pos: number;
  longsShortened = 0;
  private readonly refs: Array<MNode | undefined> = [];
  private readonly view: DataView;
  private readonly it: Interner;
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
  private take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
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

  object(depth: number): MNode {
    if (depth > MAX_DEPTH) throw new FormatError(`marshal data nested deeper than ${MAX_DEPTH} at offset ${this.pos}`);
    const at = this.pos;
    const code = this.byte('type code');
    const t = code & ~FLAG_REF;
    let slot = -1;
    if (code & FLAG_REF) {
      slot = this.refs.length;
      this.refs.push(undefined);
    }
    const node = this.body(t, at, depth);
    if (slot >= 0) this.refs[slot] = node;
    return node;
  }

  private items(n: number, depth: number): MNode[] {
    const items = new Array<MNode>(n);
    for (let i = 0; i < n; i++) items[i] = this.object(depth + 1);
    return items;
  }

  private body(t: number, at: number, depth: number): MNode {
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
        return it.leaf(t, this.take(4, 'int'));
      case T.INT64:
        return it.leaf(t, this.take(8, 'int64'));
      case T.BINARY_FLOAT:
        return it.leaf(t, this.take(8, 'float'));
      case T.BINARY_COMPLEX:
        return it.leaf(t, this.take(16, 'complex'));
      case T.FLOAT: {
        const s = this.pos;
        this.take(this.byte('float text length'), 'float text');
        return it.leaf(t, this.buf.subarray(s, this.pos));
      }
      case T.COMPLEX: {
        const s = this.pos;
        this.take(this.byte('complex text length'), 'complex text');
        this.take(this.byte('complex text length'), 'complex text');
        return it.leaf(t, this.buf.subarray(s, this.pos));
      }
      case T.LONG:
        return this.long(at);
      case T.SHORT_ASCII:
      case T.SHORT_ASCII_INTERNED:
        return it.leaf(t, this.take(this.byte('string length'), 'string'));
      case T.STRING:
      case T.INTERNED:
      case T.UNICODE:
      case T.ASCII:
      case T.ASCII_INTERNED:
        return it.leaf(t, this.take(this.count('string length', 1), 'string'));
      case T.SMALL_TUPLE:
        return it.container(T.TUPLE, this.items(this.byte('tuple size'), depth), false);
      case T.TUPLE:
      case T.FROZENSET:
        return it.container(t, this.items(this.count('sequence size', 1), depth), false);
      case T.LIST:
      case T.SET:
        return it.container(t, this.items(this.count('sequence size', 1), depth), true);
      case T.DICT: {
        const items: MNode[] = [];
        for (;;) {
          const k = this.object(depth + 1);
          if (k.t === T.NULL) break;
          items.push(k, this.object(depth + 1));
        }
        return it.container(t, items, true);
      }
      case T.SLICE:
        return it.container(t, this.items(3, depth), false);
      case T.CODE:
        return this.code(depth);
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
        return this.it.leaf(T.INT, b);
      }
    }
    return this.it.leaf(T.LONG, this.buf.subarray(s - 4, this.pos));
  }

  private code(depth: number): MNode {
    const { layout, mapFilename } = this.opts;
    const u32: number[] = [];
    const items: MNode[] = [];
    for (const f of layout.fields) {
      if (f.kind === 'u32') u32.push(this.u32(`code ${f.name}`));
      else items.push(this.object(depth + 1));
    }
    if (mapFilename) items[layout.filenameObj] = mapFilename(items[layout.filenameObj]!);
    return this.it.code(u32, items);
  }
}
