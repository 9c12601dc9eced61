// The worker pool: the main thread walks and dispatches, workers read, normalize and write.
// With one job (or one file) everything runs in this thread: same code, same results.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { HANDLERS } from '../formats/index.js';
import { normalizeFileJob, type FileJob } from './normalize-file.js';
import type { FileReport } from './report.js';

// Set by scripts/bundle.mjs: in the bundle the task worker is dist/detnorm-worker.mjs.
declare const __DETNORM_BUNDLE__: boolean | undefined;

/** The task worker's file: the bundle's, the compiled one, or the TypeScript one under vitest. */
function workerFile(): { file: string; execArgv: string[] } {
  const self = import.meta.url;
  if (typeof __DETNORM_BUNDLE__ !== 'undefined' && __DETNORM_BUNDLE__) return { file: fileURLToPath(new URL('./detnorm-worker.mjs', self)), execArgv: [] };
  // Under vitest the sources are TypeScript: let the worker load them through tsx.
  if (self.endsWith('.ts')) return { file: fileURLToPath(new URL('./worker.ts', self)), execArgv: ['--import', 'tsx'] };
  return { file: fileURLToPath(new URL('./worker.js', self)), execArgv: [] };
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export interface Runner {
  run(job: FileJob): Promise<FileReport>;
  close(): Promise<void>;
}

class InlineRunner implements Runner {
  run(job: FileJob): Promise<FileReport> {
    return normalizeFileJob(job, HANDLERS);
  }
  async close(): Promise<void> {}
}

class PoolRunner implements Runner {
  private readonly pool: Piscina;
  constructor(jobs: number) {
    const { file, execArgv } = workerFile();
    this.pool = new Piscina({ filename: file, minThreads: jobs, maxThreads: jobs, idleTimeout: 60_000, execArgv });
  }
  run(job: FileJob): Promise<FileReport> {
    return this.pool.run(job);
  }
  close(): Promise<void> {
    return this.pool.destroy();
  }
}

export function makeRunner(jobs: number, files: number): Runner {
  return jobs <= 1 || files <= 1 ? new InlineRunner() : new PoolRunner(Math.min(jobs, files));
}

/**
 * Run every job, at most `jobs` at a time, and deliver reports in job order (`onReport` is
 * called in order as soon as each prefix is complete), whatever order they finish in. With
 * `sizes`, the largest jobs are started first (so one big archive does not finish alone at the
 * end); the reports are still delivered in job order.
 */
export async function runAll(
  runner: Runner,
  jobs: readonly FileJob[],
  concurrency: number,
  onReport: (r: FileReport, index: number) => void,
  sizes?: readonly number[],
): Promise<FileReport[]> {
  const results: (FileReport | undefined)[] = new Array(jobs.length);
  const order = jobs.map((_, i) => i);
  if (sizes && concurrency > 1) order.sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  let next = 0;
  let emitted = 0;
  const limit = Math.max(1, concurrency) * 4;
  const workerLoop = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = order[next++]!;
      results[i] = await runner.run(jobs[i]!);
      while (emitted < jobs.length && results[emitted]) {
        onReport(results[emitted]!, emitted);
        emitted++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, workerLoop));
  return results as FileReport[];
}
