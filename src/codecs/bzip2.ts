// bzip2 (libbz2 1.0.8): header parser, streaming decode of one stream, and encode as `bzip2 -N`
// (one stream) or as `pbzip2 -N -bM` (the input cut into M x 100,000-byte pieces, each its own
// `bzip2 -N` stream, concatenated: measured equal to pbzip2 1.1.13's output).
import { FormatError, type Limits, type Sink, type Source } from '../types.js';
import { StepEncoder, decodeSteps, feedAndFinish, type Decoded, type EncodingSink } from './stream.js';
import { WasmCodec } from './wasm.js';

/** "BZh" + block size digit + the first block's (or the end-of-stream) magic. */
export function isBzip2Magic(b: Uint8Array): boolean {
  if (b.length < 10 || b[0] !== 0x42 || b[1] !== 0x5a || b[2] !== 0x68 || b[3]! < 0x31 || b[3]! > 0x39) return false;
  const block = b[4] === 0x31 && b[5] === 0x41 && b[6] === 0x59 && b[7] === 0x26 && b[8] === 0x53 && b[9] === 0x59;
  const end = b[4] === 0x17 && b[5] === 0x72 && b[6] === 0x45 && b[7] === 0x38 && b[8] === 0x50 && b[9] === 0x90;
  return block || end;
}

/** The block size digit (1-9) of the stream header at the start of `b`. */
export function bzip2Level(b: Uint8Array): number {
  if (!isBzip2Magic(b)) throw new FormatError('not a bzip2 stream: bad magic');
  return b[3]! - 0x30;
}

function describe(status: number): string {
  const names: Record<number, string> = { [-4]: 'corrupt data (bad block or CRC)', [-5]: 'bad magic', [-3]: 'out of memory', [-7]: 'unexpected end of data' };
  return names[status] ?? `libbz2 error ${status}`;
}

/** Decode the bzip2 stream at `start` (one stream; further ones are the caller's). */
export async function decodeBzip2Stream(input: Source, start: number, sink: Sink | undefined, limits: Limits, what: string): Promise<Decoded & { level: number }> {
  const level = bzip2Level(await input.read(start, Math.min(10, input.size - start)));
  const codec = new WasmCodec('bzip2');
  const d = codec.fn('bzd_new')();
  if (!d) throw new Error('bzip2: cannot create a decoder');
  const step = codec.fn('bzd_step');
  const decoded = await decodeSteps(codec, (i, n, o, c, r) => step(d, i, n, o, c, r), input, start, sink, { limits, what, describe });
  return { ...decoded, level };
}

export interface Bzip2Settings {
  /** Block size digit, 1-9 (`bzip2 -N`). */
  readonly level: number;
  /** pbzip2 layout: bytes per stream (a multiple of 100,000), or 0 for one stream. */
  readonly chunk: number;
}

export function describeBzip2Settings(s: Bzip2Settings): string {
  return s.chunk ? `pbzip2 -${s.level} -b${s.chunk / 100000} (one bzip2 stream per ${s.chunk} bytes)` : `bzip2 -${s.level}`;
}

function streamEncoder(level: number, sink: Sink): StepEncoder {
  const codec = new WasmCodec('bzip2');
  const e = codec.fn('bze_new')(level);
  if (!e) throw new Error('bzip2: cannot create an encoder');
  const step = codec.fn('bze_step');
  return new StepEncoder(codec, (i, n, o, c, f, r) => step(e, i, n, o, c, f ? 1 : 0, r), sink, (s) => s === 1, 'bzip2');
}

/**
 * A push encoder with `settings` into `sink`: one `bzip2 -N` stream, or (pbzip2 layout) a new
 * stream for each `chunk` bytes, each started only when its first byte arrives (an empty
 * payload is one empty stream).
 */
export function bzip2Encoder(settings: Bzip2Settings, sink: Sink): EncodingSink {
  let current = streamEncoder(settings.level, sink);
  let inCurrent = 0;
  let total = 0;
  return {
    get length() {
      return total;
    },
    async write(chunk) {
      total += chunk.length;
      for (let at = 0; at < chunk.length; ) {
        if (settings.chunk && inCurrent === settings.chunk) {
          await current.finish();
          current = streamEncoder(settings.level, sink);
          inCurrent = 0;
        }
        const n = settings.chunk ? Math.min(settings.chunk - inCurrent, chunk.length - at) : chunk.length - at;
        await current.write(chunk.subarray(at, at + n));
        inCurrent += n;
        at += n;
      }
    },
    finish: () => current.finish(),
  };
}

/** Compress `src` with `settings` into `sink`. */
export async function encodeBzip2(src: Source, settings: Bzip2Settings, sink: Sink): Promise<void> {
  await feedAndFinish(src, bzip2Encoder(settings, sink));
}
