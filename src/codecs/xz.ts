// .xz (xz-utils file format 1.1.0): header parsers, streaming decode of one stream, and encode
// with liblzma 5.4.1 in the layout the input used: single-threaded (`xz -T1`: one Block, no
// sizes in its header) or multi-threaded (`xz -T0`, dpkg-deb: Blocks of a fixed size, sizes in
// each header; the same bytes for any thread count).
import { FormatError, type Limits, type Sink, type Source } from '../types.js';
import { StepEncoder, decodeSteps, feedAndFinish, type Decoded, type EncodingSink } from './stream.js';
import { WasmCodec } from './wasm.js';

export const XZ_MAGIC = Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00);
export const XZ_FOOTER_MAGIC = Uint8Array.of(0x59, 0x5a);
export const CHECK_NAMES: Record<number, string> = { 0: 'none', 1: 'crc32', 4: 'crc64', 10: 'sha256' };
const FILTER_LZMA2 = 0x21;
/** Decoder memory limit: xz -9 needs 65 MiB; a stream asking for more is refused. */
export const XZ_DECODER_MEMLIMIT_MIB = 512;
/** Re-encoding keeps the input's dictionary up to xz -9's 64 MiB (encoder memory ~11x this). */
export const XZ_DICT_CAP = 64 << 20;
/** The preset re-encoding uses (`xz -6`, xz's default). */
export const XZ_PRESET = 6;

export function isXzMagic(b: Uint8Array): boolean {
  return b.length >= 6 && XZ_MAGIC.every((x, i) => b[i] === x);
}

/** Read a multibyte integer (xz VLI) at `at`; [value, next offset] or undefined when malformed. */
export function readVli(b: Uint8Array, at: number): [number, number] | undefined {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (at + i >= b.length) return undefined;
    const byte = b[at + i]!;
    v += (byte & 0x7f) * 2 ** (7 * i);
    if (!(byte & 0x80)) {
      if (byte === 0 && i > 0) return undefined;
      return [v, at + i + 1];
    }
  }
  return undefined;
}

export function encodeVli(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** Stream Header: the check type (its CRC32 is verified by the decoder). */
export function parseStreamHeader(b: Uint8Array): { check: number } {
  if (!isXzMagic(b)) throw new FormatError('not an xz stream: bad magic');
  if (b.length < 12) throw new FormatError('truncated xz stream header');
  if (b[6] !== 0 || (b[7]! & 0xf0) !== 0) throw new FormatError('unsupported xz stream flags');
  return { check: b[7]! & 0x0f };
}

export interface XzFilter {
  readonly id: number;
  readonly props: Uint8Array;
}

export interface XzBlockHeader {
  readonly headerSize: number;
  readonly compressedSize?: number;
  readonly uncompressedSize?: number;
  readonly filters: readonly XzFilter[];
  /** The Filter Flags bytes as stored, for the encoder. */
  readonly filterFlags: Uint8Array;
}

/** Block Header at the start of `b` (at least its declared size); undefined for an Index indicator. */
export function parseBlockHeader(b: Uint8Array): XzBlockHeader | undefined {
  if (b.length < 1) throw new FormatError('truncated xz block header');
  if (b[0] === 0) return undefined;
  const headerSize = (b[0]! + 1) * 4;
  if (b.length < headerSize) throw new FormatError('truncated xz block header');
  const flags = b[1]!;
  if (flags & 0x3c) throw new FormatError('unsupported xz block flags');
  let at = 2;
  let compressedSize: number | undefined;
  let uncompressedSize: number | undefined;
  const vli = (): number => {
    const r = readVli(b.subarray(0, headerSize - 4), at);
    if (!r) throw new FormatError('malformed xz block header');
    at = r[1];
    return r[0];
  };
  if (flags & 0x40) compressedSize = vli();
  if (flags & 0x80) uncompressedSize = vli();
  const start = at;
  const filters: XzFilter[] = [];
  for (let i = 0; i < (flags & 3) + 1; i++) {
    const id = vli();
    const n = vli();
    if (at + n > headerSize - 4) throw new FormatError('malformed xz filter flags');
    filters.push({ id, props: b.slice(at, at + n) });
    at += n;
  }
  return { headerSize, compressedSize, uncompressedSize, filters, filterFlags: b.slice(start, at) };
}

/** LZMA2 dictionary size from its one-byte property. */
export function lzma2DictSize(prop: number): number {
  if (prop > 40) throw new FormatError(`bad LZMA2 dictionary property ${prop}`);
  if (prop === 40) return 0xffffffff;
  return (2 | (prop & 1)) * 2 ** (Math.floor(prop / 2) + 11);
}

/** What re-encoding keeps of a stream: its check, filter chain, dictionary and Block layout. */
export interface XzSettings {
  readonly check: number;
  /** Filter Flags of the first Block (LZMA2 last), or undefined for a stream without Blocks. */
  readonly filterFlags?: Uint8Array;
  readonly filterCount: number;
  readonly dictSize: number;
  /** 'mt': sizes in the Block Headers (xz -T0, dpkg-deb), Blocks of blockSize bytes. */
  readonly layout: 'st' | 'mt';
  /** Multi-threaded layout with two or more Blocks: the first one's size; else 0 (the default). */
  readonly blockSize: number;
}

export interface XzStream extends Decoded {
  readonly settings: XzSettings;
  readonly blocks: number;
}

function describe(status: number): string {
  const names: Record<number, string> = {
    5: 'memory limit reached (the dictionary is larger than this tool accepts)',
    6: 'not an xz stream',
    7: 'unsupported options',
    8: 'corrupt data',
    9: 'truncated or corrupt data',
    3: 'unsupported check type',
  };
  return names[-status] ?? `liblzma error ${-status}`;
}

/** Number of Blocks (Index records) of the stream ending at `end`. */
async function blockCount(input: Source, end: number): Promise<number> {
  const footer = await input.read(end - 12, 12);
  const backward = ((footer[4]! | (footer[5]! << 8) | (footer[6]! << 16) | (footer[7]! << 24)) >>> 0) * 4 + 4;
  const index = await input.read(end - 12 - backward, Math.min(backward, 16));
  const r = readVli(index, 1);
  if (!r) throw new FormatError('malformed xz index');
  return r[0];
}

/** Decode the .xz stream at `start` (one stream; padding and further streams are the caller's). */
export async function decodeXzStream(input: Source, start: number, sink: Sink | undefined, limits: Limits, what: string): Promise<XzStream> {
  const head = await input.read(start, Math.min(12 + 1024, input.size - start));
  const { check } = parseStreamHeader(head);
  const codec = new WasmCodec('xz');
  const d = codec.fn('xzd_new')(XZ_DECODER_MEMLIMIT_MIB);
  if (!d) throw new Error('xz: cannot create a decoder');
  const stepFn = codec.fn('xzd_step');
  const decoded = await decodeSteps(codec, (i, n, o, c, r) => stepFn(d, i, n, o, c, 0, r), input, start, sink, { limits, what, describe });
  // The stream decoded and verified: its first Block Header and Index are well formed.
  const first = head.length > 12 ? parseBlockHeader(head.subarray(12)) : undefined;
  const blocks = first ? await blockCount(input, decoded.end) : 0;
  const lzma2 = first?.filters[first.filters.length - 1];
  const dictSize = lzma2 && lzma2.id === FILTER_LZMA2 && lzma2.props.length === 1 ? lzma2DictSize(lzma2.props[0]!) : 8 << 20;
  const mt = first !== undefined && first.compressedSize !== undefined && first.uncompressedSize !== undefined;
  return {
    ...decoded,
    blocks,
    settings: {
      check,
      filterFlags: first?.filterFlags,
      filterCount: first?.filters.length ?? 1,
      dictSize,
      layout: mt ? 'mt' : 'st',
      blockSize: mt && blocks > 1 ? first!.uncompressedSize! : 0,
    },
  };
}

/** LZMA2 alone with an 8 MiB dictionary (what `xz -6` writes). */
const DEFAULT_FILTER_FLAGS = Uint8Array.of(FILTER_LZMA2, 1, 22);

/** The encoder `encodeXz` uses, in words, for reports. */
export function describeXzSettings(s: XzSettings): string {
  const dict = Math.min(s.dictSize, XZ_DICT_CAP);
  const dictText = dict % (1 << 20) === 0 ? `${dict / (1 << 20)} MiB` : `${dict / 1024} KiB`;
  const filters = s.filterCount > 1 ? `, ${s.filterCount - 1} filter(s) before LZMA2 kept` : '';
  return `xz -${XZ_PRESET} (dict ${dictText}, check ${CHECK_NAMES[s.check] ?? s.check}${filters}), ${s.layout === 'mt' ? `multi-threaded layout${s.blockSize ? `, ${s.blockSize}-byte blocks` : ''}` : 'one block'}`;
}

/**
 * A push encoder for one .xz stream with `settings`, writing into `sink` as data arrives
 * (liblzma 5.4.1, preset 6). The multi-threaded layout writes the Stream Header now, each Block
 * once its blockSize bytes have arrived, and the Index at finish().
 */
export async function xzEncoder(settings: XzSettings, sink: Sink): Promise<EncodingSink> {
  const codec = new WasmCodec('xz');
  const flags = settings.filterFlags ?? DEFAULT_FILTER_FLAGS;
  const fp = codec.alloc(flags.length);
  codec.view(fp, flags.length).set(flags);
  const mt = settings.layout === 'mt';
  const e = codec.fn('xze_new')(settings.check, fp, flags.length, settings.filterFlags ? settings.filterCount : 1, XZ_PRESET, XZ_DICT_CAP, mt ? 1 : 0, settings.blockSize);
  if (!e) throw new FormatError(`xz: cannot re-encode with this stream's filters or check (${describeXzSettings(settings)})`);
  if (!mt) {
    const step = codec.fn('xze_step');
    return new StepEncoder(codec, (i, n, o, c, f, r) => step(e, i, n, o, c, f ? 1 : 0, r), sink, (s) => s === 1, 'xz');
  }
  const sizes = codec.alloc(16);
  codec.fn('xze_mt_sizes')(e, sizes);
  const blockSize = codec.u64(sizes, 0);
  const outMax = codec.u64(sizes, 1);
  const head = codec.alloc(12);
  if (codec.fn('xze_mt_header')(e, head) !== 12) throw new Error('xz: stream header');
  await sink.write(codec.copyOut(head, 12));
  const inPtr = codec.alloc(blockSize);
  const outPtr = codec.alloc(outMax);
  const block = codec.fn('xze_mt_block');
  let fill = 0;
  let total = 0;
  const encodeBlock = async () => {
    const n = fill;
    fill = 0;
    const size = block(e, inPtr, n, outPtr);
    if (size < 0) throw new Error('xz: block encoder failed');
    for (let o = 0; o < size; o += 1 << 20) await sink.write(codec.view(outPtr + o, Math.min(1 << 20, size - o)));
  };
  let done = false;
  return {
    get length() {
      return total;
    },
    async write(chunk) {
      total += chunk.length;
      for (let at = 0; at < chunk.length; ) {
        const n = Math.min(blockSize - fill, chunk.length - at);
        codec.view(inPtr + fill, n).set(chunk.subarray(at, at + n));
        fill += n;
        at += n;
        if (fill === blockSize) await encodeBlock();
      }
    },
    async finish() {
      if (done) return;
      done = true;
      if (fill > 0) await encodeBlock();
      const tailSize = codec.fn('xze_mt_tail_size')(e);
      const tail = codec.alloc(tailSize);
      if (codec.fn('xze_mt_tail')(e, tail, tailSize) !== tailSize) throw new Error('xz: index');
      await sink.write(codec.copyOut(tail, tailSize));
    },
  };
}

/** Compress `src` as one .xz stream with `settings` into `sink` (liblzma 5.4.1, preset 6). */
export async function encodeXz(src: Source, settings: XzSettings, sink: Sink): Promise<void> {
  await feedAndFinish(src, await xzEncoder(settings, sink));
}
