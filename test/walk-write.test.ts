import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walk } from '../src/walk.js';
import { AtomicFile, tempPathFor } from '../src/write.js';
import { tempDir } from './helpers.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());
function tree(): string {
  const t = tempDir();
  cleanup = t.cleanup;
  return t.dir;
}

describe('walk: regular files only, symlinks met in the walk never followed, each inode once, sorted', () => {
  it('lists regular files in bytewise path order', () => {
    const d = tree();
    for (const n of ['b', 'a-x', 'a/z', 'a/y', 'B', 'é']) {
      mkdirSync(join(d, n, '..'), { recursive: true });
      writeFileSync(join(d, n), n);
    }
    expect(walk([d]).files.map((f) => f.path.slice(d.length + 1))).toEqual(['B', 'a-x', 'a/y', 'a/z', 'b', 'é']);
  });
  it('never follows symlinks met during the walk, to files or directories', () => {
    const d = tree();
    mkdirSync(join(d, 'real'));
    writeFileSync(join(d, 'real/f'), 'x');
    symlinkSync('real', join(d, 'dirlink'));
    symlinkSync('real/f', join(d, 'filelink'));
    expect(walk([d]).files.map((f) => f.path.slice(d.length + 1))).toEqual(['real/f']);
  });
  it('follows symlinks named on the command line (find -H): the entry is the real file, named as given', () => {
    const d = realpathSync(tree());
    mkdirSync(join(d, 'real/sub'), { recursive: true });
    writeFileSync(join(d, 'real/f'), 'x');
    writeFileSync(join(d, 'real/sub/g'), 'y');
    symlinkSync('f', join(d, 'real/inner-link'));
    symlinkSync('real', join(d, 'dirlink'));
    symlinkSync('real/f', join(d, 'filelink'));
    const file = walk([join(d, 'filelink')]);
    expect(file.problems).toEqual([]);
    expect(file.files.map((f) => f.path)).toEqual([join(d, 'real/f')]);
    expect(file.names.get(join(d, 'real/f'))).toBe(join(d, 'filelink'));
    expect(file.roots).toEqual([join(d, 'real/f')]);
    // Into a linked directory; a link inside it is still not followed.
    const dir = walk([join(d, 'dirlink')]);
    expect(dir.files.map((f) => f.path)).toEqual([join(d, 'real/f'), join(d, 'real/sub/g')]);
    expect(dir.files.map((f) => dir.names.get(f.path))).toEqual([join(d, 'dirlink/f'), join(d, 'dirlink/sub/g')]);
    expect(dir.roots).toEqual([join(d, 'real')]);
    // The link and its target named together: one file.
    expect(walk([join(d, 'filelink'), join(d, 'real/f')]).files).toHaveLength(1);
  });
  it('a dangling symlink named on the command line is an error, not silence', () => {
    const d = tree();
    symlinkSync('nowhere', join(d, 'dangling'));
    const w = walk([join(d, 'dangling')]);
    expect(w.files).toEqual([]);
    expect(w.problems).toEqual([{ path: join(d, 'dangling'), reason: 'symbolic link to a missing file', severity: 'error' }]);
  });
  it('visits a hard-linked inode once, under its first path, listing the other links', () => {
    const d = tree();
    writeFileSync(join(d, 'z'), 'x');
    linkSync(join(d, 'z'), join(d, 'a'));
    const w = walk([d]);
    expect(w.files).toHaveLength(1);
    expect(w.files[0]!.path).toBe(join(d, 'a'));
    expect(w.files[0]!.links).toEqual([join(d, 'z')]);
  });
  it('the same file named twice is processed once', () => {
    const d = tree();
    writeFileSync(join(d, 'f'), 'x');
    expect(walk([join(d, 'f'), d, join(d, 'f')]).files).toHaveLength(1);
  });
  it('a missing path is an error problem; the rest is still walked', () => {
    const d = tree();
    writeFileSync(join(d, 'f'), 'x');
    const w = walk([join(d, 'missing'), d]);
    expect(w.files).toHaveLength(1);
    expect(w.problems).toEqual([{ path: join(d, 'missing'), reason: 'no such file or directory', severity: 'error' }]);
  });
  it('lists temp files of earlier runs as leftovers and never removes one (src/leftovers.ts decides)', () => {
    const d = tree();
    writeFileSync(join(d, 'f'), 'x');
    writeFileSync(join(d, '.f.detnorm-999999999-0123abcd.tmp'), 'partial');
    const live = tempPathFor(join(d, 'f')); // our own pid: alive
    writeFileSync(live, 'in progress');
    const w = walk([d]);
    expect(w.files.map((f) => f.path)).toEqual([join(d, 'f')]);
    expect(w.leftovers.map((l) => [l.path, l.target, l.pid, l.inplace])).toEqual([
      [join(d, '.f.detnorm-999999999-0123abcd.tmp'), join(d, 'f'), 999999999, false],
      [live, join(d, 'f'), process.pid, false],
    ].sort((a, b) => Buffer.compare(Buffer.from(a[0] as string), Buffer.from(b[0] as string))));
    expect(existsSync(join(d, '.f.detnorm-999999999-0123abcd.tmp'))).toBe(true);
    expect(existsSync(live)).toBe(true);
  });
});

describe('safe writes: temp file in the same directory, then rename', () => {
  it('replaces the file, keeps its mode, and leaves no temp file', () => {
    const d = tree();
    const f = join(d, 'f');
    writeFileSync(f, 'old');
    chmodSync(f, 0o751);
    const st = statSync(f, { bigint: true });
    const a = new AtomicFile(f, st);
    expect(a.path.startsWith(d + '/')).toBe(true);
    void a.sink.write(Buffer.from('new bytes'));
    expect(readFileSync(f, 'utf8')).toBe('old'); // not visible before commit
    a.commit();
    expect(readFileSync(f, 'utf8')).toBe('new bytes');
    expect(statSync(f).mode & 0o7777).toBe(0o751);
    expect(statSync(f, { bigint: true }).ino).not.toBe(st.ino);
    expect(readdirSync(d)).toEqual(['f']);
  });
  it('rewrites a hard-linked file in place so every link sees the new bytes', () => {
    const d = tree();
    const f = join(d, 'f');
    writeFileSync(f, 'old old old');
    linkSync(f, join(d, 'g'));
    const st = statSync(f, { bigint: true });
    const a = new AtomicFile(f, st);
    void a.sink.write(Buffer.from('new'));
    a.commit();
    expect(readFileSync(join(d, 'g'), 'utf8')).toBe('new');
    expect(statSync(f, { bigint: true }).ino).toBe(st.ino);
    expect(readdirSync(d).sort()).toEqual(['f', 'g']);
  });
  it('abort removes the temp file and leaves the target alone', () => {
    const d = tree();
    const f = join(d, 'f');
    writeFileSync(f, 'old');
    const a = new AtomicFile(f, statSync(f, { bigint: true }));
    void a.sink.write(Buffer.from('new'));
    a.abort();
    expect(readFileSync(f, 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['f']);
  });
});
