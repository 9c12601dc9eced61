// Time detnorm on a generated tree against `cp -a` of the same tree and against Node's in-place
// floor from as many threads (bench/floor.mjs -j N), at several job counts.
//   npm run bench -- [--mb 500] [--seed 1] [--jobs 1,2] [--tree DIR] [--reps 3]
// Every detnorm run works on a fresh `cp -a` copy (normalizing is in place), so each run does the
// full job. Reports the median wall time of --reps runs and the ratios to `cp -a` and the floor.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generateTree } from './gen-tree.mjs';
import { medians, timeRun } from './cpu-time.mjs';

const { values } = parseArgs({
  options: { mb: { type: 'string' }, seed: { type: 'string' }, jobs: { type: 'string' }, tree: { type: 'string' }, reps: { type: 'string' }, only: { type: 'string' } },
});
const cli = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'detnorm-bench-'));
const reps = Number(values.reps ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const du = (p) => execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0];
const count = (p) => execFileSync('sh', ['-c', `find "${p}" -type f | wc -l`], { encoding: 'utf8' }).trim();

try {
  let tree = values.tree;
  if (!tree) {
    tree = join(work, 'tree');
    const used = await generateTree(tree, { mb: Number(values.mb ?? 500), seed: Number(values.seed ?? 1), only: values.only?.split(',') });
    console.log(`tree: ${tree} (${used.join(', ')})`);
  }
  console.log(`tree: ${count(tree)} files, ${(Number(du(tree)) / 1048576).toFixed(1)} MiB`);
  const copy = join(work, 'copy');
  const fresh = () => {
    rmSync(copy, { recursive: true, force: true });
    execFileSync('cp', ['-a', tree, copy]);
  };
  fresh(); // warm the page cache
  const cp = median(Array.from({ length: reps }, () => {
    rmSync(copy, { recursive: true, force: true });
    return time(() => execFileSync('cp', ['-a', tree, copy]));
  }));
  console.log(`cp -a:            ${cp.toFixed(2)} s`);
  const results = {};
  const floorOf = {};
  const floorJs = fileURLToPath(new URL('./floor.mjs', import.meta.url));
  // Wall and user+sys CPU (medians; bench/cpu-time.mjs): CPU moves less with the load than wall.
  const floorCpu = {};
  for (const j of (values.jobs ?? '1,2').split(',').map(Number)) {
    const m = medians(Array.from({ length: reps }, () => {
      fresh();
      return timeRun(process.execPath, [floorJs, 'inplace', copy, '-j', String(j)]);
    }));
    floorOf[j] = m.secs;
    floorCpu[j] = m.cpu;
    console.log(`floor ${j} thread${j > 1 ? 's' : ' '}:  ${floorOf[j].toFixed(2)} s, CPU ${m.cpu.toFixed(2)} s   (${(floorOf[j] / cp).toFixed(2)}x cp -a; bench/floor.mjs inplace -j ${j})`);
  }
  for (const j of (values.jobs ?? '1,2').split(',').map(Number)) {
    const m = medians(Array.from({ length: reps }, () => {
      fresh();
      return timeRun(process.execPath, [cli, '-q', '-j', String(j), copy], { ok: [0, 3] });
    }));
    const t = m.secs;
    results[j] = t;
    console.log(`detnorm -j${j}:       ${t.toFixed(2)} s, CPU ${m.cpu.toFixed(2)} s   (${(t / cp).toFixed(2)}x cp -a, ${(t / floorOf[j]).toFixed(2)}x the ${j}-thread floor; CPU ${(m.cpu / floorCpu[j]).toFixed(1)}x the floor's)`);
  }
  const js = Object.keys(results).map(Number);
  if (js.length > 1) {
    const [a, b] = [js[0], js[js.length - 1]];
    console.log(`speed-up -j${a} -> -j${b}: ${(results[a] / results[b]).toFixed(2)}x (floor ${(floorOf[a] / floorOf[b]).toFixed(2)}x)`);
  }
  console.log(`load: ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
