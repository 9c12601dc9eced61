// The per-file deadline's backstop when a job runs on the main thread (filter mode, issue 20:
// no worker thread to boot and load the handlers again). The cooperative checks (src/errors.ts
// Deadline, at every read, write and member) stop async work; a synchronous loop that never
// yields would stop nothing. So a tiny watchdog thread (eval code: it loads none of detnorm's
// modules) waits on shared memory, and if the job is not done by deadline + grace it does what
// the worker path's outcome would be: the untouched input to stdout (unless --check), the report
// lines to stderr, this thread's spill directories removed, then the process ends with exit 3.
// Who owns the outcome is settled by one compare-and-swap on `phase`: the main thread (job done)
// or the watchdog (deadline), never both. Filter mode writes nothing to stdout before the job is
// done, so when the watchdog wins nothing has been written yet.
import { Worker } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { threadId } from 'node:worker_threads';
import { ownerTag } from './ownership.js';
import { SPILL_PREFIX } from './spill-dir.js';

/** phase: 0 before the job, 1 running, 2 the main thread owns the outcome, 3 the watchdog does. */
const RUNNING = 1;
const MAIN = 2;

export interface WatchdogOptions {
  readonly deadlineMs: number;
  readonly graceMs: number;
  /** The input's spill file: copied to stdout when the deadline passes (absent: --check). */
  readonly input?: string;
  /** What stderr gets (each a line): the report the worker path gives for a deadline. */
  readonly lines: readonly string[];
}

// CommonJS (an eval worker): node:fs, node:path, node:inspector only.
const CODE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const phase = new Int32Array(workerData.shared, 0, 1);
const started = new Float64Array(workerData.shared, 8, 1);
function writeAll(fd, buf, n) {
  for (let at = 0; at < n; ) {
    try { at += fs.writeSync(fd, buf, at, n - at); }
    catch (e) { if (e.code !== 'EAGAIN') throw e; Atomics.wait(phase, 0, 3, 5); }
  }
}
function fire() {
  try {
    if (workerData.input) {
      const fd = fs.openSync(workerData.input, 'r');
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let at = 0, n; (n = fs.readSync(fd, buf, 0, buf.length, at)) > 0; at += n) writeAll(1, buf, n);
      fs.closeSync(fd);
    }
  } catch (e) {
    /* stdout closed: the report still goes out */
  }
  try { const t = Buffer.from(workerData.lines.map((l) => l + '\\n').join('')); writeAll(2, t, t.length); } catch {}
  try {
    for (const n of fs.readdirSync(workerData.tmp)) if (n.startsWith(workerData.spillPrefix)) fs.rmSync(path.join(workerData.tmp, n), { recursive: true, force: true });
  } catch {}
  // The main thread is busy in a loop: the inspector interrupts it to end the process with
  // exit 3 (fd 2 closed first: node would print a line about the session at exit). Without
  // an inspector, or if that does not end the process soon, SIGKILL.
  try {
    const { Session } = require('node:inspector');
    const s = new Session();
    s.connectToMainThread();
    s.post('Runtime.evaluate', { expression: "try { process.binding('fs').close(2); } catch {} process.reallyExit(3)" });
  } catch {}
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), 2000);
}
(function watch() {
  while (Atomics.load(phase, 0) === 0) Atomics.wait(phase, 0, 0);
  for (;;) {
    if (Atomics.load(phase, 0) !== ${RUNNING}) return;
    const left = started[0] + workerData.deadlineMs + workerData.graceMs - Date.now();
    if (left <= 0) break;
    Atomics.wait(phase, 0, ${RUNNING}, left);
  }
  if (Atomics.compareExchange(phase, 0, ${RUNNING}, 3) === ${RUNNING}) fire();
})();
`;

/** The pool's grace past the deadline (src/pool.ts): the cooperative check gets to report first. */
export function graceFor(deadlineMs: number): number {
  return Math.min(2000, Math.max(50, deadlineMs / 4));
}

export class Watchdog {
  private readonly phase: Int32Array;
  private readonly started: Float64Array;
  private readonly worker: Worker;
  /** Started at once: the thread boots while the main thread reads stdin. */
  constructor(o: WatchdogOptions) {
    const shared = new SharedArrayBuffer(16);
    this.phase = new Int32Array(shared, 0, 1);
    this.started = new Float64Array(shared, 8, 1);
    this.worker = new Worker(CODE, {
      eval: true,
      // No flags of the parent (--cpu-prof, a loader): this thread runs only the code above.
      execArgv: [],
      stdout: false,
      stderr: false,
      workerData: {
        shared,
        deadlineMs: o.deadlineMs,
        graceMs: o.graceMs,
        input: o.input,
        lines: o.lines,
        tmp: tmpdir(),
        spillPrefix: `${SPILL_PREFIX}${process.pid}-${ownerTag()}-${threadId}-`,
      },
    });
    this.worker.unref();
    this.worker.on('error', () => {});
  }
  /** The job starts now: the deadline counts from here (as a worker's does from its job's start). */
  start(): void {
    this.started[0] = Date.now();
    Atomics.store(this.phase, 0, RUNNING);
    Atomics.notify(this.phase, 0);
  }
  /**
   * The job is done: true when the main thread now owns the outcome (the watchdog stands down);
   * false when the deadline passed first and the watchdog is ending the process.
   */
  finish(): boolean {
    const was = Atomics.compareExchange(this.phase, 0, RUNNING, MAIN);
    const won = was === RUNNING || (was === 0 && Atomics.compareExchange(this.phase, 0, 0, MAIN) === 0);
    Atomics.notify(this.phase, 0);
    if (won) void this.worker.terminate();
    return won;
  }
}
