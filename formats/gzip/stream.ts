// Streaming raw deflate (RFC 1951). Deflate with pako 2.1.0, which matches stock zlib byte for
// byte; inflate with Node's zlib (inflate output is fixed by the format, whatever the build).
// Inflate finds where a member's deflate stream ends and yields its payload in bounded pieces;
// deflate recompresses a payload read in fixed CHUNK pieces, so the output never depends on
// how the input was read.
import zlib from 'node:zlib';
import pako from 'pako';
import { BufferSource, CHUNK } from '../../src/io.js';
import { FormatError, type Limits, type Sink, type Source } from '../../src/types.js';
import { crc32 } from '../crc32.js';

/** Compressed bytes fed to the inflater per step: bounds the output of one step to ~16.5 MiB. */
const INFLATE_IN = 64 * 1024;
const OUT_CHUNK = 64 * 1024;

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
export async function inflateRaw(
  input: Source,
  start: number,
  sink: Sink | undefined,
  limits: Limits,
  member: string,
  /** Told how many bytes each step produced, before they are written (a decompression budget). */
  onOutput?: (bytes: number) => void,
): Promise<Inflated> {
  const quick = await inflateInMemory(input, start, sink, limits, onOutput);
  if (quick) return quick;
  // Inflate with Node's zlib: a deflate stream has exactly one decompression, so any correct
  // inflater gives the same bytes (only deflate output differs between zlib builds, which is
  // why recompression uses pako). It is 3-8x faster than pako's inflate.
  const inf = zlib.createInflateRaw({ chunkSize: OUT_CHUNK });
  let pending: Buffer[] = [];
  let crc = 0;
  let size = 0;
  let ended = false;
  let failure: Error | undefined;
  inf.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    crc = crc32(chunk, crc);
    size += chunk.length;
  });
  inf.on('end', () => {
    ended = true;
  });
  inf.on('error', (e: Error) => {
    failure = e;
  });
  // Resolves when zlib has taken the chunk, or on an error (a corrupt stream never calls back).
  const feed = (chunk: Uint8Array) =>
    new Promise<void>((resolve) => {
      const onError = () => resolve();
      inf.once('error', onError);
      inf.write(chunk, () => {
        inf.off('error', onError);
        resolve();
      });
    });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  let pos = start;
  try {
    for (;;) {
      if (failure) throw new FormatError(`corrupt deflate data in ${member}: ${failure.message}`);
      if (ended) break;
      if (pos >= input.size) {
        // All input given: let zlib finish; no end means the stream is cut short.
        await settle();
        if (ended || failure) continue;
        throw new FormatError(`truncated deflate data in ${member} (file ends at ${input.size})`);
      }
      const n = Math.min(INFLATE_IN, input.size - pos);
      await feed(await input.read(pos, n));
      pos += n;
      if (!ended && !failure) await settle();
      if (size > limits.maxMemberBytes) throw new FormatError(`${member} inflates past the limit of ${limits.maxMemberBytes} bytes`);
      if (onOutput) onOutput(pending.reduce((a, c) => a + c.length, 0));
      if (sink) for (const c of pending) await sink.write(c);
      pending = [];
    }
  } finally {
    inf.removeAllListeners('data');
    inf.on('error', () => {});
    inf.destroy();
  }
  if (onOutput) onOutput(pending.reduce((a, c) => a + c.length, 0));
  if (sink) for (const c of pending) await sink.write(c);
  // No per-stream ratio check: one deflate layer cannot pass ~1032:1. limits.maxRatio bounds
  // what a whole file decompresses, nesting included (onOutput -> ctx.expand).
  const end = start + inf.bytesWritten;
  return { end, crc, size };
}

/**
 * inflateRaw for an input already in memory (the engine reads a gzip of up to limits.spillBytes
 * whole: Handler.wholeInput): one synchronous zlib call over the rest of the input, which stops
 * at the end of the deflate stream and says how much input it took (issue 20: on a canonical
 * tree of .gz files, --check spent more time handing 64 KiB steps to zlib's thread and waiting
 * for them than inflating). The same bytes, CRC, size and end as the streaming path: inflate has
 * one output. Anything else (a corrupt or truncated stream, a payload over limits.spillBytes or
 * limits.maxMemberBytes) returns undefined before any output is given, and the streaming
 * path runs, so errors and their messages are exactly the streaming path's. The payload goes to
 * `onOutput` and `sink` in 64 KiB pieces, each counted before it is written, as the streaming
 * path does per step.
 */
async function inflateInMemory(
  input: Source,
  start: number,
  sink: Sink | undefined,
  limits: Limits,
  onOutput?: (bytes: number) => void,
): Promise<Inflated | undefined> {
  if (!(input instanceof BufferSource) || start >= input.size || input.size > limits.spillBytes) return undefined;
  let out: Buffer;
  let used: number;
  try {
    const r = zlib.inflateRawSync(input.bytes.subarray(start), {
      info: true,
      chunkSize: OUT_CHUNK,
      // A payload of at most limits.spillBytes (what the payload probe keeps in memory anyway);
      // a larger one stops here and streams (at most that much inflated twice).
      maxOutputLength: Math.max(1, Math.min(limits.spillBytes, limits.maxMemberBytes)),
    }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    out = r.buffer;
    used = r.engine.bytesWritten;
  } catch {
    return undefined;
  }
  // A stream that ends exactly at the end of the input (no gzip trailer after it) is left to the
  // streaming path, whose verdict on it (zlib's end event may come after the last step) stays the
  // only one.
  if (start + used >= input.size) return undefined;
  for (let at = 0; at < out.length; at += OUT_CHUNK) {
    const piece = out.subarray(at, Math.min(out.length, at + OUT_CHUNK));
    if (onOutput) onOutput(piece.length);
    if (sink) await sink.write(piece);
  }
  return { end: start + used, crc: crc32(out), size: out.length };
}

/**
 * A sink that raw-deflates what it is given at `level` into `sink`. Input is regrouped into
 * CHUNK pieces before pako sees it, so the output is that of deflateRaw over the same bytes
 * whatever sizes the writer used. `finish` ends the stream and returns the payload's CRC32 and
 * size.
 */
export class DeflatingSink implements Sink {
  private readonly def: pako.Deflate;
  private pending: Uint8Array[] = [];
  private status = 0;
  private readonly buf = new Uint8Array(CHUNK);
  private fill = 0;
  private crc = 0;
  private total = 0;
  constructor(
    level: 1 | 6 | 9,
    private readonly sink: Sink,
  ) {
    this.def = new pako.Deflate({ raw: true, level, chunkSize: OUT_CHUNK });
    this.def.onData = (c: pako.Data) => {
      this.pending.push(c as Uint8Array);
    };
    this.def.onEnd = (s: number) => {
      this.status = s;
    };
  }
  get length(): number {
    return this.total;
  }
  private async flushOut(): Promise<void> {
    const out = this.pending;
    this.pending = [];
    for (const c of out) await this.sink.write(c);
  }
  private async push(chunk: Uint8Array): Promise<void> {
    this.crc = crc32(chunk, this.crc);
    this.def.push(chunk, false);
    await this.flushOut();
  }
  async write(chunk: Uint8Array): Promise<void> {
    this.total += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(CHUNK - this.fill, chunk.length - at);
      if (this.fill === 0 && n === CHUNK) {
        await this.push(chunk.subarray(at, at + CHUNK));
      } else {
        this.buf.set(chunk.subarray(at, at + n), this.fill);
        this.fill += n;
        if (this.fill === CHUNK) {
          this.fill = 0;
          await this.push(this.buf);
        }
      }
      at += n;
    }
  }
  async finish(): Promise<{ crc: number; size: number }> {
    if (this.fill > 0) {
      const last = this.buf.subarray(0, this.fill);
      this.fill = 0;
      await this.push(last);
    }
    this.def.push(new Uint8Array(0), true);
    if (this.status !== 0) throw new Error(`deflate failed with zlib status ${this.status}`);
    await this.flushOut();
    return { crc: this.crc, size: this.total };
  }
}

/**
 * Raw-deflate `src` at `level` into `sink`, reading it in CHUNK pieces (never dependent on I/O
 * sizes). Returns the payload's CRC32 and size.
 */
export async function deflateRaw(src: Source, level: 1 | 6 | 9, sink: Sink): Promise<{ crc: number; size: number }> {
  const d = new DeflatingSink(level, sink);
  for (let at = 0; at < src.size; at += CHUNK) await d.write(await src.read(at, Math.min(CHUNK, src.size - at)));
  return d.finish();
}
