// One decompress / recompress mechanism for every single-payload compressor (gzip, xz, zstd,
// bzip2, lz4). A codec parses and verifies its streams, spilling the decompressed payload; the
// payload goes through ctx.normalizeMember (a .tar.xz holds a tar, a .cpio.zst a cpio). When the
// payload comes back unchanged, the compressed bytes are kept as they are (gzip rewrites only
// its member headers); when it changed, the codec recompresses it with its pinned encoder and the
// settings its parser read from the input's headers. Bytes after the last stream are kept.
import { copyRange } from '../../src/io.js';
import type { Change, Context, Handler, HandlerResult, MemberInfo, Sink, Source } from '../../src/types.js';

export interface Parsed<S> {
  /** Offset just past the last stream; what follows is kept as it is. */
  readonly end: number;
  /** All streams' payloads, concatenated. */
  readonly payload: Source;
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
  /** Parse and verify every stream, decoding the payload into ctx.spill(); or why not. */
  parse(input: Source, ctx: Context): Promise<Parsed<S> | { untouched: string }>;
  /** Write the compressed streams for an unchanged payload; default: the input's bytes up to `end`. */
  writeUnchanged?(input: Source, parsed: Parsed<S>, output: Sink): Promise<void>;
  /** Compress a changed payload; returns how, in words ("xz -6 (dict 8 MiB, check crc64), one block"). */
  encode(payload: Source, settings: S, output: Sink): Promise<string>;
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

async function isAllZero(input: Source, from: number): Promise<boolean> {
  for (let at = from; at < input.size; at += 1 << 16) {
    const b = await input.read(at, Math.min(1 << 16, input.size - at));
    if (!b.every((x) => x === 0)) return false;
  }
  return true;
}

export function payloadHandler<S>(codec: PayloadCodec<S>): Handler {
  async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
    const parsed = await codec.parse(input, ctx);
    if ('untouched' in parsed) return { status: 'untouched', reason: parsed.untouched };
    const nested = await ctx.normalizeMember(codec.innerName(baseName(ctx.path)), parsed.payload);
    const changes: Change[] = [...(parsed.headerChanges ?? [])];
    if (!nested.changed) {
      if (codec.writeUnchanged) await codec.writeUnchanged(input, parsed, output);
      else await copyRange(input, 0, parsed.end, output);
    } else {
      const how = await codec.encode(nested.output, parsed.settings, output);
      const joined = parsed.streams > 1 ? `, ${parsed.streams} ${codec.streamWord}s joined into one` : '';
      const dropped = parsed.dropped ? `, ${parsed.dropped} dropped` : '';
      changes.push({ kind: 'compression', what: `payload (${nested.format}) changed: recompressed with ${how}${joined}${dropped}` });
      changes.push(...nested.changes);
    }
    const trailing = input.size - parsed.end;
    if (trailing > 0) {
      await copyRange(input, parsed.end, trailing, output);
      const zeros = trailing <= 1 << 20 && (await isAllZero(input, parsed.end));
      ctx.notice(`${trailing} ${zeros ? 'zero bytes' : 'bytes of trailing data'} after the last ${codec.name} ${codec.streamWord} kept as they are`);
    }
    return { status: 'normalized', changes };
  }

  /** For `detnorm diff`: the payload as one member, with the first stream's header fields. */
  async function* members(input: Source, ctx: Context): AsyncIterable<MemberInfo> {
    const parsed = await codec.parse(input, ctx);
    if ('untouched' in parsed) return;
    const meta: Record<string, string | number> = { ...parsed.meta, [`${codec.streamWord}s`]: parsed.streams };
    if (parsed.end < input.size) meta.trailing = input.size - parsed.end;
    yield { name: codec.innerName(baseName(ctx.path)), data: parsed.payload, type: 'file', meta };
  }

  return {
    name: codec.name,
    description: codec.description,
    extensions: codec.extensions,
    detect: (probe) => codec.detect(probe.head),
    normalize,
    members,
  };
}
