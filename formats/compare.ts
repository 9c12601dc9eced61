// Shared by the handlers' `compare` (detnorm diff): pair two member lists, fold each field's
// differences into one record (A's and B's values, a count), and the cause rules that several
// archive formats share: times that are each build's clock, a whole time-zone offset, modes
// that differ by the umask's write bits, owners (a sandbox's 65534, the building user), and
// member order (readdir or glob order, a locale's collation). A handler names its own fields
// and says which rule fits which field, in its own words; what no rule explains gets no cause.
import { sourcesEqual } from '../src/io.js';
import type { Comparison, DifferenceKind, FieldDifference, MemberInfo, MemberPair } from '../src/types.js';

export type Value = string | number | undefined;

/** One field of a member as a handler compares it. */
export interface FieldSpec {
  readonly kind: DifferenceKind;
  /** The format's own name for it: "mtime", "uid/gid", "DOS time". */
  readonly label: string;
  /** The member's value (undefined: the member does not store it). */
  value(m: MemberInfo): Value;
  /** Text for a value (default: as it is). */
  show?(v: Value): string;
  /** Times: several values on a side are shown as a range. */
  readonly range?: boolean;
  /** The cause for this field's differences, from every differing pair and both whole lists. */
  cause?(diffs: readonly FieldPair[], all: AllMembers): string | undefined;
}

export interface FieldPair {
  readonly name: string;
  readonly a: Value;
  readonly b: Value;
  readonly ma: MemberInfo;
  readonly mb: MemberInfo;
}

export interface AllMembers {
  readonly a: readonly MemberInfo[];
  readonly b: readonly MemberInfo[];
  /** Members present on both sides, in A's order. */
  readonly paired: ReadonlyArray<readonly [MemberInfo, MemberInfo]>;
}

export interface MemberCompareOptions {
  readonly fields: readonly FieldSpec[];
  /** The order the format's own deterministic writers use ("sorted by name"); default bytewise. */
  readonly nameOrder?: (x: string, y: string) => number;
  /** Whether member order is compared at all (gzip has one member). Default true. */
  readonly order?: boolean;
}

/** Unique keys for members (a repeated name gets '#2', '#3' ...), in list order. */
export function keyed(ms: readonly MemberInfo[]): Map<string, MemberInfo> {
  const out = new Map<string, MemberInfo>();
  for (const m of ms) {
    let k = m.name;
    for (let i = 2; out.has(k); i++) k = `${m.name}#${i}`;
    out.set(k, m);
  }
  return out;
}

export function bytewise(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** 'YYYY-MM-DD HH:MM:SS' (UTC) for seconds since the epoch. */
export function showTime(v: Value): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  const d = new Date(v * 1000);
  if (Number.isNaN(d.getTime())) return String(v);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** A duration in words: "0 s", "42 s", "3 min", "2 h 05 min". */
export function showSpan(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.round(s / 86400)} days`;
}

/** "+05:30" for a whole time-zone offset in seconds, undefined for anything else. */
export function zoneOffset(seconds: number): string | undefined {
  if (seconds === 0 || seconds % 900 !== 0 || Math.abs(seconds) > 14 * 3600) return undefined;
  const a = Math.abs(seconds);
  return `${seconds > 0 ? '+' : '-'}${String(Math.floor(a / 3600)).padStart(2, '0')}:${String((a % 3600) / 60).padStart(2, '0')}`;
}

const MAX_SHOWN = 3;

/** One side's values of a grouped field, as short text. */
function sideText(values: readonly Value[], spec: FieldSpec): string {
  const show = (v: Value) => (v === undefined ? '(none)' : spec.show ? spec.show(v) : String(v));
  const seen = new Map<string, Value>();
  for (const v of values) {
    const k = v === undefined ? '\0' : `${typeof v}:${v}`;
    if (!seen.has(k)) seen.set(k, v);
  }
  const distinct = [...seen.values()];
  if (distinct.length === 1) return show(distinct[0]);
  if (spec.range && distinct.every((v) => typeof v === 'number')) {
    const [lo, hi] = extent(distinct as number[]);
    const [l, h] = [show(lo), show(hi)];
    // "2024-03-01 12:00:00..12:04:10": the date once when both ends share it.
    const space = l.lastIndexOf(' ');
    return `${l}..${space > 0 && h.startsWith(l.slice(0, space + 1)) ? h.slice(space + 1) : h}`;
  }
  const shown = distinct.slice(0, MAX_SHOWN).map(show).join(', ');
  return distinct.length > MAX_SHOWN ? `${shown}, ... (${distinct.length} values)` : shown;
}

/** Fold one field's differing pairs into one record. */
export function groupField(spec: FieldSpec, diffs: readonly FieldPair[], all: AllMembers): FieldDifference {
  const n = diffs.length;
  const cause = spec.cause?.(diffs, all);
  const first = diffs[0]!;
  const rec: FieldDifference = {
    kind: spec.kind,
    field: spec.label,
    ...(n === 1 ? { member: first.name } : { count: n }),
    a: sideText(diffs.map((d) => d.a), spec),
    b: sideText(diffs.map((d) => d.b), spec),
    ...(n > 1 && n < all.paired.length ? { note: `e.g. ${first.name}` } : {}),
    ...(cause ? { cause } : {}),
  };
  return rec;
}

/** Fewest members that must move to turn one order into the other (length minus the longest common subsequence, via LIS). */
export function movedCount(a: readonly string[], b: readonly string[]): number {
  const pos = new Map(b.map((k, i) => [k, i]));
  const seq = a.map((k) => pos.get(k)).filter((i): i is number => i !== undefined);
  const tails: number[] = [];
  for (const x of seq) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = x;
  }
  return seq.length - tails.length;
}

function isSorted(names: readonly string[], cmp: (x: string, y: string) => number): boolean {
  for (let i = 1; i < names.length; i++) if (cmp(names[i - 1]!, names[i]!) > 0) return false;
  return true;
}

/** A locale's collation at its first level, roughly (glibc en_US and the like): case and punctuation ignored. */
function localeKey(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

type Sortedness = 'by name' | "by a locale's collation" | 'unsorted';

function sortedness(names: readonly string[], cmp: (x: string, y: string) => number): Sortedness {
  if (isSorted(names, cmp)) return 'by name';
  if (isSorted(names, (x, y) => bytewise(localeKey(x), localeKey(y)))) return "by a locale's collation";
  return 'unsorted';
}

/**
 * The cause of two orders of the same members, where the bytes tell it: a locale-dependent
 * sort (one side bytewise, the other case- and punctuation-blind), one sorted and one in the
 * file system's order, or neither sorted (each build's readdir or glob order).
 */
export function orderCause(a: readonly string[], b: readonly string[], cmp: (x: string, y: string) => number = bytewise): string | undefined {
  const sa = sortedness(a, cmp);
  const sb = sortedness(b, cmp);
  if (sa === sb) {
    if (sa === 'unsorted') return "neither side is sorted: each kept its file system's readdir (or glob) order";
    if (sa === "by a locale's collation") return "both sides are sorted by a locale's collation, differently: LC_COLLATE differed";
    return undefined;
  }
  if (sa !== 'unsorted' && sb !== 'unsorted') {
    const [loc, c] = sa === 'by name' ? ['B', 'A'] : ['A', 'B'];
    return `${loc} is sorted by a locale's collation (case and punctuation ignored), ${c} bytewise: a sort that depends on LC_COLLATE`;
  }
  const [sorted, how, other] = sa !== 'unsorted' ? ['A', sa, 'B'] : ['B', sb, 'A'];
  return `${sorted} is sorted ${how}, ${other} is not: ${other} kept its file system's readdir (or glob) order`;
}

/** The order record for two member lists (common members only), or undefined when it is the same. */
export function orderDifference(a: readonly string[], b: readonly string[], cmp: (x: string, y: string) => number = bytewise): FieldDifference | undefined {
  const inB = new Set(b);
  const inA = new Set(a);
  const ca = a.filter((k) => inB.has(k));
  const cb = b.filter((k) => inA.has(k));
  if (ca.every((k, i) => k === cb[i])) return undefined;
  const moved = movedCount(ca, cb);
  const cause = orderCause(a, b, cmp);
  return { kind: 'order', field: 'order', note: `${moved} member${moved === 1 ? '' : 's'} moved`, count: moved, ...(cause ? { cause } : {}) };
}

/**
 * Times that are each build's clock: on each side every time lies within `window` seconds of
 * that side's newest, and the two sides differ. `timesA`/`timesB` are all the times a side
 * stores (every member's, the archive's own), not only the differing ones.
 */
export function clockCause(timesA: readonly number[], timesB: readonly number[], window = 3600): string | undefined {
  if (timesA.length === 0 || timesB.length === 0) return undefined;
  const [minA, newestA] = extent(timesA);
  const [minB, newestB] = extent(timesB);
  const [sa, sb] = [newestA - minA, newestB - minB];
  if (sa > window || sb > window) return undefined;
  if (newestA === newestB && sa === 0 && sb === 0) return undefined;
  const within = Math.max(sa, sb);
  const where = within === 0 ? 'every time on each side is the same' : `every time on each side lies within ${showSpan(within)} of that side's newest`;
  return `${where} (A ${showTime(newestA)}, B ${showTime(newestB)}): the time each build ran; SOURCE_DATE_EPOCH was not passed (or not honoured)`;
}

/** [min, max] of a non-empty list (no spread: lists can be long). */
export function extent(xs: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

/** The two prefixes that differ in front of a common tail of path components (`/a/src/m.py`, `/b/x/src/m.py` -> `/a`, `/b/x`). */
export function pathPrefixes(a: string, b: string): { a: string; b: string } | undefined {
  const ca = a.split('/');
  const cb = b.split('/');
  let n = 0;
  while (n < ca.length - 1 && n < cb.length - 1 && ca[ca.length - 1 - n] === cb[cb.length - 1 - n]) n++;
  const pa = ca.slice(0, ca.length - n).join('/');
  const pb = cb.slice(0, cb.length - n).join('/');
  if (!pa || !pb || pa === pb) return undefined;
  return { a: pa, b: pb };
}

/** Octal text of a mode. */
export function showMode(v: Value): string {
  return typeof v === 'number' ? v.toString(8).padStart(4, '0') : String(v);
}

/**
 * Modes that differ by exactly the group/other write bits, the same way on every member: the
 * umask of each build. `modesA`/`modesB` are every member's permission bits of each side.
 */
export function umaskCause(diffs: ReadonlyArray<{ a: number; b: number }>, modesA: readonly number[], modesB: readonly number[]): string | undefined {
  if (diffs.length === 0) return undefined;
  let aMore = true;
  let bMore = true;
  for (const { a, b } of diffs) {
    const x = (a ^ b) & 0o7777;
    if (x === 0 || (x & ~0o022) !== 0) return undefined;
    if ((a & x) !== x) aMore = false;
    if ((b & x) !== x) bMore = false;
  }
  if (!aMore && !bMore) return undefined;
  const guess = (modes: readonly number[]) => 0o022 & ~modes.reduce((acc, m) => acc | m, 0);
  const u = (m: number) => `0${m.toString(8).padStart(2, '0')}`;
  return `modes differ by exactly the group/other write bits: each build's umask (${u(guess(modesA))} vs ${u(guess(modesB))} by the modes stored)`;
}

/**
 * Owners: a sandbox's 65534 (nobody), or each side's files all owned by one user (the user
 * who built it). `hint` says how the format's tool avoids storing them.
 */
export function ownerCause(ownersA: readonly string[], ownersB: readonly string[], hint: string): string | undefined {
  const nobody = (o: string) => o.split('/').some((x) => x === '65534');
  const sides = ([['A', ownersA], ['B', ownersB]] as const).filter(([, os]) => os.some(nobody)).map(([s]) => s);
  if (sides.length === 1) return `${sides[0]} has members owned by uid/gid 65534 (nobody): archived inside a sandbox or user namespace`;
  const one = (os: readonly string[]) => (new Set(os).size === 1 ? os[0] : undefined);
  const [oa, ob] = [one(ownersA), one(ownersB)];
  if (oa !== undefined && ob !== undefined && oa !== ob) return `every member of A is owned by ${oa}, every member of B by ${ob}: the user each build ran as (${hint})`;
  return undefined;
}

/**
 * Compare two member lists: members only on one side, type changes, each field (one record
 * per field), the order of the common members, and the pairs whose data differ.
 */
export async function compareMemberLists(la: readonly MemberInfo[], lb: readonly MemberInfo[], opts: MemberCompareOptions): Promise<Comparison> {
  const ka = keyed(la);
  const kb = keyed(lb);
  const differences: FieldDifference[] = [];
  const onlyA = [...ka.keys()].filter((k) => !kb.has(k));
  const onlyB = [...kb.keys()].filter((k) => !ka.has(k));
  for (const [side, keys, kind, map] of [['A', onlyA, 'only-in-a', ka], ['B', onlyB, 'only-in-b', kb]] as const) {
    if (keys.length > MAX_SHOWN) {
      differences.push({ kind, field: `only in ${side}`, count: keys.length, note: `e.g. ${keys[0]}` });
    } else for (const k of keys) differences.push({ kind, field: `only in ${side}`, member: k, note: map.get(k)!.type });
  }
  const paired: Array<readonly [MemberInfo, MemberInfo]> = [];
  const pairedKeys: string[] = [];
  for (const [k, ma] of ka) {
    const mb = kb.get(k);
    if (!mb) continue;
    if (ma.type !== mb.type) {
      differences.push({ kind: 'type', field: 'type', member: k, a: ma.type, b: mb.type });
      continue;
    }
    paired.push([ma, mb]);
    pairedKeys.push(k);
  }
  const all: AllMembers = { a: la, b: lb, paired };
  for (const spec of opts.fields) {
    const diffs: FieldPair[] = [];
    paired.forEach(([ma, mb], i) => {
      const [va, vb] = [spec.value(ma), spec.value(mb)];
      if (va !== vb) diffs.push({ name: pairedKeys[i]!, a: va, b: vb, ma, mb });
    });
    if (diffs.length) differences.push(groupField(spec, diffs, all));
  }
  if (opts.order !== false) {
    const o = orderDifference([...ka.keys()], [...kb.keys()], opts.nameOrder);
    if (o) differences.push(o);
  }
  const members: MemberPair[] = [];
  for (let i = 0; i < paired.length; i++) {
    const [ma, mb] = paired[i]!;
    if (ma.data && mb.data && !(await sourcesEqual(ma.data, mb.data))) members.push({ name: pairedKeys[i]!, a: ma.data, b: mb.data });
  }
  return { differences, members };
}

/** Every number a side stores under `key` (member times, for the clock rule). */
export function numbers(ms: readonly MemberInfo[], key: string): number[] {
  return ms.map((m) => m.meta[key]).filter((v): v is number => typeof v === 'number');
}
