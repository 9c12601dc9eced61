// Java .properties files (java.util.Properties.store/load, JDK 8-21). store() writes the
// caller's comments, then `#` + Date.toString() (`#Mon Feb 09 12:34:56 UTC 2015`: the build
// time), then the entries. That date line is removed, nothing else: keys, values, other
// comments, encoding and line endings stay byte for byte. Only the leading comment block is
// looked at (lines starting with # or !, and blank lines, before the first entry). Every line
// of the date shape in that block goes, so a second run finds nothing to do even when a
// caller's own comment had the same shape (removing only one would not be idempotent).
// This is the general handler: standalone files, and members of jars (pom.properties,
// version.properties) reached through ctx.normalizeMember from the zip handler.
import { copyRange } from '../src/io.js';
import { type Context, type Handler, type HandlerResult, type Probe, type Sink, type Source } from '../src/types.js';

/** The leading comment block is looked for in this many bytes. */
const HEAD_MAX = 64 * 1024;
const DATE_LINE = /^#(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-3]\d [0-2]\d:[0-5]\d:[0-6]\d [A-Za-z][A-Za-z0-9_+\-:/]* \d{4}[ \t]*$/;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/**
 * Split the leading comment block of `text` into lines (with their terminators). Returns the
 * lines and where the block ends. When `complete` is false, a last line without terminator
 * is not part of the block (it may continue past what was read).
 */
function leadingBlock(text: string, complete: boolean): { lines: string[]; end: number } {
  const lines: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = -1;
    for (let i = at; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) end = i + 1;
      else if (c === 13) {
        // A \r at the end of what was read may be the first half of \r\n.
        if (i + 1 === text.length && !complete) return { lines, end: at };
        end = text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
      }
      if (end >= 0) break;
    }
    if (end < 0) {
      if (!complete) break;
      end = text.length;
    }
    const line = text.slice(at, end);
    if (!/^\s*([#!]|$)/.test(line.replace(/[\r\n]+$/, ''))) break;
    lines.push(line);
    at = end;
  }
  return { lines, end: at };
}

function isDateLine(line: string): boolean {
  return DATE_LINE.test(line.replace(/[\r\n]+$/, ''));
}

/** True when the leading comment block of this text holds a Properties.store date line. */
export function hasDateComment(text: string, complete: boolean): boolean {
  return leadingBlock(text, complete).lines.some(isDateLine);
}

/** The text without the date lines of its leading comment block. */
export function removeDateLines(text: string, complete = true): { text: string; removed: number } {
  const { lines, end } = leadingBlock(text, complete);
  const kept = lines.filter((l) => !isDateLine(l));
  return { text: kept.join('') + text.slice(end), removed: lines.length - kept.length };
}

async function normalize(input: Source, output: Sink, _ctx: Context): Promise<HandlerResult> {
  const n = Math.min(input.size, HEAD_MAX);
  const complete = n === input.size;
  const text = latin1(await input.read(0, n));
  const { lines, end } = leadingBlock(text, complete);
  const kept = lines.filter((l) => !isDateLine(l));
  await output.write(Buffer.from(kept.join(''), 'latin1'));
  await copyRange(input, end, input.size - end, output);
  const removed = lines.length - kept.length;
  return {
    status: 'normalized',
    changes: removed ? [{ kind: 'timestamp', what: 'Properties.store date comment removed', ...(removed > 1 ? { count: removed } : {}) }] : [],
  };
}

export const javaPropertiesHandler: Handler = {
  name: 'javaproperties',
  description: 'Java .properties files: the date comment Properties.store writes removed',
  extensions: [],
  detect(probe: Probe): boolean {
    return /\.properties$/i.test(probe.name) && hasDateComment(latin1(probe.head), probe.head.length === probe.size);
  },
  normalize,
};
