// RPM packages (issue 19): detnorm on an rpmbuild package of --mb MiB (many files: text and
// hash noise, a few hard links) for each payload compressor, against what rebuilding costs:
// rpmbuild packing the same build root again (`rpmbuild -bb` of a spec whose %install only
// copies the tree, in reproducible mode). detnorm's output is checked with rpm -K and, when
// payloads are recompressed, the time is mostly the compressor's (xz -6, zstd -19, gzip -9).
// Needs the bundle (`npm run build`) and rpmbuild. Inputs live in $TMPDIR and are deleted after.
//   node bench/rpm-bench.mjs [--mb 32] [--reps 3] [--compressors gzip,xz,zstd,bzip2]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({ options: { mb: { type: 'string' }, reps: { type: 'string' }, compressors: { type: 'string' } } });
const cli = fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
if (!existsSync(cli)) throw new Error('dist/cli.mjs is missing: run `npm run build` first');
const T = 1700000000;
const MB = Number(values.mb ?? 32);
const reps = Number(values.reps ?? 3);
const PAYLOADS = { gzip: 'w9.gzdio', xz: 'w6.xzdio', zstd: 'w19.zstdio', bzip2: 'w9.bzdio' };
const compressors = (values.compressors ?? 'gzip,xz,zstd').split(',');
const work = mkdtempSync(join(tmpdir(), 'detnorm-rpmbench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds and peak RSS (MiB) of a command, from /usr/bin/time. */
function timed(args, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  const [secs, kb] = r.stderr.trim().split('\n').pop().split(/\s+/).map(Number);
  return { secs, mib: kb / 1024 };
}

/** A tree of about MB MiB: files of 4 KiB..800 KiB, half repetitive text, half noise. */
function makeTree(root) {
  const py = `
import hashlib, os, sys
root, total = sys.argv[1], ${MB} << 20
i = done = 0
while done < total:
    size = min(total - done, 4096 * (1 + (i * 7919) % 200))
    d = os.path.join(root, 'usr/share/bench/d%d' % (i % 37)); os.makedirs(d, exist_ok=True)
    h = hashlib.sha256(b'%d' % i).digest(); parts = []
    while sum(map(len, parts)) < size:
        parts.append((b'line %d of a fairly repetitive text file\\n' % i) * 40); h = hashlib.sha256(h).digest(); parts.append(h * 8)
    open(os.path.join(d, 'f%d.dat' % i), 'wb').write(b''.join(parts)[:size]); done += size; i += 1
for k in range(5): os.link(os.path.join(root, 'usr/share/bench/d%d/f%d.dat' % (k, k)), os.path.join(root, 'usr/share/bench/link%d' % k))
`;
  execFileSync('python3', ['-c', py, root]);
}

const spec = (tree) => `Name: bench
Version: 1.0
Release: 1
Summary: detnorm bench
License: MIT
BuildArch: noarch
%description
bench
%install
mkdir -p %{buildroot}
cp -a ${tree}/. %{buildroot}/
%files
/usr/share/bench
`;

function build(topdir, tree, payload, reproducible) {
  mkdirSync(topdir, { recursive: true });
  writeFileSync(join(topdir, 'b.spec'), spec(tree));
  const defs = [`_topdir ${topdir}`, `_binary_payload ${payload}`, ...(reproducible ? ['_buildhost reproducible', 'use_source_date_epoch_as_buildtime 1', 'clamp_mtime_to_source_date_epoch 1'] : [])];
  const args = ['rpmbuild', '-bb', '--nodeps', ...defs.flatMap((d) => ['--define', d]), join(topdir, 'b.spec')];
  const env = reproducible ? { SOURCE_DATE_EPOCH: String(T) } : {};
  const t = timed(args, env);
  const dir = join(topdir, 'RPMS/noarch');
  return { path: join(dir, readdirSync(dir)[0]), ...t };
}

try {
  const tree = join(work, 'tree');
  makeTree(tree);
  console.log(`rpm bench: ${MB} MiB tree, ${reps} reps, medians; node ${process.version}`);
  console.log('compressor | package MiB | detnorm s (RSS MiB) | rpmbuild -bb reproducible s (RSS MiB) | detnorm = oracle');
  for (const c of compressors) {
    const input = build(join(work, `in-${c}`), tree, PAYLOADS[c], false);
    const d = [];
    const r = [];
    let oracle;
    for (let i = 0; i < reps; i++) {
      const out = join(work, `out-${c}.rpm`);
      rmSync(out, { force: true });
      d.push(timed(['node', cli, '-T', String(T), '-q', '-o', out, input.path]));
      rmSync(join(work, `or-${c}`), { recursive: true, force: true });
      oracle = build(join(work, `or-${c}`), tree, PAYLOADS[c], true);
      r.push(oracle);
      execFileSync('rpm', ['-K', '--nosignature', out]);
    }
    const same = execFileSync('sh', ['-c', `cmp -s "$1" "$2" && echo yes || echo no`, 'sh', join(work, `out-${c}.rpm`), oracle.path]).toString().trim();
    const mib = (statSync(input.path).size / 2 ** 20).toFixed(1);
    const f = (xs) => `${median(xs.map((x) => x.secs)).toFixed(2)} (${median(xs.map((x) => x.mib)).toFixed(0)})`;
    console.log(`${c} | ${mib} | ${f(d)} | ${f(r)} | ${same}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
