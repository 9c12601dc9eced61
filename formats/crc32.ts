// CRC-32 as used by zip, gzip, PNG and U-Boot (ISO 3309 / ITU-T V.42: polynomial 0xEDB88320
// reflected, initial value and final xor 0xFFFFFFFF). Table-driven, incremental, pure.

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Continue a CRC-32 over `bytes`. Start with `crc32(first)`, then `crc32(next, previous)`:
 * the result equals one call over the concatenation.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
