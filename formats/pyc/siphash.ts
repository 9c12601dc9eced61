// SipHash (Aumasson & Bernstein) with configurable rounds, as CPython's Python/pyhash.c
// computes it for importlib.util.source_hash: _Py_KeyedHash(key, source) = SipHash with
// k0 = key, k1 = 0, where key is the pyc magic read as a little-endian u32 (_RAW_MAGIC_NUMBER).
// CPython 3.11+ uses SipHash-1-3 there; 3.7-3.10 used SipHash-2-4 (checked against each
// interpreter's importlib.util.source_hash in test/pyc-header.test.ts).
import type { PyVersion } from './magic.js';

const M64 = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & M64;
}

/** SipHash-c-d of `data` under the 128-bit key (k0, k1); returns the 64-bit result. */
export function siphash(k0: bigint, k1: bigint, data: Uint8Array, cRounds: number, dRounds: number): bigint {
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const full = data.length - (data.length % 8);
  for (let i = 0; i < full; i += 8) {
    const m = view.getBigUint64(i, true);
    v3 ^= m;
    for (let r = 0; r < cRounds; r++) round();
    v0 ^= m;
  }
  let b = BigInt(data.length & 0xff) << 56n;
  for (let i = full, s = 0n; i < data.length; i++, s += 8n) b |= BigInt(data[i]!) << s;
  v3 ^= b;
  for (let r = 0; r < cRounds; r++) round();
  v0 ^= b;
  v2 ^= 0xffn;
  for (let r = 0; r < dRounds; r++) round();
  return (v0 ^ v1 ^ v2 ^ v3) & M64;
}

/**
 * importlib.util.source_hash(source) for the Python version of `magic` (the 4 magic bytes):
 * the 8 bytes a hash-based pyc stores after its flags word.
 */
export function sourceHash(magic4: Uint8Array, version: PyVersion, source: Uint8Array): Uint8Array {
  const key = BigInt(magic4[0]! | (magic4[1]! << 8) | (magic4[2]! << 16)) | (BigInt(magic4[3]!) << 24n);
  const h = version.minor >= 11 ? siphash(key, 0n, source, 1, 3) : siphash(key, 0n, source, 2, 4);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, h, true);
  return out;
}
