// The tree walk: regular files only, symlinks never followed, each inode once (the first path
// in sorted order stands for all its hard links), results in bytewise path order.
import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import { dirname, join } from 'node:path';
import { TEMP_PATTERN } from './write.js';

export interface WalkEntry {
  readonly path: string;
  readonly size: number;
  /** Other paths in the walk that are hard links to the same inode. */
  readonly links: readonly string[];
  /** An OCI image layout directory, normalized as one artifact (src/oci-dir.ts). */
  readonly ociLayout?: boolean;
  /** Device and inode of the file, and of the directory it was found in (decimal strings). */
  readonly ident?: { readonly dev: string; readonly ino: string; readonly btime?: string };
  readonly parentIdent?: { readonly dev: string; readonly ino: string; readonly btime?: string };
}

/** A temp file of an earlier run (`.NAME.detnorm-PID-TAG[.inplace].tmp`); the walk only lists it. */
export interface Leftover {
  readonly path: string;
  /** The file it was written for (same directory). */
  readonly target: string;
  readonly pid: number;
  readonly tag: string;
  /** The complete new bytes of a hard-linked target that was being rewritten in place. */
  readonly inplace: boolean;
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
  /** Temp files left by earlier runs; never removed by the walk (see src/leftovers.ts). */
  readonly leftovers: Leftover[];
}

export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Device, inode and (where kept) birth time: see FileIdentity in normalize-file.ts. */
function identity(st: BigIntStats): { dev: string; ino: string; btime?: string } {
  return { dev: String(st.dev), ino: String(st.ino), ...(st.birthtimeNs ? { btime: String(st.birthtimeNs) } : {}) };
}

export function walk(roots: readonly string[], opts: WalkOptions = {}): WalkResult {
  const found = new Map<string, { path: string; size: number; links: string[]; ociLayout?: boolean; ident?: WalkEntry['ident'] }>();
  const problems: WalkProblem[] = [];
  const leftovers: Leftover[] = [];
  const parents = new Map<string, WalkEntry['parentIdent']>();
  const visit = (path: string, explicit: boolean, parent?: WalkEntry['parentIdent']): void => {
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
      if (opts.ociLayouts && isOciLayoutDir(names)) {
        // Its size is its blobs' (the scheduler gives large jobs to workers first).
        found.set(`oci-layout:${path}`, { path, size: blobBytes(join(path, 'blobs')), links: [], ociLayout: true });
        return;
      }
      const self = identity(st);
      for (const name of names.sort(byteCompare)) visit(join(path, name), false, self);
      return;
    }
    if (!st.isFile()) {
      if (explicit) problems.push({ path, reason: 'not a regular file', severity: 'notice' });
      return;
    }
    const base = path.slice(path.lastIndexOf('/') + 1);
    const temp = TEMP_PATTERN.exec(base);
    if (temp) {
      leftovers.push({ path, target: join(path.slice(0, path.length - base.length), temp[1]!), pid: Number(temp[2]), tag: temp[3]!, inplace: Boolean(temp[4]) });
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (parent) parents.set(path, parent);
    else if (explicit) {
      try {
        const d = statSync(dirname(path), { bigint: true });
        parents.set(path, identity(d));
      } catch {
        /* checked again when the file is opened */
      }
    }
    const seen = found.get(key);
    if (seen) {
      if (seen.path !== path && !seen.links.includes(path)) seen.links.push(path);
      return;
    }
    found.set(key, { path, size: Number(st.size), links: [], ident: identity(st) });
  };
  for (const root of roots) visit(root, true);
  const files: WalkEntry[] = [];
  for (const f of found.values()) {
    const all = [f.path, ...f.links].sort(byteCompare);
    const parentIdent = parents.get(all[0]!);
    files.push({
      path: all[0]!,
      size: f.size,
      links: all.slice(1),
      ...(f.ociLayout ? { ociLayout: true } : {}),
      ...(f.ident ? { ident: f.ident } : {}),
      ...(parentIdent ? { parentIdent } : {}),
    });
  }
  files.sort((a, b) => byteCompare(a.path, b.path));
  problems.sort((a, b) => byteCompare(a.path, b.path));
  leftovers.sort((a, b) => byteCompare(a.path, b.path));
  return { files, problems, leftovers };
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
