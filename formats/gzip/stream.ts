// Streaming raw deflate (RFC 1951) with pako 2.1.0, which matches stock zlib byte for byte.
// Inflate finds where a member's deflate stream ends and yields its payload in bounded pieces;
// deflate recompresses a payload read in fixed CHUNK pieces, so the output never depends on
// how the input was read.
import pako from 'pako';
import { CHUNK } from '../../src/io.js';
import { FormatError, type Limits, type Sink, type Source } from '../../src/types.js';
import { crc32 } from './crc32.js';

/** Compressed bytes fed to the inflater per step: bounds the output of one step to ~16.5 MiB. */
const INFLATE_IN = 16 * 1024;
const OUT_CHUNK = 64 * 1024;

/** pako's stream state, which its typings do not expose. */
interface Strm {
  avail_in: number;
  msg?: string;
}

export interface Inflated {
  /** File offset just after the deflate stream. */
  readonly end: number;
  readonly crc: number;
  /** Decompressed size (exact, not mod 2^32). */
  readonly size: number;
}

/**
 * Inflate the raw deflate stream starting at `start` in `input`, writing the payload to `sink`
 * (if any). `member` names the member in messages.
 */
export async function inflateRaw(input: Source, start: number, sink: Sink | undefined, limits: Limits, member: string): Promise<Inflated> {
  const inf = new pako.Inflate({ raw: true, chunkSize: OUT_CHUNK } as pako.InflateOptions);
  let pending: Uint8Array[] = [];
  let crc = 0;
  let size = 0;
  let status = 0;
  inf.onData = (c: pako.Data) => {
    const chunk = c as Uint8Array;
    pending.push(chunk);
    crc = crc32(crc, chunk);
    size += chunk.length;
  };
  inf.onEnd = (s: number) => {
    status = s;
  };
  const strm = (inf as unknown as { strm: Strm }).strm;
  let pos = start;
  for (;;) {
    if (pos >= input.size) throw new FormatError(`truncated deflate data in ${member} (file ends at ${input.size})`);
    const n = Math.min(INFLATE_IN, input.size - pos);
    const chunk = await input.read(pos, n);
    inf.push(chunk, false);
    const ended = (inf as unknown as { ended: boolean }).ended;
    if (ended && status !== 0) throw new FormatError(`corrupt deflate data in ${member}: ${strm.msg || `zlib status ${status}`}`);
    if (size > limits.maxMemberBytes) throw new FormatError(`${member} inflates past the limit of ${limits.maxMemberBytes} bytes`);
    if (sink) for (const c of pending) await sink.write(c);
    pending = [];
    if (ended) {
      pos += n - strm.avail_in;
      break;
    }
    pos += n;
  }
  const compressed = pos - start;
  if (size > 1 << 20 && size / Math.max(1, compressed) > limits.maxRatio) {
    throw new FormatError(`${member} expands ${Math.round(size / compressed)}:1, over the limit of ${limits.maxRatio}:1`);
  }
  return { end: pos, crc, size };
}

/**
 * Raw-deflate `src` at `level` into `sink`, reading it in CHUNK pieces (never dependent on I/O
 * sizes). Returns the payload's CRC32 and size.
 */
export async function deflateRaw(src: Source, level: 1 | 6 | 9, sink: Sink): Promise<{ crc: number; size: number }> {
  const def = new pako.Deflate({ raw: true, level, chunkSize: OUT_CHUNK });
  let pending: Uint8Array[] = [];
  let status = 0;
  def.onData = (c: pako.Data) => {
    pending.push(c as Uint8Array);
  };
  def.onEnd = (s: number) => {
    status = s;
  };
  let crc = 0;
  const flush = async () => {
    for (const c of pending) await sink.write(c);
    pending = [];
  };
  for (let at = 0; at < src.size; at += CHUNK) {
    const chunk = await src.read(at, Math.min(CHUNK, src.size - at));
    crc = crc32(crc, chunk);
    def.push(chunk, false);
    await flush();
  }
  def.push(new Uint8Array(0), true);
  if (status !== 0) throw new Error(`deflate failed with zlib status ${status}`);
  await flush();
  return { crc, size: src.size };
}
