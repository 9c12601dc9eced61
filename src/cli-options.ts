// What the command line's main path (src/cli.ts, commander) and its filter fast path
// (src/filter-main.ts) share, so both resolve options and report with the same code: the
// option-argument parsers and choices, CliOpts to library options, the report printer, and the
// usage-error message. It loads neither commander nor the tree and pool modules (start-up, issue 20).
import type { NormalizeOptions } from './resolve-options.js';
import { resolveOptions } from './resolve-options.js';
import { changeKinds, describeChange, toJson, type FileReport } from './report.js';
import { parseEpoch } from './time.js';

export class UsageError extends Error {}

/** A bad option-argument: src/cli.ts turns it into commander's InvalidArgumentError. */
export class ArgError extends Error {}

export const PYC_INVALIDATION_CHOICES = ['checked-hash', 'unchecked-hash'] as const;
export const PE_TIMESTAMP_CHOICES = ['content', 'T'] as const;
export const OCI_OWNERS_CHOICES = ['keep', 'zero'] as const;

export function epochArg(value: string): number {
  const n = parseEpoch(value);
  if (n === undefined) throw new ArgError('expected whole seconds since 1970-01-01 UTC (e.g. 1700000000)');
  return n;
}

export function deadlineArg(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new ArgError('expected seconds (e.g. 600; 0 for no deadline)');
  return Math.round(Number(value) * 1000);
}

export function jobsArg(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1024) throw new ArgError('expected a number of jobs from 1 to 1024');
  return Number(value);
}

export function layersArg(value: string): number | string[] {
  if (/^\d+$/.test(value)) return Number(value);
  const digests = value.split(',').map((d) => d.trim()).filter(Boolean);
  if (digests.length && digests.every((d) => /^(sha256:)?[0-9a-f]{64}$/.test(d))) return digests;
  throw new ArgError('expected a number of layers, or layer digests sha256:HEX[,sha256:HEX...]');
}

export function collect(value: string, previous: string[] = []): string[] {
  if (value.indexOf('=') <= 0) throw new ArgError('expected OLD=NEW');
  return [...previous, value];
}

export interface CliOpts {
  timestamp?: number;
  clamp?: boolean;
  check?: boolean;
  jobs: number;
  formats?: string;
  listFormats?: boolean;
  mapPath?: string[];
  output?: string;
  json?: boolean;
  summary?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  sortArMembers?: boolean;
  pycInvalidation?: 'checked-hash' | 'unchecked-hash';
  stdinName?: string;
  ociOwners?: 'keep' | 'zero';
  keepLayers?: number | string[];
  pycSortSets?: boolean;
  deadline?: number;
  force?: boolean;
  peTimestamp?: 'content' | 'T';
  rpmBuildhost?: string;
  progress: boolean;
}

/** Resolve T: the flag wins over SOURCE_DATE_EPOCH; a malformed value of either is a usage error. */
export function resolveTimestamp(flag: number | undefined, env: NodeJS.ProcessEnv): number | undefined {
  if (flag !== undefined) return flag;
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde === undefined || sde === '') return undefined;
  const n = parseEpoch(sde);
  if (n === undefined) throw new UsageError(`SOURCE_DATE_EPOCH="${sde}" is not a whole number of seconds`);
  return n;
}

export function libraryOptions(o: CliOpts, env: NodeJS.ProcessEnv): NormalizeOptions {
  const timestamp = resolveTimestamp(o.timestamp, env);
  if (o.clamp && timestamp === undefined) throw new UsageError('--clamp needs a time: give -T EPOCH or set SOURCE_DATE_EPOCH');
  const lib: NormalizeOptions = {
    ...(timestamp !== undefined ? { timestamp } : {}),
    clamp: Boolean(o.clamp),
    mapPaths: o.mapPath ?? [],
    sortArMembers: Boolean(o.sortArMembers),
    ...(o.pycInvalidation ? { pycInvalidation: o.pycInvalidation } : {}),
    ...(o.formats ? { formats: o.formats } : {}),
    ...(o.ociOwners ? { ociOwners: o.ociOwners } : {}),
    ...(o.pycSortSets ? { pycSortSets: true } : {}),
    ...(o.peTimestamp ? { peTimestamp: o.peTimestamp } : {}),
    ...(o.rpmBuildhost !== undefined ? { rpmBuildHost: o.rpmBuildhost } : {}),
    ...(typeof o.keepLayers === 'number' ? { keepLayers: o.keepLayers } : {}),
    ...(Array.isArray(o.keepLayers) ? { keepLayerDigests: o.keepLayers } : {}),
    ...(o.deadline !== undefined ? { deadlineMs: o.deadline } : {}),
  };
  try {
    resolveOptions(lib);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return lib;
}

export function statusWord(r: FileReport): string {
  if (r.status === 'changed') return r.checked ? 'would change' : 'normalized';
  if (r.status === 'unchanged') return 'unchanged';
  if (r.status === 'untouched') return 'left untouched';
  if (r.status === 'ignored') return `not an artifact${r.reason ? ` (${r.reason})` : ''}`;
  return 'error';
}

export class Printer {
  constructor(
    private readonly o: CliOpts,
    private readonly out: (line: string) => void,
    private readonly err: (line: string) => void,
  ) {}
  report(r: FileReport): void {
    const o = this.o;
    if (r.status === 'error') this.err(`detnorm: ${r.path}: ${r.format ?? 'file'}: ${r.reason}`);
    if (o.json) {
      this.out(JSON.stringify(toJson(r)));
      return;
    }
    if (r.status === 'untouched' && !o.quiet) this.err(`detnorm: ${r.path}: ${r.format}: left untouched: ${r.reason}`);
    if (o.quiet) return;
    if (r.status === 'changed') {
      this.out(`${r.path}: ${r.format}: ${statusWord(r)} (${changeKinds(r.changes).join(', ')})`);
      if (o.verbose) for (const c of r.changes) this.out(`  ${describeChange(c)}`);
      if (r.links?.length) this.out(`  hard links, same bytes: ${r.links.join(', ')}`);
    } else if (o.verbose && r.status !== 'error') {
      this.out(`${r.path}: ${r.format ?? '-'}: ${statusWord(r)}`);
    }
    if (o.verbose || r.status === 'changed') for (const n of r.notices) this.out(`  note: ${n}`);
  }
}

/** A usage error: the message, the hint, exit status 2. */
export function usage(msg: string): number {
  process.stderr.write(`detnorm: ${msg}\n(run detnorm --help for usage)\n`);
  return 2;
}
