// A stream of JSON objects, one after another: Bazel's --execution_log_json_file (pretty-printed
// objects back to back in Bazel 4 to 6, one per line later) and the JSON worker protocol. The
// splitter works on bytes (braces and quotes are ASCII, so UTF-8 needs no decoding to find the
// ends), holds at most one object plus one chunk, and names the byte offset of what is wrong.
import { ProtoError } from './protobuf.js';

/** A JSON value that is not an object, or a broken one: the error names its absolute offset. */
export class JsonStreamError extends ProtoError {
  override name = 'JsonStreamError';
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

export class JsonObjectSplitter {
  private pending: Uint8Array = new Uint8Array(0);
  /** Absolute offset of pending[0]. */
  private base = 0;
  /** Scan state at pending[scanned]: depth, inside a string, after a backslash. */
  private scanned = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  constructor(private readonly maxObject = 1 << 30) {}

  /** The complete objects in the bytes so far, parsed, with the offset each starts at. */
  push(chunk: Uint8Array): Array<{ value: Record<string, unknown>; offset: number }> {
    let buf: Uint8Array;
    if (this.pending.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    const out: Array<{ value: Record<string, unknown>; offset: number }> = [];
    let start = 0; // start of the object being scanned (or of the unscanned top level)
    let i = this.scanned;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.depth === 0) {
        if (SPACE.has(c)) {
          start = i + 1;
          continue;
        }
        if (c !== 0x7b) throw new JsonStreamError(`expected a JSON object ('{'), found ${describe(c)}`, this.base + i);
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 0x5c) this.escape = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (--this.depth === 0) {
          out.push({ value: parseObject(buf.subarray(start, i + 1), this.base + start), offset: this.base + start });
          start = i + 1;
        }
      }
      if (this.depth > 0 && i + 1 - start > this.maxObject) throw new JsonStreamError(`JSON object larger than ${this.maxObject} bytes`, this.base + start);
    }
    // A copy: `chunk` may be a Buffer the caller reuses, and Buffer#slice would be a view of it.
    this.pending = Uint8Array.prototype.slice.call(buf, start);
    this.base += start;
    this.scanned = i - start;
    return out;
  }

  /** Throws when the stream ended inside an object. */
  end(): void {
    if (this.depth > 0) throw new JsonStreamError(`truncated JSON object (${this.pending.length} bytes, ${this.depth} unclosed)`, this.base);
  }
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function parseObject(bytes: Uint8Array, offset: number): Record<string, unknown> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as Error).message;
    // Some V8 versions say "at position N": then the exact byte; else the object's first byte.
    const m = /position (\d+)/.exec(msg);
    const what = msg.split(/, "|, \.\.\.| in JSON at| is not valid JSON|\n/)[0]!.trim();
    if (m) throw new JsonStreamError(`invalid JSON: ${what}`, offset + Buffer.byteLength(text.slice(0, Number(m[1]))));
    throw new JsonStreamError(`invalid JSON (${what}) in the object that starts`, offset);
  }
}
