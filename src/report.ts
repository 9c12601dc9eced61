// Reports: the record kept for each file, its JSON form, and the text lines of the CLI.
import type { Change } from './types.js';

export type FileStatus = 'ignored' | 'unchanged' | 'changed' | 'untouched' | 'error';

export interface FileReport {
  readonly path: string;
  readonly format?: string;
  readonly status: FileStatus;
  /** In --check mode a 'changed' file was not written. */
  readonly checked?: boolean;
  readonly changes: readonly Change[];
  readonly notices: readonly string[];
  readonly reason?: string;
  /** Other hard links to the same file, which see the same new bytes. */
  readonly links?: readonly string[];
  /** Other files whose mtime was set (or, checked, would be): the sources beside a pyc. */
  readonly touched?: number;
}

/** One JSON record per file (`--json`). */
export function toJson(r: FileReport): Record<string, unknown> {
  return {
    path: r.path,
    format: r.format ?? null,
    status: r.status,
    changed: r.status === 'changed',
    ...(r.checked ? { written: false } : {}),
    changes: r.changes.map((c) => ({ kind: c.kind, what: c.what, ...(c.member ? { member: c.member } : {}), ...(c.count ? { count: c.count } : {}) })),
    kinds: changeKinds(r.changes),
    notices: r.notices,
    error: r.status === 'error' ? (r.reason ?? 'error') : null,
    ...(r.status === 'untouched' ? { reason: r.reason } : {}),
    ...(r.links && r.links.length ? { links: r.links } : {}),
  };
}

/** The distinct kinds of non-determinism found, sorted: "owner, timestamp". */
export function changeKinds(changes: readonly Change[]): string[] {
  return [...new Set(changes.map((c) => c.kind))].sort();
}

export function describeChange(c: Change): string {
  return `${c.kind}: ${c.member ? `${c.member}: ` : ''}${c.what}${c.count && c.count > 1 ? ` (x${c.count})` : ''}`;
}

export interface Summary {
  files: number;
  changed: number;
  unchanged: number;
  untouched: number;
  ignored: number;
  errors: number;
  /** Other files whose mtime was set to match an artifact (a pyc's source). */
  touched: number;
}

export function summarize(reports: readonly FileReport[]): Summary {
  const s: Summary = { files: 0, changed: 0, unchanged: 0, untouched: 0, ignored: 0, errors: 0, touched: 0 };
  for (const r of reports) count(s, r);
  return s;
}

/** Add one report to a summary (reports streamed, not kept). */
export function count(s: Summary, r: FileReport): void {
  s.files++;
  s.touched += r.touched ?? 0;
  if (r.status === 'changed') s.changed++;
  else if (r.status === 'unchanged') s.unchanged++;
  else if (r.status === 'untouched') s.untouched++;
  else if (r.status === 'ignored') s.ignored++;
  else s.errors++;
}
