// A bounds-checked reader over one DWARF section (DWARF 5 section 7.5/7.6: LEB128, initial
// lengths, offsets of 4 or 8 bytes). Every read past `end` throws a FormatError.
import { FormatError } from '../../src/types.js';

export class Cursor {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    readonly le: boolean,
    start = 0,
    public end = b.length,
    readonly what = 'DWARF data',
  ) {
    this.pos = start;
  }
  fail(msg: string): never {
    throw new FormatError(`${this.what}: ${msg} at offset ${this.pos}`);
  }
  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) this.fail(`truncated (need ${n} bytes)`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const p = this.pos;
    this.pos += 2;
    return this.le ? this.b[p]! | (this.b[p + 1]! << 8) : (this.b[p]! << 8) | this.b[p + 1]!;
  }
  u24(): number {
    this.need(3);
    const p = this.pos;
    this.pos += 3;
    const b = this.b;
    return this.le ? b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) : (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }
  u32(): number {
    this.need(4);
    const p = this.pos;
    this.pos += 4;
    const b = this.b;
    return this.le
      ? (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0
      : ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }
  u64(): number {
    const a = this.u32();
    const c = this.u32();
    const [lo, hi] = this.le ? [a, c] : [c, a];
    if (hi >= 0x200000) this.fail('64-bit value too large');
    return hi * 0x100000000 + lo;
  }
  uN(n: number): number {
    switch (n) {
      case 1:
        return this.u8();
      case 2:
        return this.u16();
      case 3:
        return this.u24();
      case 4:
        return this.u32();
      case 8:
        return this.u64();
      default:
        return this.fail(`bad size ${n}`);
    }
  }
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) this.fail('truncated LEB128');
      const byte = this.b[this.pos++]!;
      if (mul < 2 ** 53) result += (byte & 0x7f) * mul;
      else if ((byte & 0x7f) !== 0) this.fail('LEB128 value too large');
      if ((byte & 0x80) === 0) return result;
      mul *= 128;
    }
  }
  /** Skip a LEB128 of either signedness. */
  skipLeb(): void {
    for (;;) {
      if (this.pos >= this.end) this.fail('truncated LEB128');
      if ((this.b[this.pos++]! & 0x80) === 0) return;
    }
  }
  sleb(): number {
    let result = 0;
    let mul = 1;
    let byte = 0;
    do {
      if (this.pos >= this.end) this.fail('truncated LEB128');
      byte = this.b[this.pos++]!;
      if (mul < 2 ** 53) result += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte & 0x80);
    if (byte & 0x40) result -= mul;
    return result;
  }
  /** Position of the NUL ending the string at pos; moves past it. Returns [start, end). */
  cstr(): [number, number] {
    const start = this.pos;
    const nul = this.b.indexOf(0, start);
    if (nul < 0 || nul >= this.end) this.fail('unterminated string');
    this.pos = nul + 1;
    return [start, nul];
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  /** An initial length: [unitLength, offsetSize]; the unit ends at pos + unitLength afterwards. */
  initialLength(): [number, number] {
    const l = this.u32();
    if (l === 0xffffffff) return [this.u64(), 8];
    if (l >= 0xfffffff0) this.fail(`reserved unit length 0x${l.toString(16)}`);
    return [l, 4];
  }
}

export function encodeUleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function putUint(out: Uint8Array, at: number, size: number, v: number, le: boolean): void {
  for (let i = 0; i < size; i++) {
    const byte = Math.floor(v / 2 ** (8 * i)) & 0xff;
    out[le ? at + i : at + size - 1 - i] = byte;
  }
}
