// Start-up (issue 20): what a short detnorm run costs above `node -e 0`.
//   node bench/startup-bench.mjs [--cli dist/cli.mjs] [--cli 'OTHER/cli.mjs --deadline 0' ...] [--runs 20] [--only NAME,...]
// (a --cli value is a path, then any options given to that CLI before the case's own)
// Cases, per CLI: `- < small.zip > /dev/null` (filter mode), `FILE` (one small file in place,
// a fresh copy each run), `--help`, `--version`; and `node -e 0` as the floor. small.zip is made
// here: 20 deflated text members by Info-ZIP `zip` with fixed non-canonical mtimes (so detnorm
// has real work: every member's time and extra fields change). Runs are interleaved (floor, A, B,
// floor, A, B, ...) so a load change on the shared machine hits every variant alike. Prints, per
// case and CLI, the median wall time, its excess over the floor's median, and the median user+sys
// CPU (from /usr/bin/time, which is less sensitive to load than wall).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    cli: { type: 'string', multiple: true },
    runs: { type: 'string', default: '20' },
    only: { type: 'string' },
  },
});
const clis = values.cli?.length ? values.cli : ['dist/cli.mjs'];
/** node, the CLI's path, its extra options. */
const cliArgv = (cli) => {
  const [path, ...extra] = cli.split(' ').filter(Boolean);
  return [process.execPath, resolve(path), ...extra];
};
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'detnorm-startup-'));

/** small.zip: 20 deflated text members, Info-ZIP defaults (extra fields UT/ux), mtimes 2021. */
function makeSmallZip() {
  const src = join(work, 'src');
  mkdirSync(src);
  const names = [];
  for (let i = 0; i < 20; i++) {
    const name = `file${String(i).padStart(2, '0')}.txt`;
    const lines = [];
    for (let l = 0; l < 40; l++) lines.push(`member ${i} line ${l}: the quick brown fox jumps over the lazy dog ${(i * 40 + l) % 7}`);
    writeFileSync(join(src, name), lines.join('\n') + '\n');
    utimesSync(join(src, name), 1617000000 + i, 1617000000 + i);
    names.push(name);
  }
  const r = spawnSync('zip', ['-q', '-9', join(work, 'small.zip'), ...names], { cwd: src });
  if (r.status !== 0) throw new Error(`zip failed: ${r.stderr}`);
  return join(work, 'small.zip');
}
const small = makeSmallZip();
const smallBytes = readFileSync(small);

/** One run under /usr/bin/time: wall (ms, measured here) and user+sys CPU (ms). */
function once(argv, { stdin, prep } = {}) {
  prep?.();
  const timeOut = join(work, 'time.out');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', timeOut, ...argv], {
    input: stdin,
    stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'],
    maxBuffer: 1 << 26,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const [u, s] = readFileSync(timeOut, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { wall, cpu: (u + s) * 1000 };
}

const file = join(work, 'one.zip');
const cases = [
  { name: 'filter', argv: (cli) => [...cliArgv(cli), '-q', '-'], stdin: smallBytes },
  { name: 'file', argv: (cli) => [...cliArgv(cli), '-q', file], prep: () => copyFileSync(small, file) },
  { name: 'help', argv: (cli) => [...cliArgv(cli), '--help'] },
  { name: 'version', argv: (cli) => [...cliArgv(cli), '--version'] },
].filter((c) => !values.only || values.only.split(',').includes(c.name));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const floor = { wall: [], cpu: [] };
const got = new Map(); // `${case}\t${cli}` -> {wall, cpu}
for (const c of cases) for (const cli of clis) got.set(`${c.name}\t${cli}`, { wall: [], cpu: [] });
// Warm-up: page cache and the first-run costs out of the figures.
once([process.execPath, '-e', '0']);
for (const c of cases) for (const cli of clis) once(c.argv(cli), c);
for (let i = 0; i < runs; i++) {
  const f = once([process.execPath, '-e', '0']);
  floor.wall.push(f.wall);
  floor.cpu.push(f.cpu);
  for (const c of cases) {
    for (const cli of clis) {
      const r = once(c.argv(cli), c);
      const g = got.get(`${c.name}\t${cli}`);
      g.wall.push(r.wall);
      g.cpu.push(r.cpu);
    }
  }
}
const fw = median(floor.wall);
const fc = median(floor.cpu);
console.log(`node ${process.version}, ${runs} runs each, interleaved; small.zip ${smallBytes.length} bytes (20 deflated members)`);
console.log(`${'case'.padEnd(9)} ${'cli'.padEnd(48)} ${'wall ms'.padStart(8)} ${'+floor'.padStart(7)} ${'cpu ms'.padStart(7)} ${'+floor'.padStart(7)}`);
console.log(`${'node -e 0'.padEnd(9)} ${''.padEnd(48)} ${fw.toFixed(1).padStart(8)} ${''.padStart(7)} ${fc.toFixed(0).padStart(7)}`);
for (const c of cases) {
  for (const cli of clis) {
    const g = got.get(`${c.name}\t${cli}`);
    const w = median(g.wall);
    const u = median(g.cpu);
    const shown = cli.length > 48 ? '...' + cli.slice(-45) : cli;
    console.log(`${c.name.padEnd(9)} ${shown.padEnd(48)} ${w.toFixed(1).padStart(8)} ${(w - fw).toFixed(1).padStart(7)} ${u.toFixed(0).padStart(7)} ${(u - fc).toFixed(0).padStart(7)}`);
  }
}
rmSync(work, { recursive: true, force: true });
