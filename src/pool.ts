// The worker pool: the main thread walks and dispatches, workers read, normalize and write.
// With one job (or one file) everything runs in this thread: same code, same results.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { HANDLERS } from '../formats/index.js';
import { normalizeFileJob, type FileJob } from './normalize-file.js';
import type { FileReport } from './report.js';

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
    const self = import.meta.url;
    const ts = self.endsWith('.ts');
    this.pool = new Piscina({
      filename: fileURLToPath(new URL(ts ? './worker.ts' : './worker.js', self)),
      minThreads: jobs,
      maxThreads: jobs,
      idleTimeout: 60_000,
      // Under vitest the sources are TypeScript: let the worker load them through tsx.
      execArgv: ts ? ['--import', 'tsx'] : [],
    });
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
 * called in order as soon as each prefix is complete), whatever order they finish in.
 */
export async function runAll(
  runner: Runner,
  jobs: readonly FileJob[],
  concurrency: number,
  onReport: (r: FileReport, index: number) => void,
): Promise<FileReport[]> {
  const results: (FileReport | undefined)[] = new Array(jobs.length);
  let next = 0;
  let emitted = 0;
  const limit = Math.max(1, concurrency) * 2;
  const workerLoop = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
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
