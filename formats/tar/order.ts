// Member order as GNU tar 1.34's --sort=name gives it: each directory's entries sorted
// bytewise (strcmp), a directory immediately followed by its contents. That is a
// component-wise comparison of paths, not the bytewise order of full paths ("d1/x" comes
// before "d1-x.txt" because "d1" < "d1-x.txt"). Hard links: the first member of a link group
// in that order carries the data and the others link to it, as GNU tar writes a tree whose
// files share an inode ("re-pointing" when the input had another member as the target).
import { mapPath as mapPathRule } from '../../src/map-path.js';

/** Path components of a member name (byte string), trailing slashes ignored. */
export function components(name: string): string[] {
  let end = name.length;
  while (end > 1 && name[end - 1] === '/') end--;
  return name.slice(0, end).split('/');
}

/** GNU --sort=name order of two member names (byte strings). */
export function compareNames(a: string, b: string): number {
  const ca = components(a);
  const cb = components(b);
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

/** Stable sort by compareNames (members with equal names keep their archive order). */
export function sortByName<T extends { name: string }>(items: readonly T[]): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((x, y) => compareNames(x.item.name, y.item.name) || x.i - y.i)
    .map((x) => x.item);
}

/** The key under which a hard-link target is looked up ("./a" and "a" are the same file). */
export function linkKey(name: string): string {
  let s = name;
  while (s.startsWith('./')) s = s.slice(2);
  while (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

export interface LinkGroup<T> {
  /** The member that held the data in the input. */
  root: T;
  /** Every member of the group, root included, in archive order. */
  members: T[];
}

/**
 * Group hard links ('1' entries) with the member they point to, in archive order: a link
 * refers to the latest member of that name before it (what extraction would link to); links
 * to links resolve to the first non-link. Links whose target is not in the archive stay alone.
 */
export function hardLinkGroups<T extends { name: string; typeflag: string; linkname: string }>(
  entries: readonly T[],
): { groups: LinkGroup<T>[]; unresolved: T[] } {
  const latest = new Map<string, T>();
  const rootOf = new Map<T, T>();
  const groups = new Map<T, LinkGroup<T>>();
  const unresolved: T[] = [];
  for (const e of entries) {
    if (e.typeflag === '1') {
      const target = latest.get(linkKey(e.linkname));
      if (target === undefined) {
        unresolved.push(e);
      } else {
        const root = rootOf.get(target) ?? target;
        rootOf.set(e, root);
        let g = groups.get(root);
        if (!g) groups.set(root, (g = { root, members: [root] }));
        g.members.push(e);
      }
    }
    latest.set(linkKey(e.name), e);
  }
  return { groups: [...groups.values()], unresolved };
}

/** The member that comes first in --sort=name order (ties: archive order). */
export function firstByName<T extends { name: string }>(members: readonly T[]): T {
  let best = members[0]!;
  for (const m of members.slice(1)) if (compareNames(m.name, best.name) < 0) best = m;
  return best;
}

/**
 * Make the first member of each group (by `first`) the one that carries the data, swapping
 * names with the input's data holder when they differ; every other member becomes a hard link
 * to it. `linkMode`, when given, sets the links' mode from the data holder. Returns how many
 * groups moved their data.
 */
export function repointHardLinks<T extends { name: string; typeflag: string; linkname: string; size: number; mode: number }>(
  groups: readonly LinkGroup<T>[],
  first: (members: readonly T[]) => T,
  linkMode?: (root: T) => number,
): number {
  let moved = 0;
  for (const g of groups) {
    const root = g.root;
    const leader = first(g.members);
    if (leader !== root) {
      const rootName = root.name;
      root.name = leader.name;
      leader.name = rootName;
      moved++;
    }
    for (const m of g.members) {
      if (m === root) continue;
      m.linkname = root.name;
      if (linkMode) m.mode = linkMode(root);
      m.typeflag = '1';
      m.size = 0;
    }
  }
  return moved;
}

/** `--map-path OLD=NEW` on a link target (byte strings, maps encoded alike); unmapped: as is. */
export function mapPath(target: string, maps: readonly { from: string; to: string }[]): string {
  return mapPathRule(target, maps) ?? target;
}
