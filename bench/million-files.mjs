// A tree of many small files (issue 20): mostly not artifacts (text, random bytes), one in
// ZIP_EVERY a small zip, in directories of 1,000. Times the walk + report of detnorm --check
// (reports streamed in path order, not held) against `find -type f | wc -l` and against the
// floor of reading the heads detection needs (bench/floor.mjs heads: open, first and last
// 4 KiB, close, from N threads), and prints detnorm's peak RSS (GNU time).
//   node bench/million-files.mjs [--files 1000000] [--dir DIR] [--keep] [--reps 3] [--jobs 1,2] [--cli PATH]
// The tree is generated once into DIR (default: a temp dir, removed unless --keep); an existing
// DIR with the same file count is reused.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { files: { type: 'string' }, dir: { type: 'string' }, keep: { type: 'boolean' }, reps: { type: 'string' }, jobs: { type: 'string' }, cli: { type: 'string' } },
});
const FILES = Number(values.files ?? 1_000_000);
const PER_DIR = 1000;
const ZIP_EVERY = 1000;
const reps = Number(values.reps ?? 3);
const cli = values.cli ?? fileURLToPath(new URL('../dist/cli.mjs', import.meta.url));
const floorJs = fileURLToPath(new URL('./floor.mjs', import.meta.url));
const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'detnorm-million-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A small stored zip (one member, fixed non-canonical time) made here: no tool per file. */
function smallZip(i) {
  const name = Buffer.from(`m${i}.txt`);
  const data = Buffer.from(`member ${i}\n`);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt16LE(0x6000 | (i % 30), 10); // a time of day
  local.writeUInt16LE(0x5021, 12); // a 2020 date
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(0x031e, 4);
  central.writeUInt16LE(10, 6);
  local.copy(central, 12, 10, 26); // time, date, crc, sizes
  central.writeUInt16LE(name.length, 28);
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  const cdOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

let table;
function crc32(b) {
  table ??= Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (const x of b) c = table[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function generate() {
  const stamp = join(dir, '.generated');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === String(FILES)) return false;
  rmSync(dir, { recursive: true, force: true });
  let s = 1;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8);
  for (let i = 0; i < FILES; i++) {
    const d = join(dir, `d${String(Math.floor(i / PER_DIR)).padStart(4, '0')}`);
    if (i % PER_DIR === 0) mkdirSync(d, { recursive: true });
    if (i % ZIP_EVERY === ZIP_EVERY - 1) writeFileSync(join(d, `a${i}.zip`), smallZip(i));
    else if (i % 2) writeFileSync(join(d, `s${i}.txt`), `line ${i} ${rand()}\n`.repeat(1 + (rand() % 8)));
    else {
      const b = Buffer.alloc(16 + (rand() % 200));
      for (let k = 0; k < b.length; k++) b[k] = rand() & 0xff;
      writeFileSync(join(d, `b${i}.bin`), b);
    }
  }
  writeFileSync(stamp, String(FILES));
  return true;
}

function timed(cmd, args) {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  const rss = Number(r.stderr.trim().split('\n').pop()) / 1024;
  return { secs, rss, stdout: r.stdout, stderr: r.stderr };
}

try {
  const t0 = Date.now();
  if (generate()) console.log(`generated ${FILES} files in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${dir}`);
  console.log(`load: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  execFileSync('sh', ['-c', `find "${dir}" -type f | wc -l`]); // warm the dentry and inode caches
  // ...and the files' first pages: else whichever runs first (the -j1 floor) reads a million
  // files cold from disk (measured: 345 s cold, against 11 s warm at -j2).
  execFileSync(process.execPath, [floorJs, 'heads', dir, '-j', '2']);
  const find = median(Array.from({ length: reps }, () => timed('sh', ['-c', `find "${dir}" -type f | wc -l`]).secs));
  console.log(`find -type f | wc -l:        ${find.toFixed(2)} s   (${(FILES / find / 1000).toFixed(0)}k files/s)`);
  for (const j of (values.jobs ?? '1,2').split(',').map(Number)) {
    const heads = median(Array.from({ length: reps }, () => timed(process.execPath, [floorJs, 'heads', dir, '-j', String(j)]).secs));
    const runs = Array.from({ length: reps }, () => timed(process.execPath, [cli, '--check', '-q', '--no-progress', '-j', String(j), dir]));
    const t = median(runs.map((r) => r.secs));
    const rss = median(runs.map((r) => r.rss));
    const target = find + heads;
    console.log(`floor heads -j${j}:             ${heads.toFixed(2)} s   (bench/floor.mjs heads -j ${j})`);
    console.log(`detnorm --check -j${j}:         ${t.toFixed(2)} s   (${(FILES / t / 1000).toFixed(1)}k files/s; ${(t / target).toFixed(2)}x find + heads floor, target <= 2x); peak RSS ${rss.toFixed(0)} MiB`);
  }
} finally {
  if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
}
