// What `detnorm execlog` prints: the root causes first (non-deterministic, then non-hermetic,
// each in build order, with their downstream actions counted under them), then the totals.
// The same content as one JSON document for machines (--json).
import type { ActionPair, Classification, ValueDiff } from './classify.js';
import type { Explanation, OutputVerdict } from './explain.js';
import type { ExecLog, LoggedSpawn } from './spawn.js';

export interface CauseJson {
  readonly class: 'non-deterministic' | 'non-hermetic';
  readonly order: number;
  readonly target: string;
  readonly mnemonic: string;
  readonly outputs: ReadonlyArray<{ path: string; a: string | null; b: string | null; verdict?: OutputVerdict['verdict'] }>;
  readonly arguments: ReadonlyArray<{ position: string; a: string | null; b: string | null; buildWide: boolean }>;
  readonly environment: ReadonlyArray<{ name: string; a: string | null; b: string | null; buildWide: boolean; inOutput: boolean }>;
  readonly inputs: ReadonlyArray<{ path: string; a: string | null; b: string | null }>;
  /** A non-hermetic action whose only differences are build-wide, and whose outputs were not found. */
  readonly unconfirmed: boolean;
  readonly downstream: ReadonlyArray<{ target: string; mnemonic: string; output: string }>;
}

export interface ExeclogJson {
  readonly identical: boolean;
  readonly a: { path: string; form: string; spawns: number };
  readonly b: { path: string; form: string; spawns: number };
  readonly paired: number;
  readonly differing: number;
  readonly buildWide: ReadonlyArray<{ kind: 'environment' | 'argument'; name: string; a: string | null; b: string | null }>;
  readonly causes: readonly CauseJson[];
  readonly downstream: { count: number; fromUnloggedActions: number };
  readonly onlyInA: ReadonlyArray<{ target: string; mnemonic: string; output: string }>;
  readonly onlyInB: ReadonlyArray<{ target: string; mnemonic: string; output: string }>;
}

const brief = (s: LoggedSpawn) => ({ target: s.target, mnemonic: s.mnemonic, output: s.outputs[0]?.path ?? '' });
const briefPair = (p: ActionPair) => ({ target: p.target, mnemonic: p.mnemonic, output: p.outputs[0]?.path ?? p.a.outputs[0]?.path ?? '' });

export function toJson(a: ExecLog, b: ExecLog, c: Classification, e: Explanation): ExeclogJson {
  const causes = c.pairs.filter((p) => p.klass === 'non-deterministic' || p.klass === 'non-hermetic');
  const ordered = [...causes.filter((p) => p.klass === 'non-deterministic'), ...causes.filter((p) => p.klass === 'non-hermetic')];
  const down = c.pairs.filter((p) => p.klass === 'downstream');
  const differing = c.pairs.filter((p) => p.klass !== 'identical').length;
  return {
    identical: differing === 0 && c.onlyInA.length === 0 && c.onlyInB.length === 0,
    a: { path: a.path, form: a.form, spawns: a.spawns.length },
    b: { path: b.path, form: b.form, spawns: b.spawns.length },
    paired: c.pairs.length,
    differing,
    buildWide: c.buildWide.map((d) => ({ kind: d.name === 'argument' ? ('argument' as const) : ('environment' as const), name: d.name, a: d.a ?? null, b: d.b ?? null })),
    causes: ordered.map((p) => {
      const verdicts = new Map((e.verdicts.get(p.id) ?? []).map((v) => [v.path, v.verdict]));
      const leaked = new Set<ValueDiff>(e.leaked.get(p.id) ?? []);
      return {
        class: p.klass as CauseJson['class'],
        order: p.order + 1,
        target: p.target,
        mnemonic: p.mnemonic,
        outputs: p.outputs.map((o) => ({ path: o.path, a: o.a?.hash ?? null, b: o.b?.hash ?? null, ...(verdicts.has(o.path) ? { verdict: verdicts.get(o.path)! } : {}) })),
        arguments: p.args.map((d) => ({ position: d.name, a: d.a ?? null, b: d.b ?? null, buildWide: d.buildWide })),
        environment: p.env.map((d) => ({ name: d.name, a: d.a ?? null, b: d.b ?? null, buildWide: d.buildWide, inOutput: leaked.has(d) })),
        inputs: p.sources.map((d) => ({ path: d.path, a: d.a ?? null, b: d.b ?? null })),
        unconfirmed: e.unconfirmed.has(p.id),
        downstream: down.filter((d) => d.roots.includes(p.id)).map(briefPair),
      };
    }),
    downstream: { count: down.length, fromUnloggedActions: down.filter((d) => d.roots.includes(-1)).length },
    onlyInA: c.onlyInA.map(brief),
    onlyInB: c.onlyInB.map(brief),
  };
}

const q = (v: string | null) => (v === null ? 'absent' : JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v));

/** Plain-text lines. `verbose` lists every downstream action instead of the first few. */
export function formatText(j: ExeclogJson, verbose: boolean): string[] {
  const lines: string[] = [];
  const name = (c: { target: string; mnemonic: string; output: string }) => `${c.target || c.output} (${c.mnemonic})`;
  lines.push(`A: ${j.a.path} (${j.a.form}, ${j.a.spawns} spawns)   B: ${j.b.path} (${j.b.form}, ${j.b.spawns} spawns)`);
  lines.push(`${j.paired} actions paired, ${j.differing} with different outputs`);
  for (const w of j.buildWide) {
    if (w.kind === 'environment') lines.push(`build-wide: ${w.name} is ${q(w.a)} in A and ${q(w.b)} in B in every action that has it (--action_env?): those actions' cache keys all differ`);
    else lines.push(`build-wide: the argument ${q(w.a)} in A is ${q(w.b)} in B in several actions`);
  }
  const section = (klass: CauseJson['class'], title: string) => {
    const cs = j.causes.filter((c) => c.class === klass);
    if (!cs.length) return;
    lines.push('', title);
    for (const c of cs) {
      lines.push(`  ${c.order}. ${c.target || '(no label)'} (${c.mnemonic})`);
      for (const o of c.outputs) {
        lines.push(`     ${o.path}`);
        if (o.verdict) lines.push(`       ${o.verdict.text}`);
      }
      for (const d of c.environment) if (!d.buildWide || d.inOutput || c.unconfirmed) lines.push(`     environment: ${d.name} = ${q(d.a)} in A, ${q(d.b)} in B${d.inOutput ? ' (its value is in the output)' : ''}`);
      for (const d of c.arguments) if (!d.buildWide || c.unconfirmed) lines.push(`     argument ${d.position}: ${q(d.a)} in A, ${q(d.b)} in B`);
      for (const d of c.inputs) lines.push(`     input ${d.path}: ${d.a === null ? 'absent' : d.a.slice(0, 12)} in A, ${d.b === null ? 'absent' : d.b.slice(0, 12)} in B (a source file or tool that differs)`);
      if (c.unconfirmed) lines.push(`     (only build-wide differences, and its outputs were not found to tell whether they got in)`);
      const wide = [...c.environment.filter((d) => d.buildWide && !d.inOutput).map((d) => d.name), ...c.arguments.filter((d) => d.buildWide).map((d) => `argument ${d.position}`)];
      if (klass === 'non-deterministic' && wide.length) lines.push(`     (build-wide differences only: ${wide.join(', ')}; not found in its output)`);
      if (c.downstream.length) {
        const shown = verbose ? c.downstream : c.downstream.slice(0, 3);
        lines.push(`     downstream: ${c.downstream.length} action${c.downstream.length === 1 ? '' : 's'} (${shown.map(name).join(', ')}${shown.length < c.downstream.length ? ', ...' : ''})`);
      }
    }
  };
  section('non-deterministic', 'non-deterministic (same command line, environment and inputs, different outputs):');
  section('non-hermetic', 'non-hermetic (the command line, environment or a source input differs):');
  lines.push('');
  lines.push(
    `detnorm execlog: ${j.causes.length} cause${j.causes.length === 1 ? '' : 's'} (${j.causes.filter((c) => c.class === 'non-deterministic').length} non-deterministic, ${j.causes.filter((c) => c.class === 'non-hermetic').length} non-hermetic), ` +
      `${j.downstream.count} downstream` +
      (j.downstream.fromUnloggedActions ? ` (${j.downstream.fromUnloggedActions} from actions not in the logs: build both from clean)` : '') +
      `, ${j.onlyInA.length} only in A, ${j.onlyInB.length} only in B`,
  );
  return lines;
}
