// The protobuf wire format and the JSON object stream that Bazel's worker protocol and
// execution logs are read with: values round-trip, streams split at any chunk boundary, and
// broken bytes give an error naming the absolute byte offset.
import { describe, expect, it } from 'vitest';
import { DelimitedSplitter, ProtoError, ProtoReader, ProtoWriter, delimited } from '../src/execlog/protobuf.js';
import { JsonObjectSplitter, JsonStreamError } from '../src/execlog/json-stream.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('varints: the encodings the spec gives', () => {
  it('1, 150, 300 and 2^53-1 encode as the spec says and read back', () => {
    expect(hex(new ProtoWriter().varint(1, 1).finish())).toBe('0801');
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe('089601');
    expect(hex(new ProtoWriter().varint(2, 300).finish())).toBe('10ac02');
    const big = new ProtoWriter().varint(1, Number.MAX_SAFE_INTEGER).finish();
    const r = new ProtoReader(big);
    expect(r.tag()).toEqual([1, 0]);
    expect(r.varint(0)).toBe(Number.MAX_SAFE_INTEGER);
  });
  it('a negative int32 is ten bytes and reads back as the same negative number', () => {
    const b = new ProtoWriter().varint(3, -1).finish();
    expect(b.length).toBe(11);
    expect(hex(b)).toBe('18ffffffffffffffffff01');
    const r = new ProtoReader(b);
    expect(r.int32(r.tag()[1])).toBe(-1);
    const m = new ProtoReader(new ProtoWriter().varint(1, -2147483648).finish());
    expect(m.int32(m.tag()[1])).toBe(-2147483648);
  });
  it('strings, bytes, nested messages and packed varints round-trip; unknown fields are skipped', () => {
    const b = new ProtoWriter()
      .string(1, 'héllo')
      .varint(99, 7)
      .message(2, (w) => w.string(1, 'inner').bytes(2, new Uint8Array([0, 255])))
      .packed(5, [1, 300, 70000])
      .varint(5, 9)
      .finish();
    const r = new ProtoReader(b);
    const got: Record<string, unknown> = {};
    const ids: number[] = [];
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 1) got.s = r.string(w);
      else if (f === 2) {
        const m = r.message(w);
        m.tag();
        got.inner = m.string(2);
        m.tag();
        got.raw = hex(m.bytesField(2));
      } else if (f === 5) r.varints(w, ids);
      else r.skip(w);
    }
    expect(got).toEqual({ s: 'héllo', inner: 'inner', raw: '00ff' });
    expect(ids).toEqual([1, 300, 70000, 9]);
  });
  it('fixed 32- and 64-bit fields are skipped by their width', () => {
    const b = new Uint8Array([0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4, 0x18, 0x05]);
    const r = new ProtoReader(b);
    r.skip(r.tag()[1]);
    r.skip(r.tag()[1]);
    expect(r.tag()).toEqual([3, 0]);
    expect(r.varint(0)).toBe(5);
    expect(r.done()).toBe(true);
  });
});

describe('broken bytes: a ProtoError at the absolute offset, never a crash or a hang', () => {
  const err = (f: () => unknown): ProtoError => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ProtoError);
      return e as ProtoError;
    }
    throw new Error('no error');
  };
  it('a truncated varint, a length past the end, a varint over 10 bytes, a bad wire type', () => {
    const cut = new ProtoReader(new Uint8Array([0x08, 0x96]), 1000);
    expect(cut.tag()).toEqual([1, 0]);
    expect(err(() => cut.varint(0))).toMatchObject({ offset: 1001, message: 'truncated varint at byte 1001' });
    const long = new ProtoReader(new Uint8Array([0x12, 0x05, 0x61]), 40);
    expect(err(() => long.bytesField(long.tag()[1])).message).toMatch(/field of 5 bytes runs past the end .* at byte 41$/);
    expect(err(() => new ProtoReader(new Uint8Array(11).fill(0xff)).uint()).message).toMatch(/longer than 10 bytes at byte 0/);
    expect(err(() => new ProtoReader(new Uint8Array([0x0b])).tag()).message).toMatch(/wire type 3/);
    expect(err(() => new ProtoReader(new Uint8Array([0x00])).tag()).message).toMatch(/field number 0/);
  });
  it('a string field read where a varint was written names the mismatch', () => {
    const r = new ProtoReader(new ProtoWriter().varint(1, 5).finish());
    expect(err(() => r.string(r.tag()[1])).message).toMatch(/wire type 0, expected 2/);
  });
});

describe('length-delimited streams: split at every chunk boundary', () => {
  const msgs = [new ProtoWriter().string(1, 'a').finish(), new ProtoWriter().string(1, 'x'.repeat(200)).finish(), new Uint8Array(0), new ProtoWriter().varint(3, 7).finish()];
  const stream = Buffer.concat(msgs.map(delimited));
  it('the same messages and offsets whatever the chunk size', () => {
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const s = new DelimitedSplitter();
      const got: Array<{ bytes: string; offset: number }> = [];
      for (let i = 0; i < stream.length; i += size) for (const m of s.push(stream.subarray(i, i + size))) got.push({ bytes: hex(m.bytes), offset: m.offset });
      s.end();
      expect(got.map((m) => m.bytes)).toEqual(msgs.map(hex));
      expect(got.map((m) => m.offset)).toEqual([1, 6, 210, 211]);
    }
  });
  it('chunks read into one reused Buffer (as a file reader does): the held tail is a copy, not a view', () => {
    const s = new DelimitedSplitter();
    const reused = Buffer.alloc(5);
    const got: string[] = [];
    for (let i = 0; i < stream.length; i += 5) {
      reused.fill(0xee);
      const n = stream.copy(reused, 0, i, i + 5);
      for (const m of s.push(reused.subarray(0, n))) got.push(hex(m.bytes));
    }
    s.end();
    expect(got).toEqual(msgs.map(hex));
  });
  it('a stream cut inside a message: end() names where that message starts', () => {
    const s = new DelimitedSplitter();
    expect(s.push(stream.subarray(0, 10))).toHaveLength(1);
    expect(() => s.end()).toThrow(/truncated message: 203 bytes announced, 4 present at byte 4$/);
  });
  it('a length beyond the limit is refused at once, not waited for', () => {
    const s = new DelimitedSplitter(1000);
    expect(() => s.push(new Uint8Array([0x80, 0x80, 0x40]))).toThrow(/message length 1048576 exceeds the 1000-byte limit at byte 0/);
  });
});

describe('JSON object streams: pretty-printed or one a line, split at every chunk boundary', () => {
  const objs = [{ a: 1, s: 'brace } in "string" {' }, { nested: { x: [1, { y: 2 }] }, u: 'ü€' }, {}];
  const pretty = Buffer.from(objs.map((o) => JSON.stringify(o, null, 2)).join('') + '\n');
  const lines = Buffer.from(objs.map((o) => JSON.stringify(o)).join('\n') + '\n');
  it('the same objects whatever the chunk size', () => {
    for (const text of [pretty, lines]) {
      for (const size of [1, 5, 33, text.length]) {
        const s = new JsonObjectSplitter();
        const got: unknown[] = [];
        for (let i = 0; i < text.length; i += size) for (const m of s.push(text.subarray(i, i + size))) got.push(m.value);
        s.end();
        expect(got).toEqual(objs);
      }
    }
  });
  it('chunks read into one reused Buffer: the same objects', () => {
    const s = new JsonObjectSplitter();
    const reused = Buffer.alloc(7);
    const got: unknown[] = [];
    for (let i = 0; i < pretty.length; i += 7) {
      reused.fill(0x7b);
      const n = pretty.copy(reused, 0, i, i + 7);
      for (const m of s.push(reused.subarray(0, n))) got.push(m.value);
    }
    s.end();
    expect(got).toEqual(objs);
  });
  it('offsets are where each object starts', () => {
    const s = new JsonObjectSplitter();
    expect(s.push(lines).map((m) => m.offset)).toEqual([0, lines.indexOf('{"nested'), lines.lastIndexOf('{}')]);
  });
  it('garbage between objects, a broken object and a truncated one: the byte offset', () => {
    expect(() => new JsonObjectSplitter().push(Buffer.from('{"a":1}\n[1]'))).toThrow(/expected a JSON object \('\{'\), found '\[' at byte 8/);
    expect(() => new JsonObjectSplitter().push(Buffer.from('{"a":1}{"b":tru}'))).toThrow(JsonStreamError);
    expect(() => new JsonObjectSplitter().push(Buffer.from('{"a":1}{"b":tru}'))).toThrow(/at byte (7|1[0-6])$/);
    const s = new JsonObjectSplitter();
    s.push(Buffer.from('{"a":1}\n{"b": [1, 2'));
    expect(() => s.end()).toThrow(/truncated JSON object .* at byte 8$/);
  });
});
