// GNU gettext message catalogs, .mo/.gmo (GNU gettext manual, "The Format of GNU MO Files";
// either byte order, revisions 0.x and 1.x). In the header entry (the translation of msgid ""):
// - `POT-Creation-Date:` and `PO-Revision-Date:` values that are dates become T written as
//   gettext writes them (`2015-02-05 18:09+0000`), clamp honoured; without T the lines are
//   removed (msgfmt 0.20+ already drops POT-Creation-Date itself). Values that are not dates
//   (the template's `YEAR-MO-DA HO:MI+ZONE`) are left alone.
// When the header changes length, every string offset after it is moved and the header's
// length fixed. The hash table holds string indices, not offsets, and hashes msgids, which do
// not change: it stays as it is. strip-nondeterminism only edits same-length values.
import { formatGettext, parseGettext } from './dates.js';
import { copyRange } from '../src/io.js';
import { canonicalTime } from '../src/time.js';
import { FormatError, type Change, type Context, type Handler, type HandlerResult, type Options, type Probe, type Sink, type Source } from '../src/types.js';

const MAGIC = 0x950412de;
/** A header entry larger than this is not a header entry. */
const MAX_HEADER_ENTRY = 1 << 20;
const DATE_FIELD = /^(POT-Creation-Date|PO-Revision-Date)(:[ \t]*)(.*)$/;

export interface MoHeader {
  readonly little: boolean;
  readonly revision: number;
  readonly count: number;
  readonly origTable: number;
  readonly transTable: number;
  readonly hashSize: number;
  readonly hashTable: number;
  /** Revision 1: system-dependent segments and strings. */
  readonly sysdepSegments: number;
  readonly sysdepStrings: number;
}

export function byteOrder(head: Uint8Array): boolean | undefined {
  if (head.length < 4) return undefined;
  const dv = new DataView(head.buffer, head.byteOffset, 4);
  if (dv.getUint32(0, true) === MAGIC) return true;
  if (dv.getUint32(0, false) === MAGIC) return false;
  return undefined;
}

/** Decode and check the fixed header against the file size. */
export function parseHeader(b: Uint8Array, size: number): MoHeader {
  const little = byteOrder(b);
  if (little === undefined) throw new FormatError('not a .mo file (bad magic)');
  if (b.length < 28) throw new FormatError(`truncated .mo header (${size} bytes)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const u = (at: number) => dv.getUint32(at, little);
  const revision = u(4);
  if (revision >>> 16 > 1) throw new FormatError(`unsupported .mo revision ${revision >>> 16}.${revision & 0xffff}`);
  const h = {
    little,
    revision,
    count: u(8),
    origTable: u(12),
    transTable: u(16),
    hashSize: u(20),
    hashTable: u(24),
    sysdepSegments: 0,
    sysdepStrings: 0,
  };
  if ((revision & 0xffff) >= 1 && b.length >= 48) {
    h.sysdepSegments = u(28);
    h.sysdepStrings = u(36);
  }
  const within = (off: number, len: number) => off + len <= size;
  if (h.count > size / 8 || !within(h.origTable, 8 * h.count) || !within(h.transTable, 8 * h.count)) {
    throw new FormatError(`string tables (${h.count} entries at ${h.origTable} and ${h.transTable}) lie outside the file (${size} bytes)`);
  }
  if (h.hashSize > 0 && (h.hashSize > size / 4 || !within(h.hashTable, 4 * h.hashSize))) {
    throw new FormatError(`hash table (${h.hashSize} entries at ${h.hashTable}) lies outside the file (${size} bytes)`);
  }
  return h;
}

/** New header entry text (Latin-1 view of its bytes) and what changed. */
export function rewriteHeaderEntry(text: string, options: Options): { text: string; changes: Change[] } {
  const changes: Change[] = [];
  const T = options.timestamp;
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = DATE_FIELD.exec(lines[i]!);
    const orig = m ? parseGettext(m[3]!) : undefined;
    if (!m || orig === undefined) {
      out.push(lines[i]!);
      continue;
    }
    if (T === undefined) {
      changes.push({ kind: 'timestamp', what: `${m[1]} removed` }); // with one newline
      continue;
    }
    const t = canonicalTime(options, orig, T);
    const value = t === orig ? m[3]! : formatGettext(t);
    if (value !== m[3]) changes.push({ kind: 'timestamp', what: `${m[1]} -> ${value}` });
    out.push(`${m[1]}${m[2]}${value}`);
  }
  return { text: out.join('\n'), changes };
}

interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly bytes: Uint8Array;
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const size = input.size;
  const h = parseHeader(await input.read(0, Math.min(size, 48)), size);
  const tableBytes = 16 * h.count;
  if (tableBytes > ctx.options.limits.memoryBytes) throw new FormatError(`${h.count} strings: tables over the memory limit`);
  const orig = Uint8Array.from(await input.read(h.origTable, 8 * h.count));
  const trans = Uint8Array.from(await input.read(h.transTable, 8 * h.count));
  const od = new DataView(orig.buffer);
  const td = new DataView(trans.buffer);
  const le = h.little;
  const desc = (dv: DataView, i: number) => ({ len: dv.getUint32(8 * i, le), off: dv.getUint32(8 * i + 4, le) });
  for (let i = 0; i < h.count; i++) {
    for (const [dv, which] of [[od, 'original'], [td, 'translation']] as const) {
      const d = desc(dv, i);
      if (d.off + d.len + 1 > size) throw new FormatError(`${which} string ${i} (${d.len} bytes at ${d.off}) lies outside the file (${size} bytes)`);
    }
  }
  let index = -1;
  for (let i = 0; i < h.count && index < 0; i++) if (desc(od, i).len === 0) index = i;
  const copyAll = async (): Promise<HandlerResult> => {
    await copyRange(input, 0, size, output);
    return { status: 'normalized', changes: [] };
  };
  if (index < 0) return copyAll();
  const entry = desc(td, index);
  if (entry.len > MAX_HEADER_ENTRY) throw new FormatError(`header entry of ${entry.len} bytes`);
  const old = await input.read(entry.off, entry.len);
  const { text, changes } = rewriteHeaderEntry(Buffer.from(old).toString('latin1'), ctx.options);
  const fresh = Buffer.from(text, 'latin1');
  if (fresh.equals(old)) return copyAll();
  const delta = fresh.length - entry.len;
  if (delta !== 0 && (h.sysdepSegments > 0 || h.sysdepStrings > 0)) {
    return { status: 'untouched', reason: 'header dates change length in a catalog with system-dependent strings (not supported)' };
  }
  // Everything at or after the end of the header entry moves by delta.
  const cut = entry.off + entry.len;
  const move = (p: number) => (p >= cut ? p + delta : p);
  const inside = (off: number, len: number) => off < cut + 1 && off + len + 1 > entry.off;
  for (let i = 0; i < h.count; i++) {
    for (const dv of [od, td]) {
      if (dv === td && i === index) continue;
      const d = desc(dv, i);
      if (delta !== 0 && inside(d.off, d.len)) throw new FormatError(`string ${i} overlaps the header entry`);
      dv.setUint32(8 * i + 4, move(d.off), le);
    }
  }
  td.setUint32(8 * index, fresh.length, le);
  const fixed = Uint8Array.from(await input.read(0, 28));
  const fd = new DataView(fixed.buffer);
  fd.setUint32(12, move(h.origTable), le);
  fd.setUint32(16, move(h.transTable), le);
  fd.setUint32(24, h.hashSize > 0 ? move(h.hashTable) : h.hashTable, le);
  const reps: Replacement[] = [
    { start: 0, end: 28, bytes: fixed },
    { start: h.origTable, end: h.origTable + orig.length, bytes: orig },
    { start: h.transTable, end: h.transTable + trans.length, bytes: trans },
    { start: entry.off, end: cut, bytes: fresh },
  ]
    .filter((r) => r.end > r.start || r.bytes.length > 0)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const regions: Array<[number, number, string]> = [
    [0, 28, 'file header'],
    [h.origTable, h.origTable + orig.length, 'original string table'],
    [h.transTable, h.transTable + trans.length, 'translation string table'],
    [h.hashTable, h.hashTable + 4 * h.hashSize, 'hash table'],
  ];
  for (const [s, e, what] of regions) {
    if (e > s && s < cut + 1 && e > entry.off) throw new FormatError(`${what} overlaps the header entry`);
  }
  let at = 0;
  for (const r of reps) {
    if (r.start < at) throw new FormatError('string tables overlap each other or the file header');
    await copyRange(input, at, r.start - at, output);
    await output.write(r.bytes);
    at = r.end;
  }
  await copyRange(input, at, size - at, output);
  if (delta !== 0) changes.push({ kind: 'layout', what: `strings after the header entry moved by ${delta} bytes` });
  return { status: 'normalized', changes };
}

export const gettextMoHandler: Handler = {
  name: 'gettext-mo',
  description: 'GNU gettext .mo/.gmo catalogs: POT-Creation-Date and PO-Revision-Date set to T',
  extensions: ['.mo', '.gmo'],
  detect(probe: Probe): boolean {
    return probe.size >= 28 && byteOrder(probe.head) !== undefined;
  },
  normalize,
};
