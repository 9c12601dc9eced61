// The persistent worker under real Bazel (Debian's bazel-bootstrap 4.2.3): a generated
// workspace of N detnorm_normalize actions built one-shot (--strategy=Detnorm=sandboxed), as
// multiplex workers, as sandboxed workers (--worker_sandboxing), with the JSON protocol and as
// singleplex workers; every build gives the same bytes. The execution logs prove which runner
// ran each action. Shared by bazel-worker-e2e.test.ts (small N) and the slow suite (N = 300).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonObjectSplitter } from '../src/execlog/json-stream.js';
import { haveTool, tempDir } from './helpers.js';
import { makeWorkspace, pathFlags, type Workspace } from './bazel-workspace.js';

interface Spawn {
  mnemonic: string;
  runner: string;
  actualOutputs?: { path: string }[];
}

function spawnsOf(log: string): Spawn[] {
  return new JsonObjectSplitter().push(readFileSync(log)).map((m) => m.value as unknown as Spawn);
}

// Every seventh target is singleplex, every eleventh speaks JSON, every thirteenth opts out.
const attrs = (i: number) => (i % 13 === 12 ? 'worker = False' : i % 11 === 10 ? 'worker_protocol = "json"' : i % 7 === 6 ? 'multiplex = False' : '');

export function workerE2E(n: number): void {
  const HAVE = haveTool('bazel') && haveTool('python3');
  describe.skipIf(!HAVE)(`bazel: ${n} detnorm_normalize actions, one-shot and as persistent workers`, () => {
    const { dir, cleanup } = tempDir('detnorm-worker-e2e-');
    let w: Workspace;
    const builds = new Map<string, { outputs: Map<string, Buffer>; spawns: Spawn[]; seconds: number }>();
    const common = ['--incompatible_strict_action_env', '--disk_cache=', '--remote_cache=', '--experimental_worker_allow_json_protocol', ...pathFlags()];
    const MODES: Record<string, string[]> = {
      oneshot: ['--strategy=Detnorm=sandboxed'],
      worker: ['--strategy=Detnorm=worker,sandboxed'],
      'worker-sandboxed': ['--strategy=Detnorm=worker,sandboxed', '--worker_sandboxing'],
    };

    beforeAll(() => {
      w = makeWorkspace(dir, n, attrs);
      for (const [mode, flags] of Object.entries(MODES)) {
        const log = join(dir, `exec-${mode}.json`);
        const t0 = Date.now();
        const r = w.bazel(['build', '//many:all', ...common, ...flags, `--execution_log_json_file=${log}`]);
        if (r.status !== 0) throw new Error(`bazel build (${mode}) failed:\n${r.stderr.slice(-3000)}`);
        builds.set(mode, { outputs: w.outputs(), spawns: spawnsOf(log), seconds: (Date.now() - t0) / 1000 });
        // The next build runs every action again (the workers live on in the server).
        w.bazel(['clean']);
      }
    });
    afterAll(() => {
      w?.bazel(['shutdown']);
      spawnSync('chmod', ['-R', 'u+w', dir]); // Bazel leaves read-only directories behind
      cleanup();
      console.log(`bazel worker e2e (${n} actions): ${[...builds].map(([m, b]) => `${m} ${b.seconds.toFixed(1)} s`).join(', ')}`);
    });

    const detnorm = (mode: string) => builds.get(mode)!.spawns.filter((s) => s.mnemonic === 'Detnorm');
    const optedOut = (s: Spawn) => /\/nraw(\d+)\./.exec(s.actualOutputs?.[0]?.path ?? '') && attrs(Number(/\/nraw(\d+)\./.exec(s.actualOutputs![0]!.path)![1])) === 'worker = False';

    it(`every build wrote all ${n} outputs, each normalized (different from its raw archive)`, () => {
      for (const b of builds.values()) {
        expect([...b.outputs.keys()].filter((f) => f.startsWith('nraw'))).toHaveLength(n);
        for (let i = 0; i < n; i++) {
          const f = `raw${i}.${i % 5 === 4 ? 'tar.gz' : 'zip'}`;
          expect(b.outputs.get(`n${f}`)!.equals(b.outputs.get(f)!), f).toBe(false);
        }
      }
    });
    it('one-shot, worker and sandboxed worker builds give byte-identical outputs', () => {
      const ref = builds.get('oneshot')!.outputs;
      for (const mode of ['worker', 'worker-sandboxed']) {
        const got = builds.get(mode)!.outputs;
        for (const [name, bytes] of ref) if (name.startsWith('nraw')) expect(got.get(name)!.equals(bytes), `${mode}: ${name}`).toBe(true);
      }
    });
    it('the one-shot build ran every detnorm action in the sandbox', () => {
      const s = detnorm('oneshot');
      expect(s).toHaveLength(n);
      for (const x of s) expect(x.runner).toMatch(/sandbox/);
    });
    it('the worker builds ran every detnorm action as a worker (proto, JSON, singleplex, multiplex), but those with worker = False', () => {
      for (const mode of ['worker', 'worker-sandboxed']) {
        const s = detnorm(mode);
        expect(s).toHaveLength(n);
        for (const x of s) expect(x.runner, `${mode}: ${x.actualOutputs?.[0]?.path}`).toMatch(optedOut(x) ? /sandbox/ : /worker/);
        expect(s.filter((x) => !optedOut(x)).length).toBeGreaterThan(n * 0.9);
      }
    });
  });
}
