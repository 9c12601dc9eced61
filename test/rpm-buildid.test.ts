// RPM build-ids (formats/rpm/buildid.ts; docs/DESIGN.md, "rpm build-ids"): a main package and
// its -debuginfo sibling normalized in one run get a build-id that is a hash of the pair's
// normalized files (ids and debuglink CRC zeroed), so builds whose directories differ in length
// (debugedit's recomputed ids differ) converge. Small packages from PAIR_SPEC (two programs:
// new ids re-sort the .build-id entries); checked with rpm -K, rpm -qp, rpm2cpio | cpio -t,
// readelf -n, python's zlib.crc32. The big gcc + pyc + jar case is test/slow/rpm-e2e.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTree } from '../src/api.js';
import { RTAG, linkId, renameInText, renamePaths, rewriteHeader } from '../formats/rpm/buildid.js';
import { TAG, T_INT32, T_STRING_ARRAY, getEntry, intEntry, ints, stringEntry, strings } from '../formats/rpm/header.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { PAIR_SOURCES, PAIR_SPEC, rpmbuild } from './rpm-helpers.js';

const T = 1700000000;
const ok = ['rpmbuild', 'rpm', 'rpm2cpio', 'cpio', 'gcc', 'find-debuginfo', 'readelf', 'python3'].every((t) => haveTool(t));
const tmp = tempDir('detnorm-rpm-bid-');
afterAll(() => tmp.cleanup());

const MAIN = 'bidp-1.0-1.x86_64.rpm';
const DEBUG = 'bidp-debuginfo-1.0-1.x86_64.rpm';
// Build directories of different lengths.
const tops = { a: join(tmp.dir, 'a'), b: join(tmp.dir, 'a-much-longer-build-directory'), c: join(tmp.dir, 'c') };
const maps = (top: string) => [{ from: top, to: '/topdir' }];
let built: Record<'a' | 'b' | 'c', Map<string, string>>;

beforeAll(() => {
  if (!ok) return;
  built = {
    a: rpmbuild(PAIR_SPEC, PAIR_SOURCES, { topdir: tops.a, host: 'host-a' }),
    b: rpmbuild(PAIR_SPEC, PAIR_SOURCES, { topdir: tops.b, host: 'host-b.example', umask: '077' }),
    // Another program under the same names: its debug files are not the pair of a's binaries.
    c: rpmbuild(PAIR_SPEC, { ...PAIR_SOURCES, 'two.c': PAIR_SOURCES['two.c']!.replace('two %d', 'TWO %d!') }, { topdir: tops.c, host: 'host-a' }),
  };
});

let n = 0;
/** A fresh directory with the named packages of builds. */
function dirWith(files: Array<[keyof typeof built, string]>): string {
  const d = join(tmp.dir, `t${n++}`);
  mkdirSync(d);
  for (const [b, f] of files) cpSync(built[b].get(f)!, join(d, f));
  return d;
}
const read = (d: string) => Object.fromEntries(readdirSync(d).map((f) => [f, readFileSync(join(d, f))]));
const sh = (cmd: string, ...args: string[]) => execFileSync('sh', ['-c', cmd, 'sh', ...args], { encoding: 'utf8' });

describe.skipIf(!ok)('rpm build-ids: the pair converges across build directories of different lengths', () => {
  it('raw packages differ in their build-ids; -j1 and -j2 give the same bytes for both builds; a second run changes nothing', async () => {
    const ids = (top: string) => sh('rpm -qp --provides "$1"', built[top as 'a'].get(DEBUG)!).match(/debuginfo\(build-id\) = \w+/g);
    expect(ids('a')).not.toEqual(ids('b'));
    const da = dirWith([['a', MAIN], ['a', DEBUG]]);
    const db = dirWith([['b', MAIN], ['b', DEBUG]]);
    const ra = await normalizeTree(da, { timestamp: T, mapPaths: maps(tops.a), jobs: 1 });
    const rb = await normalizeTree(db, { timestamp: T, mapPaths: maps(tops.b), jobs: 2 });
    for (const r of [ra, rb]) {
      expect(r.reports.map((x) => x.status)).toEqual(['changed', 'changed']);
      for (const rep of r.reports) expect(rep.changes.map((c) => c.kind)).toContain('build-id');
    }
    const [A, B] = [read(da), read(db)];
    expect(A[MAIN]!.equals(B[MAIN]!)).toBe(true);
    expect(A[DEBUG]!.equals(B[DEBUG]!)).toBe(true);
    const again = await normalizeTree(da, { timestamp: T, mapPaths: maps(tops.a), jobs: 2 });
    expect(again.reports.map((x) => x.status)).toEqual(['unchanged', 'unchanged']);
  });

  it('the -debuginfo package done alone first (no sibling: build-ids kept, with a notice), then both: the same bytes (both orders: test/slow/rpm-e2e)', async () => {
    const ref = dirWith([['a', MAIN], ['a', DEBUG]]);
    await normalizeTree(ref, { timestamp: T, mapPaths: maps(tops.a), jobs: 1 });
    for (const first of [DEBUG]) {
      const d = dirWith([['b', MAIN], ['b', DEBUG]]);
      const alone = await normalizeTree(join(d, first), { timestamp: T, mapPaths: maps(tops.b), jobs: 1 });
      expect(alone.reports[0]!.notices.join('\n')).toMatch(/build-ids kept: its (-debuginfo|main) package bidp-.* (is not beside it|cannot be looked for)/);
      expect(alone.reports[0]!.changes.map((c) => c.kind)).not.toContain('build-id');
      await normalizeTree(d, { timestamp: T, mapPaths: maps(tops.b), jobs: 1 });
      expect(read(d)[MAIN]!.equals(read(ref)[MAIN]!), `${first} first: main`).toBe(true);
      expect(read(d)[DEBUG]!.equals(read(ref)[DEBUG]!), `${first} first: debuginfo`).toBe(true);
    }
  });

  it('without the sibling, or with a sibling that is not the pair: as today (the single-file result), with a notice', async () => {
    const single = await norm(readFileSync(built.a.get(MAIN)!), MAIN, { timestamp: T, mapPaths: maps(tops.a) });
    const d = dirWith([['a', MAIN], ['c', DEBUG]]);
    const r = await normalizeTree(d, { timestamp: T, mapPaths: maps(tops.a), jobs: 1 });
    const main = r.reports.find((x) => x.path.endsWith(MAIN))!;
    expect(main.notices.join('\n')).toMatch(/build-ids kept: usr\/bin\/two and usr\/lib\/debug\/usr\/bin\/two-1\.0-1\.x86_64\.debug are not a pair: loaded section/);
    expect(read(d)[MAIN]!.equals(Buffer.from(single.output))).toBe(true);
  });
});

describe.skipIf(!ok)('rpm build-ids: the results pass the reference tools and agree with themselves', () => {
  it('rpm -K, header order = cpio order (sorted), links named by the ELF notes, CRC = zlib.crc32 of the .debug, Provides, no old id left', async () => {
    const d = dirWith([['a', MAIN], ['a', DEBUG]]);
    const oldIds = (sh('rpm -qp --provides "$1"', built.a.get(DEBUG)!).match(/[0-9a-f]{40}/g) ?? []).sort();
    expect(oldIds.length).toBe(2);
    await normalizeTree(d, { timestamp: T, mapPaths: maps(tops.a), jobs: 1 });
    const x = join(d, 'x');
    mkdirSync(x);
    for (const p of [MAIN, DEBUG]) {
      const f = join(d, p);
      expect(sh('rpm -K --nosignature "$1"', f)).toContain('digests OK');
      const names = sh('rpm -qp --qf "[.%{FILENAMES}\\n]" "$1"', f).trim().split('\n');
      expect(sh('rpm2cpio "$1" | cpio -t --quiet', f).trim().split('\n')).toEqual(names);
      expect([...names].sort((u, v) => Buffer.compare(Buffer.from(u), Buffer.from(v)))).toEqual(names);
      const xml = sh('rpm -qp --xml "$1"', f);
      for (const id of oldIds) expect(xml.includes(id), `${p}: old id ${id}`).toBe(false);
      sh('cd "$1" && rpm2cpio "$2" | cpio -idm --quiet', x, f);
    }
    const provides = (sh('rpm -qp --provides "$1"', join(d, DEBUG)).match(/debuginfo\(build-id\) = (\w+)/g) ?? []).map((s) => s.split(' = ')[1]!);
    expect(provides).toEqual([...provides].sort());
    // Each .debug link provides its own id (DEPENDSDICT, FILEDEPENDSX/N follow the new order).
    const fileProvides = sh('rpm -qp --qf "[%{FILENAMES} %{FILEPROVIDE}\n]" "$1"', join(d, DEBUG)).split('\n').filter((l) => l.includes(' debuginfo(build-id)'));
    expect(fileProvides.length).toBe(2);
    for (const l of fileProvides) {
      const m = /\/\.build-id\/(\w\w)\/(\w+)\.debug debuginfo\(build-id\) = (\w+)$/.exec(l)!;
      expect(m[1]! + m[2]!).toBe(m[3]);
    }
    for (const prog of ['one', 'two']) {
      const exe = join(x, 'usr/bin', prog);
      const dbg = join(x, `usr/lib/debug/usr/bin/${prog}-1.0-1.x86_64.debug`);
      const id = sh('readelf -n "$1"', exe).match(/Build ID: (\w+)/)![1]!;
      expect(sh('readelf -n "$1"', dbg).match(/Build ID: (\w+)/)![1]).toBe(id);
      expect(oldIds).not.toContain(id);
      expect(provides).toContain(id);
      expect(sh('readlink "$1"', join(x, `usr/lib/.build-id/${id.slice(0, 2)}/${id.slice(2)}`)).trim()).toBe(`../../../../usr/bin/${prog}`);
      expect(sh('readlink "$1"', join(x, `usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}`)).trim()).toBe(`../../../.build-id/${id.slice(0, 2)}/${id.slice(2)}`);
      const crc = Number(sh('python3 -c "import sys,zlib; print(zlib.crc32(open(sys.argv[1],\'rb\').read()))" "$1"', dbg));
      const e = readFileSync(exe);
      expect(e.readUInt32LE(e.lastIndexOf(Buffer.from(`${prog}-1.0-1.x86_64.debug\0`)) + 24)).toBe(crc);
      expect(sh('"$1"', exe)).toMatch(new RegExp(`^${prog}`));
    }
  });
});

describe('rpm build-ids: renaming (pure)', () => {
  const o1 = '0eba132695bcb161a76fdcfba3f4dc644ae47e00';
  const n1 = '6ea2d543855c4b28332dd17abbc7d4a6590d9699';
  const ids = new Map([[o1, n1]]);
  const root = './usr/lib/debug/.build-id/';
  it('link ids: XX/YYYY and XX/YYYY.debug under the root only', () => {
    expect(linkId(`${root}0e/${o1.slice(2)}`, root)).toBe(o1);
    expect(linkId(`${root}0e/${o1.slice(2)}.debug`, root)).toBe(o1);
    expect(linkId(`${root}0e`, root)).toBeUndefined();
    expect(linkId(`./usr/lib/.build-id/0e/${o1.slice(2)}`, root)).toBeUndefined();
  });
  it('paths: the links and their directory; a directory shared with an id that stays is refused', () => {
    const paths = [`${root}0e`, `${root}0e/${o1.slice(2)}`, `${root}0e/${o1.slice(2)}.debug`, './usr/lib/debug/usr/bin/x.debug'];
    const modes = [0o40755, 0o120777, 0o120777, 0o100644];
    expect(renamePaths(paths, modes, root, ids)).toEqual([`${root}6e`, `${root}6e/${n1.slice(2)}`, `${root}6e/${n1.slice(2)}.debug`, './usr/lib/debug/usr/bin/x.debug']);
    const other = `0e${'1'.repeat(38)}`;
    expect(() => renamePaths([...paths, `${root}0e/${other.slice(2)}`], [...modes, 0o120777], root, ids)).toThrow(/also holds/);
    expect(() => renamePaths(paths, [0o40755, 0o100644, 0o120777, 0o100644], root, ids)).toThrow(/regular file/);
  });
  it('text: link targets and file(1)\'s BuildID, nothing else', () => {
    expect(renameInText(`../../../.build-id/0e/${o1.slice(2)}`, ids)).toBe(`../../../.build-id/6e/${n1.slice(2)}`);
    expect(renameInText(`ELF 64-bit, BuildID[sha1]=${o1}, stripped`, ids)).toBe(`ELF 64-bit, BuildID[sha1]=${n1}, stripped`);
    expect(renameInText(`id ${o1}`, ids)).toBe(`id ${o1}`);
  });
});

describe('rpm build-ids: a header whose files re-sort (pure)', () => {
  // A -debuginfo header: two ids renamed so that their order swaps.
  const [a, b] = ['11' + 'a'.repeat(38), '22' + 'b'.repeat(38)];
  const [na, nb] = ['33' + 'c'.repeat(38), '00' + 'd'.repeat(38)];
  const ids = new Map([[a, na], [b, nb]]);
  const R = './usr/lib/debug/.build-id/';
  const link = (id: string) => `${R}${id.slice(0, 2)}/${id.slice(2)}`;
  const paths = ['./usr/lib/debug', './usr/lib/debug/.build-id', `${R}11`, link(a), `${link(a)}.debug`, `${R}22`, `${link(b)}.debug`, './usr/lib/debug/x.debug'];
  const modes = [0o40755, 0o40755, 0o40755, 0o120777, 0o120777, 0o40755, 0o120777, 0o100644];
  const targets = ['', '', '', `../../../.build-id/11/${a.slice(2)}`, '../../x.debug', '', '../../x.debug', ''];
  const dirOf = (p: string) => p.slice(1, p.lastIndexOf('/') + 1);
  const dirs = [...new Set(paths.map(dirOf))];
  const entries = [
    intEntry(TAG.FILEMODES, 3, modes),
    stringEntry(RTAG.FILELINKTOS, T_STRING_ARRAY, targets),
    intEntry(TAG.DIRINDEXES, T_INT32, paths.map((p) => dirs.indexOf(dirOf(p)))),
    stringEntry(TAG.BASENAMES, T_STRING_ARRAY, paths.map((p) => p.slice(p.lastIndexOf('/') + 1))),
    stringEntry(TAG.DIRNAMES, T_STRING_ARRAY, dirs),
    stringEntry(RTAG.PROVIDENAME, T_STRING_ARRAY, ['debuginfo(build-id)', 'debuginfo(build-id)', 'x-debuginfo']),
    stringEntry(RTAG.PROVIDEVERSION, T_STRING_ARRAY, [a, b, '1.0-1']),
    intEntry(RTAG.PROVIDEFLAGS, T_INT32, [8, 8, 8]),
    intEntry(RTAG.FILECLASS, T_INT32, [0, 0, 0, 1, 1, 0, 1, 2]),
    stringEntry(RTAG.CLASSDICT, T_STRING_ARRAY, ['directory', '', `ELF, BuildID[sha1]=${a}, not stripped`]),
    intEntry(RTAG.FILEDEPENDSX, T_INT32, [0, 0, 0, 0, 0, 0, 1, 0]),
    intEntry(RTAG.FILEDEPENDSN, T_INT32, [0, 0, 0, 0, 1, 0, 1, 0]),
    intEntry(RTAG.DEPENDSDICT, T_INT32, [0x50000000, 0x50000001]),
  ];
  const newPaths = renamePaths(paths, modes, R, ids);
  const h = rewriteHeader(entries, paths, newPaths, ids);
  const s = (tag: number) => strings(getEntry(h, tag)!);
  const i = (tag: number) => ints(getEntry(h, tag)!);
  const full = () => i(TAG.DIRINDEXES).map((d, k) => `.${s(TAG.DIRNAMES)[d]}${s(TAG.BASENAMES)[k]}`);

  it('files sorted by their new paths (bytewise), directories in first-use order, per-file tags moved with them', () => {
    const want = ['./usr/lib/debug', './usr/lib/debug/.build-id', `${R}00`, `${link(nb)}.debug`, `${R}33`, link(na), `${link(na)}.debug`, './usr/lib/debug/x.debug'];
    expect(full()).toEqual(want);
    expect(s(TAG.DIRNAMES)).toEqual(['/usr/lib/', '/usr/lib/debug/', '/usr/lib/debug/.build-id/', '/usr/lib/debug/.build-id/00/', '/usr/lib/debug/.build-id/33/']);
    expect(i(TAG.FILEMODES)).toEqual([0o40755, 0o40755, 0o40755, 0o120777, 0o40755, 0o120777, 0o120777, 0o100644]);
    expect(s(RTAG.FILELINKTOS)).toEqual(['', '', '', '../../x.debug', '', `../../../.build-id/33/${na.slice(2)}`, '../../x.debug', '']);
  });
  it('Provides renamed and re-sorted by version; each .debug link still points at its own Provides', () => {
    expect(s(RTAG.PROVIDEVERSION)).toEqual([nb, na, '1.0-1']);
    const dict = i(RTAG.DEPENDSDICT);
    const [xs, ns] = [i(RTAG.FILEDEPENDSX), i(RTAG.FILEDEPENDSN)];
    full().forEach((p, k) => {
      if (!ns[k]) return expect(xs[k]).toBe(0);
      const id = linkId(p, R)!;
      expect(s(RTAG.PROVIDEVERSION)[dict[xs[k]!]! & 0xffffff]).toBe(id);
    });
    expect(dict).toEqual([0x50000000, 0x50000001]);
  });
  it('CLASSDICT renamed, in first-use order of the new file order', () => {
    expect(s(RTAG.CLASSDICT)).toEqual(['directory', '', `ELF, BuildID[sha1]=${na}, not stripped`]);
    expect(i(RTAG.FILECLASS)).toEqual([0, 0, 0, 1, 0, 1, 1, 2]);
  });
});
