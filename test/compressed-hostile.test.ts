// Bad input to the xz, zstd, bzip2 and lz4 handlers: every mutation or truncation of a real
// stream ends as a clean result (changed, unchanged, or an error with a reason and the bytes
// untouched), never a crash, an exception of the wrong kind or a hang; bombs are refused.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { haveTool, norm } from './helpers.js';

const CORPUS = new URL('../corpus/', import.meta.url).pathname;
const SAMPLES = ['xz/canonical-sha256.tar.xz', 'xz/build-mt.txz', 'zstd/skippable-two-frames.tar.zst', 'bzip2/build-pbzip2.tbz2', 'lz4/build-legacy.tar.lz4', 'lz4/build-frame.tar.lz4'];

describe('mutated and truncated streams: clean results only', () => {
  for (const sample of SAMPLES) {
    it(sample, async () => {
      const base = readFileSync(CORPUS + sample);
      const name = sample.slice(sample.indexOf('/') + 1);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 3 }), fc.nat(base.length), async (edits, cut) => {
          const b = Buffer.from(base.subarray(0, Math.max(1, cut)));
          for (const [at, v] of edits) if (at < b.length) b[at] = v;
          const r = await norm(b, name, { timestamp: 1700000000 });
          expect(['changed', 'unchanged', 'error', 'untouched', 'ignored']).toContain(r.status);
          if (r.status === 'error' || r.status === 'untouched') {
            expect(r.reason).not.toMatch(/^(TypeError|ReferenceError|RuntimeError|Error:)/);
            expect(Buffer.from(r.output).equals(b)).toBe(true);
          }
        }),
        { numRuns: 25, seed: 15 },
      );
    });
  }
});

describe('decompression bombs are refused before they are written out', () => {
  for (const [tool, args, ext] of [
    ['zstd', ['-q', '-19', '-c'], 'zst'],
    ['xz', ['-T1', '-c'], 'xz'],
    ['bzip2', ['-9', '-c'], 'bz2'],
  ] as const) {
    it.skipIf(!haveTool(tool))(`${ext}: 80 MiB of zeros`, async () => {
      const bomb = execFileSync('sh', ['-c', `head -c 83886080 /dev/zero | ${tool} ${args.join(' ')}`], { maxBuffer: 1 << 26 });
      expect(bomb.length).toBeLessThan(83886080 / 2000);
      const r = await norm(bomb, `zeros.${ext}`);
      expect(r.status).toBe('error');
      expect(r.reason).toMatch(/expands/);
    });
  }
});
