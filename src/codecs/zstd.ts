// Zstandard (RFC 8878): frame header parser, streaming decode of one frame, skippable frames,
// and encode as the zstd 1.5.4 CLI does (one worker thread: ZSTDMT's output, reproduced in line
// by the vendored build; content size recorded when the size is known, as for a regular file).
import { BufferSink, BufferSource } from '../io.js';
import { FormatError, type Limits, type Sink, type Source } from '../types.js';
import { StepEncoder, decodeSteps, feedAndFinish, type Decoded, type EncodingSink } from './stream.js';
import { WasmCodec } from './wasm.js';

export const ZSTD_MAGIC = 0xfd2fb528;
/** The decoder refuses frames whose window is larger than 2^27 (zstd's own default limit). */
export const ZSTD_WINDOW_LOG_MAX = 27;

function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function isZstdMagic(b: Uint8Array): boolean {
  return b.length >= 4 && u32le(b, 0) === ZSTD_MAGIC;
}

/** Skippable frame magic 0x184D2A50..0x184D2A5F (zstd and lz4 share it). */
export function isSkippableMagic(b: Uint8Array): boolean {
  return b.length >= 4 && (u32le(b, 0) & 0xfffffff0) === 0x184d2a50;
}

export interface ZstdFrameHeader {
  readonly headerSize: number;
  readonly singleSegment: boolean;
  readonly checksum: boolean;
  readonly dictId: number;
  /** Content size when the header records it. */
  readonly contentSize?: number;
  /** log2 of the window when a Window_Descriptor is present (not single-segment). */
  readonly windowLog?: number;
  readonly windowSize?: number;
}

/** The frame header at the start of `b` (magic included). */
export function parseFrameHeader(b: Uint8Array): ZstdFrameHeader {
  if (!isZstdMagic(b)) throw new FormatError('not a zstd frame: bad magic');
  if (b.length < 5) throw new FormatError('truncated zstd frame header');
  const fhd = b[4]!;
  if (fhd & 0x08) throw new FormatError('zstd frame header: reserved bit set');
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  const checksum = (fhd & 0x04) !== 0;
  const didFlag = fhd & 3;
  const didSize = [0, 1, 2, 4][didFlag]!;
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  const headerSize = 5 + (singleSegment ? 0 : 1) + didSize + fcsSize;
  if (b.length < headerSize) throw new FormatError('truncated zstd frame header');
  let at = 5;
  let windowLog: number | undefined;
  let windowSize: number | undefined;
  if (!singleSegment) {
    const wd = b[at++]!;
    windowLog = 10 + (wd >> 3);
    const base = 2 ** windowLog;
    windowSize = base + (base / 8) * (wd & 7);
  }
  let dictId = 0;
  for (let i = 0; i < didSize; i++) dictId += b[at + i]! * 2 ** (8 * i);
  at += didSize;
  let contentSize: number | undefined;
  if (fcsSize) {
    let v = 0;
    for (let i = 0; i < fcsSize; i++) v += b[at + i]! * 2 ** (8 * i);
    contentSize = fcsSize === 2 ? v + 256 : v;
  }
  return { headerSize, singleSegment, checksum, dictId, contentSize, windowLog, windowSize };
}

function describe(status: number): string {
  // ZSTD_ErrorCode values (zstd_errors.h), returned as -(code) - 1.
  const code = -status - 1;
  const names: Record<number, string> = {
    10: 'unknown frame descriptor',
    12: 'unsupported version',
    14: 'unsupported frame parameter',
    16: 'frame requires too much memory (window larger than 2^27)',
    20: 'corrupted data',
    22: 'checksum mismatch',
    32: 'dictionary required',
    70: 'destination too small',
    72: 'source size wrong',
  };
  return names[code] ?? `zstd error ${code}`;
}

export interface ZstdFrame extends Decoded {
  readonly header: ZstdFrameHeader;
}

/** Decode the zstd frame at `start` (one frame; further frames are the caller's). */
export async function decodeZstdFrame(input: Source, start: number, sink: Sink | undefined, limits: Limits, what: string): Promise<ZstdFrame> {
  const header = parseFrameHeader(await input.read(start, Math.min(18, input.size - start)));
  if (header.dictId !== 0) throw new FormatError(`${what} needs dictionary ${header.dictId}, which is not in the file`);
  const codec = new WasmCodec('zstd');
  const d = codec.fn('zd_new')(ZSTD_WINDOW_LOG_MAX);
  if (!d) throw new Error('zstd: cannot create a decoder');
  const step = codec.fn('zd_step');
  const decoded = await decodeSteps(codec, (i, n, o, c, r) => step(d, i, n, o, c, r), input, start, sink, { limits, what, describe });
  return { ...decoded, header };
}

/** End of the skippable frame at `start`, or a FormatError when it runs past the input. */
export async function skippableEnd(input: Source, start: number): Promise<number> {
  if (input.size - start < 8) throw new FormatError(`truncated skippable frame at offset ${start}`);
  const b = await input.read(start, 8);
  const end = start + 8 + u32le(b, 4);
  if (end > input.size) throw new FormatError(`skippable frame at offset ${start} runs past the end of the file`);
  return end;
}

/** What re-encoding keeps of a frame, and the level chosen from it. */
export interface ZstdSettings {
  readonly level: number;
  readonly checksum: boolean;
  /** Record the content size (the input's first frame did). */
  readonly contentSize: boolean;
}

/**
 * The level rule: the input's window tells how hard it was compressed. A Window_Descriptor over
 * 2 MiB (log 22 and up) is what levels 7 and up write: level 19, the highest level that needs no
 * --ultra (8 MiB window). A window of at most 2 MiB (levels 1-6), and single-segment frames,
 * whose window is only the content size (small inputs whose size was known: `zstd FILE`,
 * dpkg-deb's members): level 3, zstd's and dpkg-deb's default.
 */
export function zstdSettingsOf(h: ZstdFrameHeader): ZstdSettings {
  const level = h.windowLog !== undefined && h.windowLog > 21 ? 19 : 3;
  return { level, checksum: h.checksum, contentSize: h.contentSize !== undefined };
}

export function describeZstdSettings(s: ZstdSettings): string {
  return `zstd -${s.level}${s.checksum ? '' : ' --no-check'}${s.contentSize ? '' : ' (size not recorded)'}`;
}

/**
 * A push encoder for one zstd frame as the 1.5.4 CLI writes it with `settings`, for a payload of
 * exactly `size` bytes (the CLI pledges a regular file's size: it sets the frame's content size
 * and the coder's parameters). Writes into `sink` as data arrives.
 */
export function zstdEncoder(settings: ZstdSettings, size: number, sink: Sink): EncodingSink {
  const codec = new WasmCodec('zstd');
  const c = codec.fn('ze_new')(settings.level, settings.checksum ? 1 : 0, 1, settings.contentSize ? 1 : 0, BigInt(size));
  if (!c) throw new Error('zstd: cannot create an encoder');
  const step = codec.fn('ze_step');
  const enc = new StepEncoder(codec, (i, n, o, cap, f, r) => step(c, i, n, o, cap, f ? 1 : 0, r), sink, (s) => s === 0, 'zstd');
  return {
    get length() {
      return enc.length;
    },
    write: (chunk) => enc.write(chunk),
    async finish() {
      if (enc.length !== size) throw new Error(`zstd: ${enc.length} bytes given for a frame pledged to hold ${size}`);
      await enc.finish();
    },
  };
}

/** Compress `src` as one zstd frame as the 1.5.4 CLI does with `settings`. */
export async function encodeZstd(src: Source, settings: ZstdSettings, sink: Sink): Promise<void> {
  await feedAndFinish(src, zstdEncoder(settings, src.size, sink));
}

/** Decode a whole in-memory zstd stream (every frame; skippable frames skipped). */
export async function decompressZstd(bytes: Uint8Array, limits: Limits): Promise<Uint8Array> {
  const src = new BufferSource(bytes);
  const out = new BufferSink();
  let pos = 0;
  while (pos < bytes.length) {
    const head = bytes.subarray(pos, pos + 4);
    if (isSkippableMagic(head)) pos = await skippableEnd(src, pos);
    else pos = (await decodeZstdFrame(src, pos, out, limits, `zstd frame at offset ${pos}`)).end;
  }
  return out.bytes();
}
