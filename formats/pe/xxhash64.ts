// XXH64 (xxHash, "XXH64 algorithm description", Yann Collet; seed 0), the hash lld-link 14
// uses for /Brepro: the low 32 bits of XXH64 of the image become its TimeDateStamp, and its 8
// bytes the first half of the synthetic CodeView GUID. Streaming (the output image is a list
// of pieces), with 64-bit arithmetic on pairs of 32-bit words: the stripe loop keeps its state
// in a typed array and multiplies inline (BigInt, or helper calls per operation, were 2 to 100
// times slower).

const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;
const P1L0 = P1L & 0xffff, P1L1 = P1L >>> 16;
const P2L0 = P2L & 0xffff, P2L1 = P2L >>> 16;

/** The four lanes (high, low words in v[0..7]) absorb the stripes of `u` from word `i` to `end` (32 bytes each). */
function stripes(v: Uint32Array, u: Uint32Array, i: number, end: number): void {
  for (; i + 8 <= end; i += 8) {
    for (let k = 0; k < 8; k += 2) {
      // acc = rotl(acc + input * P2, 31) * P1. A 64-bit product's low word is Math.imul's; its
      // high word adds the carry of the low words' product, from 16-bit halves.
      const il = u[i + k]!;
      const ih = u[i + k + 1]!;
      let a1 = il >>> 16;
      let a0 = il & 0xffff;
      let carry = a1 * P2L1 + (((a0 * P2L1 + a1 * P2L0 + ((a0 * P2L0) >>> 16)) / 65536) | 0);
      const tl = Math.imul(il, P2L) >>> 0;
      const th = (carry + Math.imul(ih, P2L) + Math.imul(il, P2H)) >>> 0;
      let l = v[k + 1]! + tl;
      const h = (v[k]! + th + (l > 0xffffffff ? 1 : 0)) >>> 0;
      l >>>= 0;
      const rh = ((h << 31) | (l >>> 1)) >>> 0;
      const rl = ((l << 31) | (h >>> 1)) >>> 0;
      a1 = rl >>> 16;
      a0 = rl & 0xffff;
      carry = a1 * P1L1 + (((a0 * P1L1 + a1 * P1L0 + ((a0 * P1L0) >>> 16)) / 65536) | 0);
      v[k + 1] = Math.imul(rl, P1L);
      v[k] = carry + Math.imul(rh, P1L) + Math.imul(rl, P1H);
    }
  }
}

/** r[i]:r[i+1] = (ah:al) * (bh:bl) mod 2^64 (high word first). */
function mul(r: Uint32Array, i: number, ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const mid = a1 * b0 + a0 * b1 + (p00 >>> 16);
  r[i + 1] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  r[i] = a1 * b1 + ((mid / 65536) | 0) + Math.imul(ah, bl) + Math.imul(al, bh);
}

function add(r: Uint32Array, i: number, bh: number, bl: number): void {
  const l = r[i + 1]! + bl;
  r[i] = r[i]! + bh + (l > 0xffffffff ? 1 : 0);
  r[i + 1] = l;
}

function rotl(r: Uint32Array, i: number, n: number): void {
  const h = r[i]!;
  const l = r[i + 1]!;
  r[i] = (h << n) | (l >>> (32 - n));
  r[i + 1] = (l << n) | (h >>> (32 - n));
}

/** r[i]:r[i+1] = rotl(r[i]:r[i+1] + (ih:il) * P2, 31) * P1 (r[8], r[9] are scratch). */
function round(r: Uint32Array, i: number, ih: number, il: number): void {
  mul(r, 8, ih, il, P2H, P2L);
  add(r, i, r[8]!, r[9]!);
  rotl(r, i, 31);
  mul(r, i, r[i]!, r[i + 1]!, P1H, P1L);
}

const SCRATCH_WORDS = 1 << 14;
/** Typed-array words are little-endian here (x86, ARM); a big-endian host reads through a DataView. */
const LITTLE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

export class Xxh64 {
  /** v[0..7]: lanes; the rest scratch for the finish. */
  private readonly v = new Uint32Array(14);
  private readonly buf = new Uint8Array(32);
  private readonly bufWords = new Uint32Array(8);
  private bufLen = 0;
  private total = 0;
  private scratch?: Uint32Array;

  constructor() {
    const v = this.v;
    v[0] = P1H;
    v[1] = P1L;
    add(v, 0, P2H, P2L);
    v[2] = P2H;
    v[3] = P2L;
    v[6] = ~P1H; // -P1 mod 2^64 (P1's low word is not 0)
    v[7] = -P1L;
  }

  update(data: Uint8Array): this {
    let p = 0;
    const n = data.length;
    this.total += n;
    if (this.bufLen > 0) {
      const take = Math.min(32 - this.bufLen, n);
      this.buf.set(data.subarray(0, take), this.bufLen);
      this.bufLen += take;
      p = take;
      if (this.bufLen < 32) return this;
      const bv = new DataView(this.buf.buffer);
      for (let w = 0; w < 8; w++) this.bufWords[w] = bv.getUint32(4 * w, true);
      stripes(this.v, this.bufWords, 0, 8);
      this.bufLen = 0;
    }
    const whole = (n - p) & ~31;
    if (whole > 0) {
      const at = data.byteOffset + p;
      if (LITTLE && at % 4 === 0) stripes(this.v, new Uint32Array(data.buffer, at, whole / 4), 0, whole / 4);
      else {
        const s = (this.scratch ??= new Uint32Array(SCRATCH_WORDS));
        const sb = new Uint8Array(s.buffer);
        const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
        for (let q = 0; q < whole; q += SCRATCH_WORDS * 4) {
          const len = Math.min(SCRATCH_WORDS * 4, whole - q);
          if (LITTLE) sb.set(data.subarray(p + q, p + q + len));
          else for (let w = 0; w < len / 4; w++) s[w] = dv.getUint32(p + q + 4 * w, true);
          stripes(this.v, s, 0, len / 4);
        }
      }
      p += whole;
    }
    if (p < n) {
      this.buf.set(data.subarray(p), 0);
      this.bufLen = n - p;
    }
    return this;
  }

  /** The hash as 8 little-endian bytes (the order lld copies into a GUID). */
  digest(): Uint8Array {
    const r = this.v;
    const len = this.total;
    // r[10..11]: the hash; r[12..13]: a round's result.
    if (len >= 32) {
      const v = r.slice(0, 8);
      r[10] = 0;
      r[11] = 0;
      for (const [k, n] of [[0, 1], [2, 7], [4, 12], [6, 18]] as const) {
        r[12] = v[k]!;
        r[13] = v[k + 1]!;
        rotl(r, 12, n);
        add(r, 10, r[12]!, r[13]!);
      }
      for (const k of [0, 2, 4, 6]) {
        r[12] = 0;
        r[13] = 0;
        round(r, 12, v[k]!, v[k + 1]!);
        r[10] = r[10]! ^ r[12]!;
        r[11] = r[11]! ^ r[13]!;
        mul(r, 10, r[10]!, r[11]!, P1H, P1L);
        add(r, 10, P4H, P4L);
      }
    } else {
      r[10] = P5H;
      r[11] = P5L;
    }
    add(r, 10, Math.floor(len / 0x100000000), len >>> 0);
    const rest = this.buf;
    const view = new DataView(rest.buffer, 0, this.bufLen);
    let p = 0;
    while (p + 8 <= this.bufLen) {
      r[12] = 0;
      r[13] = 0;
      round(r, 12, view.getUint32(p + 4, true), view.getUint32(p, true));
      r[10] = r[10]! ^ r[12]!;
      r[11] = r[11]! ^ r[13]!;
      rotl(r, 10, 27);
      mul(r, 10, r[10]!, r[11]!, P1H, P1L);
      add(r, 10, P4H, P4L);
      p += 8;
    }
    if (p + 4 <= this.bufLen) {
      mul(r, 12, 0, view.getUint32(p, true), P1H, P1L);
      r[10] = r[10]! ^ r[12]!;
      r[11] = r[11]! ^ r[13]!;
      rotl(r, 10, 23);
      mul(r, 10, r[10]!, r[11]!, P2H, P2L);
      add(r, 10, P3H, P3L);
      p += 4;
    }
    for (; p < this.bufLen; p++) {
      mul(r, 12, 0, rest[p]!, P5H, P5L);
      r[10] = r[10]! ^ r[12]!;
      r[11] = r[11]! ^ r[13]!;
      rotl(r, 10, 11);
      mul(r, 10, r[10]!, r[11]!, P1H, P1L);
    }
    // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
    r[11] = r[11]! ^ (r[10]! >>> 1);
    mul(r, 10, r[10]!, r[11]!, P2H, P2L);
    r[11] = r[11]! ^ ((r[11]! >>> 29) | (r[10]! << 3));
    r[10] = r[10]! ^ (r[10]! >>> 29);
    mul(r, 10, r[10]!, r[11]!, P3H, P3L);
    r[11] = r[11]! ^ r[10]!;
    const out = new Uint8Array(8);
    const ov = new DataView(out.buffer);
    ov.setUint32(0, r[11]!, true);
    ov.setUint32(4, r[10]!, true);
    return out;
  }
}

/** XXH64 of one buffer. */
export function xxh64(data: Uint8Array): Uint8Array {
  return new Xxh64().update(data).digest();
}
