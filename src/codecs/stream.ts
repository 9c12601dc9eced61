// The step loops that drive a codec instance over a Source: decoders read compressed input in
// fixed pieces and hand each piece of output to a Sink; encoders read the payload in fixed
// pieces (never dependent on I/O sizes) and drain the coder. Every loop is bounded by the input:
// a step that neither consumes nor produces ends it with an error.
import { FormatError, type Limits, type Sink, type Source } from '../types.js';
import type { WasmCodec } from './wasm.js';

/** Compressed bytes handed to a decoder per step. */
export const DECODE_IN = 64 * 1024;
/** Output buffer of a step (decoders and encoders). */
export const STEP_OUT = 256 * 1024;
/** Payload bytes handed to an encoder per step. */
export const ENCODE_IN = 1 << 20;

/** One step: consume from (inPtr, inLen), produce into (outPtr, outCap); [used, produced] at res. */
export type Step = (inPtr: number, inLen: number, outPtr: number, outCap: number, resPtr: number) => number;

export interface Decoded {
  /** Offset just past the stream (or frame) in the input. */
  readonly end: number;
  /** Decompressed size. */
  readonly size: number;
}

export interface DecodeOptions {
  readonly limits: Limits;
  /** Names the stream in messages ("xz stream 1 at offset 0"). */
  readonly what: string;
  /** Turns a negative status into words. */
  readonly describe: (status: number) => string;
}

/**
 * Decode one stream starting at `start` in `input` with `step`, writing the payload to `sink`
 * (if any). Status 0 = more, 1 = stream complete, negative = error.
 */
export async function decodeSteps(codec: WasmCodec, step: Step, input: Source, start: number, sink: Sink | undefined, o: DecodeOptions): Promise<Decoded> {
  const inPtr = codec.alloc(DECODE_IN);
  const outPtr = codec.alloc(STEP_OUT);
  const res = codec.alloc(8);
  let pos = start; // next input byte not yet copied into the module
  let inOff = 0;
  let inLen = 0;
  let size = 0;
  let stalls = 0;
  for (;;) {
    if (inLen === 0 && pos < input.size) {
      const n = Math.min(DECODE_IN, input.size - pos);
      const chunk = await input.read(pos, n);
      codec.view(inPtr, n).set(chunk);
      pos += n;
      inOff = 0;
      inLen = n;
    }
    const status = step(inPtr + inOff, inLen, outPtr, STEP_OUT, res);
    const used = codec.u32(res, 0);
    const produced = codec.u32(res, 1);
    inOff += used;
    inLen -= used;
    if (produced > 0) {
      size += produced;
      if (size > o.limits.maxMemberBytes) throw new FormatError(`${o.what} decompresses past the limit of ${o.limits.maxMemberBytes} bytes`);
      const out = codec.view(outPtr, produced);
      if (sink) await sink.write(out);
    }
    if (status < 0) throw new FormatError(`corrupt data in ${o.what}: ${o.describe(status)}`);
    if (status === 1) break;
    if (used === 0 && produced === 0) {
      // A decoder that can take neither input nor give output is waiting for bytes the file
      // does not have (or is stuck): a few such steps in a row end the loop.
      if (++stalls > 3) {
        if (inLen === 0 && pos >= input.size) throw new FormatError(`truncated ${o.what} (the file ends at ${input.size} before the stream does)`);
        throw new FormatError(`${o.what}: the decoder made no progress at offset ${pos - inLen}`);
      }
    } else stalls = 0;
    // A bomb is refused while it expands, before it fills the spill's disk.
    const consumed = pos - inLen - start;
    if (size > 1 << 26 && size / Math.max(1, consumed) > o.limits.maxRatio) {
      throw new FormatError(`${o.what} expands over ${o.limits.maxRatio}:1 (${size} bytes from ${consumed})`);
    }
  }
  const end = pos - inLen;
  const compressed = end - start;
  if (size > 1 << 20 && size / Math.max(1, compressed) > o.limits.maxRatio) {
    throw new FormatError(`${o.what} expands ${Math.round(size / compressed)}:1, over the limit of ${o.limits.maxRatio}:1`);
  }
  return { end, size };
}

/** Status of an encoder step: 0 = done (at the end) or more input welcome, 2 = more output pending. */
export type EncodeStep = (inPtr: number, inLen: number, outPtr: number, outCap: number, finish: boolean, resPtr: number) => number;

/** A Sink that compresses what it is given; finish() ends the stream(s). */
export interface EncodingSink extends Sink {
  finish(): Promise<void>;
}

/**
 * Feed `src` to `enc` in fixed pieces (never dependent on I/O sizes), then finish it: the pull
 * form of every push encoder, so the two give the same bytes by construction.
 */
export async function feedAndFinish(src: Source, enc: EncodingSink): Promise<void> {
  for (let at = 0; at < src.size; at += ENCODE_IN) await enc.write(await src.read(at, Math.min(ENCODE_IN, src.size - at)));
  await enc.finish();
}

/**
 * A push encoder over a step function: what is written is regrouped into ENCODE_IN pieces
 * (whatever sizes the writer uses, the coder sees the same calls), each piece is stepped
 * until consumed, and finish() steps the last piece and drains the coder, writing every
 * output byte to `sink` as it is produced. `finished(status)` tells whether a finishing step
 * completed the stream.
 */
export class StepEncoder implements EncodingSink {
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly res: number;
  private fill = 0;
  private total = 0;
  private done = false;
  constructor(
    private readonly codec: WasmCodec,
    private readonly step: EncodeStep,
    private readonly sink: Sink,
    private readonly finished: (status: number) => boolean,
    private readonly what: string,
  ) {
    this.inPtr = codec.alloc(ENCODE_IN);
    this.outPtr = codec.alloc(STEP_OUT);
    this.res = codec.alloc(8);
  }
  get length(): number {
    return this.total;
  }
  private async drainOut(produced: number): Promise<void> {
    if (produced > 0) await this.sink.write(this.codec.view(this.outPtr, produced));
  }
  /** Step the `n` bytes at inPtr until the coder has taken them all. */
  private async piece(n: number): Promise<void> {
    const { codec, res } = this;
    let off = 0;
    while (off < n) {
      const status = this.step(this.inPtr + off, n - off, this.outPtr, STEP_OUT, false, res);
      if (status < 0) throw new Error(`${this.what}: encoder failed with status ${status}`);
      const used = codec.u32(res, 0);
      const produced = codec.u32(res, 1);
      off += used;
      await this.drainOut(produced);
      if (used === 0 && produced === 0) throw new Error(`${this.what}: encoder made no progress`);
    }
  }
  async write(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new Error(`${this.what}: write after finish`);
    this.total += chunk.length;
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(ENCODE_IN - this.fill, chunk.length - at);
      this.codec.view(this.inPtr + this.fill, n).set(chunk.subarray(at, at + n));
      this.fill += n;
      at += n;
      if (this.fill === ENCODE_IN) {
        this.fill = 0;
        await this.piece(ENCODE_IN);
      }
    }
  }
  async finish(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.fill > 0) {
      const n = this.fill;
      this.fill = 0;
      await this.piece(n);
    }
    const { codec, res } = this;
    for (let guard = 0; ; guard++) {
      const status = this.step(this.inPtr, 0, this.outPtr, STEP_OUT, true, res);
      if (status < 0) throw new Error(`${this.what}: encoder failed with status ${status}`);
      const produced = codec.u32(res, 1);
      await this.drainOut(produced);
      if (this.finished(status)) break;
      if (produced === 0 && guard > 4) throw new Error(`${this.what}: encoder made no progress while finishing`);
    }
  }
}
