// The worker pool: the main thread walks, dispatches and watches; worker threads read,
// normalize and write. Every file is worked on in a worker, so that the per-file deadline holds
// whatever a handler does: a worker whose file runs past it is terminated and replaced, the
// file is reported as an error (untouched: workers write through temp files, and are never
// stopped while they replace a file), and the run goes on with the other files.
import { availableParallelism, totalmem } from 'node:os';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deadlineFailure } from './errors.js';
import type { FileJob } from './normalize-file.js';
import type { FileReport } from './report.js';
import type { Options } from './types.js';
import { removeOwnSpillDirs } from './spill-dir.js';
import { tempPathFor } from './write.js';

// Set by scripts/bundle.mjs: in the bundle the task worker is dist/detnorm-worker.mjs.
declare const __DETNORM_BUNDLE__: boolean | undefined;

/** How to start a worker: the bundle's file, the compiled one, or (under vitest) the TypeScript one through tsx. */
function workerSource(): { source: string; eval: boolean } {
  const self = import.meta.url;
  if (typeof __DETNORM_BUNDLE__ !== 'undefined' && __DETNORM_BUNDLE__) return { source: fileURLToPath(new URL('./detnorm-worker.mjs', self)), eval: false };
  if (self.endsWith('.ts')) {
    // Sources are TypeScript: register tsx's loader in the worker, then import the worker module.
    const api = pathToFileURL(createRequire(self).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const worker = new URL('./worker.ts', self).href;
    return { source: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); });`, eval: true };
  }
  return { source: fileURLToPath(new URL('./worker.js', self)), eval: false };
}

/**
 * The parent's Node flags minus those that name the main program (`-e CODE`, `-p`,
 * `--input-type`): a worker given them would run that program instead of its own.
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print' || a === '-pe') {
      i++;
      continue;
    }
    if (/^(--eval|--print|--input-type)(=|$)/.test(a)) continue;
    out.push(a);
  }
  return out;
}

/**
 * Flags the Worker constructor refused, by the parent's flags they came from: V8's and the
 * process-wide ones (`node --max-old-space-size=4096 detnorm`, `--stack-trace-limit`, `--title`)
 * apply to the whole process already, a worker may not be given them again
 * (ERR_WORKER_INVALID_EXEC_ARGV): they are left out, found from the error, once per process.
 */
const acceptedExecArgv = new Map<string, string[]>();

/** `execArgv` without the flags the error `message` (ERR_WORKER_INVALID_EXEC_ARGV) names, or undefined if it names none of them. */
export function withoutRefusedFlags(execArgv: readonly string[], message: string): string[] | undefined {
  const colon = message.indexOf(': ');
  if (colon < 0) return undefined;
  const refused = new Set(message.slice(colon + 2).split(', '));
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (!refused.has(a)) {
      out.push(a);
      continue;
    }
    // `--flag VALUE`: the value goes with it.
    if (!a.includes('=') && i + 1 < execArgv.length && !execArgv[i + 1]!.startsWith('-')) i++;
  }
  return out.length < execArgv.length ? out : undefined;
}

function newWorker(source: string, options: Omit<NonNullable<ConstructorParameters<typeof Worker>[1]>, 'execArgv'>): Worker {
  const parent = workerExecArgv();
  const key = parent.join('\0');
  let execArgv = acceptedExecArgv.get(key) ?? parent;
  // Each retry drops at least one flag: bounded by their count.
  for (;;) {
    try {
      const worker = new Worker(source, { ...options, execArgv });
      acceptedExecArgv.set(key, execArgv);
      return worker;
    } catch (e) {
      const fewer = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? withoutRefusedFlags(execArgv, (e as Error).message) : undefined;
      if (!fewer) throw e;
      execArgv = fewer;
    }
  }
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Memory one worker may need at most with the default limits: its heap and code (~40 MiB), a
 * structure held whole (limits.memoryBytes, 64 MiB), a few spills held in memory before they go
 * to disk (limits.spillBytes each) and I/O buffers. Workers are capped so that they all fit in
 * half the memory the process may use.
 */
export const WORKER_MEMORY_BYTES = 256 * 1024 * 1024;

/** The process's memory: the cgroup limit when there is one, else the machine's. */
function memoryForProcess(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const total = totalmem();
  return constrained && constrained > 0 && constrained < total ? constrained : total;
}

/** Worker threads for `requested` jobs: no more than the cores, nor than half the memory allows. */
export function effectiveJobs(requested: number, memory = memoryForProcess(), cores = availableParallelism()): number {
  const byMemory = Math.floor(memory / 2 / WORKER_MEMORY_BYTES);
  return Math.max(1, Math.min(requested, Math.max(1, cores), Math.max(1, byMemory)));
}

export interface PoolOptions {
  /** Worker threads. */
  readonly threads: number;
  /** Per-file deadline in ms (0: none): past it (plus a grace for the worker's own check), the worker is terminated. */
  readonly deadlineMs: number;
  /** Modules whose default export is an array of extra handlers, tried before the built-in ones (tests). */
  readonly handlerModules?: readonly string[];
  /** SPAWN_BYTES and SPAWN_AFTER_MS (tests: both ways of starting workers). */
  readonly spawnBytes?: number;
  readonly spawnAfterMs?: number;
}

/** Worker -> pool messages: reports of finished jobs, in the order they finished. */
export type FromWorker = { type: 'done'; reports: ReadonlyArray<{ readonly id: number; readonly report: FileReport }> };

/** A job as sent to a worker: its options by the key an earlier (or the same) message gave them. */
export type WireJob = Omit<FileJob, 'options'> & { readonly optionsKey: number };

/**
 * Every field of FileJob but options: what toWireJob copies. A field added to FileJob and not
 * here fails to compile below; test/pool.test.ts checks that toWireJob copies each one listed.
 */
export const WIRE_FIELDS = ['path', 'check', 'output', 'links', 'roots', 'directory', 'ident', 'parentIdent', 'name', 'reportPath'] as const;
type Unsent = Exclude<Exclude<keyof FileJob, 'options'>, (typeof WIRE_FIELDS)[number]>;
// A FileJob field missing from WIRE_FIELDS would not reach the worker: this fails to compile then.
const wireFieldsComplete: [Unsent] extends [never] ? true : Unsent = true;
void wireFieldsComplete;

/**
 * A job without its options, as sent. Fields are copied one by one: `const { options, ...rest }`
 * and `{ ...rest }` cost 3-5 us a job, a second of the main thread's time on a tree of 200,000
 * small files (bench/million-files.mjs).
 */
export function toWireJob(j: FileJob, optionsKey: number): WireJob {
  const w: { -readonly [K in keyof WireJob]: WireJob[K] } = { path: j.path, optionsKey };
  if (j.check !== undefined) w.check = j.check;
  if (j.output !== undefined) w.output = j.output;
  if (j.links !== undefined) w.links = j.links;
  if (j.roots !== undefined) w.roots = j.roots;
  if (j.directory !== undefined) w.directory = j.directory;
  if (j.ident !== undefined) w.ident = j.ident;
  if (j.parentIdent !== undefined) w.parentIdent = j.parentIdent;
  if (j.name !== undefined) w.name = j.name;
  if (j.reportPath !== undefined) w.reportPath = j.reportPath;
  return w;
}

/** Pool -> worker messages: jobs, and the options objects they refer to that the worker lacks. */
export interface ToWorker {
  readonly type: 'jobs';
  readonly batch: ReadonlyArray<{ readonly id: number; readonly job: WireJob }>;
  readonly options?: ReadonlyArray<{ readonly key: number; readonly options: Options }>;
}

/** state[1]: 0 working, 1 replacing a file (never stopped), 2 being stopped (may not start replacing). */
const STOPPING = 2;

interface Slot {
  worker: Worker;
  threadId: number;
  /** [current job id + 1 (0: idle), 1 while the file is being replaced] */
  state: Int32Array;
  /** [Date.now() when the current job started] */
  started: Float64Array;
  /** Job ids sent to this worker and not yet reported (in the order sent). */
  outstanding: Set<number>;
  outstandingBytes: number;
  dead: boolean;
  /** Options objects this worker already holds, by the number jobs refer to them with. */
  options: Map<Options, number>;
}

/** Small files are sent to a worker in batches: a hand-over costs about as much as a small file. */
const BATCH_BYTES = 256 * 1024;
/** Twice the worker's REPORT_BATCH (see LOW_WATER). */
const BATCH_FILES = 256;
/** Jobs a worker holds beyond the one it works on, so it never waits for the main thread. */
const AHEAD = 1;
/** Workers that die one after another without doing any job: the module cannot start. */
const MAX_BOOT_FAILURES = 3;
/**
 * A worker holding more small jobs than this is not sent more: refills come in batches of at
 * least BATCH_FILES - LOW_WATER jobs, not one message per finished file.
 */
const LOW_WATER = BATCH_FILES / 2;

/**
 * A run whose files add up to this many bytes starts all its workers at once; a smaller one
 * starts with the worker already running and adds the others only if it still has jobs not sent
 * SPAWN_AFTER_MS after its first job started. A worker costs ~0.1 s of CPU to start (its module load) and its own JIT
 * warm-up of the handlers' code: on the zip tree (bench/zip-bench.mjs) a second worker gains
 * nothing below ~30 MiB of archives. Only when workers start depends on this, never a result.
 */
export const SPAWN_BYTES = 32 * 1024 * 1024;
/** See SPAWN_BYTES: about one worker's start-up, so the run has shown it is not short. */
export const SPAWN_AFTER_MS = 150;

/** Pools alive in this process, for abortAllPools (the CLI's SIGINT/SIGTERM handler). */
const livePools = new Set<WorkerPool>();

/** Stop every pool: see WorkerPool.abort. */
export async function abortAllPools(): Promise<void> {
  await Promise.all([...livePools].map((p) => p.abort()));
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private closed = false;
  private readonly grace: number;
  private active: readonly FileJob[] = [];
  /** The current run's reactions to worker events (set by runAll). */
  private events: { message(s: Slot, m: FromWorker): void; error(s: Slot, e: Error): void; exit(s: Slot, code: number): void } | undefined;
  constructor(private readonly opts: PoolOptions) {
    this.grace = Math.min(2000, Math.max(50, opts.deadlineMs / 4));
    // One is started at once (it loads while the main thread walks the tree); the others when a
    // run has work for them (runAll, SPAWN_BYTES): a worker costs its start-up and its own warm-up
    // of the handlers' code, which `detnorm app.jar` with the default -j would pay for nothing.
    if (opts.threads > 0) this.slots.push(this.spawn());
    livePools.add(this);
  }

  get threads(): number {
    return this.opts.threads;
  }

  /** Worker threads started so far and alive (at most `threads`; fewer while a small run has not needed more). */
  get started(): number {
    return this.slots.filter((s) => !s.dead).length;
  }

  private spawn(): Slot {
    const { source, eval: isEval } = workerSource();
    const shared = new SharedArrayBuffer(16);
    const state = new Int32Array(shared, 0, 2);
    const started = new Float64Array(shared, 8, 1);
    const worker = newWorker(source, { eval: isEval, workerData: { shared, handlerModules: this.opts.handlerModules ?? [] } });
    worker.unref();
    const slot: Slot = { worker, threadId: worker.threadId, state, started, outstanding: new Set(), outstandingBytes: 0, dead: false, options: new Map() };
    // Listening from the start: a worker that fails before a run begins is noticed then.
    worker.on('message', (m: FromWorker) => this.events?.message(slot, m));
    worker.on('error', (e: Error) => {
      if (this.events) this.events.error(slot, e);
      else slot.dead = true;
    });
    worker.on('exit', (code) => {
      if (this.events) this.events.exit(slot, code);
      else slot.dead = true;
    });
    return slot;
  }

  /**
   * Run every job once and deliver reports in job order (`onReport` is called in order as soon
   * as each prefix is complete), whatever order they finish in. Workers take the largest jobs
   * first (`sizes`), so one big archive does not finish alone at the end.
   */
  async runAll(jobs: readonly FileJob[], onReport: (r: FileReport, index: number) => void, sizes?: readonly number[], opts: { keep?: boolean } = {}): Promise<FileReport[]> {
    if (this.closed) throw new Error('pool closed');
    this.active = jobs;
    // keep false (the CLI): a report is dropped once delivered, and [] returned, so memory holds
    // only the reports that wait for an earlier one, not one per file of the tree.
    const keep = opts.keep ?? true;
    const results: (FileReport | undefined)[] = new Array(jobs.length);
    const done = new Uint8Array(jobs.length);
    // The jobs not yet sent: `order` from `head` on, after `retry` (jobs a dead worker had not
    // started, taken first, last pushed first). No shift(): a queue of a million jobs is common.
    const order = jobs.map((_, i) => i);
    if (sizes) order.sort((a, b) => sizes[b]! - sizes[a]! || a - b);
    let head = 0;
    const retry: number[] = [];
    const pending = () => retry.length > 0 || head < order.length;
    const peek = () => (retry.length ? retry[retry.length - 1]! : order[head]!);
    const next = () => (retry.length ? retry.pop()! : order[head++]!);
    const sizeOf = (i: number) => sizes?.[i] ?? 0;
    let emitted = 0;
    let finished = 0;
    let resolveAll!: () => void;
    let rejectAll!: (e: unknown) => void;
    const all = new Promise<void>((res, rej) => {
      resolveAll = res;
      rejectAll = rej;
    });
    const deliver = () => {
      while (emitted < jobs.length && results[emitted]) {
        const r = results[emitted]!;
        if (!keep) results[emitted] = undefined;
        onReport(r, emitted);
        emitted++;
      }
    };
    const complete = (id: number, report: FileReport) => {
      if (done[id]) return;
      done[id] = 1;
      results[id] = report;
      finished++;
      try {
        deliver();
      } catch (e) {
        rejectAll(e);
        return;
      }
      if (finished === jobs.length) resolveAll();
    };
    // While workers are still to be added (see SPAWN_BYTES), a large job is not sent ahead: it
    // stays here for a worker started later to take.
    let growing = false;
    const feed = (slot: Slot) => {
      if (slot.dead) return;
      const ahead = growing ? 0 : AHEAD;
      const batch: Array<{ id: number; job: WireJob }> = [];
      // A run's jobs share one options object: it is sent to each worker once, not with every
      // job (its structured clone costs as much as a small job's whole hand-over).
      const options: Array<{ key: number; options: Options }> = [];
      const take = (id: number) => {
        slot.outstanding.add(id);
        slot.outstandingBytes += sizeOf(id);
        const job = jobs[id]!;
        const o = job.options;
        let key = slot.options.get(o);
        if (key === undefined) {
          key = slot.options.size;
          slot.options.set(o, key);
          options.push({ key, options: o });
        }
        batch.push({ id, job: toWireJob(job, key) });
      };
      if (slot.outstanding.size > LOW_WATER) return;
      while (pending() && slot.outstanding.size <= ahead) take(next());
      // Small files: fill up to BATCH_FILES / BATCH_BYTES held by the worker.
      while (pending() && slot.outstanding.size < BATCH_FILES && slot.outstandingBytes + sizeOf(peek()) <= BATCH_BYTES) take(next());
      if (batch.length) slot.worker.postMessage({ type: 'jobs', batch, ...(options.length ? { options } : {}) } satisfies ToWorker);
    };
    let deathsWithoutProgress = 0;
    const fail = (slot: Slot, currentReason: string) => {
      // The worker is gone: its current job is reported, the jobs it had not started go back.
      slot.dead = true;
      const current = Atomics.load(slot.state, 0) - 1;
      const remaining = [...slot.outstanding].filter((id) => !done[id]);
      for (const id of remaining) {
        if (id === current) {
          const job = jobs[id]!;
          removeTempOf(job);
          complete(id, { path: job.reportPath ?? job.path, status: 'error', changes: [], notices: [], reason: currentReason, ...(job.links?.length ? { links: job.links } : {}) });
        }
      }
      // The others go back, to be taken first and in the order they were sent.
      for (let i = remaining.length - 1; i >= 0; i--) if (remaining[i] !== current) retry.push(remaining[i]!);
      slot.outstanding = new Set();
      slot.outstandingBytes = 0;
      try {
        removeOwnSpillDirs(slot.threadId);
      } catch {
        /* removed at the end of the run at the latest */
      }
      // A worker that dies before starting any job (its module cannot load, say) would die
      // again: after a few such deaths in a row with no job done in between, every job still
      // waiting is reported with the reason, instead of respawning forever.
      if (current < 0 || !remaining.includes(current)) {
        if (++deathsWithoutProgress >= MAX_BOOT_FAILURES) {
          while (pending()) {
            const id = next();
            if (done[id]) continue;
            const job = jobs[id]!;
            complete(id, { path: job.reportPath ?? job.path, status: 'error', changes: [], notices: [], reason: `the worker thread could not start (${currentReason.replace(/; left untouched$/, '')}); left untouched`, ...(job.links?.length ? { links: job.links } : {}) });
          }
          return;
        }
      } else deathsWithoutProgress = 0;
      const i = this.slots.indexOf(slot);
      if (!this.closed && finished < jobs.length && i >= 0) {
        const fresh = this.spawn();
        this.slots[i] = fresh;
        feed(fresh);
      }
    };
    this.events = {
      message: (slot, m) => {
        if (m.type !== 'done') return;
        if (m.reports.length) deathsWithoutProgress = 0;
        for (const { id, report } of m.reports) {
          if (slot.outstanding.delete(id)) slot.outstandingBytes -= sizeOf(id);
          complete(id, report);
        }
        feed(slot);
      },
      error: (slot, e) => {
        if (slot.dead) return;
        const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        fail(slot, oom ? 'the worker thread ran out of memory; left untouched' : `the worker thread failed (${e.message}); left untouched`);
      },
      exit: (slot, code) => {
        if (slot.dead || this.closed) return;
        fail(slot, `the worker thread exited (code ${code}); left untouched`);
      },
    };
    const watch = this.opts.deadlineMs > 0
      ? setInterval(() => {
          const now = Date.now();
          for (const slot of this.slots) {
            if (slot.dead || Atomics.load(slot.state, 0) === 0) continue;
            if (now - slot.started[0]! <= this.opts.deadlineMs + this.grace) continue;
            // Never while it replaces a file: that step is bounded I/O, and stopping it midway
            // could leave a hard-linked file half rewritten. Claiming the flag (0 -> 2) keeps
            // the worker from starting to replace one from now on.
            if (Atomics.compareExchange(slot.state, 1, 0, STOPPING) !== 0) continue;
            const w = slot.worker;
            fail(slot, deadlineFailure(this.opts.deadlineMs).message);
            void w.terminate();
          }
        }, Math.min(1000, Math.max(20, this.opts.deadlineMs / 20)))
      : undefined;
    let grow: ReturnType<typeof setTimeout> | undefined;
    try {
      if (!jobs.length) return [];
      // Workers that died before the run are replaced first; then as many more as the run has
      // jobs for, up to the thread count: at once for a large run, later for a small one that
      // turns out to last (SPAWN_BYTES).
      for (let i = 0; i < this.slots.length; i++) if (this.slots[i]!.dead) this.slots[i] = this.spawn();
      const wanted = Math.min(this.opts.threads, jobs.length);
      const addWorkers = () => {
        growing = false;
        while (this.slots.length < wanted) {
          const slot = this.spawn();
          this.slots.push(slot);
          feed(slot);
        }
      };
      // Option keys are per run (a persistent pool sees new options with every request): the
      // first job of this run that uses each sends it again, overwriting the worker's old key.
      for (const slot of this.slots) slot.options.clear();
      let bytes = 0;
      const spawnBytes = this.opts.spawnBytes ?? SPAWN_BYTES;
      if (this.slots.length < wanted) for (let i = 0; i < jobs.length && bytes < spawnBytes; i++) bytes += sizeOf(i);
      growing = this.slots.length > 0 && this.slots.length < wanted && bytes < spawnBytes;
      // The workers already running (warm, or loaded during the walk) take the first jobs.
      for (const slot of this.slots) feed(slot);
      if (!growing) addWorkers();
      else {
        // The time counts from the first job's start, not the run's: a worker still loading (a
        // loaded machine) says nothing yet about the run's length. Checked every third of it.
        const after = this.opts.spawnAfterMs ?? SPAWN_AFTER_MS;
        let workStart = 0;
        const check = () => {
          grow = undefined;
          if (finished >= jobs.length || !pending() || this.closed) {
            growing = false;
            return;
          }
          if (!workStart) {
            const busy = this.slots.find((s) => !s.dead && Atomics.load(s.state, 0) !== 0);
            if (busy) workStart = busy.started[0]!;
            else if (finished > 0) workStart = Date.now();
          }
          if (workStart && Date.now() - workStart >= after) addWorkers();
          else grow = setTimeout(check, Math.max(10, after / 3));
        };
        grow = setTimeout(check, Math.max(10, after / 3));
      }
      await all;
      return keep ? (results as FileReport[]) : [];
    } finally {
      if (grow) clearTimeout(grow);
      if (watch) clearInterval(watch);
      this.events = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    livePools.delete(this);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /**
   * Stop now (a signal): each worker is terminated once it is not replacing a file (that step
   * is bounded I/O and is let finish), and the temp file of the file it was on is removed. Its
   * spill directory goes with removeOwnSpillDirs.
   */
  async abort(): Promise<void> {
    this.closed = true;
    livePools.delete(this);
    await Promise.all(
      this.slots.map(async (slot) => {
        for (let waited = 0; Atomics.compareExchange(slot.state, 1, 0, STOPPING) === 1 && waited < 60_000; waited += 10) {
          await new Promise((r) => setTimeout(r, 10));
        }
        const current = Atomics.load(slot.state, 0) - 1;
        slot.dead = true;
        await slot.worker.terminate();
        const job = current >= 0 ? this.active[current] : undefined;
        if (job) removeTempOf(job);
      }),
    );
  }
}

/** A terminated worker's temp file for this job (never an `.inplace` one: commits are not stopped). */
function removeTempOf(job: FileJob): void {
  if (job.check) return;
  try {
    rmSync(tempPathFor(job.output ?? job.path), { force: true });
  } catch {
    /* nothing to remove */
  }
}
