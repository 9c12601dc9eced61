// --check on a canonical tree (what CI runs on every build) against reading every file once
// from Node (bench/floor.mjs read, from as many threads). Issue 20's target: within 1.2x.
//   node bench/check-bench.mjs --tree DIR [--jobs 1,2] [--reps 3] [--cli PATH[,PATH2...]]
// DIR is copied and normalized once (-T 1423159771, with the first --cli); the copy is then
// checked --reps times per thread count. With several --cli bundles (old and new build: an A/B)
// the runs are interleaved (floor, A, B, then B, A, floor...) so load changes hit all alike.
// Prints medians of wall time and, when /usr/bin/time is there, of user+sys CPU (less
// sensitive to a shared machine's load than wall time), each also as a ratio to the floor.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { tree: { type: 'string' }, jobs: { type: 'string' }, reps: { type: 'string' }, cli: { type: 'string' } } });
if (!values.tree) throw new Error('usage: node bench/check-bench.mjs --tree DIR [--jobs 1,2] [--reps 3] [--cli PATH[,PATH2...]]');
const clis = (values.cli ?? fileURLToPath(new URL('../dist/cli.mjs', import.meta.url))).split(',');
const floorJs = fileURLToPath(new URL('./floor.mjs', import.meta.url));
const reps = Number(values.reps ?? 3);
const TIME = '/usr/bin/time';
const haveTime = existsSync(TIME);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Wall seconds and (with /usr/bin/time) the child's user+sys CPU seconds. */
const time = (cmd, args, ok = [0]) => {
  const t = process.hrtime.bigint();
  const r = haveTime
    ? spawnSync(TIME, ['-f', '@@cpu %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const m = haveTime ? /@@cpu ([\d.]+) ([\d.]+)/.exec(r.stderr) : null;
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : NaN };
};
const work = mkdtempSync(join(tmpdir(), 'detnorm-check-bench-'));
try {
  const canon = join(work, 'canon');
  execFileSync('cp', ['-a', values.tree, canon]);
  spawnSync(process.execPath, [clis[0], '-q', '--no-progress', '-T', '1423159771', canon]);
  // Files the run could not process (exit 3) stay as they were: --check then fails on nothing.
  const mib = Number(execFileSync('du', ['-sb', canon], { encoding: 'utf8' }).split('\t')[0]) / 1048576;
  console.log(`canonical tree: ${execFileSync('sh', ['-c', `find "${canon}" -type f | wc -l`], { encoding: 'utf8' }).trim()} files, ${mib.toFixed(1)} MiB`);
  console.log(`load: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  time(process.execPath, [floorJs, 'read', canon]); // warm the page cache (and set atimes)
  for (const j of (values.jobs ?? '1,2').split(',').map(Number)) {
    const runs = [
      { name: 'read floor', args: [floorJs, 'read', canon, '-j', String(j)], ok: [0] },
      ...clis.map((c) => ({ name: `--check ${c}`, args: [c, '--check', '-q', '--no-progress', '-T', '1423159771', '-j', String(j), canon], ok: [0, 3] })),
    ];
    const got = runs.map(() => ({ wall: [], cpu: [] }));
    for (let r = 0; r < reps; r++) {
      const order = runs.map((_, i) => i);
      if (r % 2) order.reverse();
      for (const i of order) {
        const t = time(process.execPath, runs[i].args, runs[i].ok);
        got[i].wall.push(t.wall);
        got[i].cpu.push(t.cpu);
      }
    }
    const fw = median(got[0].wall);
    const fc = median(got[0].cpu);
    runs.forEach((run, i) => {
      const w = median(got[i].wall);
      const c = median(got[i].cpu);
      const cpu = haveTime ? `   user+sys ${c.toFixed(2)} s (${(c / fc).toFixed(2)}x)` : '';
      console.log(`-j${j} ${run.name}: wall ${w.toFixed(2)} s (${(w / fw).toFixed(2)}x)${cpu}${i ? '   target <= 1.2x' : ''}`);
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
