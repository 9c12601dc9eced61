// Generate a reproducible mixed tree of build artifacts for benchmarks.
//   node bench/gen-tree.mjs --out /tmp/tree --mb 500 --seed 1 [--only gzip-ar,zip]
// Each format family contributes a generator module in bench/ exporting
//   generate(dir, { seed, count, bytes }) -> Promise<void>
// listed in GENERATORS below; the tree also holds plain files no handler claims (sources,
// random binaries), as a real output tree does. Same seed and sizes: same tree.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** [module, share of the bytes] — a family whose module is absent is skipped. */
export const GENERATORS = [
  ['./gen-gzip-ar.mjs', 0.35],
  ['./zip-gen.mjs', 0.35],
  ['./tar-gen.mjs', 0.2],
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

export async function generateTree(out, { mb = 100, seed = 1, only } = {}) {
  const total = mb * 1024 * 1024;
  mkdirSync(out, { recursive: true });
  const used = [];
  for (const [mod, share] of GENERATORS) {
    const name = mod.replace(/^\.\/|\.mjs$/g, '');
    if (only && !only.includes(name)) continue;
    if (!existsSync(new URL(mod, import.meta.url))) continue;
    const { generate } = await import(mod);
    const bytes = Math.floor(total * share);
    await generate(join(out, name), { seed, count: Math.max(4, Math.floor(bytes / (1.5 * 1024 * 1024))), bytes });
    used.push(name);
  }
  plainFiles(join(out, 'plain'), { seed: seed + 99, count: 200, bytes: Math.floor(total * 0.1) });
  return used;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, mb: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' } } });
  if (!values.out) {
    console.error('usage: node bench/gen-tree.mjs --out DIR [--mb 500] [--seed 1] [--only gzip-ar,zip-gen]');
    process.exit(2);
  }
  const used = await generateTree(values.out, { mb: Number(values.mb ?? 100), seed: Number(values.seed ?? 1), only: values.only?.split(',') });
  console.log(`generated ${values.out} with: ${used.join(', ') || '(plain files only)'}`);
}
