// Raw deflate (RFC 1951) for zip members through pako 2.1.0, which matches stock zlib byte for
// byte: inflate a probe of a member's first bytes, inflate a whole member into a sink (checking
// declared size and CRC as it goes, so a lying header or a bomb stops early), deflate a source.
// Input is fed in fixed-size chunks so the output never depends on I/O sizes.
import zlib from 'node:zlib';
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
  // pako's state and output buffer are made when pako is first needed (issue 20: Node's zlib
  // gives nearly every head, and an archive's inflater is made for its first probed member).
  private strm: InstanceType<typeof ZStream> | undefined;
  private out: Uint8Array | undefined;
  constructor(readonly want: number) {}
  /** Up to `want` decompressed bytes (fewer for a short or corrupt stream). Valid until the next call. */
  async head(src: Source, offset: number, compressedSize: number): Promise<Uint8Array> {
    const input = await src.read(offset, Math.min(compressedSize, PROBE_INPUT));
    return nativeHead(input, this.want) ?? this.pakoHead(input);
  }
  /** The head by pako from the member's first compressed bytes (exported for the tests: nativeHead must agree). */
  pakoHead(input: Uint8Array): Uint8Array {
    let strm = this.strm;
    if (!strm) {
      strm = this.strm = new ZStream();
      zinflate.inflateInit2(strm, -15);
      this.out = new Uint8Array(this.want);
    } else zinflate.inflateReset(strm);
    const out = this.out!;
    strm.input = input;
    strm.next_in = 0;
    strm.avail_in = input.length;
    strm.output = out;
    strm.next_out = 0;
    strm.avail_out = this.want;
    zinflate.inflate(strm, 0);
    const n = strm.next_out;
    strm.input = null;
    return out.subarray(0, n);
  }
}

const PROBE_INPUT = 64 * 1024;

/**
 * The head by Node's zlib (issue 20: pako's inflate, run a few hundred times per tree, is still
 * being compiled when a --check of a whole tree is over; reading may use any inflater, inflate
 * has one output: only our deflate output must be pako's). One call over the first few KiB of
 * the member's data with a sync flush (a stream cut short gives what it has, not an error).
 * Used only when zlib gave `want` bytes without any error, or consumed all the input pako would
 * see: then pako gives exactly these bytes (any error pako meets before `want` bytes, zlib meets
 * too, at the same place). Anything else (an error anywhere, too little output from a partial
 * input) returns undefined and pako decides, so a corrupt stream's partial head is pako's.
 */
function nativeHead(input: Uint8Array, want: number): Uint8Array | undefined {
  const n = Math.min(input.length, 4 * want + 1024);
  let out: Buffer;
  try {
    // At most 1 MiB out (a few KiB of highly compressible input would give up to ~1000x
    // more): past that zlib throws and pako decides.
    out = zlib.inflateRawSync(input.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 1 << 20 });
  } catch {
    return undefined;
  }
  // A plain Uint8Array view, as pako's head is (a Buffer's slice() and toString() differ).
  if (out.length >= want) return new Uint8Array(out.buffer, out.byteOffset, want);
  return n === input.length ? new Uint8Array(out.buffer, out.byteOffset, out.length) : undefined;
}

/**
 * A member's whole data inflated by Node's zlib in one call (issue 20: a jar's manifest is read
 * on every --check; a pako.Inflate per jar costs its buffers and pako's compile time). Returned
 * only when it is exactly `size` bytes with CRC `crc` (inflate has one output: inflateTo would
 * give these bytes); anything else returns undefined and inflateTo gives the verdict and its
 * message, as before.
 */
export function inflateWhole(data: Uint8Array, size: number, crc: number): Uint8Array | undefined {
  let out: Buffer;
  try {
    out = zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, size) });
  } catch {
    return undefined;
  }
  if (out.length !== size || crc32(out) !== crc) return undefined;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

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
