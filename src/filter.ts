// Filter mode (`detnorm - < IN > OUT`), shared by the command line's main path (src/cli.ts) and
// its fast path (src/filter-main.ts, which loads neither commander nor the tree and pool modules:
// start-up, issue 20). Without -o the job runs on this (the main) thread; with -o in a worker
// thread the caller starts (src/cli.ts: the pool), so this module does not import the pool.
import { closeSync, createReadStream, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { HANDLERS } from '../formats/index.js';
import { Printer, usage, type CliOpts } from './cli-options.js';
import { deadlineFailure } from './errors.js';
import { normalizeFileJob, type FileJob } from './normalize-file.js';
import type { FileReport } from './report.js';
import { resolveOptions, type NormalizeOptions } from './resolve-options.js';
import { SpillDir } from './spill-dir.js';
import { Watchdog, graceFor } from './watchdog.js';
import { resolveOutputPath } from './write.js';

/** One job in a worker thread, started before stdin is read (it boots meanwhile). */
export interface OneJobWorker {
  run(job: FileJob): Promise<FileReport>;
  close(): Promise<void>;
}
export type StartWorker = (deadlineMs: number) => OneJobWorker;

/** Copy a file to stdout, waiting for the pipe to drain (memory stays bounded). */
async function streamToStdout(path: string, start: number): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, start })) {
    if (!process.stdout.write(chunk as Buffer)) await new Promise<void>((r) => process.stdout.once('drain', r));
  }
  await new Promise<void>((res, rej) => process.stdout.write('', (e) => (e ? rej(e) : res())));
}

/**
 * Copy a file to stdout, 1 MiB at a time, with plain writes to fd 1 (no stream to set up:
 * start-up, issue 20); a non-blocking stdout that is full (EAGAIN) gets the rest through
 * process.stdout, which waits for it to drain. A closed pipe ends the run as src/run-process.ts
 * does for the stream.
 */
async function toStdout(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let at = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, at);
      if (n === 0) return;
      let done = 0;
      try {
        while (done < n) done += writeSync(1, buf, done, n - done);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
        if (code !== 'EAGAIN') throw e;
        await streamToStdout(path, at + done);
        return;
      }
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Write `b` whole to fd. */
function writeAll(fd: number, b: Uint8Array, n: number): void {
  for (let done = 0; done < n; ) done += writeSync(fd, b, done, n - done);
}

/**
 * Copy stdin to fd, 1 MiB at a time. Read synchronously (no stream machinery to set up: start-up,
 * issue 20) while stdin allows it; a non-blocking pipe (EAGAIN) is read as a stream from there on.
 */
async function copyStdin(fd: number): Promise<void> {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      for await (const c of process.stdin) writeAll(fd, c as Buffer, (c as Buffer).length);
      return;
    }
    if (n === 0) return;
    writeAll(fd, buf, n);
  }
}

/**
 * Filter mode. Stdin is copied to a private spill file (formats need random access; nothing is
 * held in memory), normalized into a temp file (then copied to stdout) or, with -o OUT, into OUT
 * through a temp file and a rename like every other write. Without -o the job runs on the main
 * thread (no worker thread to boot and load the handlers into: start-up, issue 20), the same
 * handler code as a worker's, with src/watchdog.ts as the deadline's backstop; with -o it runs in
 * a worker like any file (the watchdog does not take over a half-written OUT).
 */
export async function runStdin(o: CliOpts, lib: NormalizeOptions, startWorker?: StartWorker): Promise<number> {
  if (!o.check && !o.output && process.stdout.isTTY && !o.force) {
    // As gzip does: binary data on a terminal helps nobody and can upset it.
    process.stderr.write('detnorm: not writing binary data to a terminal: redirect stdout (detnorm - < IN > OUT), or use -f to force\n');
    return 2;
  }
  let target: string | undefined;
  if (o.output && !o.check) {
    try {
      target = resolveOutputPath(o.output, o.stdinName);
    } catch (e) {
      return usage((e as Error).message);
    }
  }
  const dir = new SpillDir();
  const err = (l: string) => process.stderr.write(l + '\n');
  const options = resolveOptions(lib);
  const deadlineMs = options.limits.deadlineMs ?? 0;
  // stdout carries the data: reports go to stderr (JSON too).
  const printer = (sink: (l: string) => void) => new Printer(o, o.output ? (l) => process.stdout.write(l + '\n') : sink, sink);
  const input = dir.newFile();
  const onMain = !o.output;
  // Started first: a worker thread (or the watchdog) loads while stdin is copied.
  if (!onMain && !startWorker) throw new Error('filter mode with -o needs a worker thread');
  const pool = onMain ? undefined : startWorker!(deadlineMs);
  let watchdog: Watchdog | undefined;
  if (onMain && deadlineMs > 0) {
    // Started before stdin is read: the thread boots while stdin arrives. What the worker path
    // reports for a file past its deadline, said by the watchdog.
    const lines: string[] = [];
    printer((l) => lines.push(l)).report({ path: '-', status: 'error', changes: [], notices: [], reason: deadlineFailure(deadlineMs).message });
    watchdog = new Watchdog({ deadlineMs, graceMs: graceFor(deadlineMs), ...(o.check ? {} : { input }), lines });
  }
  try {
    const fd = openSync(input, 'w', 0o600);
    try {
      await copyStdin(fd);
    } catch (e) {
      err(`detnorm: -: cannot keep stdin in a temp file: ${(e as Error).message}`);
      return 3;
    } finally {
      closeSync(fd);
    }
    const out = target ?? (o.check ? undefined : dir.newFile());
    const job: FileJob = { path: input, options, name: o.stdinName ?? '-', reportPath: '-', ...(o.check ? { check: true } : {}), ...(out ? { output: out } : {}) };
    let r: FileReport;
    if (pool) r = await pool.run(job);
    else {
      watchdog?.start();
      r = await normalizeFileJob(job, HANDLERS);
      // Past the deadline the watchdog owns the outcome and is ending the process.
      if (watchdog && !watchdog.finish()) await new Promise<never>(() => {});
    }
    printer(err).report(r);
    if (!o.check && !target) await toStdout(out && existsSync(out) ? out : input);
    if (r.status === 'error') return 3;
    return o.check && r.status === 'changed' ? 1 : 0;
  } finally {
    watchdog?.finish();
    await pool?.close();
    dir.remove();
  }
}
