// A worker thread of src/pool.ts: normalizes the files it is sent, one at a time, and posts each
// report as soon as the file is done. It tells the pool through shared memory which job it is on,
// since when, and whether it is replacing a file (then it is never terminated).
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { HANDLERS } from '../formats/index.js';
import { normalizeFileJob, type FileJob } from './normalize-file.js';
import { FileFailure } from './errors.js';
import type { Handler } from './types.js';
import type { FromWorker, ToWorker } from './pool.js';
import { enableCompileCache } from './compile-cache.js';
import type { FileReport } from './report.js';

interface Data {
  readonly shared: SharedArrayBuffer;
  readonly handlerModules: readonly string[];
}

enableCompileCache();
const data = workerData as Data;
const state = new Int32Array(data.shared, 0, 2);
const started = new Float64Array(data.shared, 8, 1);

async function loadHandlers(): Promise<{ handlers: readonly Handler[]; extra: string[] }> {
  const extra: Handler[] = [];
  for (const m of data.handlerModules) {
    const url = m.startsWith('file:') ? m : pathToFileURL(m).href;
    const mod = (await import(url)) as { default: readonly Handler[] };
    extra.push(...mod.default);
  }
  return { handlers: [...extra, ...HANDLERS], extra: extra.map((h) => h.name) };
}

/** state[1]: 0 -> 1 while a file is replaced; 2 means the pool is stopping this worker. */
function replacing(on: boolean): void {
  if (!on) {
    Atomics.compareExchange(state, 1, 1, 0);
    return;
  }
  if (Atomics.compareExchange(state, 1, 0, 1) !== 0) throw new FileFailure('deadline', 'stopped before the file was replaced; left untouched');
}

const loaded = loadHandlers();
const queue: Array<{ id: number; job: FileJob }> = [];
/** The options objects jobs refer to by key (see ToWorker in pool.ts). */
const optionsByKey = new Map<number, FileJob['options']>();
let running = false;

/**
 * Reports not yet posted. Only those of files this worker left as they were (ignored,
 * unchanged; in --check every file) wait, so that a tree of small files costs one message per
 * REPORT_BATCH files, not one each: if the worker is stopped (deadline) before posting them, the
 * pool runs those jobs again, which gives the same reports since nothing was written. A report of
 * a file written (or of an error, or untouched) is posted at once, with those waiting before it.
 * REPORT_BATCH is half the pool's BATCH_FILES: a worker holding up to BATCH_FILES small jobs is
 * refilled once half are reported, so on a tree of small files each side sends one message per
 * REPORT_BATCH files (16 and 64 before: 200,000 files --check -j2 took 5-10 % more CPU).
 */
const waiting: Array<{ id: number; report: FileReport }> = [];
let waitingSince = 0;
const REPORT_BATCH = 128;
const REPORT_WAIT_MS = 20;

function post(): void {
  if (waiting.length) parentPort!.postMessage({ type: 'done', reports: waiting.splice(0) } satisfies FromWorker);
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  const { handlers, extra } = await loaded;
  while (queue.length) {
    const { id, job } = queue.shift()!;
    started[0] = Date.now();
    Atomics.store(state, 0, id + 1);
    const run = extra.length ? { ...job, options: { ...job.options, formats: [...extra, ...job.options.formats] } } : job;
    const report = await normalizeFileJob(run, handlers, { replacing });
    Atomics.store(state, 0, 0);
    const kept = Boolean(job.check) || (!job.output && (report.status === 'ignored' || (report.status === 'unchanged' && !report.touched)));
    waiting.push({ id, report });
    if (waiting.length === 1) waitingSince = Date.now();
    if (!kept || !queue.length || waiting.length >= REPORT_BATCH || Date.now() - waitingSince >= REPORT_WAIT_MS) post();
  }
  running = false;
}

parentPort!.on('message', (m: ToWorker) => {
  if (m.type !== 'jobs') return;
  for (const o of m.options ?? []) optionsByKey.set(o.key, o.options);
  // The job objects are this thread's own copies: completed in place (an object spread per job
  // costs more than the structured clone of its fields). The left-over optionsKey is not read.
  for (const { id, job } of m.batch) queue.push({ id, job: Object.assign(job, { options: optionsByKey.get(job.optionsKey)! }) });
  void drain();
});
