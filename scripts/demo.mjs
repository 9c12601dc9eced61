// npm run demo: one release built twice (corpus/demo/build-a and build-b, made by real tools at
// different times, by different users, with different umasks, file orders and checkout
// directories; scripts/make-demo-sets.sh made them). The story, in one screen: the two builds
// differ; `detnorm diff` says why; detnorm fixes copies of them; the copies are identical; and
// they still work (java -jar, pip install, tar, unzip, the program runs). The committed
// originals are never modified.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli.mjs');
const sets = join(root, 'corpus/demo');
const work = mkdtempSync(join(tmpdir(), 'detnorm-demo-'));
const T = '1700000000';
const maps = ['build-a', 'build-b'].flatMap((b) => ['--map-path', `/tmp/detnorm-demo/${b}/src=/build/src`]);
const tty = process.stdout.isTTY;
const paint = (c) => (s) => (tty ? `\x1b[${c}m${s}\x1b[0m` : s);
const bold = paint('1');
const green = paint('32');
const red = paint('31');
const dim = paint('2');

const say = (s = '') => console.log(s);
const rel = (s) => s.replaceAll(work + '/', '');
const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const detnorm = (args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: work, env: { ...process.env, SOURCE_DATE_EPOCH: '' } });
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function compare() {
  const names = readdirSync(join(work, 'build-a')).sort();
  return names.map((n) => ({ n, a: sha(join(work, 'build-a', n)), b: sha(join(work, 'build-b', n)) }));
}

/** One reference-tool check: name, command shown, and a function giving [ok, what it printed]. */
function check(label, tool, fn) {
  if (!have(tool)) {
    say(`  ${dim('-')} ${label.padEnd(44)} ${dim(`skipped: ${tool} not found`)}`);
    return true;
  }
  let ok = false;
  let out = '';
  try {
    [ok, out] = fn();
  } catch (e) {
    out = String(e.message ?? e).split('\n')[0];
  }
  say(`  ${ok ? green('ok') : red('FAILED')} ${label.padEnd(44)} ${out}`);
  return ok;
}

const inA = (...p) => join(work, 'build-a', ...p);
const sh = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', cwd: work, ...opts });

let failures = 0;
try {
  for (const b of ['build-a', 'build-b']) cpSync(join(sets, b), join(work, b), { recursive: true, preserveTimestamps: true });

  say(bold('One release, built twice'));
  say('  build-a: 2024-03-01 by alice (uid 1000, umask 022) in /tmp/detnorm-demo/build-a/src');
  say('  build-b: 2025-07-15 by bob (uid 1234, umask 002, files made in reverse order) in .../build-b/src');
  say(dim('  (corpus/demo; scripts/make-demo-sets.sh made both with gcc, javac + jar, python3, zip, tar, gzip)'));

  const before = compare();
  const differ = before.filter((p) => p.a !== p.b).length;
  say();
  say(bold(`1. The two builds differ: ${differ} of ${before.length} files are not byte-identical`));
  say(`  ${before.map((p) => p.n).join(' ')}`);

  say();
  say(bold('2. detnorm diff says why (it only reads)'));
  say(dim(`  $ detnorm diff -T ${T} --map-path /tmp/detnorm-demo/build-a/src=/build/src --map-path ...build-b... build-a build-b`));
  const d = detnorm(['diff', '--json', '-T', T, ...maps, 'build-a', 'build-b']);
  let result;
  try {
    result = JSON.parse(d.stdout);
  } catch {
    say(red(`  detnorm diff failed (exit ${d.status}): ${d.stderr.trim()}`));
    process.exit(1);
  }
  for (const p of result.pairs) {
    const what = p.status === 'normalized' ? `same after normalization; was: ${(p.normalizedAway ?? []).join(', ')}` : p.status === 'identical' ? 'identical' : red(`DIFFERS: ${(p.differences ?? []).map((x) => x.detail).join('; ')}`);
    say(`  ${p.path.padEnd(28)} ${(p.format ?? '').padEnd(5)} ${what}`);
  }

  say();
  say(bold('3. detnorm fixes them (here: copies of both builds, in place)'));
  for (const b of ['build-a', 'build-b']) {
    say(dim(`  $ detnorm -T ${T} --map-path /tmp/detnorm-demo/${b}/src=/build/src ${b}/`));
    const r = detnorm(['-T', T, '--no-progress', '--map-path', `/tmp/detnorm-demo/${b}/src=/build/src`, b]);
    // The file lines once (build-a); for build-b the summary tells the same story.
    const lines = rel(r.stdout).trim().split('\n').filter(Boolean);
    if (b === 'build-a') for (const l of lines) say(`  ${l}`);
    for (const l of rel(r.stderr).trim().split('\n').filter(Boolean)) say(`  ${l}`);
    if (r.status !== 0) {
      say(red(`  (detnorm exited with ${r.status})`));
      failures++;
    }
  }

  const after = compare();
  const same = after.filter((p) => p.a === p.b);
  say();
  say(bold(`4. Now ${same.length} of ${after.length} files are byte-identical across the two builds`));
  for (const p of after) say(`  ${p.n.padEnd(28)} ${p.a.slice(0, 16)}  ${p.a === p.b ? green('same in both') : red(`differs: ${p.b.slice(0, 16)}`)}`);
  if (same.length !== after.length) failures++;

  say();
  say(bold('5. And they still work (build-a shown; build-b is the same bytes)'));
  const target = join(work, 'site');
  const ok = [
    check('./hello (the program runs)', 'true', () => {
      const r = sh(inA('hello'), []);
      return [r.status === 0 && /answer\(\) = 42/.test(r.stdout), r.stdout.trim()];
    }),
    check('java -jar app.jar', 'java', () => {
      const r = sh('java', ['-jar', inA('app.jar')]);
      return [r.status === 0 && /hello from the detnorm demo/.test(r.stdout), r.stdout.trim() || r.stderr.trim().split('\n')[0]];
    }),
    check('pip install --target site hello-1.0-*.whl', 'python3', () => {
      const pip = sh('python3', ['-m', 'pip', 'install', '-q', '--no-index', '--no-deps', '--disable-pip-version-check', '--target', target, inA('hello-1.0-py3-none-any.whl')]);
      if (pip.status !== 0) return [false, pip.stderr.trim().split('\n').pop()];
      const r = sh('python3', ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(target)}); import hello; print("import hello; hello.greet('world') ->", hello.greet('world'))`]);
      return [r.status === 0, r.stdout.trim() || r.stderr.trim().split('\n').pop()];
    }),
    check('tar tzf release.tar.gz', 'tar', () => {
      const r = sh('tar', ['tzf', inA('release.tar.gz')]);
      return [r.status === 0, `${r.stdout.trim().split('\n').length} members listed`];
    }),
    check('unzip -t release.zip', 'unzip', () => {
      const r = sh('unzip', ['-tq', inA('release.zip')]);
      return [r.status === 0, rel(r.stdout.trim())];
    }),
    check('gzip -t README.gz notes.gz; ar t libdemo.a', 'ar', () => {
      const g = sh('gzip', ['-t', inA('README.gz'), inA('notes.gz')]);
      const a = sh('ar', ['t', inA('libdemo.a')]);
      return [g.status === 0 && a.status === 0, `gzip: ok; ar: ${a.stdout.trim().split('\n').join(' ')}`];
    }),
  ];
  if (ok.includes(false)) failures++;

  say();
  if (failures) say(red('Something above did not work out: see the lines marked FAILED or the report of detnorm.'));
  else say(green('Two builds, one set of bytes, and everything still runs. Try it on yours: npx detnorm diff A B'));
  process.exitCode = failures ? 1 : 0;
} finally {
  rmSync(work, { recursive: true, force: true });
}
