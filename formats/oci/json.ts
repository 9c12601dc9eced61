// JSON (RFC 8259) for image manifests, indexes and configs, kept as an ordered tree so an
// unchanged document is written back as its original bytes (the caller keeps them) and a
// changed one gets one canonical serialization: keys sorted by their UTF-8 bytes, no
// whitespace, numbers as their original text, strings escaped as Go's encoding/json does
// (", \, control characters, and <, >, &, U+2028, U+2029 as \u00XX / \u20XX; other characters
// raw UTF-8), which is what the container tools written in Go produce for a map.
// Parsing is strict (no trailing commas, no comments, no duplicate keys, valid UTF-8) and
// iterative (deeply nested input cannot overflow the stack).
import { FormatError } from '../../src/types.js';

export class JsonNumber {
  /** The number's text as it appeared in the input (so int64 sizes keep every digit). */
  constructor(readonly text: string) {}
  /** The value when it is a safe non-negative integer, else undefined. */
  get uint(): number | undefined {
    if (!/^(0|[1-9]\d{0,15})$/.test(this.text)) return undefined;
    const n = Number(this.text);
    return Number.isSafeInteger(n) ? n : undefined;
  }
}

export class JsonObject {
  readonly entries: Array<[string, JsonValue]> = [];
  get(key: string): JsonValue | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    return undefined;
  }
  has(key: string): boolean {
    return this.entries.some(([k]) => k === key);
  }
  /** Replace the value of `key` in place, or append it. */
  set(key: string, value: JsonValue): void {
    for (const e of this.entries) {
      if (e[0] === key) {
        e[1] = value;
        return;
      }
    }
    this.entries.push([key, value]);
  }
  delete(key: string): void {
    const i = this.entries.findIndex(([k]) => k === key);
    if (i >= 0) this.entries.splice(i, 1);
  }
  getString(key: string): string | undefined {
    const v = this.get(key);
    return typeof v === 'string' ? v : undefined;
  }
  getObject(key: string): JsonObject | undefined {
    const v = this.get(key);
    return v instanceof JsonObject ? v : undefined;
  }
  getArray(key: string): JsonValue[] | undefined {
    const v = this.get(key);
    return Array.isArray(v) ? v : undefined;
  }
}

export type JsonValue = JsonObject | JsonValue[] | string | JsonNumber | boolean | null;

/** Largest JSON document we parse (manifests and configs are kilobytes). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 1000;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parse a JSON document; `what` names it in error messages. */
export function parseJson(bytes: Uint8Array, what: string): JsonValue {
  if (bytes.length > MAX_JSON_BYTES) throw new FormatError(`${what}: JSON of ${bytes.length} bytes is too large`);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new FormatError(`${what}: not valid UTF-8`);
  }
  if (text.charCodeAt(0) === 0xfeff) throw new FormatError(`${what}: JSON starts with a byte order mark`);
  return new Parser(text, what).document();
}

class Parser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly what: string,
  ) {}

  private fail(msg: string): never {
    throw new FormatError(`${this.what}: bad JSON at character ${this.i}: ${msg}`);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  document(): JsonValue {
    // Containers under construction: an object waiting for a value of `key`, or an array.
    type Frame = { obj: JsonObject; key: string; keys: Set<string> } | { arr: JsonValue[] };
    const stack: Frame[] = [];
    let result: JsonValue | undefined;
    const s = this.s;
    for (;;) {
      this.ws();
      // Parse one value (or open a container).
      let value: JsonValue | undefined;
      const c = s[this.i];
      if (c === '{') {
        this.i++;
        this.ws();
        const obj = new JsonObject();
        if (s[this.i] === '}') {
          this.i++;
          value = obj;
        } else {
          if (stack.length >= MAX_DEPTH) this.fail('nested too deeply');
          const key = this.key();
          stack.push({ obj, key, keys: new Set([key]) });
          continue;
        }
      } else if (c === '[') {
        this.i++;
        this.ws();
        if (s[this.i] === ']') {
          this.i++;
          value = [];
        } else {
          if (stack.length >= MAX_DEPTH) this.fail('nested too deeply');
          stack.push({ arr: [] });
          continue;
        }
      } else if (c === '"') value = this.string();
      else if (c === 't' && s.startsWith('true', this.i)) {
        this.i += 4;
        value = true;
      } else if (c === 'f' && s.startsWith('false', this.i)) {
        this.i += 5;
        value = false;
      } else if (c === 'n' && s.startsWith('null', this.i)) {
        this.i += 4;
        value = null;
      } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) value = this.number();
      else this.fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
      // Attach the value; close containers as far as they end here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (!top) {
          result = value;
          break;
        }
        if ('obj' in top) top.obj.entries.push([top.key, value!]);
        else top.arr.push(value!);
        this.ws();
        const d = s[this.i];
        if (d === ',') {
          this.i++;
          if ('obj' in top) {
            this.ws();
            const key = this.key();
            if (top.keys.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
            top.keys.add(key);
            top.key = key;
          }
          value = undefined;
          break;
        }
        if (('obj' in top && d === '}') || ('arr' in top && d === ']')) {
          this.i++;
          stack.pop();
          value = 'obj' in top ? top.obj : top.arr;
          continue;
        }
        this.fail(d === undefined ? 'unexpected end' : `expected "," or a closing bracket, got ${JSON.stringify(d)}`);
      }
      if (result !== undefined) break;
    }
    this.ws();
    if (this.i !== s.length) this.fail('data after the document');
    return result;
  }

  private key(): string {
    if (this.s[this.i] !== '"') this.fail('expected a key');
    const k = this.string();
    this.ws();
    if (this.s[this.i] !== ':') this.fail('expected ":"');
    this.i++;
    return k;
  }

  private string(): string {
    const s = this.s;
    this.i++;
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control character in a string');
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += s.slice(start, this.i);
      const e = s[this.i + 1];
      this.i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = s.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 4;
          break;
        }
        default:
          this.fail('bad escape');
      }
      start = this.i;
    }
  }

  private number(): JsonNumber {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('bad number');
    this.i += m[0].length;
    return new JsonNumber(m[0]);
  }
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const HEX = '0123456789abcdef';

/** A JSON string literal as Go's encoding/json writes it (HTML-safe escaping). */
export function quote(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c === 0x0a) esc = '\\n';
    else if (c === 0x0d) esc = '\\r';
    else if (c === 0x09) esc = '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) esc = `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    else if (c === 0x2028 || c === 0x2029) esc = `\\u202${HEX[c & 15]}`;
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate cannot be UTF-8: write it as Go writes invalid UTF-8 (U+FFFD).
      const pair = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (pair) {
        i++;
        continue;
      }
      esc = '\\ufffd';
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** The canonical serialization: sorted keys, compact, Go's escaping. Iterative. */
export function serializeCanonical(v: JsonValue): Uint8Array {
  return serialize(v, true);
}

/**
 * Compact serialization; `sortKeys` false keeps every object's key order (what Go's
 * json.Compact makes of a document; used where a tool hashes such text).
 */
export function serialize(v: JsonValue, sortKeys: boolean): Uint8Array {
  const parts: string[] = [];
  // A work list of values and literal text, processed front to back.
  const work: Array<JsonValue | { text: string }> = [v];
  const isText = (x: unknown): x is { text: string } => typeof x === 'object' && x !== null && !(x instanceof JsonObject) && !(x instanceof JsonNumber) && !Array.isArray(x);
  while (work.length) {
    const x = work.pop()!;
    if (isText(x)) parts.push(x.text);
    else if (x === null) parts.push('null');
    else if (x === true) parts.push('true');
    else if (x === false) parts.push('false');
    else if (typeof x === 'string') parts.push(quote(x));
    else if (x instanceof JsonNumber) parts.push(x.text);
    else if (Array.isArray(x)) {
      const seq: Array<JsonValue | { text: string }> = [{ text: '[' }];
      x.forEach((item, i) => {
        if (i) seq.push({ text: ',' });
        seq.push(item);
      });
      seq.push({ text: ']' });
      for (let i = seq.length - 1; i >= 0; i--) work.push(seq[i]!);
    } else {
      const sorted = sortKeys ? [...x.entries].sort((a, b) => utf8Compare(a[0], b[0])) : x.entries;
      const seq: Array<JsonValue | { text: string }> = [{ text: '{' }];
      sorted.forEach(([k, val], i) => {
        seq.push({ text: (i ? ',' : '') + quote(k) + ':' });
        seq.push(val);
      });
      seq.push({ text: '}' });
      for (let i = seq.length - 1; i >= 0; i--) work.push(seq[i]!);
    }
  }
  return Buffer.from(parts.join(''), 'utf8');
}

export function asObject(v: JsonValue, what: string): JsonObject {
  if (!(v instanceof JsonObject)) throw new FormatError(`${what}: expected a JSON object`);
  return v;
}
