// bzip2 (libbz2 1.0.8): header parser, streaming decode of one stream, and encode as `bzip2 -N`
// (one stream) or as `pbzip2 -N -bM` (the input cut into M x 100,000-byte pieces, each its own
// `bzip2 -N` stream, concatenated: measured equal to pbzip2 1.1.13's output).
import { FormatError, type Limits, type Sink, type Source } from '../types.js';
import { SliceSource } from '../io.js';
import { decodeSteps, encodeSteps, type Decoded } from './stream.js';
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

async function encodeOne(src: Source, level: number, sink: Sink): Promise<void> {
  const codec = new WasmCodec('bzip2');
  const e = codec.fn('bze_new')(level);
  if (!e) throw new Error('bzip2: cannot create an encoder');
  const step = codec.fn('bze_step');
  await encodeSteps(codec, (i, n, o, c, f, r) => step(e, i, n, o, c, f ? 1 : 0, r), src, sink, (s) => s === 1, 'bzip2');
}

/** Compress `src` with `settings` into `sink`. */
export async function encodeBzip2(src: Source, settings: Bzip2Settings, sink: Sink): Promise<void> {
  if (!settings.chunk || src.size <= settings.chunk) return encodeOne(src, settings.level, sink);
  for (let at = 0; at < src.size; at += settings.chunk) {
    await encodeOne(new SliceSource(src, at, Math.min(settings.chunk, src.size - at)), settings.level, sink);
  }
}
