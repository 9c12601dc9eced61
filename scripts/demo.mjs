// npm run demo: two builds of the same release (corpus/demo/build-a and build-b, made by real
// tools at different times, owners, umasks, orders and checkout paths; see
// scripts/make-demo-sets.sh) differ byte for byte. Normalize copies of both with detnorm and
// show that every pair becomes identical. The committed originals are never modified.
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
const color = process.stdout.isTTY ? (c, s) => `\x1b[${c}m${s}\x1b[0m` : (_c, s) => s;

const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16);
function table(title) {
  console.log(`\n${color('1', title)}`);
  let same = 0;
  const names = readdirSync(join(work, 'build-a')).sort();
  for (const n of names) {
    const a = sha(join(work, 'build-a', n));
    const b = sha(join(work, 'build-b', n));
    if (a === b) same++;
    console.log(`  ${n.padEnd(30)} ${a}  ${b}  ${a === b ? color('32', 'identical') : color('31', 'differ')}`);
  }
  console.log(`  ${same} of ${names.length} pairs identical`);
  return { same, total: names.length };
}

try {
  for (const b of ['build-a', 'build-b']) cpSync(join(sets, b), join(work, b), { recursive: true, preserveTimestamps: true });
  table('Before: two builds of the same source (sha256 of build-a, of build-b)');
  for (const b of ['build-a', 'build-b']) {
    const args = [cli, '-v', '-T', T, '--map-path', `/tmp/detnorm-demo/${b}/src=/build/src`, join(work, b)];
    console.log(`\n${color('1', `$ detnorm -v -T ${T} --map-path /tmp/detnorm-demo/${b}/src=/build/src ${b}/`)}`);
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: work });
    process.stdout.write(r.stdout.replaceAll(work + '/', ''));
    process.stdout.write(r.stderr.replaceAll(work + '/', ''));
    if (r.status !== 0) console.log(`(detnorm exited with ${r.status})`);
  }
  const after = table('After: the same files, normalized');
  process.exitCode = after.same === after.total ? 0 : 1;
  if (process.exitCode) console.log(color('31', '\nSome pairs still differ: see the report above for files detnorm could not normalize.'));
  else console.log(color('32', '\nEvery artifact is now byte-identical across the two builds.'));
} finally {
  rmSync(work, { recursive: true, force: true });
}
