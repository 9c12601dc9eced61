// Why does a paired action give different outputs in two builds? From the logs alone:
//   - an input that no action produced (a source file, a tool) differs   -> non-hermetic
//   - its command line or environment differs, and not only in a way that every action of the
//     build shares (a variable --action_env sets for all)                -> non-hermetic
//   - an input produced by another action differs                        -> downstream
//   - only build-wide differences (the same variable differs everywhere) -> undecided: the
//     outputs tell (explain.ts): the differing value written into it makes it non-hermetic,
//     else it is non-deterministic
//   - nothing differs but the outputs                                    -> non-deterministic
// Downstream actions are counted under the root causes (non-deterministic or non-hermetic
// actions) that their differing inputs come from, through any number of downstream steps.
import type { LoggedFile, LoggedSpawn } from './spawn.js';
import { pairSpawns, withoutConfig, type SpawnPair } from './pair.js';

export type PairClass = 'identical' | 'non-deterministic' | 'non-hermetic' | 'downstream' | 'undecided';

export interface ValueDiff {
  /** Environment variable name, or the argument's position (0-based) in A's command line. */
  readonly name: string;
  /** Absent on that side: undefined. */
  readonly a?: string;
  readonly b?: string;
  /** The same difference is in other actions too (a build-wide setting). */
  readonly buildWide: boolean;
}

export interface InputDiff {
  readonly path: string;
  readonly a?: string;
  readonly b?: string;
  /** The pair whose action produced this input (a derived input); -1: produced, but by no logged action. */
  readonly producer?: number;
}

export interface OutputDiff {
  readonly path: string;
  readonly a?: LoggedFile;
  readonly b?: LoggedFile;
}

export interface ActionPair extends SpawnPair {
  readonly mnemonic: string;
  readonly target: string;
  /** Position in build order: producers before their consumers. */
  order: number;
  klass: PairClass;
  readonly outputs: readonly OutputDiff[];
  readonly args: readonly ValueDiff[];
  readonly env: readonly ValueDiff[];
  /** Inputs no action produced. */
  readonly sources: readonly InputDiff[];
  /** Inputs other actions produced. */
  readonly derived: readonly InputDiff[];
  /** Downstream: the ids of the root-cause pairs it comes from (-1: an action not in the logs). */
  roots: number[];
}

export interface Classification {
  /** Every pair, in build order. */
  readonly pairs: readonly ActionPair[];
  readonly onlyInA: readonly LoggedSpawn[];
  readonly onlyInB: readonly LoggedSpawn[];
  /** Differences every action shares (at least two): environment variables, argument values. */
  readonly buildWide: readonly ValueDiff[];
}

function fileMap(files: readonly LoggedFile[]): Map<string, LoggedFile> {
  return new Map(files.map((f) => [f.path, f]));
}

function outputDiffs(a: LoggedSpawn, b: LoggedSpawn): OutputDiff[] {
  const ma = fileMap(a.outputs);
  const mb = fileMap(b.outputs);
  const out: OutputDiff[] = [];
  for (const p of new Set([...ma.keys(), ...mb.keys()])) {
    const fa = ma.get(p);
    const fb = mb.get(p);
    if (fa?.hash !== fb?.hash || fa?.size !== fb?.size) out.push({ path: p, ...(fa ? { a: fa } : {}), ...(fb ? { b: fb } : {}) });
  }
  // Outputs in another configuration directory: pair them by the rest of their path.
  if (out.length && out.every((o) => !o.a || !o.b)) {
    const sa = new Map(a.outputs.map((f) => [withoutConfig(f.path), f]));
    const sb = new Map(b.outputs.map((f) => [withoutConfig(f.path), f]));
    if (sa.size === a.outputs.length && sb.size === b.outputs.length) {
      return [...new Set([...sa.keys(), ...sb.keys()])]
        .map((k) => ({ path: sa.get(k)?.path ?? sb.get(k)!.path, a: sa.get(k), b: sb.get(k) }))
        .filter((o) => o.a?.hash !== o.b?.hash || o.a?.size !== o.b?.size)
        .map((o) => ({ path: o.path, ...(o.a ? { a: o.a } : {}), ...(o.b ? { b: o.b } : {}) }));
    }
  }
  return out;
}

/** Raw value differences of two command lines: positional when as long, else what each lacks. */
function argDiffs(a: readonly string[], b: readonly string[]): Array<{ name: string; a?: string; b?: string }> {
  if (a.length === b.length) return a.flatMap((x, i) => (x === b[i] ? [] : [{ name: String(i), a: x, b: b[i]! }]));
  const count = (xs: readonly string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const ca = count(a);
  const cb = count(b);
  const out: Array<{ name: string; a?: string; b?: string }> = [];
  a.forEach((x, i) => {
    if ((cb.get(x) ?? 0) > 0) cb.set(x, cb.get(x)! - 1);
    else out.push({ name: String(i), a: x });
  });
  b.forEach((x, i) => {
    if ((ca.get(x) ?? 0) > 0) ca.set(x, ca.get(x)! - 1);
    else out.push({ name: `+${i}`, b: x });
  });
  return out;
}

function envDiffs(a: LoggedSpawn, b: LoggedSpawn): Array<{ name: string; a?: string; b?: string }> {
  const ma = new Map(a.env);
  const mb = new Map(b.env);
  const out: Array<{ name: string; a?: string; b?: string }> = [];
  for (const n of new Set([...ma.keys(), ...mb.keys()])) {
    const va = ma.get(n);
    const vb = mb.get(n);
    if (va !== vb) out.push({ name: n, ...(va !== undefined ? { a: va } : {}), ...(vb !== undefined ? { b: vb } : {}) });
  }
  return out;
}

const triple = (kind: string, d: { name: string; a?: string; b?: string }) => `${kind}\0${kind === 'env' ? d.name : ''}\0${d.a ?? '\u0001'}\0${d.b ?? '\u0001'}`;

/** Producers by output path (and tree-artifact directory), from both logs. */
class Producers {
  private readonly map = new Map<string, number>();
  /** Inputs repeat in every spawn that reads them (tools, headers): each path is looked up once. */
  private readonly memo = new Map<string, number | undefined>();
  add(path: string, pair: number): void {
    if (!this.map.has(path)) this.map.set(path, pair);
  }
  /** The pair that produced `path` or a directory above it; -1 for a bazel-out path no logged action made. */
  find(path: string, aliases: ReadonlyMap<string, string>): number | undefined {
    if (this.memo.has(path)) return this.memo.get(path);
    const found = this.lookup(path, aliases);
    this.memo.set(path, found);
    return found;
  }
  private lookup(path: string, aliases: ReadonlyMap<string, string>): number | undefined {
    for (let p = path, hops = 0; hops < 64; hops++) {
      for (let q = p; q; q = q.includes('/') ? q.slice(0, q.lastIndexOf('/')) : '') {
        const hit = this.map.get(q);
        if (hit !== undefined) return hit;
      }
      const next = aliases.get(p);
      if (next === undefined) break;
      p = next;
    }
    return path.startsWith('bazel-out/') ? -1 : undefined;
  }
}

/** Order pairs so that producers come before consumers (Kahn), ties by A's log order. */
function buildOrder(pairs: ActionPair[], edges: Map<number, Set<number>>): void {
  const indeg = new Map<number, number>(pairs.map((p) => [p.id, 0]));
  for (const tos of edges.values()) for (const t of tos) indeg.set(t, indeg.get(t)! + 1);
  const byLog = [...pairs].sort((x, y) => x.a.index - y.a.index);
  const ready = byLog.filter((p) => indeg.get(p.id) === 0);
  const pos = new Map(byLog.map((p, i) => [p.id, i]));
  const done = new Set<number>();
  let n = 0;
  while (ready.length) {
    // The earliest logged of the ready ones.
    let best = 0;
    for (let i = 1; i < ready.length; i++) if (pos.get(ready[i]!.id)! < pos.get(ready[best]!.id)!) best = i;
    const p = ready.splice(best, 1)[0]!;
    p.order = n++;
    done.add(p.id);
    for (const t of edges.get(p.id) ?? []) {
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) ready.push(pairs[t]!);
    }
  }
  // A cycle cannot happen in a build; should a log claim one, log order decides the rest.
  for (const p of byLog) if (!done.has(p.id)) p.order = n++;
  pairs.sort((x, y) => x.order - y.order);
}

/**
 * Pair and classify. `aliases` maps symlink-action outputs to their inputs (compact logs).
 * Pairs left 'undecided' need the outputs' bytes (explain.ts); call `settleRoots` after.
 */
export function classify(a: readonly LoggedSpawn[], b: readonly LoggedSpawn[], aliases: ReadonlyMap<string, string> = new Map()): Classification {
  const { pairs: raw, onlyInA, onlyInB } = pairSpawns(a, b);
  const producers = new Producers();
  for (const p of raw) for (const o of [...p.a.outputs, ...p.b.outputs]) producers.add(o.path, p.id);

  // Differences of every pair, and how many pairs share each one.
  const rawArgs = raw.map((p) => argDiffs(p.a.args, p.b.args));
  const rawEnv = raw.map((p) => envDiffs(p.a, p.b));
  const shared = new Map<string, number>();
  raw.forEach((_, i) => {
    for (const k of new Set([...rawArgs[i]!.map((d) => triple('arg', d)), ...rawEnv[i]!.map((d) => triple('env', d))])) shared.set(k, (shared.get(k) ?? 0) + 1);
  });
  const wide = (kind: string, d: { name: string; a?: string; b?: string }) => (shared.get(triple(kind, d)) ?? 0) >= 2;
  const buildWide = new Map<string, ValueDiff>();

  const edges = new Map<number, Set<number>>();
  const pairs: ActionPair[] = raw.map((p, i) => {
    const outputs = outputDiffs(p.a, p.b);
    const args = rawArgs[i]!.map((d) => ({ ...d, buildWide: wide('arg', d) }));
    const env = rawEnv[i]!.map((d) => ({ ...d, buildWide: wide('env', d) }));
    for (const d of [...args.map((x) => ['arg', x] as const), ...env.map((x) => ['env', x] as const)]) if (d[1].buildWide) buildWide.set(triple(d[0], d[1]), d[0] === 'arg' ? { ...d[1], name: 'argument' } : d[1]);
    const ia = fileMap(p.a.inputs);
    const ib = fileMap(p.b.inputs);
    const sources: InputDiff[] = [];
    const derived: InputDiff[] = [];
    for (const path of new Set([...ia.keys(), ...ib.keys()])) {
      const producer = producers.find(path, aliases);
      if (producer !== undefined && producer >= 0 && producer !== p.id) {
        const set = edges.get(producer) ?? new Set<number>();
        edges.set(producer, set.add(p.id));
      }
      const ha = ia.get(path)?.hash;
      const hb = ib.get(path)?.hash;
      if (ha === hb) continue;
      const d: InputDiff = { path, ...(ha !== undefined ? { a: ha } : {}), ...(hb !== undefined ? { b: hb } : {}), ...(producer !== undefined ? { producer } : {}) };
      (producer === undefined ? sources : derived).push(d);
    }
    let klass: PairClass;
    if (outputs.length === 0) klass = 'identical';
    else if (sources.length) klass = 'non-hermetic';
    else if (args.some((d) => !d.buildWide) || env.some((d) => !d.buildWide)) klass = 'non-hermetic';
    else if (derived.length) klass = 'downstream';
    else if (args.length || env.length) klass = 'undecided';
    else klass = 'non-deterministic';
    return { ...p, mnemonic: p.a.mnemonic || p.b.mnemonic, target: p.a.target || p.b.target, order: 0, klass, outputs, args, env, sources, derived, roots: [] };
  });
  buildOrder(pairs, edges);
  return { pairs, onlyInA, onlyInB, buildWide: [...buildWide.values()] };
}

/** Once every pair is decided: the root causes each downstream pair comes from. */
export function settleRoots(c: Classification): void {
  const byId = new Map(c.pairs.map((p) => [p.id, p]));
  // Build order: a producer's roots are known before its consumers'.
  for (const p of c.pairs) {
    if (p.klass !== 'downstream') continue;
    const roots = new Set<number>();
    for (const d of p.derived) {
      const q = d.producer !== undefined && d.producer >= 0 ? byId.get(d.producer) : undefined;
      if (!q) roots.add(-1);
      else if (q.klass === 'downstream') for (const r of q.roots) roots.add(r);
      else if (q.klass !== 'identical') roots.add(q.id);
    }
    p.roots = [...roots].sort((x, y) => (byId.get(x)?.order ?? -1) - (byId.get(y)?.order ?? -1));
  }
}
