// Generate a reproducible mixed tree of build artifacts for benchmarks.
//   node bench/gen-tree.mjs --out /tmp/tree --mb 500 --seed 1 [--only gzip-ar,zip]
// Each format family contributes a generator module in bench/ exporting
//   generate(dir, { seed, count, bytes }) -> Promise<void>
// listed in GENERATORS below; the tree also holds plain files no handler claims (sources,
// random binaries), as a real output tree does. Same seed and sizes: same tree.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * Each family: [name, share of the bytes (null: the generator's own fixed size), generate].
 * A family whose module is absent is skipped.
 */
export const GENERATORS = [
  ['gzip-ar', 0.35, async (dir, o) => (await import('./gen-gzip-ar.mjs')).generate(dir, o)],
  // zip-gen writes a fixed mix (120 jars, 60 zips of 1-3.5 MiB members, 20 zips of 2,000 tiny
  // members: ~220 MiB); the tree keeps its `mixed/` set.
  ['zip', null, async (dir, o) => {
    await (await import('./zip-gen.mjs')).generateZipBench(join(dir, 'work'), { seed: o.seed });
    renameSync(join(dir, 'work', 'mixed'), join(dir, 'mixed'));
    rmSync(join(dir, 'work'), { recursive: true, force: true });
  }],
  ['tar', 0.2, generateTars],
  ['pyc', null, generatePycs],
];

export function rng(seed) {
  // mulberry32: small, seeded, the same everywhere.
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Plain files no handler claims: text sources and random binaries. */
function plainFiles(dir, { seed, count, bytes }) {
  const r = rng(seed);
  mkdirSync(dir, { recursive: true });
  const per = Math.max(1, Math.floor(bytes / count));
  for (let i = 0; i < count; i++) {
    const n = Math.max(16, Math.floor(per * (0.5 + r())));
    const text = i % 2 === 0;
    const buf = Buffer.alloc(n);
    for (let j = 0; j < n; j++) buf[j] = text ? 97 + Math.floor(r() * 26) : Math.floor(r() * 256);
    if (text) for (let j = 60; j < n; j += 61) buf[j] = 10;
    writeFileSync(join(dir, `file${i}.${text ? 'txt' : 'bin'}`), buf);
  }
}

/** Tar and tar.gz archives of random source-like trees, made by GNU tar with real owners/times. */
async function generateTars(dir, { seed, bytes }) {
  const r = rng(seed + 7);
  mkdirSync(dir, { recursive: true });
  const perArchive = 8 * 1024 * 1024;
  const n = Math.max(1, Math.round(bytes / perArchive));
  for (let a = 0; a < n; a++) {
    const src = join(dir, `src${a}`);
    const files = 200;
    for (let i = 0; i < files; i++) {
      const sub = join(src, `d${i % 9}`);
      mkdirSync(sub, { recursive: true });
      const len = Math.floor((perArchive / files) * (0.5 + r()));
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = 97 + Math.floor(r() * r() * 26);
      writeFileSync(join(sub, `f${i}.txt`), buf);
    }
    const mtime = `@${1600000000 + Math.floor(r() * 1e8)}`;
    execFileSync('find', [src, '-exec', 'touch', '-h', '-d', mtime, '{}', '+']);
    const gz = a % 2 === 1;
    execFileSync('tar', ['--format=gnu', `-c${gz ? 'z' : ''}f`, join(dir, `archive${a}.tar${gz ? '.gz' : ''}`), '-C', src, '.']);
    rmSync(src, { recursive: true, force: true });
  }
}

/** The pycs of a part of this Python's standard library, compiled in the bench tree. */
async function generatePycs(dir) {
  mkdirSync(dir, { recursive: true });
  const stdlib = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], { encoding: 'utf8' }).trim();
  for (const pkg of ['email', 'json', 'asyncio', 'xml', 'http', 'unittest', 'logging', 'concurrent', 'importlib']) {
    execFileSync('cp', ['-r', join(stdlib, pkg), join(dir, pkg)]);
  }
  execFileSync('python3', ['-m', 'compileall', '-q', dir], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '' } });
}

export async function generateTree(out, { mb = 100, seed = 1, only } = {}) {
  const total = mb * 1024 * 1024;
  mkdirSync(out, { recursive: true });
  const used = [];
  for (const [name, share, generate] of GENERATORS) {
    if (only && !only.includes(name)) continue;
    const bytes = share === null ? 0 : Math.floor(total * share);
    await generate(join(out, name), { seed, count: Math.max(4, Math.floor(bytes / (1.5 * 1024 * 1024))), bytes });
    used.push(name);
  }
  plainFiles(join(out, 'plain'), { seed: seed + 99, count: 200, bytes: Math.floor(total * 0.1) });
  return used;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, mb: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' } } });
  if (!values.out) {
    console.error('usage: node bench/gen-tree.mjs --out DIR [--mb 500] [--seed 1] [--only gzip-ar,zip,tar,pyc]');
    process.exit(2);
  }
  const used = await generateTree(values.out, { mb: Number(values.mb ?? 100), seed: Number(values.seed ?? 1), only: values.only?.split(',') });
  console.log(`generated ${values.out} with: ${used.join(', ') || '(plain files only)'}`);
}
