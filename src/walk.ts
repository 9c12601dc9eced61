// The tree walk: regular files only, each inode once (the first path in sorted order stands for
// all its hard links), results in bytewise path order. A symlink named on the command line is
// followed, as `find -H` and `cp -H` do (`detnorm --check bazel-bin`); one met during the walk
// never is. A followed link is resolved here: the entry carries the real path (the file that is
// opened and replaced is never a symlink), and `names` maps it back to the name as given.
import { lstatSync, readdirSync, realpathSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import { TEMP_PATTERN } from './write.js';

export interface WalkEntry {
  readonly path: string;
  readonly size: number;
  /** Other paths in the walk that are hard links to the same inode. */
  readonly links: readonly string[];
  /** A directory artifact (an OCI image layout): the handler that claims it (src/directory.ts). */
  readonly directory?: string;
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
  /** Temp files left by earlier runs; never removed by the walk (see src/leftovers.ts). */
  readonly leftovers: Leftover[];
  /** The roots with command-line symlinks resolved (what "inside the tree" means for jobs). */
  readonly roots: string[];
  /** Real path -> the path as named through a command-line symlink (only where they differ). */
  readonly names: ReadonlyMap<string, string>;
}

/**
 * Order of the UTF-8 bytes of two strings. Code units below U+D800 order as their UTF-8 bytes
 * do, so up to the first difference between two such units no bytes are made (a million paths
 * sort without 40 million buffers); past a surrogate or U+E000 and above, the bytes decide.
 */
export function byteCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x < y ? -1 : 1;
    return Buffer.compare(Buffer.from(a), Buffer.from(b));
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Device, inode and (where kept) birth time: see FileIdentity in normalize-file.ts. */
function identity(st: BigIntStats, devs?: Map<bigint, string>): { dev: string; ino: string; btime?: string } {
  let dev = devs?.get(st.dev);
  if (dev === undefined) {
    dev = String(st.dev);
    devs?.set(st.dev, dev);
  }
  // Set field by field, not spread from `cond ? {...} : {}`: called once per file of the tree.
  const id: { dev: string; ino: string; btime?: string } = { dev, ino: String(st.ino) };
  if (st.birthtimeNs) id.btime = String(st.birthtimeNs);
  return id;
}

interface Found {
  path: string;
  size: number;
  links: string[];
  directory?: string;
  ident?: WalkEntry['ident'];
  parentIdent?: WalkEntry['parentIdent'];
}

export function walk(roots: readonly string[], opts: WalkOptions = {}): WalkResult {
  // Files are kept by inode only where a second path can lead to the same one: a file with
  // several links, or any file when there are several roots (they may overlap). The others (most
  // files of most trees) cost no map entry. Memory per file matters: trees of a million files.
  const found = new Map<string, Found>();
  const single: Found[] = [];
  const byInode = roots.length > 1;
  /** Device numbers as strings, one per device (not one per file). */
  const devs = new Map<bigint, string>();
  const problems: WalkProblem[] = [];
  const leftovers: Leftover[] = [];
  /** The parent directory's identity of each path met of a file kept by inode (one is chosen at the end). */
  const parents = new Map<string, WalkEntry['parentIdent']>();
  const shownNames = new Map<string, string>();
  const realRoots: string[] = [];
  /** `path` is what is opened; `shown` the same file as the user named it. */
  const visit = (path: string, explicit: boolean, shown: string, parent?: WalkEntry['parentIdent']): void => {
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
      const directory = opts.directoryFormat?.(names);
      if (directory) {
        // Its size is its files' (the scheduler gives large jobs to workers first).
        found.set(`directory:${path}`, { path, size: treeBytes(path), links: [], directory });
        return;
      }
      const self = identity(st, devs);
      for (const name of names.sort(byteCompare)) visit(join(path, name), false, join(shown, name), self);
      return;
    }
    if (!st.isFile()) {
      if (explicit) problems.push({ path: shown, reason: 'not a regular file', severity: 'notice' });
      return;
    }
    const base = path.slice(path.lastIndexOf('/') + 1);
    const temp = TEMP_PATTERN.exec(base);
    if (temp) {
      leftovers.push({ path, target: join(path.slice(0, path.length - base.length), temp[1]!), pid: Number(temp[2]), tag: temp[3]!, inplace: Boolean(temp[4]) });
      return;
    }
    let parentIdent = parent;
    if (!parent && explicit) {
      try {
        parentIdent = identity(statSync(dirname(path), { bigint: true }), devs);
      } catch {
        /* checked again when the file is opened */
      }
    }
    if (!byInode && st.nlink <= 1n) {
      single.push({ path, size: Number(st.size), links: [], ident: identity(st, devs), ...(parentIdent ? { parentIdent } : {}) });
      return;
    }
    if (parentIdent) parents.set(path, parentIdent);
    const key = `${st.dev}:${st.ino}`;
    const seen = found.get(key);
    if (seen) {
      if (seen.path !== path && !seen.links.includes(path)) seen.links.push(path);
      return;
    }
    found.set(key, { path, size: Number(st.size), links: [], ident: identity(st, devs) });
  };
  for (const root of roots) {
    realRoots.push(root);
    visit(root, true, root);
  }
  const shownOf = (p: string) => shownNames.get(p) ?? p;
  const files: WalkEntry[] = [];
  const entry = (f: Found, first: string, links: readonly string[], parentIdent: WalkEntry['parentIdent']): WalkEntry => ({
    path: first,
    size: f.size,
    links,
    ...(f.directory ? { directory: f.directory } : {}),
    ...(f.ident ? { ident: f.ident } : {}),
    ...(parentIdent ? { parentIdent } : {}),
  });
  const none: readonly string[] = [];
  for (const f of single) files.push(entry(f, f.path, none, f.parentIdent));
  single.length = 0;
  for (const f of found.values()) {
    const all = [f.path, ...f.links].sort((a, b) => byteCompare(shownOf(a), shownOf(b)));
    files.push(entry(f, all[0]!, all.slice(1), parents.get(all[0]!)));
  }
  files.sort((a, b) => byteCompare(shownOf(a.path), shownOf(b.path)));
  problems.sort((a, b) => byteCompare(a.path, b.path));
  leftovers.sort((a, b) => byteCompare(a.path, b.path));
  return { files, problems, leftovers, roots: realRoots, names: shownNames };
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

type Ident = NonNullable<WalkEntry['ident']>;

/** What the streaming walk meets: a regular file (with its stat) or a directory artifact. */
interface Hit {
  readonly path: string;
  readonly st?: BigIntStats;
  readonly parent?: Ident;
  readonly directory?: string;
  readonly size?: number;
}

export interface StreamWalkOptions extends WalkOptions {
  /** Told a directory's leftovers before any file of that directory is given out. */
  readonly onLeftovers?: (leftovers: readonly Leftover[]) => void;
}

/**
 * The entries of one directory in the order their full paths sort: a subdirectory's files all
 * start with `name/`, so it sorts as `name/` (after `name-x` and `name.x`, 0x2d and 0x2e < 0x2f),
 * while a file, and a directory artifact (handed over as one entry named `name`), sort as `name`.
 */
export function orderEntries(
  entries: ReadonlyArray<{ readonly name: string; readonly dir: boolean }>,
  isArtifact: (name: string) => boolean = () => false,
): string[] {
  const plain = [...entries].sort((a, b) => byteCompare(a.name, b.name));
  const keyed = plain.map((e, i) => {
    if (!e.dir) return { name: e.name, key: e.name };
    // Where it matters (a sibling `name` + a byte below '/'; it sorts right after `name`), a
    // directory artifact is told from a plain directory.
    const next = plain[i + 1]?.name;
    const ambiguous = next !== undefined && next.startsWith(e.name) && next.charCodeAt(e.name.length) < 0x2f;
    return { name: e.name, key: ambiguous && isArtifact(e.name) ? e.name : `${e.name}/` };
  });
  return keyed.sort((a, b) => byteCompare(a.key, b.key)).map((e) => e.name);
}

/**
 * The walk of one root as a stream: entries come in the order walk() sorts them (bytewise path
 * order), depth first with each directory's entries ordered (orderEntries), so memory holds the
 * directories on the current path, not one entry per file of the tree. Hard links: an entry
 * stands for every path of its inode in the tree, at the first of them, as in walk(); the paths
 * of linked files are found by one extra walk of the tree, made only when the tree has a file
 * with several links (it holds the linked files' paths, as walk() does).
 */
export class TreeWalk {
  readonly problems: WalkProblem[] = [];
  /** The root with a command-line symlink resolved (as given when it cannot be). */
  readonly roots: string[];
  private readonly devs = new Map<bigint, string>();
  private readonly real: string | undefined;
  private linkIndex: Map<string, string[]> | undefined;
  private readonly emitted = new Set<string>();
  constructor(
    private readonly root: string,
    private readonly opts: StreamWalkOptions = {},
  ) {
    this.roots = [root];
    let st;
    try {
      st = lstatSync(root, { bigint: true });
    } catch (e) {
      this.problems.push({ path: root, reason: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String((e as Error).message), severity: 'error' });
      return;
    }
    if (!st.isSymbolicLink()) {
      this.real = root;
    } else {
      try {
        this.real = realpathSync(root);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const reason = code === 'ENOENT' ? 'symbolic link to a missing file' : code === 'ELOOP' ? 'symbolic link loop' : `cannot follow symbolic link: ${(e as Error).message}`;
        this.problems.push({ path: root, reason, severity: 'error' });
        return;
      }
    }
    this.roots[0] = this.real;
  }

  /** The path as the user named it (through a command-line symlink), as walk()'s `names`. */
  shown(path: string): string {
    const real = this.real;
    if (real === undefined || real === this.root) return path;
    if (path === real) return this.root;
    if (!path.startsWith(real)) return path;
    return join(this.root, path.slice(real.endsWith('/') ? real.length : real.length + 1));
  }

  /** The entries, in path order. */
  *entries(): Generator<WalkEntry> {
    if (this.real === undefined) return;
    const none: readonly string[] = [];
    for (const h of this.visit(this.real, true, undefined, true)) {
      if (h.directory) {
        yield { path: h.path, size: h.size ?? 0, links: none, directory: h.directory };
        continue;
      }
      const st = h.st!;
      if (st.nlink <= 1n) {
        const e: { -readonly [K in keyof WalkEntry]: WalkEntry[K] } = { path: h.path, size: Number(st.size), links: none, ident: identity(st, this.devs) };
        if (h.parent) e.parentIdent = h.parent;
        yield e;
        continue;
      }
      const parent = h.parent ? { parentIdent: h.parent } : {};
      const key = `${st.dev}:${st.ino}`;
      if (this.emitted.has(key)) continue;
      this.emitted.add(key);
      this.linkIndex ??= this.indexLinks();
      const known = this.linkIndex.get(key) ?? [];
      const all = (known.includes(h.path) ? known : [...known, h.path]).filter((p) => p !== h.path).sort((a, b) => byteCompare(this.shown(a), this.shown(b)));
      yield { path: h.path, size: Number(st.size), links: all, ident: identity(st, this.devs), ...parent };
    }
  }

  /** Every path of a file with several links in the tree, by device and inode. */
  private indexLinks(): Map<string, string[]> {
    const index = new Map<string, string[]>();
    for (const h of this.visit(this.real!, true, undefined, false)) {
      if (!h.st || h.st.nlink <= 1n) continue;
      const key = `${h.st.dev}:${h.st.ino}`;
      const paths = index.get(key);
      if (paths) paths.push(h.path);
      else index.set(key, [h.path]);
    }
    return index;
  }

  /** `report`: the walk that gives entries out (problems, leftovers, artifact sizes); not the link index's. */
  private *visit(path: string, explicit: boolean, parent: Ident | undefined, report: boolean): Generator<Hit> {
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch (e) {
      if (report) this.problems.push({ path: this.shown(path), reason: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String((e as Error).message), severity: 'error' });
      return;
    }
    if (st.isSymbolicLink()) return; // met during the walk: never followed (the root's is resolved)
    if (st.isDirectory()) {
      let dirents: Dirent[];
      try {
        dirents = readdirSync(path, { withFileTypes: true });
      } catch (e) {
        if (report) this.problems.push({ path: this.shown(path), reason: `cannot read directory: ${(e as Error).message}`, severity: 'error' });
        return;
      }
      const format = this.opts.directoryFormat;
      const directory = format?.(dirents.map((d) => d.name));
      if (directory) {
        yield { path, directory, size: report ? treeBytes(path) : 0 };
        return;
      }
      const self = identity(st, this.devs);
      const leftovers: Leftover[] = [];
      const entries: Array<{ name: string; dir: boolean }> = [];
      for (const d of dirents) {
        const temp = TEMP_PATTERN.exec(d.name);
        if (temp && d.isFile()) {
          const p = join(path, d.name);
          leftovers.push({ path: p, target: join(path, temp[1]!), pid: Number(temp[2]), tag: temp[3]!, inplace: Boolean(temp[4]) });
        } else entries.push({ name: d.name, dir: d.isDirectory() });
      }
      if (report && leftovers.length) this.opts.onLeftovers?.(leftovers.sort((a, b) => byteCompare(a.path, b.path)));
      const isArtifact = (name: string): boolean => {
        if (!format) return false;
        try {
          return format(readdirSync(join(path, name))) !== undefined;
        } catch {
          return false;
        }
      };
      const dirs = new Set<string>();
      for (const e of entries) if (e.dir) dirs.add(e.name);
      for (const name of orderEntries(entries, isArtifact)) {
        const p = join(path, name);
        // A file is met without a generator of its own (one per file of a million-file tree
        // costs the main thread more than the lstat); a directory, or a file that became one
        // since the listing, is visited.
        const hit = dirs.has(name) ? DIRECTORY : this.leaf(p, self, report);
        if (hit === DIRECTORY) yield* this.visit(p, false, self, report);
        else if (hit) yield hit;
      }
      return;
    }
    if (!st.isFile()) {
      if (explicit && report) this.problems.push({ path: this.shown(path), reason: 'not a regular file', severity: 'notice' });
      return;
    }
    const base = path.slice(path.lastIndexOf('/') + 1);
    const temp = TEMP_PATTERN.exec(base);
    if (temp) {
      // Only a root can get here (a directory's are found above): a leftover, never a job.
      if (report && explicit) this.opts.onLeftovers?.([{ path, target: join(path.slice(0, path.length - base.length), temp[1]!), pid: Number(temp[2]), tag: temp[3]!, inplace: Boolean(temp[4]) }]);
      return;
    }
    let parentIdent = parent;
    if (!parent && explicit) {
      try {
        parentIdent = identity(statSync(dirname(path), { bigint: true }), this.devs);
      } catch {
        /* checked again when the file is opened */
      }
    }
    yield parentIdent ? { path, st, parent: parentIdent } : { path, st };
  }

  /**
   * visit() of a path its directory listed as not a directory (never a root): the file's Hit,
   * DIRECTORY when it is one now, undefined when it is nothing to work on.
   */
  private leaf(path: string, parent: Ident, report: boolean): Hit | typeof DIRECTORY | undefined {
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch (e) {
      if (report) this.problems.push({ path: this.shown(path), reason: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String((e as Error).message), severity: 'error' });
      return undefined;
    }
    if (st.isSymbolicLink()) return undefined;
    if (st.isDirectory()) return DIRECTORY;
    if (!st.isFile()) return undefined;
    // A temp file of an earlier run is a leftover (found by the listing), never a job.
    if (TEMP_PATTERN.test(path.slice(path.lastIndexOf('/') + 1))) return undefined;
    return { path, st, parent };
  }
}

/** TreeWalk.leaf's answer for a path that is a directory. */
const DIRECTORY = Symbol('directory');
