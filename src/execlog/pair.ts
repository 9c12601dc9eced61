// Pair the spawns of two builds' execution logs: by their output paths, then by the same
// output paths with the configuration directory (bazel-out/<config>/) set aside, then by
// mnemonic and target when that names one spawn on each side. What is left is only in A or B.
import type { LoggedSpawn } from './spawn.js';

export interface SpawnPair {
  /** Position in the pair list (build order is computed later). */
  readonly id: number;
  readonly a: LoggedSpawn;
  readonly b: LoggedSpawn;
}

export interface Pairing {
  readonly pairs: readonly SpawnPair[];
  readonly onlyInA: readonly LoggedSpawn[];
  readonly onlyInB: readonly LoggedSpawn[];
}

/** bazel-out/k8-fastbuild/bin/x -> bazel-out/*\/bin/x: the same output in another configuration. */
export function withoutConfig(path: string): string {
  return path.replace(/^bazel-out\/[^/]+\//, 'bazel-out/*/');
}

const outputKey = (s: LoggedSpawn, strip: boolean) =>
  s.outputs
    .map((o) => (strip ? withoutConfig(o.path) : o.path))
    .sort()
    .join('\n');

/** One spawn per output set: a retried or re-run action logs again, and the last run counts. */
function lastRuns(spawns: readonly LoggedSpawn[]): LoggedSpawn[] {
  const last = new Map<string, LoggedSpawn>();
  for (const s of spawns) if (s.outputs.length) last.set(outputKey(s, false), s);
  return spawns.filter((s) => !s.outputs.length || last.get(outputKey(s, false)) === s);
}

export function pairSpawns(a: readonly LoggedSpawn[], b: readonly LoggedSpawn[]): Pairing {
  const pairs: SpawnPair[] = [];
  let restA = lastRuns(a);
  let restB = lastRuns(b);
  const match = (key: (s: LoggedSpawn) => string) => {
    const byB = new Map<string, LoggedSpawn>();
    for (const s of restB) {
      const k = key(s);
      if (k) byB.set(k, byB.has(k) ? NONE : s);
    }
    const byA = new Map<string, LoggedSpawn>();
    for (const s of restA) {
      const k = key(s);
      if (k) byA.set(k, byA.has(k) ? NONE : s);
    }
    const used = new Set<LoggedSpawn>();
    for (const [k, sa] of byA) {
      const sb = byB.get(k);
      // A key that two spawns share on one side pairs nothing: it is not a name for either.
      if (!sb || sa === NONE || sb === NONE) continue;
      pairs.push({ id: pairs.length, a: sa, b: sb });
      used.add(sa).add(sb);
    }
    restA = restA.filter((s) => !used.has(s));
    restB = restB.filter((s) => !used.has(s));
  };
  match((s) => outputKey(s, false));
  match((s) => outputKey(s, true));
  match((s) => (s.target ? `${s.mnemonic}\0${s.target}` : ''));
  return { pairs, onlyInA: restA, onlyInB: restB };
}

/** Marks a key shared by two spawns of one log. */
const NONE = {} as LoggedSpawn;
