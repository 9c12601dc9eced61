// gzip (RFC 1952), any number of members. Canonical form, per member: the header `gzip -n`
// writes (FLG 0, MTIME 0, XFL kept, OS 3; FEXTRA, FNAME, FCOMMENT and FHCRC removed), the
// compressed data copied raw, the CRC32/ISIZE trailer kept (both are verified). The payload
// (all members' data, concatenated) goes through ctx.normalizeMember (a .tgz payload is a
// tar; the shared mechanism of formats/compressed/payload.ts, which decides from the payload's
// head and tail whether to keep it at all); when it changes, it is recompressed with pako 2.1.0
// as one member at the level XFL indicates, deflated as it arrives. BGZF and dictzip files
// (FEXTRA block indexes) are left untouched; bytes after the last member (tape padding,
// appended data) are kept as they are and reported as a notice.
import { copyRange, sourcesEqual } from '../src/io.js';
import { FormatError, type Comparison, type Context, type FieldDifference, type Handler, type Sink, type Source } from '../src/types.js';
import { showTime } from './compare.js';
import { baseName, innerNameBySuffix, payloadHandler, type Parsed as PayloadParsed, type PayloadCodec } from './compressed/payload.js';
import {
  FCOMMENT,
  FEXTRA,
  FHCRC,
  FNAME,
  OS_UNIX,
  decodeHeader,
  decodeTrailer,
  encodeCanonicalHeader,
  encodeTrailer,
  extraSubfieldIds,
  isGzipMagic,
  levelForXfl,
  type GzipHeader,
} from './gzip/header.js';
import { DeflatingSink, inflateRaw } from './gzip/stream.js';
import { Tally } from './tally.js';

/** Longest header (FNAME + FCOMMENT) we accept before calling it malformed. */
const MAX_HEADER = 16 * 1024 * 1024;

interface Member {
  readonly start: number;
  readonly header: GzipHeader;
  /** First byte of the deflate data. */
  readonly dataStart: number;
  /** One past the trailer. */
  readonly end: number;
}

const gzipInner = innerNameBySuffix([
  ['.tgz', '.tar'],
  ['.svgz', '.svg'],
  ['.gz', ''],
]);

/** The payload's name for detection: `x.gz` -> `x`, `x.tgz` -> `x.tar`, `x.svgz` -> `x.svg`. */
export function innerName(path: string): string {
  return gzipInner(baseName(path));
}

async function readHeader(input: Source, at: number): Promise<GzipHeader> {
  for (let window = 64 * 1024; ; window *= 4) {
    const n = Math.min(window, input.size - at);
    const h = decodeHeader(await input.read(at, n), at, at + n >= input.size);
    if (h !== 'short') return h;
    if (window >= MAX_HEADER) throw new FormatError(`gzip member header at offset ${at} is longer than ${MAX_HEADER} bytes (unterminated FNAME or FCOMMENT)`);
  }
}

/** Why a member's FEXTRA makes the file one we must not rewrite, or undefined. */
function indexedExtra(h: GzipHeader): string | undefined {
  if (!h.extra) return undefined;
  const ids = extraSubfieldIds(h.extra) ?? [];
  if (ids.includes('BC')) return 'BGZF (blocked gzip): its block offsets are indexed elsewhere (.tbi/.csi/.gzi); left as it is';
  if (ids.includes('RA')) return 'dictzip: its FEXTRA holds the random-access chunk table; left as it is';
  return undefined;
}

function noteHeaderChanges(h: GzipHeader, t: Tally): void {
  if (h.mtime !== 0) t.add('timestamp', 'MTIME -> 0', `MTIME ${h.mtime} -> 0`);
  if (h.flags & FNAME) t.add('metadata', 'FNAME removed', `FNAME "${Buffer.from(h.name!).toString('latin1')}" removed`);
  if (h.flags & FCOMMENT) t.add('metadata', 'FCOMMENT removed');
  if (h.flags & FEXTRA) t.add('extra-field', 'FEXTRA removed', `FEXTRA removed (${h.extra!.length} bytes)`);
  if (h.flags & FHCRC) t.add('header', 'FHCRC removed');
  if (h.flags & 0x01) t.add('header', 'FTEXT flag cleared');
  if (h.os !== OS_UNIX) t.add('header', 'OS -> 3', `OS ${h.os} -> 3`);
}

interface Parsed {
  readonly members: readonly Member[];
  /** Offset just past the last member. */
  readonly end: number;
}

/**
 * Parse and verify every member (header, deflate data, CRC32 and ISIZE), writing the payload
 * (all members' data, concatenated) to `payload`; or the reason to leave the file alone. With
 * `charge`, the payload's bytes count against the file's decompression budget.
 */
async function parseMembers(input: Source, ctx: Context, payload: Sink, charge: boolean): Promise<Parsed | { untouched: string }> {
  if (input.size === 0) throw new FormatError('empty file (0 bytes), not a gzip stream');
  const magic = await input.read(0, Math.min(3, input.size));
  if (!isGzipMagic(magic)) throw new FormatError('not a gzip file: bad magic at offset 0');
  const members: Member[] = [];
  const onOutput = charge && ctx.expand ? (n: number) => ctx.expand!(n, 'gzip payload') : undefined;
  let pos = 0;
  while (pos < input.size) {
    if (members.length > 0) {
      const next = await input.read(pos, Math.min(2, input.size - pos));
      if (next.length < 2 || next[0] !== 0x1f || next[1] !== 0x8b) break;
    }
    const name = `gzip member ${members.length + 1} at offset ${pos}`;
    const header = await readHeader(input, pos);
    const indexed = indexedExtra(header);
    if (indexed) return { untouched: indexed };
    const dataStart = pos + header.length;
    const inflated = await inflateRaw(input, dataStart, payload, ctx.options.limits, name, onOutput);
    if (input.size - inflated.end < 8) throw new FormatError(`truncated trailer of ${name}: need 8 bytes at ${inflated.end}, ${input.size - inflated.end} left`);
    const trailer = decodeTrailer(await input.read(inflated.end, 8));
    if (trailer.crc !== inflated.crc) {
      throw new FormatError(`bad CRC32 in ${name}: trailer says ${hex(trailer.crc)}, data gives ${hex(inflated.crc)}`);
    }
    if (trailer.isize !== inflated.size % 0x100000000) {
      throw new FormatError(`bad ISIZE in ${name}: trailer says ${trailer.isize}, data gives ${inflated.size}`);
    }
    members.push({ start: pos, header, dataStart, end: inflated.end + 8 });
    pos = inflated.end + 8;
  }
  return { members, end: pos };
}

/** Parse and verify every member, spilling the payload (for `detnorm diff`). */
async function parse(input: Source, ctx: Context): Promise<(Parsed & { payload: Source }) | { untouched: string }> {
  const sink = ctx.spill();
  const parsed = await parseMembers(input, ctx, sink, true);
  if ('untouched' in parsed) return parsed;
  return { ...parsed, payload: await sink.close() };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** What an OS byte says about the writer (RFC 1952 section 2.3.1; 255 is what Python's gzip module writes). */
const GZIP_OS: Record<number, string> = {
  0: 'FAT (MS-DOS, Windows tools)',
  3: 'Unix',
  7: 'Macintosh',
  10: 'TOPS-20',
  11: 'NTFS (Windows tools)',
  255: "unknown: Python's gzip module writes it",
};
const osText = (os: number) => `${os} (${GZIP_OS[os] ?? 'another OS'})`;
const XFL: Record<number, string> = { 0: '0', 2: '2 (maximum compression)', 4: '4 (fastest)' };
const latin1 = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('latin1') : undefined);

/** For `detnorm diff`: the header fields of each member, the deflate streams, and the payload. */
async function compare(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const [pa, pb] = [await parse(a, ctx), await parse(b, ctx)];
  if ('untouched' in pa || 'untouched' in pb) throw new FormatError(('untouched' in pa ? pa : (pb as { untouched: string })).untouched);
  const out: FieldDifference[] = [];
  const [ha, hb] = [pa.members[0]!.header, pb.members[0]!.header];
  const field = (kind: FieldDifference['kind'], name: string, va: string | undefined, vb: string | undefined, cause?: string) => {
    if (va !== vb) out.push({ kind, field: name, a: va ?? '(none)', b: vb ?? '(none)', ...(cause ? { cause } : {}) });
  };
  const [na, nb] = [latin1(ha.name), latin1(hb.name)];
  const mtimeCause = na !== undefined || nb !== undefined
    ? 'gzip stores the input file\'s mtime and name unless -n is given'
    : 'MTIME is the input file\'s mtime or the time of compression (gzip without -n; Python\'s gzip without mtime=0)';
  field('timestamp', 'MTIME', ha.mtime ? showTime(ha.mtime) : '0', hb.mtime ? showTime(hb.mtime) : '0', mtimeCause);
  if (ha.os !== hb.os) {
    const other = ([['A', ha.os], ['B', hb.os]] as const).filter(([, os]) => os !== 3);
    const who = other.map(([side, os]) => `${side} was written ${os === 255 ? "by Python's gzip module (OS 255)" : `on ${GZIP_OS[os] ?? `OS ${os}`}`}`);
    const unix = ([['A', ha.os], ['B', hb.os]] as const).filter(([, os]) => os === 3).map(([side]) => `${side} by a Unix gzip (OS 3)`);
    field('header', 'OS byte', osText(ha.os), osText(hb.os), `another OS or tool: ${[...who, ...unix].join(', ')}`);
  }
  field('compression', 'XFL (level hint)', XFL[ha.xfl] ?? String(ha.xfl), XFL[hb.xfl] ?? String(hb.xfl), 'compressed at another level (-9 writes 2, -1 writes 4)');
  field('metadata', 'FNAME', na, nb, 'gzip stores the input file\'s name unless -n is given');
  field('metadata', 'FCOMMENT', latin1(ha.comment), latin1(hb.comment));
  field('extra-field', 'FEXTRA', ha.extra ? `${ha.extra.length} bytes` : undefined, hb.extra ? `${hb.extra.length} bytes` : undefined);
  field('header', 'FLG (FTEXT, FHCRC)', String(ha.flags & 0x03), String(hb.flags & 0x03));
  field('layout', 'members', String(pa.members.length), String(pb.members.length), 'written as several concatenated gzip members on one side (appended, or a parallel gzip)');
  field('layout', 'bytes after the last member', String(a.size - pa.end), String(b.size - pb.end));
  const members = [];
  if (await sourcesEqual(pa.payload, pb.payload)) {
    // The same data: if the files still differ outside their headers, the deflate streams do.
    const streams = async (s: Source, p: Parsed) => {
      const parts = await Promise.all(p.members.map((m) => s.read(m.dataStart, m.end - m.dataStart)));
      return Buffer.concat(parts);
    };
    if (pa.members.length === pb.members.length && !(await streams(a, pa)).equals(await streams(b, pb))) {
      const tool = ha.os !== hb.os ? 'another tool (see the OS byte): ' : ha.xfl !== hb.xfl ? 'another level (see XFL): ' : '';
      out.push({ kind: 'compression', field: 'deflate stream', note: 'the same data compressed differently', cause: `${tool}another deflate implementation or level (GNU gzip, zlib, pigz and Python differ)` });
    }
  } else members.push({ name: innerName(ctx.path), a: pa.payload, b: pb.payload });
  return { differences: out, members };
}

/** gzip through the shared payload mechanism: settings = the first member's XFL. */
export const gzipCodec: PayloadCodec<number> & { members?: readonly Member[] } = {
  name: 'gzip',
  description: 'gzip (RFC 1952), every member: header as gzip -n writes it (MTIME 0, OS 3, no name/comment/extra); payload nested',
  extensions: ['.gz', '.tgz', '.svgz'],
  streamWord: 'member',
  detect: isGzipMagic,
  innerName: gzipInner,
  async parse(input, ctx, sink, again) {
    const parsed = await parseMembers(input, ctx, sink, !again);
    if ('untouched' in parsed) return parsed;
    const tally = new Tally();
    for (const m of parsed.members) noteHeaderChanges(m.header, tally);
    const h = parsed.members[0]!.header;
    const meta: Record<string, string | number> = { mtime: h.mtime, os: h.os, xfl: h.xfl, flags: h.flags };
    if (h.name) meta.fname = Buffer.from(h.name).toString('latin1');
    return {
      end: parsed.end,
      settings: h.xfl,
      streams: parsed.members.length,
      headerChanges: tally.changes(),
      meta,
      members: parsed.members,
    } as PayloadParsed<number> & { members: readonly Member[] };
  },
  async writeUnchanged(input, parsed, output) {
    for (const m of (parsed as PayloadParsed<number> & { members: readonly Member[] }).members) {
      await output.write(encodeCanonicalHeader(m.header.xfl));
      // Where the output is still the input (a canonical file: --check), the member's data is
      // taken as the input's own bytes without comparing them (Sink.copyInput, issue 20).
      if (!output.copyInput?.(m.dataStart, m.end - m.dataStart)) await copyRange(input, m.dataStart, m.end - m.dataStart, output);
    }
  },
  async encoder(xfl, _size, output) {
    // One member: the canonical header, the payload deflated by pako as it arrives, the trailer.
    await output.write(encodeCanonicalHeader(xfl));
    const deflater = new DeflatingSink(levelForXfl(xfl), output);
    return {
      get length() {
        return deflater.length;
      },
      write: (chunk) => deflater.write(chunk),
      async finish() {
        const { crc, size } = await deflater.finish();
        await output.write(encodeTrailer(crc, size));
      },
    };
  },
  describe: (xfl) => `pako deflate level ${levelForXfl(xfl)}`,
};

export const gzipHandler: Handler = { ...payloadHandler(gzipCodec), compare };
