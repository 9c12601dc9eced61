// The in-memory inflate of formats/gzip/stream.ts (issue 20: one synchronous zlib call for an
// input the engine holds whole) gives exactly what the streaming path gives: the same payload,
// end, CRC and size, and for bad input the same error, message included.
import { gzipSync, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateRaw } from '../formats/gzip/stream.js';
import { BufferSink, BufferSource } from '../src/io.js';
import { DEFAULT_LIMITS, type Limits, type Source } from '../src/types.js';
import { norm } from './helpers.js';

/** A Source that is not a BufferSource: inflateRaw takes the streaming path. */
class Opaque implements Source {
  readonly size: number;
  constructor(private readonly b: Uint8Array) {
    this.size = b.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.b.slice(offset, offset + length);
  }
}

let seed = 11;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i % 7 ? 97 + (rand() % 6) : 10)));

async function both(bytes: Uint8Array, start: number, limits: Limits = DEFAULT_LIMITS) {
  const run = async (src: Source) => {
    const sink = new BufferSink();
    let counted = 0;
    try {
      const r = await inflateRaw(src, start, sink, limits, 'member 1', (n) => (counted += n));
      return { ...r, payload: Buffer.from(sink.bytes()).toString('hex'), counted };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  return { memory: await run(new BufferSource(bytes)), stream: await run(new Opaque(bytes)) };
}

describe('gzip inflate in memory: the streaming path results, byte for byte', () => {
  const raw = deflateRawSync(text(300_000), { level: 6 });
  // As in a gzip member: 8 trailer bytes after the deflate stream.
  const deflated = Buffer.concat([raw, Buffer.alloc(8)]);
  const cases: Array<{ what: string; bytes: Uint8Array; start?: number; limits?: Limits; error?: RegExp }> = [
    { what: 'a stream and a trailer', bytes: deflated },
    { what: 'a stream ending at the end of the input', bytes: raw },
    { what: 'a stream followed by other bytes', bytes: Buffer.concat([deflated, Buffer.from('trailing data')]) },
    { what: 'a stream at an offset', bytes: Buffer.concat([Buffer.alloc(10, 7), deflated, Buffer.alloc(8)]), start: 10 },
    { what: 'an empty payload', bytes: Buffer.concat([deflateRawSync(Buffer.alloc(0)), Buffer.alloc(8)]) },
    { what: 'a corrupt stream', bytes: Uint8Array.of(0xff, 0xff, 0xff, 0xff), error: /corrupt deflate data in member 1/ },
    { what: 'a truncated stream', bytes: raw.subarray(0, raw.length - 100), error: /truncated deflate data in member 1/ },
    { what: 'a stream past limits.maxMemberBytes', bytes: deflated, limits: { ...DEFAULT_LIMITS, maxMemberBytes: 1000 }, error: /inflates past the limit of 1000 bytes/ },
    { what: 'an input over the in-memory bound (limits.spillBytes)', bytes: deflated, limits: { ...DEFAULT_LIMITS, spillBytes: 4096 } },
    { what: 'a small input whose payload is over that bound', bytes: Buffer.concat([deflateRawSync(Buffer.alloc(200_000, 0x61)), Buffer.alloc(8)]), limits: { ...DEFAULT_LIMITS, spillBytes: 4096 } },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const r = await both(c.bytes, c.start ?? 0, c.limits);
      expect(r.memory).toEqual(r.stream);
      if (c.error) expect((r.memory as { error: string }).error).toMatch(c.error);
    });
  }

  it('a canonical two-member .gz: unchanged; a bad CRC32 in the second member is found', async () => {
    const gz = Buffer.concat([gzipSync(text(5000)), gzipSync(text(7000))]);
    expect((await norm(gz, 'a.txt.gz')).status).toBe('unchanged');
    const bad = Uint8Array.from(gz);
    bad[bad.length - 8]! ^= 0xff;
    const r = await norm(bad, 'a.txt.gz');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/bad CRC32 in gzip member 2/);
  });
});
