// Issue 13 item 2: what detnorm writes, detnorm accepts unchanged. Over every corpus input and
// every member a handler meets inside one (scripts/fuzz-core.ts loadSeeds), unmutated and
// mutated by fast-check from a fixed seed (bit flips, byte sets, zeroed runs, truncation,
// splices, insertions, integer fields set to 0/1/max/len/..., ASCII number fields overwritten),
// for every handler: if run 1 succeeds, run 2 is a byte-for-byte no-op; if run 1 fails, the
// file is untouched; no exception but a typed one escapes a handler; no input is slow. The
// cases `npm run fuzz` found (corpus/<format>/fuzz/cases.json) are replayed.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS } from '../formats/index.js';
import { applyMutations, check, loadFindings, loadSeeds, mutationsArb, type Seed } from '../scripts/fuzz-core.js';

/** Runs per handler: a few seconds in all (npm run fuzz goes further). */
const RUNS = 40;
const SLOW_MS = 2000;

let seeds: Seed[] = [];
beforeAll(async () => {
  seeds = await loadSeeds(256 * 1024);
}, 60_000);

function show(v: { kind?: string; detail?: string; status: string; reason?: string }): string {
  return `${v.kind}: ${v.detail} (run 1: ${v.status}${v.reason ? `: ${v.reason}` : ''})`;
}

describe('the seeds: every corpus input and every member met inside one, as they are', () => {
  it('covers every handler that has a corpus', () => {
    const formats = new Set(seeds.map((s) => s.format));
    for (const h of HANDLERS) expect(formats, `no seed for ${h.name}`).toContain(h.name);
    expect(seeds.length).toBeGreaterThan(100);
  });
  it('run 1 succeeds and run 2 is a no-op, or run 1 fails and the input is untouched', async () => {
    const bad: string[] = [];
    for (const s of seeds) {
      const v = await check(s.bytes, s.name, s.optionsJson, { slowMs: SLOW_MS * 5 });
      if (!v.ok) bad.push(`${s.id}: ${show(v)}`);
    }
    expect(bad).toEqual([]);
  }, 120_000);
});

describe('mutated inputs, every handler (fast-check, fixed seed): idempotent when accepted, untouched when refused, typed errors only', () => {
  for (const h of HANDLERS) {
    it(`${h.name}: ${RUNS} mutated inputs`, async () => {
      const mine = seeds.filter((s) => s.format === h.name);
      expect(mine.length, `no seed for ${h.name}`).toBeGreaterThan(0);
      const arb = fc.integer({ min: 0, max: mine.length - 1 }).chain((i) => fc.tuple(fc.constant(i), mutationsArb(mine[i]!.bytes.length)));
      await fc.assert(
        fc.asyncProperty(arb, async ([i, muts]) => {
          const s = mine[i]!;
          const v = await check(applyMutations(s.bytes, muts), s.name, s.optionsJson, { slowMs: SLOW_MS });
          if (!v.ok) throw new Error(`${s.id} ${JSON.stringify(muts)}: ${show(v)}`);
        }),
        { seed: 20261203, numRuns: RUNS, endOnFailure: true },
      );
    }, 60_000);
  }
});

describe('the fuzzer\'s findings (corpus/<format>/fuzz/cases.json) hold now', () => {
  const findings = loadFindings();
  it('are listed', () => expect(findings.length).toBeGreaterThan(0));
  for (const f of findings) {
    // An open finding (not fixed yet) must still fail: fixing it means removing `open`.
    (f.open ? it.fails : it)(`${f.format}/fuzz/${f.file} (found: ${f.found})${f.open ? ` [open: ${f.open}]` : ''}`, async () => {
      const v = await check(readFileSync(f.path), f.name, f.options, { slowMs: SLOW_MS });
      expect(v.ok, show(v)).toBe(true);
    });
  }
});
