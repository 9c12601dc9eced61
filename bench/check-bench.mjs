// --check on a canonical tree (what CI runs on every build) against reading every file once
// from Node (bench/floor.mjs read, from as many threads). Issue 20's target: within 1.2x.
//   node bench/check-bench.mjs --tree DIR [--jobs 1,2] [--reps 3] [--cli PATH]
// DIR is copied and normalized once (-T 1423159771); the copy is then checked --reps times.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { tree: { type: 'string' }, jobs: { type: 'string' }, reps: { type: 'string' }, cli: { type: 'string' } } });
if (!values.tree) throw new Error('usage: node bench/check-bench.mjs --tree DIR [--jobs 1,2] [--reps 3] [--cli PATH]');
const cli = values.cli ?? fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
const floorJs = fileURLToPath(new URL('./floor.mjs', import.meta.url));
const reps = Number(values.reps ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (cmd, args, ok = [0]) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const work = mkdtempSync(join(tmpdir(), 'detnorm-check-bench-'));
try {
  const canon = join(work, 'canon');
  execFileSync('cp', ['-a', values.tree, canon]);
  spawnSync(process.execPath, [cli, '-q', '--no-progress', '-T', '1423159771', canon]);
  // Files the run could not process (exit 3) stay as they were: --check then fails on nothing.
  const mib = Number(execFileSync('du', ['-sb', canon], { encoding: 'utf8' }).split('\t')[0]) / 1048576;
  console.log(`canonical tree: ${execFileSync('sh', ['-c', `find "${canon}" -type f | wc -l`], { encoding: 'utf8' }).trim()} files, ${mib.toFixed(1)} MiB`);
  console.log(`load: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  time(process.execPath, [floorJs, 'read', canon]); // warm the page cache
  for (const j of (values.jobs ?? '1,2').split(',').map(Number)) {
    const floor = median(Array.from({ length: reps }, () => time(process.execPath, [floorJs, 'read', canon, '-j', String(j)])));
    const check = median(Array.from({ length: reps }, () => time(process.execPath, [cli, '--check', '-q', '--no-progress', '-T', '1423159771', '-j', String(j), canon], [0, 3])));
    console.log(`read floor -j${j}: ${floor.toFixed(2)} s   detnorm --check -j${j}: ${check.toFixed(2)} s   (${(check / floor).toFixed(2)}x, target <= 1.2x)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
