// The tree walk: regular files only, each inode once (the first path in sorted order stands for
// all its hard links), results in bytewise path order. A symlink named on the command line is
// followed, as `find -H` and `cp -H` do (`detnorm --check bazel-bin`); one met during the walk
// never is. A followed link is resolved here: the entry carries the real path (the file that is
// opened and replaced is never a symlink), and `names` maps it back to the name as given.
import { lstatSync, readdirSync, realpathSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_PATTERN } from './write.js';

export interface WalkEntry {
  readonly path: string;
  readonly size: number;
  /** Other paths in the walk that are hard links to the same inode. */
  readonly links: readonly string[];
  /** An OCI image layout directory, normalized as one artifact (src/oci-dir.ts). */
  readonly ociLayout?: boolean;
}

export interface WalkOptions {
  /** Hand over directories holding `oci-layout` and `index.json` whole, not their files. */
  readonly ociLayouts?: boolean;
}

/** True when a directory's entry names are an OCI image layout's (image-layout.md). */
export function isOciLayoutDir(names: readonly string[]): boolean {
  return names.includes('oci-layout') && names.includes('index.json');
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
  /** The roots with command-line symlinks resolved (what "inside the tree" means for jobs). */
  readonly roots: string[];
  /** Real path -> the path as named through a command-line symlink (only where they differ). */
  readonly names: ReadonlyMap<string, string>;
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
  const found = new Map<string, { path: string; size: number; links: string[]; ociLayout?: boolean }>();
  const problems: WalkProblem[] = [];
  const shownNames = new Map<string, string>();
  const realRoots: string[] = [];
  /** `path` is what is opened; `shown` the same file as the user named it. */
  const visit = (path: string, explicit: boolean, shown: string): void => {
    if (shown !== path && !shownNames.has(path)) shownNames.set(path, shown);
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch (e) {
      problems.push({ path: shown, reason: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String((e as Error).message), severity: 'error' });
      return;
    }
    if (st.isSymbolicLink()) {
      if (!explicit) return; // met during the walk: never followed
      let real: string;
      try {
        real = realpathSync(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const reason = code === 'ENOENT' ? 'symbolic link to a missing file' : code === 'ELOOP' ? 'symbolic link loop' : `cannot follow symbolic link: ${(e as Error).message}`;
        problems.push({ path: shown, reason, severity: 'error' });
        return;
      }
      if (realRoots.at(-1) === path) realRoots[realRoots.length - 1] = real;
      visit(real, true, shown);
      return;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(path);
      } catch (e) {
        problems.push({ path: shown, reason: `cannot read directory: ${(e as Error).message}`, severity: 'error' });
        return;
      }
      if (opts.ociLayouts && isOciLayoutDir(names)) {
        // Its size is its blobs' (the scheduler gives large jobs to workers first).
        found.set(`oci-layout:${path}`, { path, size: blobBytes(join(path, 'blobs')), links: [], ociLayout: true });
        return;
      }
      for (const name of names.sort(byteCompare)) visit(join(path, name), false, join(shown, name));
      return;
    }
    if (!st.isFile()) {
      if (explicit) problems.push({ path: shown, reason: 'not a regular file', severity: 'notice' });
      return;
    }
    const base = path.slice(path.lastIndexOf('/') + 1);
    const temp = TEMP_PATTERN.exec(base);
    if (temp) {
      // A leftover of a run that was killed: its target is intact (old or new), remove it.
      if (!pidAlive(Number(temp[1]))) {
        try {
          unlinkSync(path);
          problems.push({ path: shown, reason: 'removed a temp file left by an interrupted run', severity: 'notice' });
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
  for (const root of roots) {
    realRoots.push(root);
    visit(root, true, root);
  }
  const shownOf = (p: string) => shownNames.get(p) ?? p;
  const files: WalkEntry[] = [];
  for (const f of found.values()) {
    const all = [f.path, ...f.links].sort((a, b) => byteCompare(shownOf(a), shownOf(b)));
    files.push({ path: all[0]!, size: f.size, links: all.slice(1), ...(f.ociLayout ? { ociLayout: true } : {}) });
  }
  files.sort((a, b) => byteCompare(shownOf(a.path), shownOf(b.path)));
  problems.sort((a, b) => byteCompare(a.path, b.path));
  return { files, problems, roots: realRoots, names: shownNames };
}

/** Total size of the regular files under `dir` (an OCI layout's blobs), 0 when unreadable. */
function blobBytes(dir: string): number {
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
