// RPM end to end (issue 19, "Done when"): a spec with a binary (gcc -g), a Python module with
// its pyc, a jar and a -debuginfo subpackage, built twice by rpmbuild 4.18 with another clock,
// host name, build directory, umask and file creation order, is byte-identical after detnorm
// (--map-path for each build's _topdir); the results pass rpm -K --nosignature, rpm -qp --dump
// (equal to the input's apart from the normalized fields), rpm2cpio | cpio -t and
// rpm -i --root; the program runs and the module imports from the installed tree.
// Oracle: the same spec built with SOURCE_DATE_EPOCH=T, %use_source_date_epoch_as_buildtime,
// %clamp_mtime_to_source_date_epoch and %_buildhost reproducible: its -debuginfo package is
// byte for byte detnorm's output of the non-reproducible build; the main package equals it
// after both are normalized except for the pyc's header, which py_compile writes as a
// checked-hash pyc when SOURCE_DATE_EPOCH is set (detnorm keeps the timestamp form, with T).
// A and B have build directories of the same length, so their build-ids agree and each package
// converges on its own. C's build directory is longer: debugedit's recomputed build-id differs,
// and it is in file names (/usr/lib/.build-id/xx/...), a link target, a Provides, CLASSDICT and
// the .gnu_debuglink CRC; normalized in one run with its -debuginfo sibling beside it
// (formats/rpm/buildid.ts), the pair converges too: last describe.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTree } from '../../src/api.js';
import { haveTool, norm, tempDir } from '../helpers.js';
import { FULL_SOURCES, FULL_SPEC, rpmbuild } from '../rpm-helpers.js';

const T = 1700000000;
const ok = ['rpmbuild', 'rpm', 'rpm2cpio', 'cpio', 'gcc', 'javac', 'jar', 'python3', 'find-debuginfo'].every((t) => haveTool(t));
const tmp = process.env.KEEP ? { dir: process.env.KEEP, cleanup: () => {} } : tempDir('detnorm-rpm-e2e-');
afterAll(() => tmp.cleanup());

type Built = Map<string, string>;
let A: Built, B: Built, C: Built, O: Built;
const dirs = { a: join(tmp.dir, 'a1'), b: join(tmp.dir, 'b2'), c: join(tmp.dir, 'a-much-longer-build-directory-c4'), o: join(tmp.dir, 'o3') };
const mapFor = (topdir: string) => [{ from: topdir, to: '/topdir' }];
const pkgNames = () => [...A.keys()].filter((n) => !n.endsWith('.src.rpm')).sort();

beforeAll(async () => {
  if (!ok) return;
  A = rpmbuild(FULL_SPEC, FULL_SOURCES, { topdir: dirs.a, host: 'host-a' });
  await new Promise((r) => setTimeout(r, 1100));
  B = rpmbuild(FULL_SPEC, FULL_SOURCES, { topdir: dirs.b, host: 'another-host.example.org', umask: '077', env: { DNT_ORDER: 'Hi.java mod.py hello.c' } });
  C = rpmbuild(FULL_SPEC, FULL_SOURCES, { topdir: dirs.c, host: 'host-c.example', umask: '077', env: { DNT_ORDER: 'mod.py Hi.java hello.c' } });
  O = rpmbuild(FULL_SPEC, FULL_SOURCES, {
    topdir: dirs.o,
    host: 'reproducible',
    env: { SOURCE_DATE_EPOCH: String(T) },
    defines: ['use_source_date_epoch_as_buildtime 1', 'clamp_mtime_to_source_date_epoch 1'],
  });
});

async function normalized(built: Built, topdir: string, name: string): Promise<Buffer> {
  const r = await norm(readFileSync(built.get(name)!), name, { timestamp: T, mapPaths: mapFor(topdir) });
  expect(r.status).toBe('changed');
  return Buffer.from(r.output);
}

function save(name: string, bytes: Uint8Array): string {
  const f = join(tmp.dir, name);
  writeFileSync(f, bytes);
  return f;
}

const dump = (f: string) => execFileSync('rpm', ['-qp', '--dump', f], { encoding: 'utf8' }).trim().split('\n');

describe.skipIf(!ok)('rpm: two non-reproducible builds are byte-identical after detnorm', () => {
  it('main and -debuginfo packages', async () => {
    const names = pkgNames();
    expect(names.some((n) => n.startsWith('dnt-debuginfo-'))).toBe(true);
    expect([...B.keys()].sort()).toEqual([...A.keys()].sort());
    for (const n of names) {
      const [ra, rb] = [readFileSync(A.get(n)!), readFileSync(B.get(n)!)];
      expect(ra.equals(rb), `${n}: the raw builds differ`).toBe(false);
      const [na, nb] = [await normalized(A, dirs.a, n), await normalized(B, dirs.b, n)];
      expect(na.equals(nb), n).toBe(true);
      expect((await norm(na, n, { timestamp: T, mapPaths: mapFor(dirs.a) })).status, `${n}: idempotent`).toBe('unchanged');
    }
  });
});

describe.skipIf(!ok)('rpm: the results pass the reference tools', () => {
  it('rpm -K --nosignature, rpm -qp --dump, rpm2cpio | cpio -t, rpm -i --root', async () => {
    const root = join(tmp.dir, 'root');
    mkdirSync(root, { recursive: true });
    for (const n of pkgNames()) {
      const f = save(`out-${n}`, await normalized(A, dirs.a, n));
      expect(execFileSync('rpm', ['-K', '--nosignature', f], { encoding: 'utf8' })).toContain('digests OK');
      // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink. The mtime is T;
      // size and digest change only for files detnorm normalized (pyc, jar).
      const [before, after] = [dump(A.get(n)!), dump(f)];
      expect(after.length).toBe(before.length);
      for (let i = 0; i < before.length; i++) {
        const [x, y] = [before[i]!.split(' '), after[i]!.split(' ')];
        expect(y[2]).toBe(String(T));
        const content = /\.(pyc|jar)$/.test(x[0]!);
        expect([y[0], ...y.slice(4)], x[0]).toEqual([x[0], ...x.slice(4)]);
        if (!content) expect(y.slice(0, 2).concat(y[3]!)).toEqual(x.slice(0, 2).concat(x[3]!));
      }
      const list = (p: string) => execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -t --quiet', 'sh', p], { encoding: 'utf8' });
      expect(list(f)).toBe(list(A.get(n)!));
      execFileSync('rpm', ['-i', '--root', root, '--nodeps', '--dbpath', join(root, 'db'), f], { stdio: 'pipe' });
    }
    expect(execFileSync(join(root, 'usr/bin/hello'), { encoding: 'utf8' })).toBe('hello rpm\n');
    // Python trusts the pyc (source mtime T in both): importing does not rewrite it.
    const cache = join(root, 'usr/lib/python3/dist-packages/dnt/__pycache__');
    const pycName = execFileSync('ls', [cache], { encoding: 'utf8' }).trim();
    const pycBefore = readFileSync(join(cache, pycName));
    const py = execFileSync('python3', ['-c', 'import dnt.mod as m; print(m.f())'], {
      env: { ...process.env, PYTHONPATH: join(root, 'usr/lib/python3/dist-packages') },
      encoding: 'utf8',
    });
    expect(py.trim()).toBe("{'a': 1, 'b': (1, 2)}");
    expect(readFileSync(join(cache, pycName)).equals(pycBefore)).toBe(true);
    expect(execFileSync('java', ['-cp', join(root, 'usr/share/java/hi.jar'), 'Hi'], { encoding: 'utf8' })).toBe('hi\n');
  });
});

describe.skipIf(!ok)('rpm oracle: rpmbuild with the reproducible macros, T and host "reproducible"', () => {
  it('-debuginfo: the oracle build is byte for byte detnorm\'s output of the non-reproducible build', async () => {
    const n = pkgNames().find((x) => x.startsWith('dnt-debuginfo-'))!;
    const na = await normalized(A, dirs.a, n);
    expect(na.equals(readFileSync(O.get(n)!))).toBe(true);
  });
  it('main package: equal after normalizing both, apart from the pyc header (checked-hash under SOURCE_DATE_EPOCH)', async () => {
    const n = pkgNames().find((x) => !x.startsWith('dnt-debuginfo-'))!;
    const [na, no] = [await normalized(A, dirs.a, n), await normalized(O, dirs.o, n)];
    const [da, dO] = [dump(save(`oa-${n}`, na)), dump(save(`oo-${n}`, no))];
    const differing = da.filter((l, i) => l !== dO[i]).map((l) => l.split(' ')[0]);
    expect(differing.length).toBe(1);
    expect(differing[0]).toMatch(/^\/usr\/lib\/python3\/dist-packages\/dnt\/__pycache__\/mod\.cpython-\d+\.pyc$/);
    const pyc = (rpmFile: string) => {
      const dir = join(tmp.dir, `x-${rpmFile.split('/').pop()}`);
      mkdirSync(dir, { recursive: true });
      execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -id --quiet', 'sh', rpmFile], { cwd: dir });
      return readFileSync(join(dir, differing[0]!.slice(1)));
    };
    const [pa, po] = [pyc(join(tmp.dir, `oa-${n}`)), pyc(join(tmp.dir, `oo-${n}`))];
    expect(pa.readUInt32LE(4)).toBe(0); // timestamp pyc ...
    expect(pa.readUInt32LE(8)).toBe(T); // ... recording T
    expect(po.readUInt32LE(4)).toBe(3); // checked-hash pyc
    expect(pa.subarray(16).equals(po.subarray(16))).toBe(true); // same code object
  });
});

describe.skipIf(!ok)('rpm: build directories of different lengths: the main + -debuginfo pair converges in one run', () => {
  const T1 = { timestamp: T };
  let n = 0;
  const pairDir = (built: Built) => {
    const d = join(tmp.dir, `pair${n++}`);
    mkdirSync(d);
    for (const p of pkgNames()) cpSync(built.get(p)!, join(d, p));
    return d;
  };
  const files = (d: string) => Object.fromEntries(readdirSync(d).filter((f) => f.endsWith('.rpm')).map((f) => [f, readFileSync(join(d, f))]));
  const ids = (f: string) => execFileSync('rpm', ['-qp', '--provides', f], { encoding: 'utf8' }).match(/debuginfo\(build-id\) = (\w+)/)![1]!;
  let ref: Record<string, Buffer>;
  let refDir: string;

  it('-j1 and -j2, either order, byte for byte (both packages); a second run changes nothing', async () => {
    const debugName = pkgNames().find((x) => x.startsWith('dnt-debuginfo-'))!;
    expect(ids(A.get(debugName)!)).not.toBe(ids(C.get(debugName)!));
    refDir = pairDir(A);
    const r = await normalizeTree(refDir, { ...T1, mapPaths: mapFor(dirs.a), jobs: 1 });
    expect(r.reports.every((x) => x.changes.some((c) => c.kind === 'build-id'))).toBe(true);
    ref = files(refDir);
    const runs: Record<string, Record<string, Buffer>> = {};
    const dc = pairDir(C);
    await normalizeTree(dc, { ...T1, mapPaths: mapFor(dirs.c), jobs: 2 });
    runs['C -j2'] = files(dc);
    for (const first of pkgNames()) {
      const d = pairDir(C);
      await normalizeTree(join(d, first), { ...T1, mapPaths: mapFor(dirs.c), jobs: 1 });
      await normalizeTree(d, { ...T1, mapPaths: mapFor(dirs.c), jobs: 1 });
      runs[`C, ${first} alone first`] = files(d);
    }
    for (const [k, v] of Object.entries(runs)) for (const p of pkgNames()) expect(v[p]!.equals(ref[p]!), `${k}: ${p}`).toBe(true);
    const again = await normalizeTree(refDir, { ...T1, mapPaths: mapFor(dirs.a), jobs: 2 });
    expect(again.reports.map((x) => x.status)).toEqual(pkgNames().map(() => 'unchanged'));
  });

  it('rpm -K --nosignature, rpm -qp --dump, rpm2cpio | cpio -t, rpm -i --root, the program runs, GDB finds the debug file by build-id', () => {
    const debugName = pkgNames().find((x) => x.startsWith('dnt-debuginfo-'))!;
    const [oldId, newId] = [ids(A.get(debugName)!), ids(join(refDir, debugName))];
    expect(newId).not.toBe(oldId);
    const rename = (t: string) =>
      t.split(`${oldId.slice(0, 2)}/${oldId.slice(2)}`).join(`${newId.slice(0, 2)}/${newId.slice(2)}`).replace(new RegExp(`\\.build-id/${oldId.slice(0, 2)}(?=[ \\n]|$)`, 'g'), `.build-id/${newId.slice(0, 2)}`);
    const root = join(tmp.dir, 'pair-root');
    mkdirSync(root, { recursive: true });
    for (const p of pkgNames()) {
      const f = join(refDir, p);
      expect(execFileSync('rpm', ['-K', '--nosignature', f], { encoding: 'utf8' })).toContain('digests OK');
      // The input's --dump with the old id renamed: equal but for mtime (T) and the size and
      // digest of the files detnorm changed (pyc, jar, the binary and its .debug file).
      const [before, after] = [dump(A.get(p)!).map(rename).sort(), dump(f).sort()];
      expect(after.length).toBe(before.length);
      for (let i = 0; i < before.length; i++) {
        const [x, y] = [before[i]!.split(' '), after[i]!.split(' ')];
        expect(y[2]).toBe(String(T));
        expect([y[0], ...y.slice(4)], x[0]).toEqual([x[0], ...x.slice(4)]);
        if (!/\.(pyc|jar|debug)$|\/hello$/.test(x[0]!)) expect(y.slice(0, 2).concat(y[3]!)).toEqual(x.slice(0, 2).concat(x[3]!));
      }
      const list = (q: string) => execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -t --quiet', 'sh', q], { encoding: 'utf8' });
      expect(list(f)).toBe(rename(list(A.get(p)!)));
      execFileSync('rpm', ['-i', '--root', root, '--nodeps', '--dbpath', join(root, 'db'), f], { stdio: 'pipe' });
    }
    expect(execFileSync(join(root, 'usr/bin/hello'), { encoding: 'utf8' })).toBe('hello rpm\n');
    if (haveTool('gdb')) {
      const out = execFileSync('gdb', ['-batch', '-ex', `set debug-file-directory ${join(root, 'usr/lib/debug')}`, '-ex', `file ${join(root, 'usr/bin/hello')}`, '-ex', 'info line main'], { encoding: 'utf8' });
      expect(out).toMatch(/Line \d+ of "hello\.c"/);
    }
  });
});
