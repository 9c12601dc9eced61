// Per-thread user+sys CPU of a command (Linux /proc), for the closing note's "where the time goes":
// the main thread (walk, dispatch, reports), each worker thread, and V8's platform threads (the
// optimizing compiler and the concurrent GC: their CPU grows with every worker isolate, each of
// which compiles the same hot code again).
//   node bench/thread-cpu.mjs [--every 20] -- CMD ARGS...
// Samples /proc/PID/task/*/stat every --every ms until the command exits; a thread's last sample
// stands for it (a thread that exits loses at most one interval). Thread ids are printed as
// offsets from the main thread's, in creation order; threads that never ran are left out.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const opts = dash >= 0 ? args.slice(0, dash) : [];
const cmd = dash >= 0 ? args.slice(dash + 1) : args;
const everyAt = opts.indexOf('--every');
const every = everyAt >= 0 ? Number(opts[everyAt + 1]) : 20;
if (!cmd.length) throw new Error('usage: thread-cpu.mjs [--every MS] -- CMD ARGS...');

const tick = 1000 / 100; // ms per clock tick (USER_HZ is 100 on Linux)
const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
const last = new Map();
const sample = () => {
  let tids;
  try {
    tids = readdirSync(`/proc/${child.pid}/task`);
  } catch {
    return;
  }
  for (const t of tids) {
    try {
      const s = readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      last.set(Number(t), { user: Number(f[11]) * tick, sys: Number(f[12]) * tick });
    } catch {
      /* exited between the listing and the read */
    }
  }
};
const t0 = performance.now();
const timer = setInterval(sample, every);
sample();
const code = await new Promise((res) => child.on('exit', (c) => res(c)));
clearInterval(timer);
const wall = (performance.now() - t0) / 1000;
const rows = [...last].filter(([, v]) => v.user + v.sys > 0).sort((a, b) => a[0] - b[0]);
const total = rows.reduce((a, [, v]) => a + v.user + v.sys, 0);
console.log(`exit ${code}, wall ${wall.toFixed(2)} s, CPU ${(total / 1000).toFixed(2)} s (sampled every ${every} ms)`);
for (const [tid, v] of rows) {
  const name = tid === child.pid ? 'main' : `+${tid - child.pid}`;
  console.log(`  ${name.padEnd(6)} user ${(v.user / 1000).toFixed(2)} s  sys ${(v.sys / 1000).toFixed(2)} s`);
}
