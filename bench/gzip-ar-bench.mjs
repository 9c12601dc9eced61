// gzip/ar throughput, in-process (the library on one thread), on a tree from gen-gzip-ar.mjs:
// MB of input per second for gzip files (inflate + CRC + payload dispatch, data copied raw)
// and for ar libraries (every member dispatched; gcc objects go through the ELF handler).
// Needs the bundle (`npm run build`).
//   node bench/gzip-ar-bench.mjs [--dir DIR] [--mb 100] [--seed 1] [--reps 3]
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { generate } from './gen-gzip-ar.mjs';

const { values } = parseArgs({ options: { dir: { type: 'string' }, mb: { type: 'string' }, seed: { type: 'string' }, reps: { type: 'string' } } });
const api = fileURLToPath(new URL('../dist/api.mjs', import.meta.url));
if (!existsSync(api)) throw new Error('dist/api.mjs is missing: run `npm run build` first');
const { normalizeBuffer } = await import(api);
const reps = Number(values.reps ?? 3);
let dir = values.dir;
let tmp;
if (!dir) {
  tmp = mkdtempSync(join(tmpdir(), 'detnorm-gzar-'));
  dir = tmp;
  const mb = Number(values.mb ?? 100);
  await generate(dir, { seed: Number(values.seed ?? 1), count: Math.max(4, Math.round(mb / 1.5)), bytes: mb * 1024 * 1024 });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  for (const [kind, sub] of [['gzip', 'gz'], ['ar', 'lib']]) {
    const files = readdirSync(join(dir, sub)).sort().map((f) => readFileSync(join(dir, sub, f)));
    const total = files.reduce((a, b) => a + b.length, 0);
    const times = [];
    let changed = 0;
    for (let rep = 0; rep < reps; rep++) {
      const t = process.hrtime.bigint();
      changed = 0;
      for (const [i, f] of files.entries()) {
        const r = await normalizeBuffer(f, { name: `f${i}.${kind === 'gzip' ? 'gz' : 'a'}` });
        if (r.status === 'error') throw new Error(`${kind} file ${i}: ${r.reason}`);
        if (r.changed) changed++;
      }
      times.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    const s = median(times);
    console.log(`${kind}: ${files.length} files, ${(total / 1048576).toFixed(1)} MiB, ${changed} changed: median ${s.toFixed(2)} s = ${(total / 1048576 / s).toFixed(1)} MiB/s (one thread, ${reps} reps)`);
  }
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
