// Generate the zip-family bench inputs with the real tools (issue 4):
//   mixed/  200 archives, ~250 MB: 120 JDK `jar cf` jars of 150-250 small class-like members,
//           60 Info-ZIP zips of 1-2 members of 1-3.5 MiB, 20 Info-ZIP zips of 2,000 tiny members
//   many/   one Info-ZIP zip of 16,000 members (and 4,000 / 8,000 for the linearity check)
// Content comes from a seeded PRNG, so the same seed gives the same logical trees (the
// archives still carry the generation time: that is what detnorm removes).
//   node bench/zip-gen.mjs DIR [--seed 1]
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const WORDS = ['java/lang/Object', 'Code', 'LineNumberTable', 'toString', '()V', 'hello', 'com/example/', 'StackMapTable', '<init>', 'java/util/List', 'SourceFile', 'value', 'append', 'this'];

/** n bytes, about half random and half repeated tokens (deflates to ~60 %). */
function content(rand, n, head) {
  const b = Buffer.alloc(n);
  let i = 0;
  if (head) i += b.write(head, 0, 'latin1');
  while (i < n) {
    if (rand() & 1) {
      const w = WORDS[rand() % WORDS.length];
      i += b.write(w, i, 'latin1');
    } else {
      const k = Math.min(n - i, 8 + (rand() % 24));
      for (let j = 0; j < k; j++) b[i + j] = rand() & 0xff;
      i += k;
    }
  }
  return b;
}

function sh(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}`))));
  });
}

async function pool(tasks, n) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < tasks.length) await tasks[next++]();
  }));
}

export async function generateZipBench(dir, { seed = 1 } = {}) {
  const rand = prng(seed);
  const stage = join(dir, 'stage');
  const mixed = join(dir, 'mixed');
  const many = join(dir, 'many');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  mkdirSync(mixed, { recursive: true });
  mkdirSync(many, { recursive: true });
  const tasks = [];

  for (let j = 0; j < 120; j++) {
    const s = join(stage, `jar${j}`);
    const count = 150 + (rand() % 101);
    for (let k = 0; k < count; k++) {
      const p = join(s, 'com', 'example', `p${k % 7}`);
      mkdirSync(p, { recursive: true });
      writeFileSync(join(p, `C${k}.class`), content(rand, 500 + (rand() % 5500), '\xca\xfe\xba\xbe\x00\x00\x00\x3d'));
    }
    tasks.push(() => sh('jar', ['cf', join(mixed, `lib${j}.jar`), '-C', s, '.']));
  }
  for (let z = 0; z < 60; z++) {
    const s = join(stage, `big${z}`);
    mkdirSync(s, { recursive: true });
    const members = 1 + (rand() % 2);
    for (let k = 0; k < members; k++) writeFileSync(join(s, `blob${k}.bin`), content(rand, (1 << 20) + (rand() % (5 << 19))));
    tasks.push(() => sh('zip', ['-q', '-r', join(mixed, `data${z}.zip`), '.'], s));
  }
  for (let z = 0; z < 20; z++) {
    const s = join(stage, `tiny${z}`);
    for (let k = 0; k < 2000; k++) {
      const p = join(s, `d${k % 20}`);
      if (!existsSync(p)) mkdirSync(p, { recursive: true });
      writeFileSync(join(p, `f${k}.txt`), content(rand, 10 + (rand() % 190)));
    }
    tasks.push(() => sh('zip', ['-q', '-r', join(mixed, `tiny${z}.zip`), '.'], s));
  }
  for (const n of [4000, 8000, 16000]) {
    const s = join(stage, `many${n}`);
    for (let k = 0; k < n; k++) {
      const p = join(s, `d${k % 100}`);
      if (!existsSync(p)) mkdirSync(p, { recursive: true });
      writeFileSync(join(p, `f${k}.txt`), content(rand, 10 + (rand() % 190)));
    }
    tasks.push(() => sh('zip', ['-q', '-r', join(many, `many${n}.zip`), '.'], s));
  }
  await pool(tasks, 2);
  rmSync(stage, { recursive: true, force: true });
  return { mixed, many };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ options: { seed: { type: 'string' } }, allowPositionals: true });
  const dir = positionals[0] ?? '/tmp/detnorm-zip-bench';
  const r = await generateZipBench(dir, { seed: Number(values.seed ?? 1) });
  console.log(JSON.stringify(r));
}
