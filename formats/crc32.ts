// CRC-32 as used by zip, gzip, PNG and U-Boot (ISO 3309 / ITU-T V.42: polynomial 0xEDB88320
// reflected, initial value and final xor 0xFFFFFFFF). The one CRC-32 of the code base.
// A CRC is a fixed function of its input, so Node's native zlib.crc32 (Node >= 20.15, ~10x
// faster) gives the same numbers as the slice-by-8 tables below, which serve older Nodes.
import zlib from 'node:zlib';
import { CHUNK } from '../src/io.js';
import type { Source } from '../src/types.js';

const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  t.push(t0);
  for (let i = 1; i < 8; i++) {
    const prev = t[i - 1]!;
    const ti = new Uint32Array(256);
    for (let n = 0; n < 256; n++) ti[n] = (t0[prev[n]! & 0xff]! ^ (prev[n]! >>> 8)) >>> 0;
    t.push(ti);
  }
  return t;
})();

/**
 * Continue a CRC-32 over `data`. Start with `crc32(first)`, then `crc32(next, previous)`:
 * the result equals one call over the concatenation.
 */
export function crc32(data: Uint8Array, crc = 0): number {
  if (native && data.length >= 64) return native(data, crc);
  return crc32Tables(data, crc);
}

/** CRC-32 of a whole source, read in CHUNK pieces. */
export async function crcOf(src: Source): Promise<number> {
  let c = 0;
  for (let at = 0; at < src.size; at += CHUNK) c = crc32(await src.read(at, Math.min(CHUNK, src.size - at)), c);
  return c;
}

/** The table-driven CRC-32 (exported for tests that compare it with the native one). */
export function crc32Tables(data: Uint8Array, crc = 0): number {
  // Indexed, not destructured: an array destructuring runs the iterator protocol, which costs
  // more than the CRC of a short input until the function is optimized (issue 20: jar manifests).
  const t0 = TABLES[0]!, t1 = TABLES[1]!, t2 = TABLES[2]!, t3 = TABLES[3]!, t4 = TABLES[4]!, t5 = TABLES[5]!, t6 = TABLES[6]!, t7 = TABLES[7]!;
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ c;
    const b = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
    c =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[b & 0xff]! ^
      t2[(b >>> 8) & 0xff]! ^
      t1[(b >>> 16) & 0xff]! ^
      t0[b >>> 24]!;
    i += 8;
  }
  while (i < n) c = t0[(c ^ data[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
