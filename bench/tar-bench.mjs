// Tar benchmark: a 1 GB .tar of 20,000 files and a .tar.gz of a 300 MB tree (generated in
// /tmp, never committed), normalized with the built CLI (`node lib/src/cli.js -T T -o OUT IN`;
// run `npm run build` first). Compared with `cp -a` of the same archive and with GNU tar
// re-archiving the extracted tree with the reproducible flags (| gzip -n for the .tar.gz).
// Wall time and peak RSS come from /usr/bin/time. The outputs are checked against GNU tar's.
//   node bench/tar-bench.mjs [--files 20000] [--bytes 1e9] [--gz-bytes 3e8] [--keep]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);

// In-process file-backed driver (no CLI, no worker pool): `--driver IN OUT`.
if (args[0] === '--driver') {
  const lib = new URL('../lib/', import.meta.url).pathname;
  const { FileSource, FileSink, Spill } = await import(`${lib}src/file-io.js`);
  const { Engine } = await import(`${lib}src/engine.js`);
  const { defaultOptions } = await import(`${lib}src/options.js`);
  const { HANDLERS } = await import(`${lib}formats/index.js`);
  const fd = openSync(args[1], 'r');
  const ofd = openSync(args[2], 'w');
  const options = defaultOptions({ timestamp: 1423159771 });
  const spills = [];
  const engine = new Engine({ options, handlers: HANDLERS, spill: () => (spills.push(new Spill(options.limits.spillBytes)), spills.at(-1)) });
  let sink;
  const r = await engine.normalize(new FileSource(fd, fstatSync(fd).size), args[1], args[1], 0, async () => (sink = new FileSink(ofd)));
  sink?.flush(); // FileSink gathers writes: flush before closing
  for (const s of spills) s.dispose();
  closeSync(ofd);
  if (r.status === 'error') throw new Error(r.reason);
  process.exit(0);
}

const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const FILES = opt('files', 20000);
const BYTES = opt('bytes', 1e9);
const GZ_BYTES = opt('gz-bytes', 3e8);
const T = 1423159771;
const ROOT = '/tmp/detnorm-tar-bench';
const CLI = new URL('../lib/src/cli.js', import.meta.url).pathname;
if (!existsSync(CLI)) throw new Error('run `npm run build` first (lib/src/cli.js missing)');

/** Deterministic pseudo-random bytes, half compressible text, half noise. */
function content(i, size) {
  const out = Buffer.alloc(size);
  let seed = createHash('sha256').update(String(i)).digest();
  for (let at = 0; at < size; at += 32) {
    if ((at >> 12) % 2 === 0) out.write(`line ${i} ${at} of some fairly repetitive text\n`.repeat(1), at, 'latin1');
    else seed.copy(out, at, 0, Math.min(32, size - at));
    if (at % 4096 === 0) seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

function makeTree(dir, files, bytes) {
  if (existsSync(join(dir, '.done'))) return;
  rmSync(dir, { recursive: true, force: true });
  const avg = Math.floor(bytes / files);
  for (let i = 0; i < files; i++) {
    const d = join(dir, `d${i % 50}`, `s${i % 7}`);
    if (i < 350) mkdirSync(d, { recursive: true });
    const size = Math.floor(avg * (0.25 + 1.5 * ((i * 7919) % 1000) / 1000));
    writeFileSync(join(d, `f${i}.dat`), content(i, size), { mode: i % 10 === 0 ? 0o755 : 0o644 });
  }
  writeFileSync(join(dir, '.done'), '');
}

function run(label, shell) {
  // Each run starts with the page cache written back: otherwise the previous run's gigabyte of
  // dirty pages is flushed during this one and the times say more about the disk than the tool.
  execFileSync('sync');
  // /usr/bin/time around a shell so pipes are measured whole; stderr's last line is "secs kb".
  const r = execFileSync('sh', ['-c', `/usr/bin/time -f '%e %M' sh -c '${shell.replace(/'/g, "'\\''")}' 2>&1 >/dev/null | tail -1`]).toString().trim();
  const [secs, kb] = r.split(/\s+/).map(Number);
  console.log(`${label.padEnd(44)} ${secs.toFixed(2).padStart(7)} s   peak RSS ${(kb / 1024).toFixed(0).padStart(5)} MB`);
  return { secs, mb: kb / 1024 };
}

function same(a, b) {
  execFileSync('cmp', ['-s', a, b]);
  return true;
}

mkdirSync(ROOT, { recursive: true });
const REPRO = `--sort=name --mtime=@${T} --owner=0 --group=0 --numeric-owner --mode=a=rX,u+w --format=gnu`;

console.log(`detnorm tar bench: node ${process.version}, CLI ${CLI}`);
// 1. Plain tar.
const tree = join(ROOT, 'tree');
console.log(`generating ${FILES} files, ${(BYTES / 1e9).toFixed(2)} GB in ${tree} ...`);
makeTree(tree, FILES, BYTES);
const tar = join(ROOT, 'big.tar');
if (!existsSync(tar)) execFileSync('tar', ['-C', tree, '--format=gnu', '-cf', tar, '.']);
console.log(`input: ${tar} ${(statSync(tar).size / 1e9).toFixed(2)} GB`);
execFileSync('cat', [tar], { stdio: ['ignore', 'ignore', 'inherit'] }); // warm the page cache
const cp = run('cp -a big.tar', `cp -a ${tar} ${ROOT}/copy.tar`);
rmSync(`${ROOT}/copy.tar`); // each output is removed before the next run, so runs do not crowd each other
const FLOOR = new URL('./floor.mjs', import.meta.url).pathname;
const floor = run('node copy floor (1 MiB read/write, no work)', `node ${FLOOR} copy ${tar} ${ROOT}/floor.tar`);
rmSync(`${ROOT}/floor.tar`);
const dn = run('detnorm -T T -o out.tar big.tar', `node ${CLI} -q --no-progress -T ${T} -o ${ROOT}/out.tar ${tar}`);
const SELF = new URL(import.meta.url).pathname;
const drv = run('in-process driver (FileSource, no pool)', `node ${SELF} --driver ${tar} ${ROOT}/drv.tar`);
const drvSame = same(`${ROOT}/drv.tar`, `${ROOT}/out.tar`);
rmSync(`${ROOT}/drv.tar`);
const gnu = run('GNU tar re-archive (reproducible flags)', `tar -C ${tree} ${REPRO} -cf ${ROOT}/gnu.tar .`);
console.log(`  detnorm / cp -a = ${(dn.secs / cp.secs).toFixed(2)}x (target <= 2x); / node copy floor = ${(dn.secs / floor.secs).toFixed(2)}x; vs GNU tar = ${(dn.secs / gnu.secs).toFixed(2)}x`);
console.log(`  driver / cp -a = ${(drv.secs / cp.secs).toFixed(2)}x; vs GNU tar = ${(drv.secs / gnu.secs).toFixed(2)}x; same bytes as CLI: ${drvSame}`);
console.log(`  output equals GNU tar's reproducible archive: ${same(`${ROOT}/out.tar`, `${ROOT}/gnu.tar`)}`);
rmSync(`${ROOT}/gnu.tar`);
rmSync(`${ROOT}/out.tar`);

// 2. .tar.gz of a smaller tree.
const gzTree = join(ROOT, 'gztree');
const gzFiles = Math.max(1, Math.round((FILES * GZ_BYTES) / BYTES));
makeTree(gzTree, gzFiles, GZ_BYTES);
const tgz = join(ROOT, 'big.tar.gz');
if (!existsSync(tgz)) execFileSync('sh', ['-c', `tar -C ${gzTree} --format=gnu -cf - . | gzip -6 > ${tgz}`]);
console.log(`input: ${tgz} ${(statSync(tgz).size / 1e6).toFixed(0)} MB compressed, ${(GZ_BYTES / 1e6).toFixed(0)} MB of files`);
const cp2 = run('cp -a big.tar.gz', `cp -a ${tgz} ${ROOT}/copy.tar.gz`);
const gnu2 = run('GNU tar re-archive | gzip -n', `tar -C ${gzTree} ${REPRO} -cf - . | gzip -n -6 > ${ROOT}/gnu.tar.gz`);
const dn2 = run('detnorm -T T -o out.tar.gz big.tar.gz', `node ${CLI} -q --no-progress -T ${T} -o ${ROOT}/out.tar.gz ${tgz}`);
console.log(`  detnorm / cp -a = ${(dn2.secs / cp2.secs).toFixed(2)}x; vs GNU tar | gzip -n = ${(dn2.secs / gnu2.secs).toFixed(2)}x`);
const drv2 = run('in-process driver (FileSource, no pool)', `node ${SELF} --driver ${tgz} ${ROOT}/drv.tar.gz`);
console.log(`  driver vs GNU tar | gzip -n = ${(drv2.secs / gnu2.secs).toFixed(2)}x; same bytes as CLI: ${same(`${ROOT}/drv.tar.gz`, `${ROOT}/out.tar.gz`)}`);
rmSync(`${ROOT}/drv.tar.gz`);
execFileSync('sh', ['-c', `gzip -dc ${ROOT}/out.tar.gz > ${ROOT}/out-inner.tar && tar -C ${gzTree} ${REPRO} -cf ${ROOT}/gnu-inner.tar .`]);
console.log(`  payload equals GNU tar's reproducible archive: ${same(`${ROOT}/out-inner.tar`, `${ROOT}/gnu-inner.tar`)}`);
for (const f of ['copy.tar.gz', 'gnu.tar.gz', 'out.tar.gz', 'out-inner.tar', 'gnu-inner.tar']) rmSync(join(ROOT, f));
if (!args.includes('--keep')) rmSync(ROOT, { recursive: true, force: true });
