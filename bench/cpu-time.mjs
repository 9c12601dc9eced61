// Wall time and user+sys CPU of a child process (GNU time, /usr/bin/time), for the benches: on a
// shared machine CPU seconds move much less with the load than wall seconds, and the gap between
// the two says how long a run waited (for a core, or for the disk).
//   timeRun(cmd, args, opts) -> { secs, cpu, user, sys, rss (MiB), stdout, stderr, status }
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const scratch = mkdtempSync(join(tmpdir(), 'detnorm-cpu-time-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

/** Run cmd under GNU time; throws unless the exit status is in `ok` (default [0]). */
export function timeRun(cmd, args, { ok = [0], ...opts } = {}) {
  const out = join(scratch, `t${n++}`);
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', out, cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${String(r.stderr).slice(-2000)}`);
  // The last line: GNU time writes "Command exited with non-zero status N" before it.
  const [user, sys, kb] = readFileSync(out, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { secs, cpu: user + sys, user, sys, rss: kb / 1024, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Median of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median wall and median CPU of runs of timeRun. */
export function medians(runs) {
  return { secs: median(runs.map((r) => r.secs)), cpu: median(runs.map((r) => r.cpu)), rss: median(runs.map((r) => r.rss)) };
}
