// Aggregates changes: one Change per kind of field with a count. A change seen once keeps its
// specific text ("MTIME 1700000000 -> 0"); seen several times it gets the generic one.
import type { Change, ChangeKind } from '../../src/types.js';

export class Tally {
  private readonly items = new Map<string, { kind: ChangeKind; generic: string; first: string; count: number }>();
  /** Keys are kept in first-seen order (insertion order of a Map, deterministic). */
  add(kind: ChangeKind, generic: string, specific = generic, count = 1): void {
    const it = this.items.get(generic);
    if (it) it.count += count;
    else this.items.set(generic, { kind, generic, first: specific, count });
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
