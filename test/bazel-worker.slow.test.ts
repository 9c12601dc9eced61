// A long-running persistent worker: 5,000 multiplexed requests (8 in flight, as Bazel sends
// them), every one answered correctly, and its memory levels off instead of growing with the
// number of requests (bench/bazel-worker-bench.mjs prints the figures).
import { mkdirSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { buildZip } from './zip-helpers.js';
import { CLI, WorkerDriver } from './worker-driver.js';

const { dir, cleanup } = tempDir('detnorm-worker-slow-');
afterAll(cleanup);

describe.skipIf(!existsSync(CLI))('a persistent worker serving 5,000 requests', () => {
  it('answers every one, writes the same bytes for the same input every time, and its RSS levels off', async () => {
    mkdirSync(join(dir, 'in'));
    mkdirSync(join(dir, 'out'));
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'in', `${i}.zip`), buildZip(Array.from({ length: 20 }, (_, j) => ({ name: `p/${(j * 7 + i) % 20}.txt`, data: `${i}:${j}\n`.repeat(40), method: 8 as const, date: 0x5821 + i, time: j }))));
    const w = new WorkerDriver('proto', { cwd: dir });
    const rss = new Map<number, number>();
    const first = new Map<number, Buffer>();
    let next = 1;
    let bad = 0;
    const lane = async (k: number) => {
      while (next <= 5000) {
        const id = next++;
        const out = `out/${k}.zip`;
        const r = await w.request({ requestId: id, arguments: ['-q', '-T', '1700000000', '-o', out, `in/${id % 20}.zip`] });
        if (r.exitCode !== 0) bad++;
        const bytes = readFileSync(join(dir, out));
        if (!first.has(id % 20)) first.set(id % 20, bytes);
        else if (!first.get(id % 20)!.equals(bytes)) bad++;
        if (id === 1000 || id === 5000) rss.set(id, w.rssKiB());
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, k) => lane(k)));
    expect(await w.close()).toBe(0);
    expect(bad).toBe(0);
    expect(w.responses).toHaveLength(5000);
    console.log(`worker RSS: ${rss.get(1000)! >> 10} MiB after 1,000 requests, ${rss.get(5000)! >> 10} MiB after 5,000`);
    // Measured: ~140 MiB after 1,000, ~160-170 after 5,000, ~160 after 20,000 (warm-up, then flat).
    expect(rss.get(5000)!).toBeLessThan(rss.get(1000)! * 1.5);
  });
});
