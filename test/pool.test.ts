// The scheduler: every job runs once, reports come in job order, workers take the largest
// files first and the main thread (when it works too) the smallest, and every file under 32 KiB.
import { describe, expect, it } from 'vitest';
import { runAll, type Runner } from '../src/pool.js';
import type { FileJob } from '../src/normalize-file.js';
import type { FileReport } from '../src/report.js';
import { defaultOptions } from '../src/options.js';

function fakeRunner(withInline: boolean, log: Array<[string, string]>): Runner {
  const work = (where: string) => async (job: FileJob): Promise<FileReport> => {
    log.push([where, job.path]);
    // Finish out of order: later-started jobs sometimes finish first.
    await new Promise((r) => setTimeout(r, (job.path.charCodeAt(job.path.length - 1) * 7) % 5));
    return { path: job.path, status: 'unchanged', changes: [], notices: [] };
  };
  return {
    run: work('pool'),
    ...(withInline ? { runInline: work('main') } : {}),
    close: async () => {},
  };
}

describe('runAll: every job once, reports in job order', () => {
  const options = defaultOptions();
  const jobs: FileJob[] = Array.from({ length: 40 }, (_, i) => ({ path: `f${String(i).padStart(2, '0')}`, options, roots: [] }));
  const sizes = jobs.map((_, i) => ((i * 37) % 41) * 4096); // 0 to 160 KiB
  for (const withInline of [false, true]) {
    it(withInline ? 'with the main thread working beside the workers' : 'with workers only', async () => {
      const log: Array<[string, string]> = [];
      const seen: string[] = [];
      const reports = await runAll(fakeRunner(withInline, log), jobs, 3, (r, i) => {
        expect(r.path).toBe(jobs[i]!.path);
        seen.push(r.path);
      }, sizes);
      expect(seen).toEqual(jobs.map((j) => j.path));
      expect(reports.map((r) => r.path)).toEqual(jobs.map((j) => j.path));
      expect(new Set(log.map(([, p]) => p)).size).toBe(jobs.length);
      expect(log.length).toBe(jobs.length);
      const sizeOf = (p: string) => sizes[Number(p.slice(1))]!;
      const pool = log.filter(([w]) => w === 'pool').map(([, p]) => sizeOf(p));
      expect(pool).toEqual([...pool].sort((a, b) => b - a)); // largest first
      if (withInline) {
        const main = log.filter(([w]) => w === 'main').map(([, p]) => sizeOf(p));
        expect(main.length).toBeGreaterThan(0);
        expect(main).toEqual([...main].sort((a, b) => a - b)); // smallest first
        expect(Math.max(...main)).toBeLessThanOrEqual(Math.min(...pool));
        expect(pool.length).toBeGreaterThan(0);
        expect(Math.min(...pool)).toBeGreaterThanOrEqual(32 * 1024); // small files stay on the main thread
      }
    });
  }
});
