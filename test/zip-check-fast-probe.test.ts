// Member probes (the first bytes of a deflated zip member, for nested-format detection) come
// from Node's zlib when it can give them, else from pako (issue 20). Either way they must be the
// very bytes pako's probe gives, for sound, cut short, corrupt and trailing-garbage streams.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { HeadInflater, inflateTo, inflateWhole } from '../formats/zip/deflate.js';
import { crc32 } from '../formats/crc32.js';
import { BufferSink, BufferSource } from '../src/io.js';

let seed = 5;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
/** n bytes, `noise` of 256 of them random, the rest a repeated text. */
const sample = (n: number, noise: number) => Buffer.from(Array.from({ length: n }, (_, i) => (rand() < noise ? rand() : 'hello tar ustar '.charCodeAt(i % 16))));

function streams(): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  for (const [n, noise] of [[0, 0], [10, 40], [300, 40], [600, 256], [9000, 40], [40000, 10], [200000, 0], [100000, 256]] as const) {
    for (const level of [0, 1, 6, 9]) {
      const d = deflateRawSync(sample(n, noise), { level });
      out.push([`${n} bytes, noise ${noise}, level ${level}`, d]);
      out.push([`  cut to half`, d.subarray(0, d.length >> 1)]);
      out.push([`  cut to 7 bytes`, d.subarray(0, 7)]);
      out.push([`  followed by garbage`, Buffer.concat([d, sample(50, 256)])]);
      for (const at of [2, 40, 700, 5000]) {
        if (at >= d.length) continue;
        const bad = Buffer.from(d);
        bad[at]! ^= 0x5a;
        out.push([`  byte ${at} flipped`, bad]);
      }
    }
  }
  out.push(['garbage', sample(3000, 256)]);
  out.push(['empty', new Uint8Array(0)]);
  return out;
}

describe('zip member probes: the bytes pako gives, whichever inflater gives them', () => {
  for (const want of [512, 8192]) {
    it(`${want}-byte probes of ${streams().length} streams agree with pako's`, async () => {
      const probe = new HeadInflater(want);
      const ref = new HeadInflater(want);
      let compared = 0;
      for (const [what, d] of streams()) {
        const got = Buffer.from(await probe.head(new BufferSource(d), 0, d.length));
        const exp = Buffer.from(ref.pakoHead(d.subarray(0, Math.min(d.length, 64 * 1024))));
        expect(got.equals(exp), what).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThan(100);
    });
  }
});

describe('zip members read whole (a manifest): zlib in one call, only when pako would give the same bytes', () => {
  it('a stream zlib inflates: the bytes inflateTo gives; a wrong size or CRC, or a stream zlib rejects: undefined (inflateTo decides)', async () => {
    let sound = 0;
    let rejected = 0;
    for (const [what, d] of streams()) {
      let z: Buffer | undefined;
      try {
        z = inflateRawSync(d);
      } catch {
        z = undefined;
      }
      if (!z) {
        // Whatever size and CRC a header claims, inflateTo gives the verdict.
        expect(inflateWhole(d, 0, 0), what).toBeUndefined();
        expect(inflateWhole(d, 100, 0), what).toBeUndefined();
        rejected++;
        continue;
      }
      const viaPako = new BufferSink();
      await inflateTo(new BufferSource(d), 0, d.length, z.length, crc32(z), viaPako, what);
      const got = inflateWhole(d, z.length, crc32(z));
      expect(got && Buffer.from(got).equals(Buffer.from(viaPako.bytes())), what).toBe(true);
      expect(inflateWhole(d, z.length + 1, crc32(z)), what).toBeUndefined();
      expect(inflateWhole(d, z.length, (crc32(z) ^ 1) >>> 0), what).toBeUndefined();
      if (z.length > 0) expect(inflateWhole(d, z.length - 1, crc32(z)), what).toBeUndefined();
      sound++;
    }
    expect(sound).toBeGreaterThan(30);
    expect(rejected).toBeGreaterThan(30);
  });
});
