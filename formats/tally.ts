// Aggregates changes: one Change per kind of field with a count. A change seen once keeps its
// specific text ("MTIME 1700000000 -> 0"); seen several times it gets the generic one.
import type { Change, ChangeKind } from '../src/types.js';

export class Tally {
  private readonly items = new Map<string, { kind: ChangeKind; generic: string; first: string; count: number }>();
  /** Keys are kept in first-seen order (insertion order of a Map, deterministic). */
  add(kind: ChangeKind, generic: string, specific = generic, count = 1): void {
    const key = `${kind}\0${generic}`;
    const it = this.items.get(key);
    if (it) it.count += count;
    else this.items.set(key, { kind, generic, first: specific, count });
  }
  /** The record of (kind, generic), made with count 0 when new: loops that count a lot keep it. */
  record(kind: ChangeKind, generic: string): { count: number } {
    const key = `${kind}\0${generic}`;
    let it = this.items.get(key);
    if (!it) this.items.set(key, (it = { kind, generic, first: generic, count: 0 }));
    return it;
  }
  get size(): number {
    return this.items.size;
  }
  changes(): Change[] {
    return [...this.items.values()].map((i) =>
      i.count === 1 ? { kind: i.kind, what: i.first } : { kind: i.kind, what: i.generic, count: i.count },
    );
  }
}

/**
 * Aggregate the changes nested members reported (each already names its member): equal
 * (kind, what) pairs from several members become one record with the summed count, and a kind
 * still spread over more than `keep` records collapses into one, so a library of 2,000
 * changed objects reports a few lines, not thousands.
 */
export function mergeNested(changes: readonly Change[], keep = 3): Change[] {
  const byWhat = new Map<string, { c: Change; count: number; members: Set<string> }>();
  for (const c of changes) {
    const key = `${c.kind}\0${c.what}`;
    const it = byWhat.get(key);
    if (it) {
      it.count += c.count ?? 1;
      it.members.add(c.member ?? '');
    } else byWhat.set(key, { c, count: c.count ?? 1, members: new Set([c.member ?? '']) });
  }
  const byKind = new Map<ChangeKind, Array<{ c: Change; count: number; members: Set<string> }>>();
  for (const g of byWhat.values()) {
    const list = byKind.get(g.c.kind) ?? [];
    list.push(g);
    byKind.set(g.c.kind, list);
  }
  const out: Change[] = [];
  for (const [kind, list] of byKind) {
    if (list.length <= keep) {
      for (const { c, count, members } of list) {
        out.push(members.size === 1 ? { ...c, ...(count > 1 ? { count } : {}) } : { kind, what: `${c.what} (in ${members.size} members)`, count });
      }
    } else {
      const members = new Set(list.flatMap((g) => [...g.members]));
      const total = list.reduce((a, g) => a + g.count, 0);
      const first = list[0]!.c;
      out.push({ kind, what: `${kind} changes in ${members.size} members, e.g. ${first.member ? `${first.member}: ` : ''}${first.what}`, count: total });
    }
  }
  return out;
}
