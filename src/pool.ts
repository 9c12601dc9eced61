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
  /** When set, this thread works on jobs too (through runInline), beside run()'s workers. */
  runInline?(job: FileJob): Promise<FileReport>;
  close(): Promise<void>;
}

class InlineRunner implements Runner {
  run(job: FileJob): Promise<FileReport> {
    return normalizeFileJob(job, HANDLERS);
  }
  async close(): Promise<void> {}
}

const TASKS_PER_WORKER = 2;
/** Smaller files are not worth a worker's hand-over (see HybridRunner). */
const POOL_MIN_BYTES = 32 * 1024;

class PoolRunner implements Runner {
  private pool: Piscina | undefined;
  constructor(private readonly jobs: number) {}
  run(job: FileJob): Promise<FileReport> {
    // Started with the first job it gets: a tree of small files may never need it.
    if (!this.pool) {
      const { file, execArgv } = workerFile();
      // Two tasks per worker: a worker holds its next file and starts it without waiting for
      // the main thread (busy with a file of its own) to hand it over. File I/O is synchronous,
      // so the two mostly run one after the other; a job waiting on zlib's thread pool (gzip
      // inflate) lets the other run meanwhile, within the same per-job memory limits.
      this.pool = new Piscina({ filename: file, minThreads: this.jobs, maxThreads: this.jobs, idleTimeout: 60_000, execArgv, concurrentTasksPerWorker: TASKS_PER_WORKER });
    }
    return this.pool.run(job);
  }
  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}

/**
 * -jN: N-1 workers and this thread, which has loaded and compiled the code already (each
 * worker costs its own start-up and JIT warm-up: with two cores, two workers were slower than
 * one thread on a tree of 200 small archives). Files under POOL_MIN_BYTES stay on this
 * thread: handing a file to a worker costs about 0.1 ms, more than a small file's own work
 * (3,000 small text files: 0.29 s on one thread, 0.45 s with a worker).
 */
class HybridRunner extends PoolRunner {
  private readonly inline = new InlineRunner();
  runInline(job: FileJob): Promise<FileReport> {
    return this.inline.run(job);
  }
}

export function makeRunner(jobs: number, files: number): Runner {
  const n = Math.min(jobs, files);
  return n <= 1 ? new InlineRunner() : new HybridRunner(n - 1);
}

/**
 * Run every job, at most `jobs` at a time, and deliver reports in job order (`onReport` is
 * called in order as soon as each prefix is complete), whatever order they finish in. With
 * `sizes`, the workers take the largest jobs first (so one big archive does not finish alone
 * at the end) and this thread, when the runner lets it work, the smallest: while it works on
 * one it cannot hand files to the workers, so it keeps to short jobs and yields between them.
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
  let front = 0; // order[front, back) is still to start
  let back = order.length;
  let emitted = 0;
  const deliver = () => {
    while (emitted < jobs.length && results[emitted]) {
      onReport(results[emitted]!, emitted);
      emitted++;
    }
  };
  const inlineSlots = runner.runInline ? 1 : 0;
  // Beside this thread, as many jobs in flight as the workers hold (TASKS_PER_WORKER each):
  // more would take files from the queue that this thread could be doing.
  const limit = inlineSlots ? Math.max(1, concurrency - 1) * TASKS_PER_WORKER : Math.max(1, concurrency) * 4;
  const poolLoop = async (): Promise<void> => {
    while (front < back) {
      // With this thread working too, the workers leave it the small files.
      if (inlineSlots && sizes && sizes[order[front]!]! < POOL_MIN_BYTES) break;
      const i = order[front++]!;
      results[i] = await runner.run(jobs[i]!);
      deliver();
    }
  };
  const inlineLoop = async (): Promise<void> => {
    let yielded = -Infinity;
    while (front < back) {
      // Let the workers' messages in before jobs on this thread, at least every millisecond.
      if (performance.now() - yielded > 1) {
        await new Promise((r) => setImmediate(r));
        yielded = performance.now();
        if (front >= back) break;
      }
      const i = order[--back]!;
      results[i] = await runner.runInline!(jobs[i]!);
      deliver();
    }
  };
  const loops = Array.from({ length: Math.min(limit, jobs.length) }, poolLoop);
  if (inlineSlots) loops.push(inlineLoop());
  await Promise.all(loops);
  return results as FileReport[];
}
