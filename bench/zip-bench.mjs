// Zip-family benchmark (issue 4). Not a test: prints wall times.
//   node bench/zip-bench.mjs [--dir /tmp/detnorm-zip-bench] [--cli PATH[,PATH2...]] [--reps 3] [--big] [--skip-snd] [--only mixed,many,big]
// With several --cli bundles (an A/B: old build, new build), the mixed tree's detnorm -j1/-j2
// runs alternate between them rep by rep (same load for both), each printed with its path; the
// other figures (already canonical, strip-nondeterminism ratios, many, big) use the last one.
// 1. mixed tree (bench/zip-gen.mjs: 120 jars, 60 zips of 1-3.5 MiB members, 20 zips of 2,000
//    tiny members): `cp -a`, the Node floor from 1 and 2 threads (bench/floor.mjs -j N),
//    detnorm -j1/-j2 (wall and user+sys CPU, bench/cpu-time.mjs), strip-nondeterminism through `xargs -P1` and `xargs -P2` (T = 1423159771
//    for both tools). Each run works on a fresh
//    `cp -a` copy (both tools rewrite in place).
// 2. one zip of 4,000 / 8,000 / 16,000 members: detnorm CLI (node start-up included) and
//    in-process (api normalizeFile, second call).
// 3. --big: a 5 GiB zip64 archive made in the work dir by Python zipfile (a 4.2 GiB stored
//    member, eight 100 MiB stored members past the 4 GiB mark, small deflated files), normalized
//    by the CLI under /usr/bin/time -v for the peak RSS, then checked with `unzip -tq`. Deleted after.
// The CLI is a fresh bundle of the working tree (scripts/bundle.mjs) unless --cli is given.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateZipBench } from './zip-gen.mjs';
import { medians, timeRun } from './cpu-time.mjs';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, cli: { type: 'string' }, reps: { type: 'string' }, big: { type: 'boolean' }, 'skip-snd': { type: 'boolean' }, only: { type: 'string' } },
});
const T = '1423159771';
const dir = values.dir ?? join(tmpdir(), 'detnorm-zip-bench');
const reps = Number(values.reps ?? 3);
const work = mkdtempSync(join(tmpdir(), 'detnorm-zip-bench-run-'));
const root = fileURLToPath(new URL('..', import.meta.url));
const only = new Set((values.only ?? 'mixed,many,big').split(','));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const mib = (p) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]) / 1048576;

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}

try {
  let clis = values.cli ? values.cli.split(',') : [];
  if (!clis.length) {
    sh(process.execPath, [join(root, 'scripts/bundle.mjs'), join(work, 'dist')]);
    clis = [join(work, 'dist/cli.mjs')];
  }
  const cli = clis[clis.length - 1];
  const api = join(cli, '..', 'api.mjs');
  if (!existsSync(join(dir, 'mixed'))) {
    console.log(`generating ${dir} ...`);
    await generateZipBench(dir);
  }
  const mixed = join(dir, 'mixed');
  if (only.has('mixed')) {
  const files = readdirSync(mixed).length;
  console.log(`load: ${readFileSafe('/proc/loadavg')}`);
  console.log(`mixed tree: ${files} archives, ${mib(mixed).toFixed(1)} MiB`);
  const copy = join(work, 'copy');
  // sync: the copy's writeback (and the freed blocks' discards) must not land in the timed run.
  const fresh = () => {
    rmSync(copy, { recursive: true, force: true });
    sh('cp', ['-a', mixed, copy]);
    sh('sync', []);
  };
  fresh();
  const cp = median(Array.from({ length: reps }, () => {
    rmSync(copy, { recursive: true, force: true });
    sh('sync', []);
    return time(() => sh('cp', ['-a', mixed, copy]));
  }));
  console.log(`cp -a:                          ${cp.toFixed(2)} s`);
  // Node's floor for an in-place rewrite (read whole, temp file, rename over; no format work),
  // from N threads at once (bench/floor.mjs -j N), next to detnorm -jN.
  const floor = {};
  const res = {};
  // Wall and user+sys CPU (medians): CPU moves less with the machine's load than wall time.
  const floorCpu = {};
  const cpu = {};
  for (const j of [1, 2]) {
    const m = medians(Array.from({ length: reps }, () => {
      fresh();
      return timeRun(process.execPath, [join(root, 'bench/floor.mjs'), 'inplace', copy, '-j', String(j)]);
    }));
    floor[j] = m.secs;
    floorCpu[j] = m.cpu;
    console.log(`node in-place floor, ${j} thread${j > 1 ? 's' : ' '}: ${floor[j].toFixed(2)} s, CPU ${m.cpu.toFixed(2)} s   (${(floor[j] / cp).toFixed(1)}x cp -a; bench/floor.mjs -j ${j})`);
  }
  for (const j of [1, 2]) {
    // Rep by rep, every bundle in turn (the order alternates so neither always runs first).
    const runs = clis.map(() => []);
    for (let i = 0; i < reps; i++) {
      for (let k = 0; k < clis.length; k++) {
        const c = i % 2 ? clis.length - 1 - k : k;
        fresh();
        runs[c].push(timeRun(process.execPath, [clis[c], '-q', '--no-progress', '-T', T, '-j', String(j), copy]));
      }
    }
    for (let c = 0; c < clis.length; c++) {
      const m = medians(runs[c]);
      const user = runs[c].map((r) => r.user).sort((a, b) => a - b)[Math.floor(reps / 2)];
      const sys = runs[c].map((r) => r.sys).sort((a, b) => a - b)[Math.floor(reps / 2)];
      res[j] = m.secs;
      cpu[j] = m.cpu;
      const who = clis.length > 1 ? ` ${clis[c]}` : '';
      console.log(`detnorm -j${j}${who}:                    ${res[j].toFixed(2)} s, CPU ${m.cpu.toFixed(2)} s (user ${user.toFixed(2)}, sys ${sys.toFixed(2)})   (${(res[j] / cp).toFixed(1)}x cp -a, ${(res[j] / floor[j]).toFixed(2)}x the ${j}-thread floor; CPU ${(m.cpu / floorCpu[j]).toFixed(1)}x the floor's)`);
    }
  }
  console.log(`CPU -j1 -> -j2: detnorm +${(cpu[2] - cpu[1]).toFixed(2)} s, floor +${(floorCpu[2] - floorCpu[1]).toFixed(2)} s (what a second thread costs: its start-up, its own JIT warm-up)`);
  console.log(`gain -j1 -> -j2: detnorm ${(res[1] / res[2]).toFixed(2)}x, floor ${(floor[1] / floor[2]).toFixed(2)}x`);
  fresh();
  const again = time(() => sh(process.execPath, [cli, '-q', '--no-progress', '-T', T, '-j', '2', copy]));
  const second = time(() => sh(process.execPath, [cli, '-q', '--no-progress', '-T', T, '-j', '2', copy]));
  console.log(`detnorm -j2, already canonical: ${second.toFixed(2)} s (first run ${again.toFixed(2)} s)`);
  if (!values['skip-snd']) {
    // Both tools' own -j1/-j2 gains, measured in this run: one process per 10 files, 1 or 2 at once.
    const snd = {};
    for (const p of [1, 2]) {
      const ts = [];
      for (let i = 0; i < Math.min(reps, 3); i++) {
        fresh();
        ts.push(time(() => sh('sh', ['-c', `find "${copy}" -type f -print0 | xargs -0 -P${p} -n 10 strip-nondeterminism -T ${T}`])));
      }
      snd[p] = median(ts);
      console.log(`strip-nondeterminism, xargs -P${p} -n 10: ${snd[p].toFixed(2)} s   (detnorm -j${p} is ${(snd[p] / res[p]).toFixed(1)}x faster)`);
    }
    console.log(`gain -P1 -> -P2: strip-nondeterminism ${(snd[1] / snd[2]).toFixed(2)}x; detnorm -j2 vs xargs -P2: ${(snd[2] / res[2]).toFixed(1)}x (target >= 20x)`);
  }

  }
  if (only.has('many')) {
  console.log('one archive of many members:');
  for (const n of [4000, 8000, 16000]) {
    const src = join(dir, 'many', `many${n}.zip`);
    const f = join(work, `many${n}.zip`);
    const ts = [];
    for (let i = 0; i < reps; i++) {
      sh('cp', ['-a', src, f]);
      ts.push(time(() => sh(process.execPath, [cli, '-q', '--no-progress', '-T', T, '-j', '1', f])));
    }
    sh('cp', ['-a', src, f]);
    const inproc = sh(process.execPath, ['--input-type=module', '-e', `
      import { normalizeFile } from ${JSON.stringify(api)};
      import { copyFileSync } from 'node:fs';
      const f = ${JSON.stringify(f)}, g = f + '.b';
      copyFileSync(f, g);
      await normalizeFile(g, { timestamp: ${T} });
      const t = performance.now();
      const r = await normalizeFile(f, { timestamp: ${T} });
      console.log((performance.now() - t).toFixed(0), r.status);`]).stdout.trim();
    console.log(`  ${String(n).padStart(5)} members: CLI ${median(ts).toFixed(2)} s, in-process ${inproc} ms`);
  }

  }
  if (values.big && only.has('big')) {
    const big = join(work, 'big.zip');
    const py = `
import zipfile, sys
zero = bytes(1 << 24)
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    zi = zipfile.ZipInfo('a/huge.bin', date_time=(2024, 1, 2, 3, 4, 6)); zi.external_attr = 0o100644 << 16
    with z.open(zi, 'w', force_zip64=True) as w:
        for _ in range(4300 * (1 << 20) // len(zero)): w.write(zero)
    for i in range(8):
        zi = zipfile.ZipInfo(f'b/part{i}.bin', date_time=(2024, 1, 2, 3, 4, 6)); zi.external_attr = 0o100644 << 16
        with z.open(zi, 'w', force_zip64=True) as w:
            for _ in range(100 * (1 << 20) // len(zero)): w.write(zero)
    for i in range(50):
        z.writestr(zipfile.ZipInfo(f'c/small{i}.txt', date_time=(2024, 1, 2, 3, 4, 6)), ('line %d\\n' % i) * 100, zipfile.ZIP_DEFLATED)
`;
    const g = time(() => sh('python3', ['-c', py, big]));
    console.log(`5 GiB zip64: ${(statSync(big).size / 2 ** 30).toFixed(2)} GiB made in ${g.toFixed(0)} s`);
    let rss = '';
    const t = time(() => {
      const r = sh('/usr/bin/time', ['-v', process.execPath, cli, '-q', '--no-progress', '-T', T, '-j', '1', big]);
      rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? '?';
    });
    console.log(`  detnorm: ${t.toFixed(1)} s, peak RSS ${(Number(rss) / 1024).toFixed(0)} MiB`);
    const check = spawnSync('unzip', ['-tq', big], { encoding: 'utf8' });
    console.log(`  unzip -tq: ${check.stdout.trim()} (exit ${check.status})`);
    const list = spawnSync('zipinfo', ['-h', big], { encoding: 'utf8' });
    console.log(`  zipinfo: ${list.stdout.trim().split('\n').slice(-1)[0]}`);
    rmSync(big, { force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

function readFileSafe(p) {
  try {
    return execFileSync('cat', [p], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}
