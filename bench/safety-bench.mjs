// Peak RSS and wall time of the heavy cases of issue 13, and what running every file in a worker
// thread costs on a tree of small files.
//   node bench/safety-bench.mjs [--only small,nested,stdin,zeros,bomb] [--reps 3] [--baseline DIR]
// --baseline DIR: also run another build's cli.mjs (e.g. a copy of dist/ from before) on the same
// inputs. Peak RSS is the whole process (main thread and workers), from /usr/bin/time -v when it
// is installed, else from the process itself. zeros mounts a 256 MiB tmpfs as TMPDIR (root only).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { bigTarFile, gzipZerosFile, nestedTarZip, zip42, zipOf } from './safety-gen.mjs';

const { values } = parseArgs({ options: { only: { type: 'string' }, reps: { type: 'string' }, baseline: { type: 'string' } } });
const only = new Set((values.only ?? 'small,nested,stdin,zeros,bomb').split(','));
const reps = Number(values.reps ?? 3);
const clis = [['this build', fileURLToPath(new URL('../dist/cli.mjs', import.meta.url))]];
if (values.baseline) clis.push(['baseline', join(values.baseline, 'cli.mjs')]);
const work = mkdtempSync(join(tmpdir(), 'detnorm-safety-bench-'));
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const PRELOAD = "data:text/javascript,import { writeSync } from 'node:fs'; process.on('exit', () => writeSync(2, `MAXRSS ${process.resourceUsage().maxRSS}\\n`));";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Run a CLI; returns { status, secs, rssMiB, stderr }. */
function run(cli, args, { env = {}, stdin } = {}) {
  const argv = TIME ? [TIME, '-f', 'MAXRSS %M', process.execPath, cli, ...args] : [process.execPath, '--import', PRELOAD, cli, ...args];
  const t = process.hrtime.bigint();
  const r = stdin
    ? spawnSync('sh', ['-c', 'exec "$@" < "$BENCH_STDIN" > /dev/null', 'sh', ...argv], { env: { ...process.env, ...env, BENCH_STDIN: stdin }, encoding: 'utf8' })
    : spawnSync(argv[0], argv.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8' });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const m = /MAXRSS (\d+)/.exec(r.stderr);
  return { status: r.status, secs, rssMiB: m ? Number(m[1]) / 1024 : NaN, stderr: r.stderr.replace(/MAXRSS \d+\n?/, '').trim() };
}
const show = (label, r) =>
  console.log(`${label.padEnd(44)} exit ${r.status}  ${r.secs.toFixed(2).padStart(7)} s  peak RSS ${r.rssMiB.toFixed(0).padStart(5)} MiB${r.stderr ? `  (${r.stderr.split('\n')[0].slice(0, 90)})` : ''}`);

try {
  if (only.has('small')) {
    // 3,000 small files (text, small gzips, small jars): the cost of working only in workers.
    const tree = join(work, 'small');
    for (let i = 0; i < 3000; i++) {
      const d = join(tree, `d${i % 30}`);
      mkdirSync(d, { recursive: true });
      if (i % 3 === 0) writeFileSync(join(d, `f${i}.txt`), `text file ${i}\n`.repeat(20));
      else if (i % 3 === 1) writeFileSync(join(d, `f${i}.gz`), execFileSync('gzip', ['-c'], { input: `gzip ${i}\n`.repeat(50) }));
      else writeFileSync(join(d, `f${i}.jar`), zipOf([{ name: 'META-INF/MANIFEST.MF', data: Buffer.from('Manifest-Version: 1.0\r\n\r\n') }, { name: `C${i}.class`, data: Buffer.alloc(600, i % 251) }]));
    }
    console.log('small-file tree: 3,000 files (1,000 each of .txt, .gz, .jar), each run on a fresh copy');
    for (const [name, cli] of clis) {
      for (const j of [1, 2]) {
        const times = [];
        let last;
        for (let k = 0; k < reps; k++) {
          const copy = join(work, 'small-copy');
          rmSync(copy, { recursive: true, force: true });
          cpSync(tree, copy, { recursive: true });
          last = run(cli, ['-q', '-j', String(j), copy]);
          times.push(last.secs);
        }
        show(`${name}: small tree -j${j} (median of ${reps})`, { ...last, secs: median(times) });
      }
    }
  }
  if (only.has('nested')) {
    const zip = nestedTarZip(150, 8 << 20);
    for (const [name, cli] of clis) {
      for (const j of [1, 2]) {
        const f = join(work, 'nested.zip');
        writeFileSync(f, zip);
        show(`${name}: 150 x 8 MiB nested tars -j${j}`, run(cli, ['-q', '-j', String(j), f]));
      }
    }
  }
  if (only.has('bomb')) {
    const bomb = zip42(4, 16, 1 << 20);
    for (const [name, cli] of clis) {
      const f = join(work, '42.zip');
      writeFileSync(f, bomb);
      show(`${name}: 42.zip-style (${(bomb.length / 1024).toFixed(0)} KiB, 4 levels)`, run(cli, ['-q', f]));
    }
  }
  if (only.has('stdin')) {
    const f = join(work, 'big.tar');
    bigTarFile(f, 16, 64 << 20);
    for (const [name, cli] of clis) show(`${name}: 1 GiB tar through stdin`, run(cli, ['-q', '-'], { stdin: f }));
    rmSync(f);
  }
  if (only.has('zeros')) {
    const f = join(work, 'zeros.gz');
    gzipZerosFile(f, 4 * 2 ** 30);
    const tmp = join(work, 'tmpfs');
    mkdirSync(tmp);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', tmp]).status !== 0) console.log('zeros: cannot mount a tmpfs (not root): skipped');
    else {
      try {
        for (const [name, cli] of clis) {
          const copy = join(work, 'zeros-copy.gz');
          cpSync(f, copy);
          show(`${name}: gzip of 4 GiB zeros, TMPDIR 256 MiB tmpfs`, run(cli, ['-q', copy], { env: { TMPDIR: tmp } }));
        }
      } finally {
        spawnSync('umount', ['-l', tmp]);
      }
    }
  }
  console.log('(the machine may be shared: wall times are noisy; peak RSS is not)');
} finally {
  rmSync(work, { recursive: true, force: true });
}
