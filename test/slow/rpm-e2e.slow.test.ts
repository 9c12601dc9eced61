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
// The two build directories have the same length: with lengths that differ, debugedit's
// recomputed build-id differs, and it names files (/usr/lib/.build-id/xx/...) and a Provides
// (README, "rpm": not fixable after the fact).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTool, norm, tempDir } from '../helpers.js';
import { FULL_SOURCES, FULL_SPEC, rpmbuild } from '../rpm-helpers.js';

const T = 1700000000;
const ok = ['rpmbuild', 'rpm', 'rpm2cpio', 'cpio', 'gcc', 'javac', 'jar', 'python3', 'find-debuginfo'].every((t) => haveTool(t));
const tmp = process.env.KEEP ? { dir: process.env.KEEP, cleanup: () => {} } : tempDir('detnorm-rpm-e2e-');
afterAll(() => tmp.cleanup());

type Built = Map<string, string>;
let A: Built, B: Built, O: Built;
const dirs = { a: join(tmp.dir, 'a1'), b: join(tmp.dir, 'b2'), o: join(tmp.dir, 'o3') };
const mapFor = (topdir: string) => [{ from: topdir, to: '/topdir' }];
const pkgNames = () => [...A.keys()].filter((n) => !n.endsWith('.src.rpm')).sort();

beforeAll(async () => {
  if (!ok) return;
  A = rpmbuild(FULL_SPEC, FULL_SOURCES, { topdir: dirs.a, host: 'host-a' });
  await new Promise((r) => setTimeout(r, 1100));
  B = rpmbuild(FULL_SPEC, FULL_SOURCES, { topdir: dirs.b, host: 'another-host.example.org', umask: '077', env: { DNT_ORDER: 'Hi.java mod.py hello.c' } });
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
