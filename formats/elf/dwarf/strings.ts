// Canonical string tables for .debug_str and .debug_line_str. gcc lays these out in an
// order that depends on the text (a hash), so two builds mapped to one path still differ; the
// linker then merges tails. We rebuild each table from the set of strings that something
// references: strings that are a suffix of another share its tail (as ld's SHF_MERGE does),
// the rest are written in the bytewise order of their reversed text (the order in which the
// shared tails are found). The result depends on the set of strings alone.
import { FormatError } from '../../../src/types.js';

/** Strings are handled as latin1 JS strings: one char per byte, so `<` is bytewise order. */
export function readCString(table: Uint8Array, offset: number, what: string): string {
  if (offset >= table.length) throw new FormatError(`${what}: string offset ${offset} is outside the table (${table.length} bytes)`);
  const nul = table.indexOf(0, offset);
  if (nul < 0) throw new FormatError(`${what}: string at ${offset} is not terminated`);
  const b = Buffer.isBuffer(table) ? table : Buffer.from(table.buffer, table.byteOffset, table.length);
  return b.toString('latin1', offset, nul);
}

export interface StringTable {
  readonly bytes: Uint8Array;
  readonly offsetOf: Map<string, number>;
}

export function buildStringTable(strings: Iterable<string>): StringTable {
  const distinct = [...new Set(strings)];
  // Sorted by reversed text, a string that is a suffix of any other is a suffix of its
  // successor: it shares that string's tail. The kept strings are written in the same order
  // (one sort, native string comparisons on the reversed texts).
  // All reversed at once: reversing "a\0b\0c" gives "c'\0b'\0a'".
  const all = Buffer.from(distinct.join('\0'), 'latin1');
  all.reverse();
  const rev = all.toString('latin1').split('\0').reverse();
  const order = distinct.map((_, i) => i).sort((a, b) => (rev[a]! < rev[b]! ? -1 : rev[a]! > rev[b]! ? 1 : 0));
  const host = new Int32Array(distinct.length);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!;
    const next = k + 1 < order.length ? order[k + 1]! : -1;
    host[i] = next >= 0 && rev[next]!.startsWith(rev[i]!) ? host[next]! : i;
  }
  const offsetOf = new Map<string, number>();
  const kept: string[] = [];
  let size = 0;
  for (const i of order) {
    if (host[i] !== i) continue;
    offsetOf.set(distinct[i]!, size);
    kept.push(distinct[i]!);
    size += distinct[i]!.length + 1;
  }
  const bytes = kept.length === 0 ? new Uint8Array(0) : Buffer.from(kept.join('\0') + '\0', 'latin1');
  for (let i = 0; i < distinct.length; i++) {
    if (host[i] === i) continue;
    const h = distinct[host[i]!]!;
    offsetOf.set(distinct[i]!, offsetOf.get(h)! + h.length - distinct[i]!.length);
  }
  return { bytes, offsetOf };
}

/** `--map-path` pairs as latin1 byte strings (UTF-8 encoded), longest `from` first. */
export interface PathMapper {
  map(s: string): string;
  readonly active: boolean;
}

export function makePathMapper(pairs: readonly { from: string; to: string }[]): PathMapper {
  const enc = pairs
    .map((p) => ({ from: Buffer.from(p.from, 'utf8').toString('latin1'), to: Buffer.from(p.to, 'utf8').toString('latin1') }))
    .filter((p) => p.from.length > 0)
    .sort((a, b) => b.from.length - a.from.length);
  return {
    active: enc.length > 0,
    map(s: string): string {
      for (const { from, to } of enc) {
        if (!s.startsWith(from)) continue;
        if (s.length === from.length || from.endsWith('/') || s.charCodeAt(from.length) === 0x2f) return to + s.slice(from.length);
      }
      return s;
    },
  };
}
