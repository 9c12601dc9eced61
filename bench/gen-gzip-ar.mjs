// Generate gzip and ar bench inputs with the real tools (issue 3):
//   gz/   files compressed by `gzip -1/-6/-9` with their name and mtime in the header (and
//         now and then a multi-member file, as `cat a.gz b.gz` makes), payloads text-like
//         (logs, man pages, changelogs: about 3:1 under deflate) of varied sizes
//   lib/  static libraries made by `ar rcU` (times, owners and modes kept, as a non-Debian ar
//         writes them): real gcc objects when gcc is here (symbol table, long names), plus a
//         few data members; .deb-like containers are left to the tar/deb generators
// Content comes from a seeded PRNG (same seed and sizes: same logical tree; the headers still
// carry the varied times and owners, which is what detnorm removes).
//   node bench/gen-gzip-ar.mjs DIR [--seed 1] [--count 40] [--bytes 50000000]
// No dependencies beyond Node.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

function rng(seed) {
  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('the of and to in is for build error warning info debug compile link object symbol archive ' +
  'package version release date time user host path file directory library static shared test passed ' +
  'failed started finished request response module function return value config option default').split(' ');

/** n bytes of log-like text. */
function text(r, n) {
  const b = Buffer.alloc(n);
  let i = 0;
  let line = 0;
  while (i < n) {
    const s = line++ % 7 === 0
      ? `[${String(Math.floor(r() * 1e9)).padStart(10, '0')}] ${WORDS[Math.floor(r() * WORDS.length)].toUpperCase()}: `
      : `${WORDS[Math.floor(r() * WORDS.length)]}${r() < 0.12 ? '\n' : ' '}`;
    i += b.write(s, i, 'latin1');
  }
  return b;
}

function sh(cmd, args, opts = {}) {
  const p = spawnSync(cmd, args, { ...opts, stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'] });
  if (p.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${p.stderr?.toString() ?? p.status}`);
  return p;
}

const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Compile a set of objects of varied sizes (once per call). */
function objects(work, r) {
  if (!have('gcc')) return [];
  const objs = [];
  for (let k = 0; k < 8; k++) {
    const nfun = 5 + Math.floor(r() * 120);
    let src = '';
    for (let f = 0; f < nfun; f++) {
      src += `int ${k % 2 ? 'util' : 'calc'}_${k}_${f}(int a, int b) { int s = a; for (int i = 0; i < b; i++) s = s * ${f + 3} + i ^ ${k}; return s; }\n`;
      src += `const char *msg_${k}_${f} = "${text(r, 20 + Math.floor(r() * 60)).toString('latin1').replace(/[^a-z ]/g, ' ')}";\n`;
    }
    const c = join(work, `src${k}.c`);
    writeFileSync(c, src);
    sh('gcc', ['-O1', '-c', c, '-o', join(work, `src${k}.o`)]);
    objs.push(readFileSync(join(work, `src${k}.o`)));
  }
  return objs;
}

/** Sizes that add up to about `bytes`, spread log-uniformly from 1/8 to 4 times the mean. */
function sizes(r, count, bytes) {
  const raw = Array.from({ length: count }, () => Math.exp(Math.log(1 / 8) + r() * Math.log(32)));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((x) => Math.max(64, Math.floor((x / sum) * bytes)));
}

function setMeta(p, r) {
  const t = 1_400_000_000 + Math.floor(r() * 400_000_000);
  chmodSync(p, r() < 0.3 ? 0o755 : r() < 0.5 ? 0o664 : 0o644);
  if (isRoot) chownSync(p, Math.floor(r() * 3000), Math.floor(r() * 3000));
  utimesSync(p, t, t);
}

/**
 * Write `count` gzip and ar artifacts of about `bytes` bytes in total into dir
 * (gz/ and lib/). Returns the list of files written.
 */
export async function generate(dir, { seed = 1, count = 40, bytes = 50_000_000 } = {}) {
  const r = rng(seed * 7919 + 3);
  const work = join(dir, '.work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  mkdirSync(join(dir, 'gz'), { recursive: true });
  mkdirSync(join(dir, 'lib'), { recursive: true });
  const objs = objects(work, r);
  const written = [];
  const nGz = Math.max(1, Math.round(count * 0.6));
  // gzip output is ~1/3 of its payload: scale payloads so the files add up to the share.
  const plan = sizes(r, count, bytes);
  for (let i = 0; i < count; i++) {
    const target = plan[i];
    if (i < nGz) {
      const name = `${WORDS[Math.floor(r() * WORDS.length)]}-${i}.${r() < 0.5 ? 'log' : 'txt'}`;
      const level = [1, 6, 6, 9][Math.floor(r() * 4)];
      const parts = r() < 0.1 ? 2 : 1;
      const out = join(dir, 'gz', `${name}.gz`);
      const fd = openSync(out, 'w');
      for (let p = 0; p < parts; p++) {
        const src = join(work, name);
        writeFileSync(src, text(r, Math.floor((target * 3) / parts)));
        setMeta(src, r);
        sh('gzip', ['-c', `-${level}`, name], { cwd: work, stdio: ['ignore', fd, 'pipe'] });
        rmSync(src);
      }
      closeSync(fd);
      written.push(out);
    } else {
      const lib = join(dir, 'lib', `lib${WORDS[Math.floor(r() * WORDS.length)]}${i}.a`);
      const names = [];
      let size = 0;
      for (let m = 0; size < target; m++) {
        const long = r() < 0.3;
        let data;
        let name;
        if (objs.length && r() < 0.85) {
          data = objs[Math.floor(r() * objs.length)];
          name = `${long ? 'implementation_of_' : ''}mod${m}.o`;
        } else {
          data = text(r, 200 + Math.floor(r() * 20000));
          name = `${long ? 'a_long_data_member_' : 'd'}${m}.txt`;
        }
        writeFileSync(join(work, name), data);
        setMeta(join(work, name), r);
        names.push(name);
        size += data.length + 60;
      }
      if (existsSync(lib)) rmSync(lib);
      sh('ar', ['rcU', lib, ...names], { cwd: work });
      for (const n of names) rmSync(join(work, n));
      written.push(lib);
    }
  }
  rmSync(work, { recursive: true, force: true });
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string' }, count: { type: 'string' }, bytes: { type: 'string' } } });
  if (!positionals[0]) {
    console.error('usage: node bench/gen-gzip-ar.mjs DIR [--seed 1] [--count 40] [--bytes 50000000]');
    process.exit(2);
  }
  const files = await generate(positionals[0], { seed: Number(values.seed ?? 1), count: Number(values.count ?? 40), bytes: Number(values.bytes ?? 50_000_000) });
  console.log(`${files.length} files in ${positionals[0]}`);
}
