// `detnorm execlog A.log B.log`: which actions of two Bazel builds give different outputs, why
// (non-deterministic, non-hermetic, downstream), and whether normalizing would fix it.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { classify } from './classify.js';
import { diskCache, outputBase, type BlobStore } from './blobs.js';
import { explain } from './explain.js';
import { readExecLog } from './read-log.js';
import { formatText, toJson } from './report.js';
import { ExecLogError } from './spawn.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function mapPath(value: string, previous: string[] = []): string[] {
  if (value.indexOf('=') <= 0) throw new InvalidArgumentError('expected OLD=NEW');
  return [...previous, value];
}

function program(): Command {
  return new Command('detnorm execlog')
    .usage('[options] A.log B.log')
    .description(
      'Compare the execution logs of two Bazel builds of the same commit (--execution_log_json_file, --execution_log_binary_file or --execution_log_compact_file): ' +
        'which actions give different outputs, which of them are the causes (non-deterministic or non-hermetic) and which only follow from them (downstream), ' +
        'and whether normalizing would fix each non-deterministic output. Exit 0 if every output is the same, 1 if not.',
    )
    .argument('<a>', 'the first build\'s execution log')
    .argument('<b>', 'the second build\'s execution log')
    .option('--disk-cache <dir>', 'a build\'s --disk_cache directory, where its outputs are found by digest (give two: A\'s, then B\'s)', collect)
    .option('--output-base <dir>', 'a build\'s output base (or workspace), where its outputs are found by path (give two: A\'s, then B\'s)', collect)
    .option('--map-path <OLD=NEW>', 'map a build path when comparing outputs (repeatable), as detnorm diff', mapPath)
    .option('--json', 'print the result as one JSON document')
    .option('-v, --verbose', 'list every downstream action')
    .addHelpText(
      'after',
      `
Examples:
  detnorm execlog a.json b.json
  detnorm execlog --disk-cache /tmp/cache-a --disk-cache /tmp/cache-b a.log b.log
  detnorm execlog --json a.log b.log | jq '.causes[] | {class, target}'

Exit status: 0 same outputs, 1 different outputs, 2 usage error, 3 a log could not be read.`,
    )
    .showHelpAfterError('(run detnorm execlog --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

interface Opts {
  diskCache?: string[];
  outputBase?: string[];
  mapPath?: string[];
  json?: boolean;
  verbose?: boolean;
}

export async function runExeclog(args: string[]): Promise<number> {
  const p = program();
  try {
    p.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' ? 0 : 2;
    throw e;
  }
  const o = p.opts<Opts>();
  const usage = (m: string) => {
    process.stderr.write(`detnorm execlog: ${m}\n`);
    return 2;
  };
  for (const [flag, dirs] of [['--disk-cache', o.diskCache], ['--output-base', o.outputBase]] as const) {
    if (dirs && dirs.length !== 2) return usage(`${flag} takes two directories, A's then B's (got ${dirs.length})`);
  }
  const stores: { a: BlobStore[]; b: BlobStore[] } = { a: [], b: [] };
  try {
    if (o.diskCache) {
      stores.a.push(diskCache(o.diskCache[0]!));
      stores.b.push(diskCache(o.diskCache[1]!));
    }
    if (o.outputBase) {
      stores.a.push(outputBase(o.outputBase[0]!));
      stores.b.push(outputBase(o.outputBase[1]!));
    }
  } catch (e) {
    return usage((e as Error).message);
  }
  const [pa, pb] = p.args as [string, string];
  let a, b;
  try {
    a = await readExecLog(pa);
    b = await readExecLog(pb);
  } catch (e) {
    if (e instanceof ExecLogError) {
      process.stderr.write(`detnorm execlog: ${e.message}\n`);
      return 3;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code) {
      process.stderr.write(`detnorm execlog: ${err.path ?? ''}: ${err.code === 'ENOENT' ? 'no such file' : err.message}\n`);
      return 3;
    }
    throw e;
  }
  const aliases = new Map([...a.symlinks, ...b.symlinks].map((s) => [s.output, s.input]));
  const c = classify(a.spawns, b.spawns, aliases);
  const e = await explain(c, stores, { mapPaths: o.mapPath ?? [] });
  const j = toJson(a, b, c, e);
  if (o.json) process.stdout.write(JSON.stringify(j, null, 2) + '\n');
  else for (const l of formatText(j, Boolean(o.verbose))) process.stdout.write(l + '\n');
  return j.identical ? 0 : 1;
}
