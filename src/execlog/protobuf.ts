// The protocol buffer wire format, just what Bazel's messages need: varints, length-delimited
// fields, fixed 32/64-bit fields skipped, packed repeated varints, and streams of
// varint-length-prefixed messages (Bazel's binary execution log, the worker protocol). No
// schema compiler: each reader (spawn.proto, worker_protocol.proto) switches on field numbers.
// Every read is bounded by its buffer; a bad byte is a ProtoError naming its absolute offset.

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** Malformed or truncated protobuf data, at an absolute byte offset. */
export class ProtoError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at byte ${offset}`);
    this.name = 'ProtoError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Reads the fields of one message. `base` is the absolute offset of `bytes[0]` (for errors). */
export class ProtoReader {
  pos: number;
  /** Low 32 bits of the last varint read (for int32 values encoded as 10-byte negatives). */
  private lo32 = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly base = 0,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  /** Absolute offset of the next byte. */
  get offset(): number {
    return this.base + this.pos;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  fail(reason: string, at = this.pos): never {
    throw new ProtoError(reason, this.base + at);
  }

  /** An unsigned varint of up to 64 bits, as a number (exact below 2^53). */
  uint(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    let lo = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint', start);
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (i < 5) lo = (lo | ((b & 0x7f) << (7 * i))) >>> 0;
      mul *= 128;
      if (b < 0x80) {
        this.lo32 = lo;
        return result;
      }
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  /** The field number and wire type of the next field. */
  tag(): [field: number, wire: number] {
    const at = this.pos;
    const t = this.uint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field === 0 || field > 0x1fffffff) this.fail(`bad field number ${field}`, at);
    if (wire !== WIRE_VARINT && wire !== WIRE_I64 && wire !== WIRE_LEN && wire !== WIRE_I32) this.fail(`unsupported wire type ${wire} (field ${field})`, at);
    return [field, wire];
  }

  private expect(wire: number, want: number, what: string): void {
    if (wire !== want) this.fail(`${what}: wire type ${wire}, expected ${want}`);
  }

  /** A varint field that holds a proto int32 (negative values are 10-byte varints). */
  int32(wire: number): number {
    this.expect(wire, WIRE_VARINT, 'int32');
    this.uint();
    return this.lo32 | 0;
  }

  /** A uint32/uint64/int64 (non-negative) varint field. */
  varint(wire: number): number {
    this.expect(wire, WIRE_VARINT, 'varint');
    return this.uint();
  }

  bool(wire: number): boolean {
    return this.varint(wire) !== 0;
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytesField(wire: number): Uint8Array {
    this.expect(wire, WIRE_LEN, 'length-delimited field');
    const at = this.pos;
    const n = this.uint();
    if (n > this.end - this.pos) this.fail(`field of ${n} bytes runs past the end of its message (${this.end - this.pos} left)`, at);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(wire: number): string {
    return decoder.decode(this.bytesField(wire));
  }

  /** A nested message: a reader over its bytes, with absolute offsets kept. */
  message(wire: number): ProtoReader {
    this.expect(wire, WIRE_LEN, 'message');
    const at = this.pos;
    const n = this.uint();
    if (n > this.end - this.pos) this.fail(`message of ${n} bytes runs past the end of its parent (${this.end - this.pos} left)`, at);
    const r = new ProtoReader(this.bytes, this.base, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** A repeated varint field, packed (one LEN field) or not: appends to `into`. */
  varints(wire: number, into: number[]): void {
    if (wire === WIRE_VARINT) {
      into.push(this.uint());
      return;
    }
    const r = this.message(wire);
    while (!r.done()) into.push(r.uint());
  }

  /** Skip a field of any supported wire type. */
  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.uint();
    else if (wire === WIRE_LEN) this.bytesField(wire);
    else {
      const n = wire === WIRE_I64 ? 8 : 4;
      if (n > this.end - this.pos) this.fail(`truncated ${n * 8}-bit field`);
      this.pos += n;
    }
  }
}

/** Builds one message. Fields are written in call order; callers leave proto3 defaults out. */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** A bare varint, no field key (a length prefix). */
  raw(v: number): void {
    this.room(10);
    if (v < 0) {
      // A negative int32 or int64: 64-bit two's complement, ten bytes.
      let x = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) {
        this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
        x >>= 7n;
      }
      this.buf[this.len++] = Number(x);
      return;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  private key(field: number, wire: number): void {
    this.raw(field * 8 + wire);
  }

  varint(field: number, v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`varint field ${field}: ${v} is not a safe integer`);
    this.key(field, WIRE_VARINT);
    this.raw(v);
    return this;
  }

  bool(field: number, v: boolean): this {
    return this.varint(field, v ? 1 : 0);
  }

  bytes(field: number, v: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.raw(v.length);
    this.room(v.length);
    this.buf.set(v, this.len);
    this.len += v.length;
    return this;
  }

  string(field: number, v: string): this {
    return this.bytes(field, Buffer.from(v, 'utf8'));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(field, w.finish());
  }

  packed(field: number, vs: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of vs) w.raw(v);
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** `msg` with its varint length in front (Java's writeDelimitedTo). */
export function delimited(msg: Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  w.raw(msg.length);
  const head = w.finish();
  const out = new Uint8Array(head.length + msg.length);
  out.set(head);
  out.set(msg, head.length);
  return out;
}

/**
 * Splits a stream of varint-length-prefixed messages as bytes arrive in chunks. `push` returns
 * the complete messages so far with their absolute offsets; `end` throws when the stream
 * stops inside a message. Holds at most one message plus one chunk; a message larger than
 * `maxMessage` is refused (a corrupt length must not make it wait for gigabytes).
 */
export class DelimitedSplitter {
  private pending: Uint8Array = new Uint8Array(0);
  /** Absolute offset of pending[0]. */
  private base = 0;
  constructor(private readonly maxMessage = 1 << 30) {}

  push(chunk: Uint8Array): Array<{ bytes: Uint8Array; offset: number }> {
    let buf: Uint8Array;
    if (this.pending.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    const out: Array<{ bytes: Uint8Array; offset: number }> = [];
    let pos = 0;
    for (;;) {
      const r = new ProtoReader(buf, this.base, pos);
      if (r.done()) break;
      let n: number;
      try {
        n = r.uint();
      } catch (e) {
        // A varint cut by the chunk boundary: wait for more; a varint over 10 bytes is an error.
        if (e instanceof ProtoError && e.reason === 'truncated varint') break;
        throw e;
      }
      if (n > this.maxMessage) throw new ProtoError(`message length ${n} exceeds the ${this.maxMessage}-byte limit`, this.base + pos);
      if (r.pos + n > buf.length) break;
      out.push({ bytes: buf.subarray(r.pos, r.pos + n), offset: this.base + r.pos });
      pos = r.pos + n;
    }
    // Keep the incomplete tail, copied: `chunk` may be a Buffer the caller reuses, and
    // Buffer#slice would be a view of it.
    this.pending = Uint8Array.prototype.slice.call(buf, pos);
    this.base += pos;
    return out;
  }

  /** Bytes held that do not yet form a message. */
  get buffered(): number {
    return this.pending.length;
  }

  end(): void {
    if (this.pending.length === 0) return;
    const r = new ProtoReader(this.pending, this.base);
    let n: number | undefined;
    try {
      n = r.uint();
    } catch {
      throw new ProtoError('truncated message length', this.base);
    }
    throw new ProtoError(`truncated message: ${n} bytes announced, ${this.pending.length - r.pos} present`, this.base);
  }
}
