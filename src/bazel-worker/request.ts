// One WorkRequest: its arguments are a detnorm command line (the worker's startup arguments,
// then the request's), parsed by the CLI's own parser, so a worker and a one-shot
// `detnorm STARTUP @argsfile` run exactly the same job on the same options. A request
// normalizes one file into another: `-o OUT IN` (what detnorm_normalize sends). The job runs
// in a worker thread, as every file does (so the per-file deadline holds): at most `jobs`
// requests at once, each on a warm one-thread pool that stays up between requests.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CommanderError } from 'commander';
import { resolveOptions } from '../api.js';
import { ArgFileError, expandArgFiles } from '../argfile.js';
import { buildProgram, libraryOptions, Printer, UsageError, type CliOpts } from '../cli.js';
import { WorkerPool, defaultJobs, effectiveJobs } from '../pool.js';
import type { FileJob } from '../normalize-file.js';
import type { FileReport } from '../report.js';
import type { WorkRequest } from './protocol.js';

export interface RequestResult {
  readonly exitCode: number;
  /** What the one-shot command would print on stdout and stderr (Bazel shows it). */
  readonly output: string;
}

interface Parsed {
  readonly o: CliOpts;
  readonly paths: string[];
}

/** Parse a detnorm command line; a usage error comes back as text. */
function parse(args: readonly string[]): Parsed | { usage: string } {
  const program = buildProgram();
  const err: string[] = [];
  program.configureOutput({ writeErr: (s) => err.push(s), writeOut: (s) => err.push(s) });
  try {
    program.parse([...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { usage: err.join('') || e.message };
    throw e;
  }
  return { o: program.opts<CliOpts>(), paths: program.args };
}

export class RequestRunner {
  readonly jobs: number;
  /** Warm one-thread pools not running a request now; `waiting` queues requests for one. */
  private idle: WorkerPool[] = [];
  private all: WorkerPool[] = [];
  private waiting: Array<(p: WorkerPool) => void> = [];

  constructor(
    private readonly startup: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {
    const p = parse(startup);
    this.jobs = effectiveJobs('usage' in p ? defaultJobs() : p.o.jobs);
  }

  async run(q: WorkRequest): Promise<RequestResult> {
    const lines: string[] = [];
    const usage = (msg: string): RequestResult => ({ exitCode: 2, output: `detnorm: ${msg}\n` });
    // Relative paths are relative to the sandbox Bazel names (multiplex sandboxing), else to
    // the working directory (the execroot, or the worker's own sandbox).
    const at = (p: string) => (q.sandboxDir && !isAbsolute(p) ? resolve(q.sandboxDir, p) : p);
    let args: string[];
    try {
      args = [...this.startup, ...expandArgFiles(q.arguments, (f) => readFileSync(at(f), 'utf8'))];
    } catch (e) {
      if (e instanceof ArgFileError) return usage(e.message);
      throw e;
    }
    const p = parse(args);
    if ('usage' in p) return { exitCode: 2, output: p.usage };
    const { o, paths } = p;
    let lib;
    try {
      lib = libraryOptions(o, this.env);
    } catch (e) {
      if (e instanceof UsageError) return usage(e.message);
      throw e;
    }
    if (paths.length !== 1 || paths[0] === '-' || !o.output) return usage('a worker request normalizes one file into another: -o OUT IN');
    if (o.quiet && o.verbose) return usage('--quiet and --verbose contradict each other');
    const job = { path: at(paths[0]!), output: at(o.output), options: resolveOptions(lib), ...(o.check ? { check: true } : {}) };
    const r = await this.dispatch(job);
    const report: FileReport = { ...r, path: paths[0]! };
    const sink = (l: string) => lines.push(l + '\n');
    new Printer(o, sink, sink).report(report);
    const exitCode = r.status === 'error' ? 3 : o.check && r.status === 'changed' ? 1 : 0;
    return { exitCode, output: lines.join('') };
  }

  private async dispatch(job: FileJob): Promise<FileReport> {
    const pool = await this.acquire(job.options.limits.deadlineMs ?? 0);
    try {
      const [r] = await pool.runAll([job], () => {});
      return r!;
    } finally {
      const next = this.waiting.shift();
      if (next) next(pool);
      else this.idle.push(pool);
    }
  }

  private async acquire(deadlineMs: number): Promise<WorkerPool> {
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.length < this.jobs) {
      const pool = new WorkerPool({ threads: 1, deadlineMs });
      this.all.push(pool);
      return pool;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((p) => p.close()));
  }
}
