// The Bazel persistent worker: (1) one worker process driven directly with thousands of
// requests, its RSS after each step (does it grow?); (2) a clean Bazel build of N
// detnorm_normalize actions, one-shot (--strategy=Detnorm=sandboxed) and as workers
// (--strategy=Detnorm=worker), REPS times each: wall time, and from Bazel's own --profile the
// time its actions spent ("action processing" events of the Detnorm actions) and the critical path.
//   npm run build && node --import tsx bench/bazel-worker-bench.mjs [--requests 5000] [--actions 300] [--reps 3] [--skip-bazel] [--skip-rss]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { requests: { type: 'string' }, actions: { type: 'string' }, reps: { type: 'string' }, 'skip-bazel': { type: 'boolean' }, 'skip-rss': { type: 'boolean' } },
});
const REQUESTS = Number(values.requests ?? 5000);
const ACTIONS = Number(values.actions ?? 300);
const REPS = Number(values.reps ?? 3);
const work = mkdtempSync(join(tmpdir(), 'detnorm-worker-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { WorkerDriver } = await import('../test/worker-driver.ts');
const { buildZip } = await import('../test/zip-helpers.ts');
const { makeWorkspace, pathFlags } = await import('../test/bazel-workspace.ts');

async function rssRun() {
  mkdirSync(join(work, 'in'));
  mkdirSync(join(work, 'out'));
  // 50 inputs of a few KiB (20 members each), reused round-robin; outputs overwritten.
  for (let i = 0; i < 50; i++) {
    writeFileSync(join(work, 'in', `${i}.zip`), buildZip(Array.from({ length: 20 }, (_, j) => ({ name: `p/${(j * 7 + i) % 20}.txt`, data: `${i}:${j}\n`.repeat(40), method: 8, date: 0x5821 + i, time: j }))));
  }
  const w = new WorkerDriver('proto', { cwd: work });
  const marks = new Set([100, 1000, 2000, 3000, 4000, 5000, 10000, 15000, 20000, REQUESTS].filter((n) => n <= REQUESTS));
  const rss = [];
  const inFlight = 8; // Bazel's default multiplex instances per worker
  const t0 = performance.now();
  let next = 1;
  const one = async () => {
    while (next <= REQUESTS) {
      const id = next++;
      const r = await w.request({ requestId: id, arguments: ['-q', '-T', '1700000000', '-o', `out/${id % 50}-${id % inFlight}.zip`, `in/${id % 50}.zip`] });
      if (r.exitCode !== 0) throw new Error(`request ${id}: ${r.output}`);
      if (marks.has(id)) rss.push([id, w.rssKiB()]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, one));
  const secs = (performance.now() - t0) / 1000;
  await w.close();
  rss.sort((a, b) => a[0] - b[0]);
  console.log(`worker: ${REQUESTS} requests (${inFlight} in flight, 20-member zips) in ${secs.toFixed(1)} s (${((secs / REQUESTS) * 1000).toFixed(2)} ms each)`);
  console.log(`worker RSS: ${rss.map(([n, kib]) => `${(kib / 1024).toFixed(1)} MiB after ${n}`).join(', ')}`);
}

function profileFigures(file) {
  const d = JSON.parse(readFileSync(file, 'utf8'));
  const events = Array.isArray(d) ? d : d.traceEvents;
  const durs = events.filter((e) => e.ph === 'X' && e.cat === 'action processing' && /^Normalizing /.test(e.name ?? '')).map((e) => e.dur / 1e6);
  const critical = events.filter((e) => e.ph === 'X' && e.cat === 'critical path component').reduce((a, e) => a + e.dur / 1e6, 0);
  return { n: durs.length, sum: durs.reduce((a, b) => a + b, 0), median: median(durs), critical };
}

function bazelRun() {
  const w = makeWorkspace(join(work, 'bazel'), ACTIONS);
  const common = ['--incompatible_strict_action_env', '--disk_cache=', '--remote_cache=', ...pathFlags()];
  const modes = { oneshot: ['--strategy=Detnorm=sandboxed'], worker: ['--strategy=Detnorm=worker'] };
  const results = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const [mode, flags] of Object.entries(modes)) {
      // Cold: no server, no worker; the raw archives are built first, untimed.
      w.bazel(['shutdown']);
      w.bazel(['clean']);
      let r = w.bazel(['build', '//many:raws', ...common]);
      if (r.status !== 0) throw new Error(r.stderr.slice(-2000));
      const profile = join(work, `profile-${mode}-${rep}.json`);
      const t0 = performance.now();
      r = w.bazel(['build', '//many:all', ...common, ...flags, `--profile=${profile}`]);
      const wall = (performance.now() - t0) / 1000;
      if (r.status !== 0) throw new Error(r.stderr.slice(-2000));
      const elapsed = Number(/Elapsed time: ([\d.]+)s/.exec(r.stderr)?.[1]);
      const cp = Number(/Critical Path: ([\d.]+)s/.exec(r.stderr)?.[1]);
      const processes = /INFO: (\d+ processes: .*)\./.exec(r.stderr)?.[1];
      (results[mode] ??= []).push({ wall, elapsed, cp, processes, ...profileFigures(profile) });
    }
  }
  w.bazel(['shutdown']);
  const line = (mode) => {
    const xs = results[mode];
    const m = (k) => median(xs.map((x) => x[k]));
    return { mode, elapsed: m('elapsed'), wall: m('wall'), cp: m('cp'), sum: m('sum'), med: m('median'), n: xs[0].n, processes: xs[0].processes };
  };
  const [one, wk] = [line('oneshot'), line('worker')];
  console.log(`bazel: clean build of ${ACTIONS} detnorm_normalize actions (+ the raw archives, built before, untimed), median of ${REPS}:`);
  for (const x of [one, wk]) {
    console.log(
      `  ${x.mode.padEnd(8)} Bazel elapsed ${x.elapsed.toFixed(1)} s (client wall ${x.wall.toFixed(1)} s), critical path ${x.cp.toFixed(2)} s, ` +
        `Detnorm actions in the profile: ${x.n}, sum ${x.sum.toFixed(1)} s, median ${(x.med * 1000).toFixed(0)} ms; ${x.processes}`,
    );
  }
  console.log(`  ratio one-shot/worker: elapsed ${(one.elapsed / wk.elapsed).toFixed(1)}x, time in Detnorm actions ${(one.sum / wk.sum).toFixed(1)}x`);
}

try {
  console.log(`machine: ${(await import('node:os')).availableParallelism()} cores; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} (shared: figures are noisy)`);
  if (!values['skip-rss']) await rssRun();
  if (!values['skip-bazel']) bazelRun();
} finally {
  spawnSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
}
