// pyc benchmark: the whole standard library of this machine's python3, compiled once, then
//   - detnorm in-process (the library, one thread): MB/s of pyc per core, cold and warm;
//   - detnorm CLI over the tree (-j 1 and -j 2), each on a fresh copy;
//   - one detnorm process per file (the "add-determinism per file" way of calling a tool);
//   - `python -m compileall -f` of the same tree (one process, and -j 0).
// Needs the bundle: `npm run build` (or `node scripts/bundle.mjs`) first.
//   node bench/pyc-bench.mjs [--per-file-sample N] [--reps 3]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { 'per-file-sample': { type: 'string' }, reps: { type: 'string' } } });
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli.mjs');
if (!existsSync(cli)) throw new Error('dist/cli.mjs is missing: run `npm run build` first');
const { normalizeBuffer } = await import(join(root, 'dist/api.mjs'));
const reps = Number(values.reps ?? 3);
const sample = Number(values['per-file-sample'] ?? 100);
const env = { ...process.env };
delete env.PYTHONDONTWRITEBYTECODE;
delete env.SOURCE_DATE_EPOCH;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Run a command; returns [wall seconds, CPU seconds (user+sys) of it and its children]. */
function timed(cmd, args, opts = {}) {
  const script = `"$@" >/dev/null 2>&1; rc=$?; times >&2; exit $rc`;
  const t = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script, 'timed', cmd, ...args], { ...opts, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  // `times` prints two lines: the shell's, then its children's "XmY.YYYs XmY.YYYs".
  const child = r.stderr.trim().split('\n').pop().match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
  const cpu = child ? Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4]) : NaN;
  return { wall, cpu, status: r.status };
}
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function list(dir, pred, rel = '') {
  const out = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...list(dir, pred, r));
    else if (e.isFile() && pred(r)) out.push(r);
  }
  return out.sort();
}

const work = mkdtempSync(join(tmpdir(), 'detnorm-pyc-bench-'));
try {
  const stdlib = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], { encoding: 'utf8' }).trim();
  const pyVersion = execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
  const tree = join(work, 'tree');
  for (const r of list(stdlib, (r) => r.endsWith('.py') && !r.startsWith('site-packages/'))) {
    mkdirSync(dirname(join(tree, r)), { recursive: true });
    copyFileSync(join(stdlib, r), join(tree, r));
  }
  spawnSync('python3', ['-m', 'compileall', '-q', '-j', '0', tree], { env });
  const pycs = list(tree, (r) => r.endsWith('.pyc'));
  const bufs = pycs.map((r) => readFileSync(join(tree, r)));
  const bytes = bufs.reduce((a, b) => a + b.length, 0);
  const mb = bytes / 1e6;
  console.log(`${pyVersion}: ${pycs.length} pycs, ${mb.toFixed(1)} MB (stdlib without site-packages)`);

  const c1 = Array.from({ length: reps }, () => timed('python3', ['-m', 'compileall', '-q', '-f', tree], { env }));
  const cJ = Array.from({ length: reps }, () => timed('python3', ['-m', 'compileall', '-q', '-f', '-j', '0', tree], { env }));
  const compileall1 = median(c1.map((x) => x.wall));
  const compileall1Cpu = median(c1.map((x) => x.cpu));
  console.log(`python -m compileall -f:        ${compileall1.toFixed(2)} s wall, ${compileall1Cpu.toFixed(2)} s CPU (one process); ${median(cJ.map((x) => x.wall)).toFixed(2)} s wall, ${median(cJ.map((x) => x.cpu)).toFixed(2)} s CPU (-j 0)`);

  const opts = { timestamp: 1700000000, mapPaths: [`${tree}=/build/stdlib`], formats: ['pyc'] };
  const inproc = [];
  const inprocCpu = [];
  for (let i = 0; i < reps + 1; i++) {
    const t = process.hrtime.bigint();
    const c0 = cpuNow();
    let changed = 0;
    for (let k = 0; k < bufs.length; k++) {
      const r = await normalizeBuffer(bufs[k], { ...opts, name: pycs[k] });
      if (r.changed) changed++;
      else if (r.status !== 'unchanged') throw new Error(`${pycs[k]}: ${r.status} ${r.reason}`);
    }
    inproc.push(Number(process.hrtime.bigint() - t) / 1e9);
    inprocCpu.push(cpuNow() - c0);
    if (changed !== bufs.length) throw new Error(`only ${changed} of ${bufs.length} changed`);
  }
  const cold = inproc[0];
  const warm = median(inproc.slice(1));
  const warmCpu = median(inprocCpu.slice(1));
  console.log(`detnorm in-process, 1 thread:   ${cold.toFixed(2)} s cold (${(mb / cold).toFixed(0)} MB/s), ${warm.toFixed(2)} s warm (${(mb / warm).toFixed(0)} MB/s)`);
  console.log(`  CPU time: ${inprocCpu[0].toFixed(2)} s cold (${(mb / inprocCpu[0]).toFixed(0)} MB per CPU-second), ${warmCpu.toFixed(2)} s warm (${(mb / warmCpu).toFixed(0)} MB per CPU-second)`);

  const copy = join(work, 'copy');
  for (const jobs of ['1', '2']) {
    const runs = Array.from({ length: reps }, () => {
      rmSync(copy, { recursive: true, force: true });
      execFileSync('cp', ['-a', tree, copy]);
      const r = timed('node', [cli, '-q', '--no-progress', '-j', jobs, '-T', '1700000000', '--map-path', `${copy}=/build/stdlib`, copy]);
      if (r.status !== 0) throw new Error(`detnorm exited ${r.status}`);
      return r;
    });
    const t = median(runs.map((x) => x.wall));
    const c = median(runs.map((x) => x.cpu));
    console.log(`detnorm CLI on the tree, -j ${jobs}:  ${t.toFixed(2)} s wall (${(mb / t).toFixed(0)} MB/s), ${c.toFixed(2)} s CPU (.py files are walked too)`);
  }

  rmSync(copy, { recursive: true, force: true });
  execFileSync('cp', ['-a', tree, copy]);
  const step = Math.max(1, Math.floor(pycs.length / Math.min(sample, pycs.length)));
  const picked = pycs.filter((_, i) => i % step === 0);
  let perFile = 0;
  let perFileCpu = 0;
  for (const r of picked) {
    const p = timed('node', [cli, '-q', '--no-progress', '-j', '1', '-T', '1700000000', join(copy, r)]);
    if (p.status !== 0) throw new Error(`${r}: detnorm exited ${p.status}`);
    perFile += p.wall;
    perFileCpu += p.cpu;
  }
  const perFileAll = (perFile / picked.length) * pycs.length;
  const perFileAllCpu = (perFileCpu / picked.length) * pycs.length;
  console.log(`one detnorm process per file:   ${(perFile / picked.length * 1000).toFixed(0)} ms wall, ${(perFileCpu / picked.length * 1000).toFixed(0)} ms CPU per file -> ${perFileAll.toFixed(1)} s wall, ${perFileAllCpu.toFixed(1)} s CPU for all ${pycs.length} (measured on ${picked.length})`);
  console.log(`in-process (warm) vs compileall -f, one process: ${(compileall1 / warm).toFixed(1)}x faster wall, ${(compileall1Cpu / warmCpu).toFixed(1)}x less CPU; vs one process per file: ${(perFileAll / warm).toFixed(0)}x wall, ${(perFileAllCpu / warmCpu).toFixed(0)}x CPU`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
