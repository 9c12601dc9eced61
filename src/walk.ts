// The tree walk: regular files only, symlinks never followed, each inode once (the first path
// in sorted order stands for all its hard links), results in bytewise path order.
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_PATTERN } from './write.js';

export interface WalkEntry {
  readonly path: string;
  readonly size: number;
  /** Other paths in the walk that are hard links to the same inode. */
  readonly links: readonly string[];
  /** A directory artifact (an OCI image layout): the handler that claims it (src/directory.ts). */
  readonly directory?: string;
}

export interface WalkOptions {
  /**
   * Names the handler that claims a directory with these entry names as one artifact (see
   * Handler.detectDirectory); such a directory is handed over whole, not its files.
   */
  readonly directoryFormat?: (names: readonly string[]) => string | undefined;
}

export interface WalkProblem {
  readonly path: string;
  readonly reason: string;
  /** An error stops nothing but makes the exit code 3; a notice is informational. */
  readonly severity: 'error' | 'notice';
}

export interface WalkResult {
  readonly files: WalkEntry[];
  readonly problems: WalkProblem[];
}

export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function walk(roots: readonly string[], opts: WalkOptions = {}): WalkResult {
  const found = new Map<string, { path: string; size: number; links: string[]; directory?: string }>();
  const problems: WalkProblem[] = [];
  const visit = (path: string, explicit: boolean): void => {
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch (e) {
      problems.push({ path, reason: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String((e as Error).message), severity: 'error' });
      return;
    }
    if (st.isSymbolicLink()) {
      if (explicit) problems.push({ path, reason: 'symbolic link: not followed', severity: 'notice' });
      return;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(path);
      } catch (e) {
        problems.push({ path, reason: `cannot read directory: ${(e as Error).message}`, severity: 'error' });
        return;
      }
      const directory = opts.directoryFormat?.(names);
      if (directory) {
        // Its size is its files' (the scheduler gives large jobs to workers first).
        found.set(`directory:${path}`, { path, size: treeBytes(path), links: [], directory });
        return;
      }
      for (const name of names.sort(byteCompare)) visit(join(path, name), false);
      return;
    }
    if (!st.isFile()) {
      if (explicit) problems.push({ path, reason: 'not a regular file', severity: 'notice' });
      return;
    }
    const base = path.slice(path.lastIndexOf('/') + 1);
    const temp = TEMP_PATTERN.exec(base);
    if (temp) {
      // A leftover of a run that was killed: its target is intact (old or new), remove it.
      if (!pidAlive(Number(temp[1]))) {
        try {
          unlinkSync(path);
          problems.push({ path, reason: 'removed a temp file left by an interrupted run', severity: 'notice' });
        } catch {
          /* not ours to worry about */
        }
      }
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    const seen = found.get(key);
    if (seen) {
      if (seen.path !== path && !seen.links.includes(path)) seen.links.push(path);
      return;
    }
    found.set(key, { path, size: Number(st.size), links: [] });
  };
  for (const root of roots) visit(root, true);
  const files: WalkEntry[] = [];
  for (const f of found.values()) {
    const all = [f.path, ...f.links].sort(byteCompare);
    files.push({ path: all[0]!, size: f.size, links: all.slice(1), ...(f.directory ? { directory: f.directory } : {}) });
  }
  files.sort((a, b) => byteCompare(a.path, b.path));
  problems.sort((a, b) => byteCompare(a.path, b.path));
  return { files, problems };
}

/** Total size of the regular files under `dir` (a directory artifact's), 0 when unreadable. */
function treeBytes(dir: string): number {
  let total = 0;
  const visit = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        const st = lstatSync(p);
        if (st.isDirectory()) visit(p);
        else if (st.isFile()) total += st.size;
      } catch {
        /* raced away: not counted */
      }
    }
  };
  visit(dir);
  return total;
}
