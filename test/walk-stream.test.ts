// The streaming walk (TreeWalk, used by normalizeTree for one root) gives the same entries in the
// same order as walk(): bytewise order of full paths, each inode once at its first path with its
// other links, directory artifacts as one entry, leftovers listed (before their directory's files).
import { linkSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { TreeWalk, byteCompare, orderEntries, walk, type Leftover, type WalkOptions } from '../src/walk.js';
import { normalizeTree } from '../src/api.js';
import type { FileReport } from '../src/report.js';
import { tempDir } from './helpers.js';
import { buildZip } from './zip-helpers.js';

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
function tree(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}
function put(root: string, rel: string, body = rel): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), body);
}
const ociFormat: WalkOptions['directoryFormat'] = (names) => (names.includes('oci-layout') ? 'oci' : undefined);
function streamed(root: string, opts: WalkOptions = {}) {
  const leftovers: Leftover[] = [];
  const t = new TreeWalk(root, { ...opts, onLeftovers: (l) => leftovers.push(...l) });
  const files = [...t.entries()];
  return { files, problems: t.problems, leftovers, roots: t.roots, shown: (p: string) => t.shown(p) };
}
function same(root: string, opts: WalkOptions = {}) {
  const a = walk([root], opts);
  const b = streamed(root, opts);
  expect(b.files).toEqual(a.files);
  expect(b.problems).toEqual(a.problems);
  expect([...b.leftovers].sort((x, y) => byteCompare(x.path, y.path))).toEqual(a.leftovers);
  expect(b.roots).toEqual(a.roots);
  for (const f of b.files) expect(b.shown(f.path)).toBe(a.names.get(f.path) ?? f.path);
  return b;
}

describe('TreeWalk: the order of walk(), one directory at a time', () => {
  it("a directory sorts as 'name/': 'a', 'a-b', 'a/b', 'a.b' give a-b, a.b, a/b (0x2d, 0x2e < 0x2f)", () => {
    expect(orderEntries([{ name: 'a', dir: true }, { name: 'a-b', dir: false }, { name: 'a.b', dir: false }])).toEqual(['a-b', 'a.b', 'a']);
    expect(orderEntries([{ name: 'a', dir: false }, { name: 'a-b', dir: false }, { name: 'a.b', dir: false }])).toEqual(['a', 'a-b', 'a.b']);
    const d = tree();
    const rels = ['a/b/f', 'a-b', 'a.b', 'a0', 'a/b/c', 'a/b.c', 'a/b-c', 'b', 'B', 'é', 'a!/x', 'a!b', 'a /x'];
    for (const n of rels) put(d, n);
    const b = same(d);
    expect(b.files.map((f) => f.path.slice(d.length + 1))).toEqual([...rels].sort(byteCompare));
    expect(b.files.map((f) => f.path.slice(d.length + 1)).slice(4, 9)).toEqual(['a-b', 'a.b', 'a/b-c', 'a/b.c', 'a/b/c']);
  });
  it('a directory artifact sorts as its name, next to a sibling that extends it', () => {
    const d = tree();
    put(d, 'img/oci-layout', '{}');
    put(d, 'img/index.json', '{}');
    put(d, 'img-x');
    put(d, 'img.y');
    put(d, 'plain/f');
    put(d, 'plain-z');
    const b = same(d, { directoryFormat: ociFormat });
    expect(b.files.map((f) => f.path.slice(d.length + 1))).toEqual(['img', 'img-x', 'img.y', 'plain-z', 'plain/f']);
  });
  it('any tree of names around "/" gives the same entries as walk()', () => {
    const seg = fc.array(fc.constantFrom('a', 'b', '-', '.', ' ', '!', '0', '\u00e9', '\ud83d\ude00'), { minLength: 1, maxLength: 3 }).map((u) => u.join('')).filter((s) => s !== '.' && s !== '..');
    const paths = fc.uniqueArray(fc.array(seg, { minLength: 1, maxLength: 3 }).map((p) => p.join('/')), { maxLength: 12 });
    fc.assert(
      fc.property(paths, (rels) => {
        const d = tree();
        for (const r of rels) {
          try {
            put(d, r);
          } catch {
            /* a file where a directory is wanted, or the reverse: skipped */
          }
        }
        same(d);
      }),
      { numRuns: 40 },
    );
  });
});

describe('TreeWalk: hard links, symlinks, leftovers as walk()', () => {
  it('one entry per inode, at its first path, with the other links', () => {
    const d = tree();
    put(d, 'z/one');
    linkSync(join(d, 'z/one'), join(d, 'a-link'));
    linkSync(join(d, 'z/one'), join(d, 'm/deep/link'.replace('/deep/link', '')) + '-x');
    put(d, 'm/f');
    put(d, 'solo');
    const b = same(d);
    const linked = b.files.find((f) => f.links.length);
    expect(linked?.path).toBe(join(d, 'a-link'));
    expect(linked?.links).toEqual([join(d, 'm-x'), join(d, 'z/one')]);
  });
  it('a root named through a symlink: real paths, shown under the name given', () => {
    const d = tree();
    put(d, 'real/x/f');
    put(d, 'real/g');
    symlinkSync('real', join(d, 'link'));
    const b = same(join(d, 'link'));
    expect(b.files.map((f) => b.shown(f.path))).toEqual([join(d, 'link/g'), join(d, 'link/x/f')]);
    same(join(d, 'link/g'));
  });
  it('symlinks met in the walk are not followed; leftovers are listed, not entries', () => {
    const d = tree();
    put(d, 'real/f');
    symlinkSync('real', join(d, 'dirlink'));
    symlinkSync('real/f', join(d, 'filelink'));
    put(d, `.f.detnorm-${process.pid}-abcd1234.tmp`);
    put(d, 'missing-root-sibling');
    const b = same(d);
    expect(b.leftovers).toHaveLength(1);
    same(join(d, 'nope'));
  });
});

describe('normalizeTree: a tree run in slices gives the reports and bytes of one run', () => {
  const make = (d: string) => {
    for (let i = 0; i < 40; i++) {
      const sub = ['s', 's-x', 's.y', 's/t', 'u'][i % 5]!;
      if (i % 3 === 0) put(d, `${sub}/z${i}.zip`, Buffer.from(buildZip([{ name: `m${i}.txt`, data: `member ${i}\n`, date: 0x5021, time: 0x6000 + i }])) as unknown as string);
      else put(d, `${sub}/f${i}.txt`, `text ${i}\n`);
    }
    linkSync(join(d, 's/z0.zip'), join(d, 'a-link.zip'));
    linkSync(join(d, 'u/f4.txt'), join(d, 'u/f4-link.txt'));
  };
  const files = (d: string, at = ''): string[] =>
    readdirSync(join(d, at), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(d, join(at, e.name)) : [`${join(at, e.name)}:${readFileSync(join(d, at, e.name)).toString('hex')}`])).sort();
  const runOf = async (d: string, check: boolean, walkSlice?: number) => {
    const seen: FileReport[] = [];
    const r = await normalizeTree(d, { jobs: 2, check, onReport: (x) => seen.push(x), ...(walkSlice ? { walkSlice } : {}) });
    expect(r.reports).toEqual(seen);
    return JSON.stringify({ reports: r.reports, problems: r.problems, summary: r.summary }).replaceAll(d, 'ROOT');
  };
  it('--check and a writing run, slices of 3 and one slice', async () => {
    const sizes = [3, 0];
    const trees = sizes.map(() => {
      const d = tree();
      make(d);
      return d;
    });
    const checks: string[] = [];
    for (const [i, d] of trees.entries()) checks.push(await runOf(d, true, sizes[i]));
    expect(checks[0]).toBe(checks[1]);
    expect(checks[1]).toContain('"changed":14');
    const writes: string[] = [];
    for (const [i, d] of trees.entries()) writes.push(await runOf(d, false, sizes[i]));
    expect(writes[0]).toBe(writes[1]);
    expect(files(trees[0]!)).toEqual(files(trees[1]!));
    expect(writes[1]).toContain('"links":["ROOT/s/z0.zip"]');
    expect(await runOf(trees[0]!, true, 3)).toContain('"changed":0');
  });
});
