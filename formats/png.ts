// PNG (W3C PNG spec, 3rd edition; RFC 2083). Canonicalizes the times a writer leaves:
// - tIME chunk: set to T (clamp honoured); removed when there is no T.
// - tEXt/zTXt/iTXt chunks whose keyword is a date (ImageMagick's `date:create`, `date:modify`,
//   `date:timestamp`, ..., and the spec's `Creation Time`): value set to T in the same format
//   family (ISO 8601 as `2015-02-05T18:09:31-00:00`, RFC 1123 as `Thu, 05 Feb 2015 18:09:31
//   +0000`), same chunk type and compression; removed when there is no T.
// Rewritten chunks get their CRC recomputed; every other chunk, and anything after IEND, is
// copied byte for byte (streamed: a chunk is never held whole unless it is one we rewrite).
// Chunks we reinterpret must have a correct CRC; a chunk running past the end of the file, or
// a file without IEND, is a FormatError (the file stays untouched).
import { crc32 } from './crc32.js';
import { formatIsoUnknownOffset, formatRfc1123, epochOf, looksIso, parseIso, parseRfc1123, civil } from './dates.js';
import { decodeText, encodeText, keywordOf, type TextChunk } from './png/text.js';
import { copyRange } from '../src/io.js';
import { canonicalTime } from '../src/time.js';
import { FormatError, type Change, type Context, type Handler, type HandlerResult, type Probe, type Sink, type Source } from '../src/types.js';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** A date chunk larger than this is not a date: refuse rather than guess. */
const MAX_DATE_CHUNK = 4096;
const MAX_CHUNK_LENGTH = 0x7fffffff;

export function isDateKeyword(keyword: string): boolean {
  return keyword.startsWith('date:') || keyword === 'Creation Time';
}

/** A complete chunk: length, type, data, CRC. */
export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function encodeTime(epoch: number): Uint8Array {
  const c = civil(epoch);
  const d = new Uint8Array(7);
  new DataView(d.buffer).setUint16(0, c.year);
  d.set([c.month, c.day, c.hour, c.minute, c.second], 2);
  return d;
}

export function decodeTime(d: Uint8Array): number | undefined {
  const dv = new DataView(d.buffer, d.byteOffset, d.length);
  return epochOf(dv.getUint16(0), d[2]!, d[3]!, d[4]!, d[5]!, d[6]!);
}

/** Parse a date value in either family; `iso` says which family to write it back in. */
export function parseDateText(keyword: string, value: string): { epoch: number | undefined; iso: boolean } {
  const iso = keyword.startsWith('date:') || looksIso(value);
  return { epoch: iso ? parseIso(value) : parseRfc1123(value), iso };
}

class Counter {
  private readonly n = new Map<string, { kind: Change['kind']; count: number }>();
  add(what: string, kind: Change['kind'] = 'timestamp'): void {
    const e = this.n.get(what);
    if (e) e.count++;
    else this.n.set(what, { kind, count: 1 });
  }
  changes(): Change[] {
    // Insertion order is the order of first occurrence in the file: deterministic.
    return [...this.n].map(([what, e]) => ({ kind: e.kind, what, ...(e.count > 1 ? { count: e.count } : {}) }));
  }
}

async function readChunkData(input: Source, pos: number, len: number, type: string): Promise<Uint8Array> {
  const body = await input.read(pos + 4, 4 + len + 4); // type, data, CRC
  const want = new DataView(body.buffer, body.byteOffset + 4 + len, 4).getUint32(0);
  if (crc32(body.subarray(0, 4 + len)) !== want) throw new FormatError(`bad CRC in ${type} chunk at offset ${pos}`);
  return body.subarray(4, 4 + len);
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const size = input.size;
  if (size < 8 || Buffer.compare(await input.read(0, 8), PNG_SIGNATURE) !== 0) throw new FormatError('not a PNG signature');
  await output.write(PNG_SIGNATURE);
  const T = ctx.options.timestamp;
  const counter = new Counter();
  let pos = 8;
  for (;;) {
    if (pos === size) throw new FormatError(`no IEND chunk (file ends at offset ${size})`);
    if (size - pos < 12) throw new FormatError(`truncated chunk header at offset ${pos}`);
    const hdr = await input.read(pos, 8);
    const len = new DataView(hdr.buffer, hdr.byteOffset, 8).getUint32(0);
    const type = Buffer.from(hdr.subarray(4, 8)).toString('latin1');
    if (!/^[A-Za-z]{4}$/.test(type)) throw new FormatError(`invalid chunk type at offset ${pos}`);
    if (len > MAX_CHUNK_LENGTH) throw new FormatError(`${type} chunk at offset ${pos}: length ${len} exceeds 2^31-1`);
    if (len + 12 > size - pos) {
      throw new FormatError(`${type} chunk at offset ${pos}: length ${len} runs past the end of the file (${size} bytes)`);
    }
    const whole = 12 + len;
    if (type === 'tIME') {
      if (len !== 7) throw new FormatError(`tIME chunk at offset ${pos}: length ${len}, want 7`);
      const data = await readChunkData(input, pos, len, type);
      if (T === undefined) {
        counter.add('tIME removed');
      } else {
        const t = canonicalTime(ctx.options, decodeTime(data), T);
        const chunk = encodeChunk('tIME', encodeTime(t));
        await output.write(chunk);
        if (Buffer.compare(chunk.subarray(8, 15), data) !== 0) counter.add(`tIME -> ${formatIsoUnknownOffset(t)}`);
      }
    } else if ((type === 'tEXt' || type === 'zTXt' || type === 'iTXt') && isDateKeyword(keywordOf(await input.read(pos + 8, Math.min(len, 80))) ?? '')) {
      const where = `${type} chunk at offset ${pos}`;
      if (len > MAX_DATE_CHUNK) throw new FormatError(`${where}: ${len} bytes is too long for a date`);
      const data = await readChunkData(input, pos, len, type);
      const text: TextChunk = decodeText(type, data, where);
      if (T === undefined) {
        counter.add(`${type} "${text.keyword}" removed`);
      } else {
        const { epoch, iso } = parseDateText(text.keyword, text.value);
        const t = canonicalTime(ctx.options, epoch, T);
        if (epoch !== undefined && t === epoch) {
          await copyRange(input, pos, whole, output); // clamped: kept as written
        } else {
          const value = iso ? formatIsoUnknownOffset(t) : formatRfc1123(t);
          const fresh = encodeText({ ...text, value });
          if (Buffer.compare(fresh, data) === 0) {
            await copyRange(input, pos, whole, output);
          } else {
            await output.write(encodeChunk(type, fresh));
            counter.add(`${type} "${text.keyword}" -> ${value}`);
          }
        }
      }
    } else {
      await copyRange(input, pos, whole, output);
    }
    pos += whole;
    if (type === 'IEND') break;
  }
  if (pos < size) {
    ctx.notice(`${size - pos} bytes after IEND kept as they are`);
    await copyRange(input, pos, size - pos, output);
  }
  return { status: 'normalized', changes: counter.changes() };
}

export const pngHandler: Handler = {
  name: 'png',
  description: 'PNG images: tIME and date text chunks (date:create, Creation Time, ...) set to T',
  extensions: ['.png'],
  detect(probe: Probe): boolean {
    return probe.head.length >= 8 && Buffer.compare(probe.head.subarray(0, 8), PNG_SIGNATURE) === 0;
  },
  normalize,
};
