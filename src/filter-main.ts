// The filter fast path (start-up, issue 20): `detnorm [simple options] - < IN > OUT` without
// commander, the library's tree and pool modules, the progress bar, diff or execlog. src/bin.ts
// loads this module when the arguments hold a "-"; parseFilterArgs accepts only what it parses
// exactly as commander does (src/cli.ts buildProgram): each option at most once (--map-path
// repeatable), long values as "--opt V" or "--opt=V", short ones as "-T V", values that do not
// start with "-" or "@". Anything else (an unknown or repeated option, -o, bundled short flags,
// "--", an argument file, a bad value) goes to the full command line, which gives its answer
// or its error. The run itself is the full path's code: libraryOptions, runStdin, Printer, usage
// (src/cli-options.ts, src/filter.ts), so output, report text and exit status are the same.
import { OCI_OWNERS_CHOICES, PE_TIMESTAMP_CHOICES, PYC_INVALIDATION_CHOICES, UsageError, collect, deadlineArg, epochArg, jobsArg, layersArg, libraryOptions, usage, type CliOpts } from './cli-options.js';
import { runStdin } from './filter.js';
import { runProcess } from './run-process.js';

type Key = Exclude<keyof CliOpts, 'progress'>;
/** Boolean flags: their spellings, their key. */
const FLAGS: Readonly<Record<string, Key>> = {
  '--clamp': 'clamp',
  '--check': 'check',
  '--json': 'json',
  '-v': 'verbose',
  '--verbose': 'verbose',
  '-q': 'quiet',
  '--quiet': 'quiet',
  '--sort-ar-members': 'sortArMembers',
  '--pyc-sort-sets': 'pycSortSets',
  '-f': 'force',
  '--force': 'force',
};
const choice =
  (choices: readonly string[]) =>
  (v: string): string => {
    if (!choices.includes(v)) throw new Error('not a choice');
    return v;
  };
const text = (v: string): string => v;
/** Options with a value: their spellings, their key, the parser commander is given. */
const VALUES: Readonly<Record<string, readonly [Key, (v: string) => unknown]>> = {
  '-T': ['timestamp', epochArg],
  '--timestamp': ['timestamp', epochArg],
  '-j': ['jobs', jobsArg],
  '--jobs': ['jobs', jobsArg],
  '--formats': ['formats', text],
  '--stdin-name': ['stdinName', text],
  '--deadline': ['deadline', deadlineArg],
  '--pyc-invalidation': ['pycInvalidation', choice(PYC_INVALIDATION_CHOICES)],
  '--pe-timestamp': ['peTimestamp', choice(PE_TIMESTAMP_CHOICES)],
  '--oci-owners': ['ociOwners', choice(OCI_OWNERS_CHOICES)],
  '--rpm-buildhost': ['rpmBuildhost', text],
  '--keep-layers': ['keepLayers', layersArg],
};

/**
 * The options of a filter invocation the fast path takes (exactly one "-", options from the
 * lists above), or undefined: let the full command line parse it. `jobs` does not matter in
 * filter mode (one job); commander's default would be the core count, here 1.
 */
export function parseFilterArgs(args: readonly string[]): CliOpts | undefined {
  const o: Record<string, unknown> = { jobs: 1, progress: true };
  const seen = new Set<string>();
  let dashes = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-') {
      dashes++;
      continue;
    }
    if (a === '--no-progress') {
      if (seen.has(a)) return undefined;
      seen.add(a);
      o.progress = false;
      continue;
    }
    const flag = FLAGS[a];
    if (flag !== undefined) {
      if (seen.has(flag)) return undefined;
      seen.add(flag);
      o[flag] = true;
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    let value: string | undefined;
    if (eq > 0) value = a.slice(eq + 1);
    else if (i + 1 < args.length) value = args[++i];
    if (value === undefined || value === '' || value.startsWith('-') || value.startsWith('@')) return undefined;
    try {
      if (name === '--map-path') {
        o.mapPath = collect(value, o.mapPath as string[] | undefined);
        continue;
      }
      const spec = VALUES[name];
      if (spec === undefined || seen.has(spec[0])) return undefined;
      seen.add(spec[0]);
      o[spec[0]] = spec[1](value);
    } catch {
      return undefined; // commander's own error message, from the full path
    }
  }
  return dashes === 1 ? (o as unknown as CliOpts) : undefined;
}

/** Run a filter invocation, or hand over to the full command line (`full`) if it is not one we take. */
export function runFilterMain(args: readonly string[], full: () => void): void {
  const o = parseFilterArgs(args);
  if (!o) return full();
  runProcess(async () => {
    let lib;
    try {
      lib = libraryOptions(o, process.env);
    } catch (e) {
      if (e instanceof UsageError) return usage(e.message);
      throw e;
    }
    return runStdin(o, lib);
  }, async () => {});
}
