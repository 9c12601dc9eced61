#!/usr/bin/env node
// The detnorm command line, built on the library API (src/api.ts).
import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitCodeFor, listFormats, normalizeTree, resolveOptions, type NormalizeOptions } from './api.js';
import { identityOf, type FileJob } from './normalize-file.js';
import { WorkerPool, abortAllPools, defaultJobs, effectiveJobs } from './pool.js';
import { reapStaleSpillDirs } from './spill-dir.js';
import { resolveOutputPath } from './write.js';
import type { FileReport } from './report.js';
import { ArgError, OCI_OWNERS_CHOICES, PE_TIMESTAMP_CHOICES, PYC_INVALIDATION_CHOICES, Printer, UsageError, collect as collectArg, deadlineArg as deadlineValue, epochArg as epochValue, jobsArg as jobsValue, layersArg as layersValue, libraryOptions, usage, type CliOpts } from './cli-options.js';
import { runStdin, type StartWorker } from './filter.js';
import { ArgFileError, expandArgFiles } from './argfile.js';
import { runProcess } from './run-process.js';

export { UsageError, libraryOptions, Printer, type CliOpts } from './cli-options.js';

declare const __DETNORM_VERSION__: string | undefined;
/** The bundle's version, else package.json's: two levels up from lib/src/cli.js, one from src/cli.ts. */
function version(): string {
  if (typeof __DETNORM_VERSION__ !== 'undefined') return __DETNORM_VERSION__;
  const up = import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json';
  return JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')).version;
}

const EXAMPLES = `
Examples:
  detnorm dist/                          normalize every artifact under dist/ in place
  detnorm diff build1/ build2/           do two builds reproduce? (see detnorm diff --help)
  detnorm execlog a.json b.json          which Bazel action broke reproducibility, and why?
  detnorm --check dist/                  change nothing; exit 1 if anything would change
  SOURCE_DATE_EPOCH=1700000000 detnorm out.jar
                                         times become 2023-11-14 22:13:20 UTC
  detnorm -T 1700000000 --clamp pkg.tar  only times later than T become T
  detnorm --map-path "$PWD=/build/src" app.so lib.a
                                         rewrite the build directory in debug info
  detnorm -o clean.zip build.zip         write the result elsewhere, keep the input
  detnorm - < in.tar.gz > out.tar.gz     filter (Bazel genrule: cmd = "detnorm - < $< > $@")
  detnorm --json dist/ | jq .            one JSON record per file

Exit status: 0 all done (changed or not), 1 --check found files that would change,
2 usage error (nothing touched; also --check that found no file at all),
3 some file could not be processed (the others were).`;

/** The handlers, from the registry: a new format appears here by itself. */
function formatsHelp(): string {
  const list = listFormats();
  const width = Math.max(...list.map((f) => f.name.length)) + 2;
  return `\nFormats (--list-formats also shows their file extensions):\n${list.map((f) => `  ${f.name.padEnd(width)}${f.description}`).join('\n')}\n`;
}

/** Commander's "error: ..." messages, in detnorm's own "detnorm: ..." form. */
function prefixed(prog: string): (str: string, write: (s: string) => void) => void {
  return (str, write) => write(`${prog}: ${str.replace(/^error: /, '')}`);
}




/** The shared option-argument parsers (src/cli-options.ts), with commander's error type. */
function commanderArg<T, A extends unknown[]>(parse: (value: string, ...rest: A) => T): (value: string, ...rest: A) => T {
  return (value, ...rest) => {
    try {
      return parse(value, ...rest);
    } catch (e) {
      if (e instanceof ArgError) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}
const epochArg = commanderArg(epochValue);
const deadlineArg = commanderArg(deadlineValue);
const jobsArg = commanderArg(jobsValue);
const layersArg = commanderArg(layersValue);
const collect = commanderArg(collectArg);

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('detnorm')
    .usage('[options] <path...>\n       detnorm [options] - < IN > OUT\n       detnorm diff [options] A B      (see detnorm diff --help)')
    .description('Make build artifacts bit-identical: rewrite the times, member order, owners, modes and build paths they carry to canonical values, in every format listed below.')
    .version(version(), '-V, --version')
    .argument('[paths...]', 'files and directories to normalize in place ("-" reads stdin and writes stdout)')
    .option('-T, --timestamp <epoch>', 'canonical time T in seconds since the epoch (default: $SOURCE_DATE_EPOCH, else each format\'s "no time")', epochArg)
    .option('--clamp', 'only replace times later than T (needs T)')
    .option('--check', 'change nothing; list what would change and exit 1 if anything would')
    .option('-j, --jobs <n>', 'files worked on at once: the main thread and N-1 worker threads', jobsArg, defaultJobs())
    .option('--formats <spec>', 'enable/disable handlers: "+x,-y" edits the default set, "x,y" selects exactly')
    .option('--list-formats', 'list the format handlers and exit')
    .option('--map-path <OLD=NEW>', 'rewrite build path OLD to NEW where formats store paths (repeatable; longest prefix wins)', collect)
    .option('-o, --output <path>', 'with one input file: write the result to PATH and leave the input alone')
    .option('--json', 'print one JSON record per file on stdout')
    .option('-v, --verbose', 'list every change and every file, unchanged ones too')
    .option('-q, --quiet', 'print only errors')
    .option('--sort-ar-members', 'ar: sort members by name (for builds whose member order comes from a locale-dependent glob)')
    .addOption(new Option('--pyc-invalidation <mode>', 'pyc: turn timestamp pycs whose source is present into hash-based pycs').choices(PYC_INVALIDATION_CHOICES))
    .option('--pyc-sort-sets', 'pyc: also sort frozenset constants of Python < 3.11 pycs, whose order follows PYTHONHASHSEED (add-determinism keeps it)')
    .addOption(new Option('--pe-timestamp <mode>', 'PE images: COFF and debug stamps from a hash of the content, as lld-link /Brepro (content, default), or T (every PE stamp T, or 0 without T)').choices(PE_TIMESTAMP_CHOICES))
    .option('--rpm-buildhost <name>', 'RPM packages: the BUILDHOST to write (default "reproducible")')
    .addOption(new Option('--oci-owners <mode>', 'container images: keep the layers\' numeric uid/gid (default) or zero them').choices(OCI_OWNERS_CHOICES))
    .option('--keep-layers <n|digests>', 'container images: leave byte-identical the first N layers, or the layers with these digests (sha256:HEX,...), so a published base keeps its digests', layersArg)
    .option('--stdin-name <name>', 'with "-": a file name to break a detection tie the bytes leave open (e.g. app.jar)')
    .option('-f, --force', 'with "-": write to stdout even when it is a terminal')
    .option('--deadline <seconds>', 'per-file deadline: a file not done by then is reported and left untouched (default 600; 0: none)', deadlineArg)
    .option('--no-progress', 'never show a progress bar')
    // A function: the handler list is built only when help is shown.
    .addHelpText('after', () => formatsHelp() + EXAMPLES)
    .showHelpAfterError('(run detnorm --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: prefixed('detnorm') });
  return program;
}



/** "1 file", "2 files". */
function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}


/** Filter mode with -o: the job in a worker thread, started before stdin is read. */
const startOneWorker: StartWorker = (deadlineMs) => {
  const pool = new WorkerPool({ threads: 1, deadlineMs });
  return { run: (job) => runOne(job, pool), close: () => pool.close() };
};

/**
 * Run one job in a worker thread (so the deadline holds), with the run's options. `pool`: one
 * started earlier with the same deadline (the worker loads meanwhile), else one is started here.
 */
async function runOne(job: FileJob, started?: WorkerPool): Promise<FileReport> {
  const pool = started ?? new WorkerPool({ threads: 1, deadlineMs: job.options.limits.deadlineMs ?? 0 });
  try {
    const [r] = await pool.runAll([job], () => {});
    return r!;
  } finally {
    await pool.close();
  }
}



function buildDiffProgram(): Command {
  return new Command('detnorm diff')
    .usage('[options] A B')
    .description('Are two artifacts, or two trees, identical after normalization? Exit 0 if yes, 1 if not (and say where and why). A and B are only read.')
    .argument('<a>', 'file or directory (e.g. the first build)')
    .argument('<b>', 'file or directory (e.g. the second build)')
    .option('-T, --timestamp <epoch>', 'canonical time T (default: $SOURCE_DATE_EPOCH)', epochArg)
    .option('--clamp', 'only replace times later than T')
    .option('--map-path <OLD=NEW>', 'map a build path (repeatable: give one per build, e.g. /src/a=/build and /src/b=/build)', collect)
    .option('--formats <spec>', 'enable/disable handlers')
    .option('--sort-ar-members', 'ar: sort members by name')
    .addOption(new Option('--pe-timestamp <mode>', 'PE images: stamps from the content (default) or T').choices(PE_TIMESTAMP_CHOICES))
    .option('--pyc-sort-sets', 'pyc: also sort set constants of Python < 3.11 pycs (PYTHONHASHSEED order)')
    .option('--json', 'print the result as one JSON document (the difference records: kind, field, member, a, b, count, cause, normalized)')
    .option('--summary', 'one line per file: its verdict and the kinds of its differences')
    .option('-v, --verbose', 'list identical files too, and what is the same on both sides but not canonical')
    .addHelpText('after', `
Examples:
  detnorm diff build1/dist build2/dist
  detnorm diff --map-path /ci/run1=/build --map-path /ci/run2=/build run1/app.so run2/app.so
  detnorm diff --json a.whl b.whl | jq '.pairs[].differences'

Exit status: 0 identical after normalization, 1 different, 2 usage error, 3 could not read.`)
    .showHelpAfterError('(run detnorm diff --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: prefixed('detnorm diff') });
}

/** A path named on the command line, with a symlink followed to its target (as `cp -H`). */
function followNamed(p: string): string {
  try {
    return lstatSync(p).isSymbolicLink() ? realpathSync(p) : p;
  } catch {
    return p; // a dangling link or a missing path: diff says which
  }
}

async function runDiff(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const program = buildDiffProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    throw e;
  }
  const o = program.opts<CliOpts>();
  let lib: NormalizeOptions;
  try {
    lib = libraryOptions({ ...o, jobs: 1, progress: false }, env);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`detnorm diff: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const [a, b] = program.args as [string, string];
  const { diffPaths, formatDiff } = await import('./diff.js');
  let result;
  try {
    result = await diffPaths(followNamed(a), followNamed(b), { ...lib, ...(o.verbose ? { verbose: true } : {}) });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    process.stderr.write(`detnorm diff: ${code === 'ENOENT' ? `no such file: ${(e as NodeJS.ErrnoException).path}` : (e as Error).message}\n`);
    return e instanceof TypeError ? 2 : 3;
  }
  if (result.pairs.length === 0) {
    // Two empty trees (or trees of symlinks only) are not evidence that two builds reproduce.
    process.stderr.write(`detnorm diff: nothing to compare: no files under ${a} or ${b}\n`);
    return 2;
  }
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else for (const l of formatDiff(result, Boolean(o.verbose), Boolean(o.summary))) process.stdout.write(l + '\n');
  return result.identical ? 0 : 1;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Bazel hands arguments over in a file: `@FILE` (or --flagfile=FILE), one argument a line.
  try {
    argv = [...argv.slice(0, 2), ...expandArgFiles(argv.slice(2))];
  } catch (e) {
    if (!(e instanceof ArgFileError)) throw e;
    process.stderr.write(`detnorm: ${e.message}\n`);
    return 2;
  }
  if (argv.includes('--persistent_worker')) {
    const { runPersistentWorker } = await import('./bazel-worker/server.js');
    return runPersistentWorker(argv.slice(2), env);
  }
  if (argv[2] === 'diff') return runDiff(argv.slice(3), env);
  if (argv[2] === 'execlog') return (await import('./execlog/cli.js')).runExeclog(argv.slice(3));
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    throw e;
  }
  const o = program.opts<CliOpts>();
  const paths = program.args;
  if (o.listFormats) {
    for (const f of listFormats()) process.stdout.write(`${f.name.padEnd(14)} ${f.description}${f.extensions.length ? `  [${f.extensions.join(' ')}]` : ''}\n`);
    return 0;
  }
  let lib: NormalizeOptions;
  try {
    lib = libraryOptions(o, env);
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message);
    throw e;
  }
  if (paths.length === 0) return usage('no input: give files, directories, or - for stdin');
  if (paths.includes('-')) {
    if (paths.length > 1) return usage('"-" (stdin) cannot be combined with other paths');
    return runStdin(o, lib, startOneWorker);
  }
  if (o.output) {
    if (paths.length !== 1) return usage('-o/--output takes exactly one input file');
  }
  if (o.quiet && o.verbose) return usage('--quiet and --verbose contradict each other');

  const out = (l: string) => process.stdout.write(l + '\n');
  const err = (l: string) => process.stderr.write(l + '\n');
  const useBar = o.progress && Boolean(process.stderr.isTTY) && !o.quiet && !o.json;
  // Imported only when a bar can show: cli-progress is not loaded by other runs (start-up).
  const progress = useBar ? new (await import('./progress.js')).Progress() : undefined;
  const printer = new Printer(o, progress ? (l) => progress.log(l) : out, progress ? (l) => progress.log(l) : err);
  const started = Date.now();

  if (o.output) {
    let st;
    try {
      st = statSync(paths[0]!);
    } catch {
      return usage(`${paths[0]}: no such file`);
    }
    if (!st.isFile()) return usage('-o/--output takes a regular file');
    let target: string;
    try {
      target = resolveOutputPath(o.output, paths[0]!);
    } catch (e) {
      return usage((e as Error).message);
    }
    if (!o.check) reapStaleSpillDirs();
    const r = await runOne({ path: paths[0]!, options: resolveOptions(lib), output: target, ...(o.check ? { check: true } : {}), ident: identityOf(statSync(paths[0]!, { bigint: true })) });
    printer.report(r);
    if (r.status === 'error') return 3;
    return o.check && r.status === 'changed' ? 1 : 0;
  }

  const threads = effectiveJobs(o.jobs);
  if (o.verbose && threads < o.jobs) err(`detnorm: -j${o.jobs}: ${threads} worker thread${threads === 1 ? '' : 's'} (capped by ${threads >= defaultJobs() ? 'memory' : 'cores and memory'})`);
  const result = await normalizeTree(paths, {
    ...lib,
    jobs: o.jobs,
    // Printed as they come, counted in the summary: not held (a tree may hold a million files).
    keepReports: false,
    ...(o.check ? { check: true } : {}),
    onStart: (files) => progress?.start(files),
    onReport: (r) => {
      progress?.tick(r);
      printer.report(r);
    },
  });
  progress?.stop();
  for (const p of result.problems) {
    if (p.severity === 'error') err(`detnorm: ${p.path}: ${p.reason}`);
    else if (!o.quiet && !o.json) err(`detnorm: ${p.path}: ${p.reason}`);
  }
  const s = { ...result.summary };
  s.errors += result.problems.filter((p) => p.severity === 'error').length;
  if (!o.quiet && !o.json) {
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const verb = o.check ? 'would change' : 'normalized';
    err(
      `detnorm: ${count(s.files, 'file', 'files')}: ${s.changed} ${verb}, ${s.unchanged} already canonical, ${count(s.ignored, 'not an artifact', 'not artifacts')}` +
        (s.untouched ? `, ${s.untouched} left untouched` : '') +
        (s.touched ? `, ${o.check ? 'would set' : 'set'} the mtime of ${count(s.touched, 'pyc source', 'pyc sources')}` : '') +
        `, ${count(s.errors, 'error', 'errors')} (${secs} s)`,
    );
  }
  if (o.check && result.summary.files === 0 && s.errors === 0) {
    // `detnorm --check DIR` that found nothing to check must not pass as if it had.
    err(`detnorm: nothing to check under ${paths.join(' ')}: no regular file found`);
    return 2;
  }
  return exitCodeFor(result, Boolean(o.check));
}

let started = false;
/**
 * Run the command line on process.argv, once. The bundle's dist/cli.mjs calls it (src/bin.ts):
 * there this module may sit in a shared chunk, whose URL is not the program's.
 */
export function runMain(): void {
  if (started) return;
  started = true;
  runProcess(() => main(process.argv), abortAllPools);
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) runMain();
