// PNG textual chunks (PNG spec, 3rd ed., 11.3.3): tEXt, zTXt, iTXt. Decode one into keyword +
// value (plus what is needed to write it back in the same form) and encode it again. Pure.
import pako from 'pako';
import { FormatError } from '../../src/types.js';

/** Largest decompressed text accepted for a date chunk (a date is a few dozen bytes). */
export const MAX_DATE_TEXT = 4096;

export interface TextChunk {
  readonly type: 'tEXt' | 'zTXt' | 'iTXt';
  readonly keyword: string; // Latin-1
  readonly value: string; // tEXt/zTXt: Latin-1; iTXt: UTF-8
  /** iTXt only: compression flag, language tag and translated keyword (raw bytes). */
  readonly compressed?: boolean;
  readonly language?: Uint8Array;
  readonly translated?: Uint8Array;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/** The keyword of a textual chunk from its first bytes, or undefined when there is no NUL in 80 bytes. */
export function keywordOf(firstBytes: Uint8Array): string | undefined {
  const nul = firstBytes.subarray(0, 80).indexOf(0);
  return nul < 1 ? undefined : latin1(firstBytes.subarray(0, nul));
}

function inflateBounded(data: Uint8Array, what: string): Uint8Array {
  const inf = new pako.Inflate();
  let total = 0;
  const parts: Uint8Array[] = [];
  inf.onData = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total <= MAX_DATE_TEXT) parts.push(chunk);
  };
  inf.push(data, true);
  if (inf.err) throw new FormatError(`${what}: bad compressed text (${inf.msg})`);
  if (total > MAX_DATE_TEXT) throw new FormatError(`${what}: compressed text expands past ${MAX_DATE_TEXT} bytes`);
  return Buffer.concat(parts);
}

/** Decode a textual chunk's data. `where` names it in errors. */
export function decodeText(type: TextChunk['type'], data: Uint8Array, where: string): TextChunk {
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79) throw new FormatError(`${where}: keyword not terminated`);
  const keyword = latin1(data.subarray(0, nul));
  const rest = data.subarray(nul + 1);
  if (type === 'tEXt') return { type, keyword, value: latin1(rest) };
  if (type === 'zTXt') {
    if (rest.length < 1 || rest[0] !== 0) throw new FormatError(`${where}: unknown compression method`);
    return { type, keyword, value: latin1(inflateBounded(rest.subarray(1), where)) };
  }
  if (rest.length < 2) throw new FormatError(`${where}: truncated iTXt header`);
  const flag = rest[0]!;
  if (flag > 1 || rest[1] !== 0) throw new FormatError(`${where}: unknown iTXt compression ${flag}/${rest[1]}`);
  const langEnd = rest.indexOf(0, 2);
  const trEnd = langEnd < 0 ? -1 : rest.indexOf(0, langEnd + 1);
  if (trEnd < 0) throw new FormatError(`${where}: truncated iTXt header`);
  const text = rest.subarray(trEnd + 1);
  const raw = flag ? inflateBounded(text, where) : text;
  return {
    type,
    keyword,
    value: Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('utf8'),
    compressed: flag === 1,
    language: rest.slice(2, langEnd),
    translated: rest.slice(langEnd + 1, trEnd),
  };
}

/** Encode a textual chunk's data (compressed text with pako at zlib's default level). */
export function encodeText(c: TextChunk): Uint8Array {
  const kw = Buffer.from(c.keyword, 'latin1');
  if (c.type === 'tEXt') return Buffer.concat([kw, Buffer.of(0), Buffer.from(c.value, 'latin1')]);
  if (c.type === 'zTXt') return Buffer.concat([kw, Buffer.of(0, 0), pako.deflate(Buffer.from(c.value, 'latin1'))]);
  const utf8 = Buffer.from(c.value, 'utf8');
  return Buffer.concat([
    kw,
    Buffer.of(0, c.compressed ? 1 : 0, 0),
    c.language ?? new Uint8Array(0),
    Buffer.of(0),
    c.translated ?? new Uint8Array(0),
    Buffer.of(0),
    c.compressed ? pako.deflate(utf8) : utf8,
  ]);
}
