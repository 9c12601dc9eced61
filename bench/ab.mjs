// A/B of detnorm builds on one tree, interleaved (A, B, A, B ... for each -j), so the load of a
// shared machine hits both alike: medians of wall and user+sys CPU (bench/cpu-time.mjs).
//   node bench/ab.mjs --tree DIR [--reps 5] [--jobs 1,2] NAME=CLI[,ENV=VALUE...] ...
// e.g. node bench/ab.mjs --tree /tmp/detnorm-zip-bench/mixed old=/tmp/old/cli.mjs new=dist/cli.mjs
// Each run works on a fresh `cp -a` copy (detnorm rewrites in place), synced before it is timed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, timeRun } from './cpu-time.mjs';

const { values, positionals } = parseArgs({ options: { tree: { type: 'string' }, reps: { type: 'string' }, jobs: { type: 'string' } }, allowPositionals: true });
if (!values.tree || !positionals.length) throw new Error('usage: ab.mjs --tree DIR [--reps 5] [--jobs 1,2] NAME=CLI[,ENV=VALUE...] ...');
const variants = positionals.map((p) => {
  const [head, ...env] = p.split(',');
  const eq = head.indexOf('=');
  return { name: head.slice(0, eq), cli: head.slice(eq + 1), env: Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) };
});
const work = mkdtempSync(join(tmpdir(), 'detnorm-ab-'));
const copy = join(work, 'copy');
const res = new Map();
try {
  console.log(`load: ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()}`);
  for (let r = 0; r < Number(values.reps ?? 5); r++) {
    for (const j of (values.jobs ?? '1,2').split(',')) {
      for (const v of variants) {
        rmSync(copy, { recursive: true, force: true });
        spawnSync('cp', ['-a', values.tree, copy]);
        spawnSync('sync');
        const t = timeRun(process.execPath, [v.cli, '-q', '--no-progress', '-T', '1423159771', '-j', j, copy], { ok: [0, 3], env: { ...process.env, ...v.env } });
        const key = `${v.name} -j${j}`;
        if (!res.has(key)) res.set(key, []);
        res.get(key).push(t);
      }
    }
  }
  for (const [k, ts] of res) {
    const m = (f) => median(ts.map(f)).toFixed(2);
    console.log(`${k.padEnd(20)} wall ${m((t) => t.secs)} s  CPU ${m((t) => t.cpu)} s (user ${m((t) => t.user)}, sys ${m((t) => t.sys)})  RSS ${m((t) => t.rss)} MiB  CPU each: ${ts.map((t) => t.cpu.toFixed(2)).join(' ')}`);
  }
  console.log(`load: ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
