// One decompress / recompress mechanism for every single-payload compressor (gzip, xz, zstd,
// bzip2, lz4). A codec parses and verifies its streams, handing the decompressed payload to a
// Sink; the payload goes through the dispatcher (a .tar.xz holds a tar, a .cpio.zst a cpio).
// When the payload comes back unchanged, the compressed bytes are kept as they are (gzip
// rewrites only its member headers); when it changed, the codec recompresses it with its pinned
// encoder and the settings its parser read from the input's headers. Bytes after the last
// stream are kept.
//
// Temp disk: the payload's fate is decided from its head and tail. A first pass decodes and
// verifies every stream keeping only the head and tail (and the whole payload while it is at
// most limits.spillBytes). When no handler claims that probe, the compressed bytes are copied
// and nothing was ever kept (a .xz of 20 GB of zeros costs no temp disk). A claimed payload
// larger than limits.spillBytes is decoded again into a spill, and its normalized form is
// compressed straight into the output (ctx.normalizeMemberInto and the codec's push encoder):
// a .tar.zst with a 1 GiB tar needs 1 GiB of temp space, not 2.
import { BufferSource, CHUNK, SliceSource, copyRange, sourcesEqual } from '../../src/io.js';
import { feedAndFinish, type EncodingSink } from '../../src/codecs/stream.js';
import {
  FormatError,
  HEAD_BYTES,
  TAIL_BYTES,
  type Change,
  type Comparison,
  type Context,
  type FieldDifference,
  type Handler,
  type HandlerResult,
  type MemberInfo,
  type MemberPair,
  type Probe,
  type Sink,
  type Source,
} from '../../src/types.js';

export interface Parsed<S> {
  /** Offset just past the last stream; what follows is kept as it is. */
  readonly end: number;
  /** What the encoder keeps of the input (from the first stream's headers). */
  readonly settings: S;
  /** Number of streams (members, frames) decoded. */
  readonly streams: number;
  /** Changes made even when the payload is unchanged (gzip's header fields). */
  readonly headerChanges?: readonly Change[];
  /** Things recompression drops besides joining streams ("2 skippable frames"). */
  readonly dropped?: string;
  /** Header fields for `detnorm diff`. */
  readonly meta: Readonly<Record<string, string | number>>;
}

export interface PayloadCodec<S> {
  readonly name: string;
  readonly description: string;
  readonly extensions: readonly string[];
  /** Content detection on the first bytes. */
  detect(head: Uint8Array): boolean;
  /** Name of the payload for nested detection: `x.tar.xz` -> `x.tar`, `x.txz` -> `x.tar`. */
  innerName(base: string): string;
  /**
   * Parse and verify every stream, writing the payload (all streams' data, concatenated) to
   * `payload`; or why the file is left alone. `again`: the same input was parsed and verified
   * before (the payload's bytes were already counted against the decompression budget).
   */
  parse(input: Source, ctx: Context, payload: Sink, again?: boolean): Promise<Parsed<S> | { untouched: string }>;
  /** Write the compressed streams for an unchanged payload; default: the input's bytes up to `end`. */
  writeUnchanged?(input: Source, parsed: Parsed<S>, output: Sink): Promise<void>;
  /**
   * A push encoder for a changed payload of exactly `size` bytes, writing into `output` as the
   * payload arrives (finish() ends the stream): the same bytes whatever sizes it is written in.
   */
  encoder(settings: S, size: number, output: Sink): Promise<EncodingSink>;
  /** The encoder must be told the payload's size before its first byte (zstd, lz4 frames). */
  readonly needsSize?: boolean;
  /** How `encoder` compresses, in words ("xz -6 (dict 8 MiB, check crc64), one block"). */
  describe(settings: S): string;
  /** A word for a stream in messages: "member", "stream", "frame". */
  readonly streamWord: string;
}

/** The base name of a path that may be nested (`a.deb!/data.tar.xz` -> `data.tar.xz`). */
export function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('!')) + 1);
}

/** `base` without `suffix` (case-insensitive) plus `replacement`, or undefined when it does not end so. */
export function replaceSuffix(base: string, suffix: string, replacement: string): string | undefined {
  return base.length > suffix.length && base.toLowerCase().endsWith(suffix) ? base.slice(0, -suffix.length) + replacement : undefined;
}

/** Payload name from a table of suffixes, tried in order: [['.txz', '.tar'], ['.xz', '']]. */
export function innerNameBySuffix(table: ReadonlyArray<readonly [string, string]>): (base: string) => string {
  return (base) => {
    for (const [s, r] of table) {
      const n = replaceSuffix(base, s, r);
      if (n !== undefined) return n;
    }
    return base;
  };
}

/** Compress `payload` with the codec's encoder into `output`; returns how, in words. */
export async function encodePayload<S>(codec: PayloadCodec<S>, payload: Source, settings: S, output: Sink): Promise<string> {
  await feedAndFinish(payload, await codec.encoder(settings, payload.size, output));
  return codec.describe(settings);
}

/** Parse and verify `input`, spilling the payload (for `detnorm diff` and containers that need it whole). */
export async function decodeToSpill<S>(codec: PayloadCodec<S>, input: Source, ctx: Context): Promise<{ parsed: Parsed<S>; payload: Source } | { untouched: string }> {
  const sink = ctx.spill();
  let parsed;
  try {
    parsed = await codec.parse(input, ctx, sink);
  } catch (e) {
    sink.release?.();
    throw e;
  }
  if ('untouched' in parsed) {
    sink.release?.();
    return parsed;
  }
  return { parsed, payload: await sink.close() };
}

/**
 * A sink that compares what it is given with `old` and opens its real target only at the first
 * byte that differs, copying the identical prefix from `old` first: an unchanged payload costs
 * no encoding, a changed one is never kept whole. finish() tells whether the bytes equal `old`
 * (when they do not, the target then holds all of them).
 */
export class DivergingSink implements Sink {
  private pos = 0;
  private target: Sink | undefined;
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  constructor(
    private readonly old: Source,
    private readonly open: () => Promise<Sink>,
  ) {}
  get length(): number {
    return this.pos;
  }
  async write(chunk: Uint8Array): Promise<void> {
    if (!chunk.length) return;
    if (!this.target) {
      if (await this.same(chunk)) {
        this.pos += chunk.length;
        return;
      }
      await this.diverge();
    }
    await this.target!.write(chunk);
    this.pos += chunk.length;
  }
  /** Does `old` hold `chunk` at the current position? (read through a window of CHUNK bytes) */
  private async same(chunk: Uint8Array): Promise<boolean> {
    if (this.pos + chunk.length > this.old.size) return false;
    for (let at = 0; at < chunk.length; ) {
      const p = this.pos + at;
      if (p < this.winStart || p >= this.winStart + this.win.length) {
        this.winStart = p;
        this.win = await this.old.read(p, Math.min(Math.max(CHUNK, chunk.length - at), this.old.size - p));
      }
      const off = p - this.winStart;
      const n = Math.min(chunk.length - at, this.win.length - off);
      if (!Buffer.from(this.win.buffer, this.win.byteOffset + off, n).equals(Buffer.from(chunk.buffer, chunk.byteOffset + at, n))) return false;
      at += n;
    }
    return true;
  }
  private async diverge(): Promise<void> {
    this.win = new Uint8Array(0);
    this.target = await this.open();
    await copyRange(this.old, 0, this.pos, this.target);
  }
  async finish(): Promise<boolean> {
    if (this.target) return false;
    if (this.pos === this.old.size) return true;
    await this.diverge();
    return false;
  }
}

/**
 * What the first pass keeps of a payload: its head and tail (for detection) and, while it fits
 * in `keepBytes`, all of it. A payload no handler claims is never kept whole anywhere.
 */
export class PayloadProbe implements Sink {
  private readonly headBuf = new Uint8Array(HEAD_BYTES);
  private headLen = 0;
  private tailChunks: Uint8Array[] = [];
  private tailLen = 0;
  // The payload's pieces while it fits in keepBytes: copied with slice() (a memcpy; BufferSink's
  // Uint8Array.from copy and its joining were a third of a --check of .gz files, issue 20), and
  // joined only when a handler claims the payload (bytes()).
  private whole: Uint8Array[] | undefined = [];
  private total = 0;
  constructor(private readonly keepBytes: number) {}
  get length(): number {
    return this.total;
  }
  async write(chunk: Uint8Array): Promise<void> {
    if (!chunk.length) return;
    this.total += chunk.length;
    if (this.headLen < HEAD_BYTES) {
      const n = Math.min(HEAD_BYTES - this.headLen, chunk.length);
      this.headBuf.set(chunk.subarray(0, n), this.headLen);
      this.headLen += n;
    }
    if (this.whole && this.total <= this.keepBytes) this.whole.push(chunk.slice());
    else this.whole = undefined;
    this.tailChunks.push(chunk.slice(Math.max(0, chunk.length - TAIL_BYTES)));
    this.tailLen += Math.min(chunk.length, TAIL_BYTES);
    while (this.tailChunks.length > 1 && this.tailLen - this.tailChunks[0]!.length >= TAIL_BYTES) this.tailLen -= this.tailChunks.shift()!.length;
  }
  /** The payload, when it was small enough to keep. */
  bytes(): Uint8Array | undefined {
    if (!this.whole) return undefined;
    if (this.whole.length !== 1) {
      const out = new Uint8Array(this.total);
      let at = 0;
      for (const c of this.whole) {
        out.set(c, at);
        at += c.length;
      }
      this.whole = [out];
    }
    return this.whole[0] ?? new Uint8Array(0);
  }
  /** What detection sees of the payload (as makeProbe gives it for a file of these bytes). */
  probe(name: string): Probe {
    const head = this.headBuf.subarray(0, this.headLen);
    const joined = Buffer.concat(this.tailChunks);
    const tail = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
    return { name, size: this.total, head, tail: this.total <= HEAD_BYTES ? head : tail };
  }
}

async function isAllZero(input: Source, from: number): Promise<boolean> {
  for (let at = from; at < input.size; at += 1 << 16) {
    const b = await input.read(at, Math.min(1 << 16, input.size - at));
    if (!b.every((x) => x === 0)) return false;
  }
  return true;
}

export function payloadHandler<S>(codec: PayloadCodec<S>): Handler {
  async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
    const first = new PayloadProbe(ctx.options.limits.spillBytes);
    const parsed = await codec.parse(input, ctx, first);
    if ('untouched' in parsed) return { status: 'untouched', reason: parsed.untouched };
    const name = codec.innerName(baseName(ctx.path));
    const changes: Change[] = [...(parsed.headerChanges ?? [])];
    // An unchanged payload keeps the compressed bytes; where the output is still the input (a
    // canonical file under --check) they are taken as the input's own bytes, not compared
    // (Sink.copyInput, issue 20).
    const copy = async (offset: number, length: number) => {
      if (!output.copyInput?.(offset, length)) await copyRange(input, offset, length, output);
    };
    const keep = () => (codec.writeUnchanged ? codec.writeUnchanged(input, parsed, output) : copy(0, parsed.end));
    const recompressed = (format: string, nested: readonly Change[]) => {
      const joined = parsed.streams > 1 ? `, ${parsed.streams} ${codec.streamWord}s joined into one` : '';
      const dropped = parsed.dropped ? `, ${parsed.dropped} dropped` : '';
      changes.push({ kind: 'compression', what: `payload (${format}) changed: recompressed with ${codec.describe(parsed.settings)}${joined}${dropped}` });
      changes.push(...nested);
    };
    /** The payload again, from a second pass, into a spill (only a claimed large payload gets here). */
    const spilled = async (): Promise<Source> => {
      const spill = ctx.spill();
      try {
        await codec.parse(input, ctx, spill, true);
      } catch (e) {
        spill.release?.();
        throw e;
      }
      return spill.close();
    };

    const claimed = ctx.claims ? ctx.claims(first.probe(name)) : true;
    // Joined only for a claimed payload: an unclaimed one (a .txt.gz) is never put in one piece.
    const small = claimed ? first.bytes() : undefined;
    if (!claimed) {
      await keep();
    } else if (small || !ctx.normalizeMemberInto) {
      const payload: Source = small ? new BufferSource(small) : await spilled();
      const nested = await ctx.normalizeMember(name, payload);
      payload.release?.();
      if (!nested.changed) await keep();
      else {
        await encodePayload(codec, nested.output, parsed.settings, output);
        nested.output.release?.();
        recompressed(nested.format, nested.changes);
      }
    } else {
      const payload = await spilled();
      let encoder: EncodingSink | undefined;
      let nested;
      try {
        nested = await ctx.normalizeMemberInto(name, payload, async (size) => (encoder = await codec.encoder(parsed.settings, size, output)));
      } finally {
        payload.release?.();
      }
      if (!nested.changed) await keep();
      else {
        await encoder!.finish();
        recompressed(nested.format, nested.changes);
      }
    }
    const trailing = input.size - parsed.end;
    if (trailing > 0) {
      await copy(parsed.end, trailing);
      const zeros = trailing <= 1 << 20 && (await isAllZero(input, parsed.end));
      ctx.notice(`${trailing} ${zeros ? 'zero bytes' : 'bytes of trailing data'} after the last ${codec.name} ${codec.streamWord} kept as they are`);
    }
    return { status: 'normalized', changes };
  }

  /** For `detnorm diff`: the payload as one member, with the first stream's header fields. */
  async function* members(input: Source, ctx: Context): AsyncIterable<MemberInfo> {
    const decoded = await decodeToSpill(codec, input, ctx);
    if ('untouched' in decoded) return;
    const { parsed, payload } = decoded;
    const meta: Record<string, string | number> = { ...parsed.meta, [`${codec.streamWord}s`]: parsed.streams };
    if (parsed.end < input.size) meta.trailing = input.size - parsed.end;
    yield { name: codec.innerName(baseName(ctx.path)), data: payload, type: 'file', meta };
  }

  /**
   * For `detnorm diff`: the first stream's header fields, the stream count, bytes after the
   * last stream, and the payloads as a member pair (the core compares them with whatever
   * handler detects them: a tar's member fields, a cpio's); when the payloads are equal, whether
   * the compressed streams still differ.
   */
  async function compare(a: Source, b: Source, ctx: Context): Promise<Comparison> {
    const da = await decodeToSpill(codec, a, ctx);
    if ('untouched' in da) throw new FormatError(da.untouched);
    const db = await decodeToSpill(codec, b, ctx);
    if ('untouched' in db) throw new FormatError(db.untouched);
    const [pa, pb] = [da.parsed, db.parsed];
    const differences: FieldDifference[] = [];
    const settings: string[] = [];
    for (const k of new Set([...Object.keys(pa.meta), ...Object.keys(pb.meta)])) {
      const [va, vb] = [pa.meta[k], pb.meta[k]];
      if (String(va) === String(vb)) continue;
      settings.push(k);
      differences.push({ kind: 'compression', field: `${codec.name} ${k}`, a: String(va ?? '(none)'), b: String(vb ?? '(none)') });
    }
    if (pa.streams !== pb.streams) {
      differences.push({
        kind: 'layout',
        field: `${codec.streamWord}s`,
        a: String(pa.streams),
        b: String(pb.streams),
        cause: `written as several concatenated ${codec.streamWord}s on one side (appended, or a parallel compressor)`,
      });
    }
    const [ta, tb] = [a.size - pa.end, b.size - pb.end];
    if (ta !== tb) differences.push({ kind: 'layout', field: `bytes after the last ${codec.streamWord}`, a: String(ta), b: String(tb) });
    const members: MemberPair[] = [];
    if (await sourcesEqual(da.payload, db.payload)) {
      const streams = [new SliceSource(a, 0, pa.end), new SliceSource(b, 0, pb.end)] as const;
      if (!(await sourcesEqual(...streams))) {
        differences.push({
          kind: 'compression',
          field: `${codec.name} data`,
          note: 'the same payload compressed differently',
          ...(settings.length ? { cause: `compressed with other settings (${settings.join(', ')} differ)` } : {}),
        });
      }
    } else members.push({ name: codec.innerName(baseName(ctx.path)), a: da.payload, b: db.payload });
    return { differences, members };
  }

  return {
    name: codec.name,
    description: codec.description,
    extensions: codec.extensions,
    detect: (probe) => codec.detect(probe.head),
    // Every byte of the input is read by parse() and again by keep() (or by the engine's
    // comparison): an input of up to limits.spillBytes is better read once, whole, and shared
    // (issue 20; gzip then inflates it in one call, formats/gzip/stream.ts inflateInMemory).
    wholeInput: true,
    normalize,
    members,
    compare,
  };
}
