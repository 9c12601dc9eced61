// LZ4 (liblz4 1.9.4): the frame format (lz4_Frame_format.md 1.6.x) and the legacy format the
// Linux kernel and Android use (`lz4 -l`: magic 0x184C2102, then blocks of up to 8 MiB of input,
// each a little-endian compressed size and the block). Streaming decode of one frame or legacy
// stream; encode as the lz4 1.9.4 CLI does.
import { FormatError, type Limits, type Sink, type Source } from '../types.js';
import { decodeSteps, feedAndFinish, type Decoded, type EncodingSink } from './stream.js';
import { WasmCodec } from './wasm.js';

export const LZ4_FRAME_MAGIC = 0x184d2204;
export const LZ4_LEGACY_MAGIC = 0x184c2102;
const LEGACY_BLOCK = 8 << 20;
/** LZ4_compressBound(8 MiB): a legacy "block size" above it is not a block (lz4io.c). */
export const LEGACY_BOUND = LEGACY_BLOCK + Math.floor(LEGACY_BLOCK / 255) + 16;
/** The level re-encoding uses: `lz4 -9` (HC), `lz4 -l -9` for the legacy format. */
export const LZ4_LEVEL = 9;

function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

export function isLz4FrameMagic(b: Uint8Array): boolean {
  return b.length >= 4 && u32le(b, 0) === LZ4_FRAME_MAGIC;
}

export function isLz4LegacyMagic(b: Uint8Array): boolean {
  return b.length >= 4 && u32le(b, 0) === LZ4_LEGACY_MAGIC;
}

export interface Lz4FrameHeader {
  readonly headerSize: number;
  /** 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB. */
  readonly blockSizeId: number;
  readonly independent: boolean;
  readonly blockChecksum: boolean;
  readonly contentChecksum: boolean;
  readonly contentSize?: number;
  readonly dictId?: number;
}

/** The frame descriptor at the start of `b` (magic included). */
export function parseLz4FrameHeader(b: Uint8Array): Lz4FrameHeader {
  if (!isLz4FrameMagic(b)) throw new FormatError('not an lz4 frame: bad magic');
  if (b.length < 7) throw new FormatError('truncated lz4 frame header');
  const flg = b[4]!;
  const bd = b[5]!;
  if (flg >> 6 !== 1) throw new FormatError(`unsupported lz4 frame version ${flg >> 6}`);
  if (flg & 0x02 || bd & 0x8f) throw new FormatError('lz4 frame header: reserved bits set');
  const blockSizeId = (bd >> 4) & 7;
  if (blockSizeId < 4) throw new FormatError(`lz4 frame header: bad block size id ${blockSizeId}`);
  let at = 6;
  let contentSize: number | undefined;
  let dictId: number | undefined;
  if (flg & 0x08) {
    if (b.length < at + 8) throw new FormatError('truncated lz4 frame header');
    contentSize = u32le(b, at) + u32le(b, at + 4) * 2 ** 32;
    at += 8;
  }
  if (flg & 0x01) {
    if (b.length < at + 4) throw new FormatError('truncated lz4 frame header');
    dictId = u32le(b, at);
    at += 4;
  }
  return {
    headerSize: at + 1,
    blockSizeId,
    independent: (flg & 0x20) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    contentSize,
    dictId,
  };
}

function describe(status: number): string {
  return `lz4 frame error ${-status - 1}`;
}

/** Decode the lz4 frame at `start` (one frame). */
export async function decodeLz4Frame(input: Source, start: number, sink: Sink | undefined, limits: Limits, what: string): Promise<Decoded & { header: Lz4FrameHeader }> {
  const header = parseLz4FrameHeader(await input.read(start, Math.min(19, input.size - start)));
  if (header.dictId !== undefined) throw new FormatError(`${what} needs dictionary ${header.dictId}, which is not in the file`);
  const codec = new WasmCodec('lz4');
  const d = codec.fn('lfd_new')();
  if (!d) throw new Error('lz4: cannot create a decoder');
  const step = codec.fn('lfd_step');
  const decoded = await decodeSteps(codec, (i, n, o, c, r) => step(d, i, n, o, c, r), input, start, sink, { limits, what, describe });
  return { ...decoded, header };
}

/**
 * Decode the legacy stream at `start` (magic included). It ends at the end of the input, at a
 * word that is no block size (0, or above LEGACY_BOUND: the next stream's magic, or other data),
 * or before a last word that is followed by nothing (the kernel appends the size as 4 bytes).
 */
export async function decodeLz4Legacy(input: Source, start: number, sink: Sink | undefined, limits: Limits, what: string): Promise<Decoded> {
  if (!isLz4LegacyMagic(await input.read(start, Math.min(4, input.size - start)))) throw new FormatError('not an lz4 legacy stream: bad magic');
  const codec = new WasmCodec('lz4');
  const inPtr = codec.alloc(LEGACY_BOUND);
  const outPtr = codec.alloc(LEGACY_BLOCK);
  const decode = codec.fn('ll_decode');
  let pos = start + 4;
  let size = 0;
  while (input.size - pos >= 4) {
    const n = u32le(await input.read(pos, 4), 0);
    if (n === 0 || n > LEGACY_BOUND) break;
    if (pos + 4 + n > input.size) {
      if (input.size - pos === 4) break;
      throw new FormatError(`truncated ${what}: a block of ${n} bytes at offset ${pos} runs past the end of the file`);
    }
    codec.view(inPtr, n).set(await input.read(pos + 4, n));
    const m = decode(inPtr, n, outPtr, LEGACY_BLOCK);
    if (m < 0) throw new FormatError(`corrupt data in ${what}: block at offset ${pos} does not decode`);
    size += m;
    if (size > limits.maxMemberBytes) throw new FormatError(`${what} decompresses past the limit of ${limits.maxMemberBytes} bytes`);
    if (sink && m) await sink.write(codec.view(outPtr, m));
    pos += 4 + n;
  }
  const compressed = pos - start;
  if (size > 1 << 20 && size / compressed > limits.maxRatio) throw new FormatError(`${what} expands ${Math.round(size / compressed)}:1, over the limit of ${limits.maxRatio}:1`);
  return { end: pos, size };
}

export type Lz4Settings =
  | { readonly format: 'legacy' }
  | {
      readonly format: 'frame';
      readonly blockSizeId: number;
      readonly independent: boolean;
      readonly blockChecksum: boolean;
      readonly contentChecksum: boolean;
      readonly contentSize: boolean;
    };

export function lz4SettingsOf(h: Lz4FrameHeader): Lz4Settings {
  return {
    format: 'frame',
    blockSizeId: h.blockSizeId,
    independent: h.independent,
    blockChecksum: h.blockChecksum,
    contentChecksum: h.contentChecksum,
    contentSize: h.contentSize !== undefined,
  };
}

export function describeLz4Settings(s: Lz4Settings): string {
  if (s.format === 'legacy') return `lz4 -l -${LZ4_LEVEL}`;
  const flags = [`-B${s.blockSizeId}`, s.independent ? '' : '-BD', s.blockChecksum ? '--block-checksum' : '', s.contentChecksum ? '' : '--no-frame-crc', s.contentSize ? '--content-size' : ''];
  return `lz4 -${LZ4_LEVEL} ${flags.filter(Boolean).join(' ')}`;
}

async function copyOut(codec: WasmCodec, ptr: number, n: number, sink: Sink): Promise<void> {
  if (n < 0) throw new Error(`lz4: encoder failed with status ${n}`);
  if (n > 0) await sink.write(codec.view(ptr, n));
}

/**
 * A push encoder as the lz4 1.9.4 CLI writes a payload of exactly `size` bytes with `settings`
 * (the frame records the size when asked, and lz4io.c compresses an input smaller than one
 * block in a single call), writing each block into `sink` once its input has arrived.
 */
export async function lz4Encoder(settings: Lz4Settings, size: number, sink: Sink): Promise<EncodingSink> {
  const codec = new WasmCodec('lz4');
  let total = 0;
  let fill = 0;
  let done = false;
  // Input is gathered in module memory up to one block; `block(n)` compresses what was gathered.
  const gather = (inPtr: number, blockSize: number, block: (n: number) => Promise<void>): EncodingSink['write'] => async (chunk) => {
    if (done) throw new Error('lz4: write after finish');
    total += chunk.length;
    if (total > size) throw new Error(`lz4: more than the ${size} bytes announced`);
    for (let at = 0; at < chunk.length; ) {
      const n = Math.min(blockSize - fill, chunk.length - at);
      codec.view(inPtr + fill, n).set(chunk.subarray(at, at + n));
      fill += n;
      at += n;
      if (fill === blockSize) {
        fill = 0;
        await block(blockSize);
      }
    }
  };
  const checkSize = () => {
    if (total !== size) throw new Error(`lz4: ${total} bytes given, ${size} announced`);
  };
  if (settings.format === 'legacy') {
    const inPtr = codec.alloc(LEGACY_BLOCK);
    const bound = codec.fn('ll_bound')(LEGACY_BLOCK);
    const outPtr = codec.alloc(bound + 4);
    await sink.write(Uint8Array.of(0x02, 0x21, 0x4c, 0x18));
    const encode = codec.fn('ll_encode');
    const block = async (n: number) => {
      const m = encode(inPtr, n, outPtr + 4, bound, LZ4_LEVEL);
      if (m <= 0) throw new Error('lz4: legacy block encoder failed');
      new DataView(codec.view(outPtr, 4).buffer).setUint32(outPtr, m, true);
      await sink.write(codec.view(outPtr, m + 4));
    };
    return {
      get length() {
        return total;
      },
      write: gather(inPtr, LEGACY_BLOCK, block),
      async finish() {
        if (done) return;
        done = true;
        checkSize();
        if (fill > 0) await block(fill);
      },
    };
  }
  const blockSize = 1 << (2 * settings.blockSizeId + 8);
  const e = codec.fn('lfe_new')(
    LZ4_LEVEL,
    settings.blockSizeId,
    settings.independent ? 1 : 0,
    settings.contentChecksum ? 1 : 0,
    settings.blockChecksum ? 1 : 0,
    settings.contentSize ? 1 : 0,
    BigInt(size),
  );
  if (!e) throw new Error('lz4: cannot create an encoder');
  const bound = codec.fn('lfe_bound')(e, blockSize);
  const inPtr = codec.alloc(blockSize);
  const outPtr = codec.alloc(bound);
  const single = size < blockSize;
  if (!single) await copyOut(codec, outPtr, codec.fn('lfe_begin')(e, outPtr, bound), sink);
  const update = codec.fn('lfe_update');
  const block = async (n: number) => copyOut(codec, outPtr, update(e, inPtr, n, outPtr, bound), sink);
  return {
    get length() {
      return total;
    },
    write: gather(inPtr, blockSize, block),
    async finish() {
      if (done) return;
      done = true;
      checkSize();
      if (single) {
        // lz4io.c: an input smaller than one block is compressed in a single call.
        await copyOut(codec, outPtr, codec.fn('lfe_frame')(e, inPtr, size, outPtr, bound), sink);
        return;
      }
      if (fill > 0) await block(fill);
      await copyOut(codec, outPtr, codec.fn('lfe_finish')(e, outPtr, bound), sink);
    },
  };
}

/** Compress `src` with `settings` as the lz4 1.9.4 CLI does. */
export async function encodeLz4(src: Source, settings: Lz4Settings, sink: Sink): Promise<void> {
  await feedAndFinish(src, await lz4Encoder(settings, src.size, sink));
}
