// Raw deflate (RFC 1951) for zip members through pako 2.1.0, which matches stock zlib byte for
// byte: inflate a probe of a member's first bytes, inflate a whole member into a sink (checking
// declared size and CRC as it goes, so a lying header or a bomb stops early), deflate a source.
// Input is fed in fixed-size chunks so the output never depends on I/O sizes.
import pako from 'pako';
import zinflate from 'pako/lib/zlib/inflate.js';
import ZStream from 'pako/lib/zlib/zstream.js';
import { CHUNK } from '../../src/io.js';
import { FormatError, type Sink, type Source } from '../../src/types.js';
import { crc32 } from '../crc32.js';

const FEED = 64 * 1024;

/**
 * Inflates the first bytes of many members with one reused zlib state and output buffer (a
 * fresh pako.Inflate per member costs a 32 KiB window and dominates archives of tiny members).
 * One inflate call over at most PROBE_INPUT compressed bytes: deflate cannot turn that much
 * input into less than `want` bytes except for a stream that ends first, so no window is needed.
 */
export class HeadInflater {
  private readonly strm = new ZStream();
  private readonly out: Uint8Array;
  constructor(readonly want: number) {
    zinflate.inflateInit2(this.strm, -15);
    this.out = new Uint8Array(want);
  }
  /** Up to `want` decompressed bytes (fewer for a short or corrupt stream). Valid until the next call. */
  async head(src: Source, offset: number, compressedSize: number): Promise<Uint8Array> {
    const input = await src.read(offset, Math.min(compressedSize, PROBE_INPUT));
    const strm = this.strm;
    zinflate.inflateReset(strm);
    strm.input = input;
    strm.next_in = 0;
    strm.avail_in = input.length;
    strm.output = this.out;
    strm.next_out = 0;
    strm.avail_out = this.want;
    zinflate.inflate(strm, 0);
    const n = strm.next_out;
    strm.input = null;
    return this.out.subarray(0, n);
  }
}

const PROBE_INPUT = 64 * 1024;

/**
 * Inflate a raw-deflate member into `sink`, requiring exactly `size` bytes with CRC `crc`. Output
 * beyond the declared size stops the inflation at once (bombs, lying headers).
 */
export async function inflateTo(
  src: Source,
  offset: number,
  compressedSize: number,
  size: number,
  crc: number,
  sink: Sink,
  what: string,
): Promise<void> {
  const inf = new pako.Inflate({ raw: true, chunkSize: FEED });
  let pending: Uint8Array[] = [];
  let got = 0;
  let c = 0;
  inf.onData = (chunk: Uint8Array) => {
    pending.push(chunk);
    got += chunk.length;
  };
  inf.onEnd = () => {};
  for (let at = 0; at < compressedSize && !ended(inf); at += FEED) {
    const n = Math.min(FEED, compressedSize - at);
    inf.push(await src.read(offset + at, n), false);
    if (inf.err) throw new FormatError(`${what}: corrupt deflate data (${inf.msg || inf.err})`);
    if (got > size) throw new FormatError(`${what}: inflates past its declared size of ${size} bytes`);
    for (const p of pending) {
      c = crc32(p, c);
      await sink.write(p);
    }
    pending = [];
  }
  if (!ended(inf)) throw new FormatError(`${what}: deflate data ends early`);
  if (got !== size) throw new FormatError(`${what}: inflates to ${got} bytes, header says ${size}`);
  if (c !== crc) throw new FormatError(`${what}: CRC mismatch (data ${hex(c)}, header ${hex(crc)})`);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Raw-deflate a whole source into `sink` at `level`; returns CRC-32 and size of the input. */
export async function deflateTo(src: Source, level: number, sink: Sink): Promise<{ crc: number; size: number }> {
  const def = new pako.Deflate({ raw: true, level: level as pako.DeflateOptions['level'], chunkSize: FEED });
  let pending: Uint8Array[] = [];
  def.onData = (chunk: Uint8Array) => {
    pending.push(Uint8Array.from(chunk));
  };
  def.onEnd = () => {};
  let c = 0;
  const flush = async () => {
    for (const p of pending) await sink.write(p);
    pending = [];
  };
  if (src.size === 0) def.push(new Uint8Array(0), true);
  for (let at = 0; at < src.size; at += CHUNK) {
    const n = Math.min(CHUNK, src.size - at);
    const data = await src.read(at, n);
    c = crc32(data, c);
    def.push(data, at + n >= src.size);
    if (def.err) throw new Error(`deflate failed: ${def.msg}`);
    await flush();
  }
  await flush();
  return { crc: c, size: src.size };
}

/** pako sets `ended` when the stream finished or failed (not in its type declarations). */
function ended(x: pako.Inflate): boolean {
  return (x as unknown as { ended: boolean }).ended;
}
