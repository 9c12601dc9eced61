// detnorm diff on pairs of real artifacts made here by real tools. Each pair of the first
// group differs in exactly one thing, and diff must name exactly that difference and its cause,
// nothing else; pairs that differ in several planted things must show each of them, each real.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { diffPaths, type Difference, type DiffResult } from '../src/diff.js';
import { haveTool, run, tempDir } from './helpers.js';

const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;
const { dir, cleanup } = tempDir('detnorm-diff-');
afterAll(() => cleanup());

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'diff', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sh = (script: string, env: NodeJS.ProcessEnv = {}) => run('sh', ['-c', script], { env: { ...process.env, ...env } });

/** A small source tree written now (the build's clock), optionally under a umask. */
function tree(name: string, opts: { umask?: string; date?: string; uid?: number; extra?: string } = {}): string {
  const d = join(dir, name);
  sh(`umask ${opts.umask ?? '022'}; mkdir -p ${d}/pkg/sub && printf 'alpha\\n' > ${d}/pkg/a.txt && printf 'beta\\n${opts.extra ?? ''}' > ${d}/pkg/sub/b.txt && printf '#!/bin/sh\\necho run\\n' > ${d}/pkg/run.sh && chmod +x ${d}/pkg/run.sh`);
  if (opts.date) sh(`find ${d} -exec touch -h -d '${opts.date}' {} +`);
  if (opts.uid !== undefined) sh(`chown -R ${opts.uid}:${opts.uid} ${d}`);
  return d;
}

const diffsOf = (r: DiffResult): readonly Difference[] => r.pairs[0]!.differences;
const fields = (r: DiffResult) => diffsOf(r).map((d) => d.field);
const one = (r: DiffResult, field: string) => {
  const d = diffsOf(r).filter((x) => x.field === field);
  expect(d, `one record for ${field}`).toHaveLength(1);
  return d[0]!;
};

function pythonBefore311(): string | undefined {
  const root = `${process.env.HOME ?? '/root'}/.pyenv/versions`;
  if (!existsSync(root)) return undefined;
  const v = readdirSync(root)
    .filter((x) => /^3\.(7|8|9|10)\./.test(x))
    .sort()
    .pop();
  return v ? `${root}/${v}/bin/python` : undefined;
}

// Every test builds its inputs with these tools: without one, they skip (under CI they fail).
const TOOLS = ['zip', 'tar', 'ar', 'gzip', 'jar', 'gcc', 'python3', 'unzip'].map((t) => haveTool(t)).every(Boolean);
beforeEach((ctx) => {
  if (!TOOLS) ctx.skip();
});

describe('pairs that differ in exactly one thing: that difference, its cause, nothing else', () => {
  it('clock only: a tar of files written at build time, built twice a second apart', async () => {
    const a = tree('clock-a');
    sh('sleep 1.1');
    const b = tree('clock-b');
    sh(`cd ${a} && tar cf ../clock-a.tar pkg && cd ${b} && tar cf ../clock-b.tar pkg`);
    const r = await diffPaths(join(dir, 'clock-a.tar'), join(dir, 'clock-b.tar'));
    expect(r.identical).toBe(true);
    expect(fields(r)).toEqual(['mtime']);
    const d = one(r, 'mtime');
    expect(d).toMatchObject({ kind: 'timestamp', normalized: true, count: 5 });
    expect(d.cause).toMatch(/the time each build ran; SOURCE_DATE_EPOCH was not passed/);
  });

  it('time zone only: a zip written with TZ=UTC and TZ=Asia/Kolkata (local-time DOS times)', async () => {
    const t = tree('tz', { date: '2024-01-01 10:00:00 UTC' });
    sh(`cd ${t} && TZ=UTC zip -q -X -r ../tz-a.zip pkg && TZ=Asia/Kolkata zip -q -X -r ../tz-b.zip pkg`);
    const r = await diffPaths(join(dir, 'tz-a.zip'), join(dir, 'tz-b.zip'));
    expect(r.identical).toBe(true);
    expect(fields(r)).toEqual(['DOS time']);
    const d = one(r, 'DOS time');
    expect(d).toMatchObject({ kind: 'timestamp', a: '2024-01-01 10:00:00', b: '2024-01-01 15:30:00', count: 5 });
    expect(d.cause).toMatch(/every DOS time differs by \+05:30, a whole time-zone offset: the zips were written in local time/);
    // With Info-ZIP's UT extra field (no -X) the UTC times are there too, and equal.
    sh(`cd ${t} && TZ=UTC zip -q -r ../tzu-a.zip pkg && TZ=America/New_York zip -q -r ../tzu-b.zip pkg`);
    const u = await diffPaths(join(dir, 'tzu-a.zip'), join(dir, 'tzu-b.zip'));
    expect(fields(u)).toEqual(['DOS time']);
    expect(one(u, 'DOS time').cause).toMatch(/differs by -05:00.*UTC times of the UT extra field are equal/);
    const c = cli([join(dir, 'tz-a.zip'), join(dir, 'tz-b.zip')]);
    expect(c.status).toBe(0);
    expect(c.stdout).toContain('DOS time 2024-01-01 10:00:00 vs 2024-01-01 15:30:00 (x5)');
  });

  it('umask only: the same tree made under umask 022 and 002', async () => {
    const a = tree('umask-a', { umask: '022', date: '2024-01-01 10:00:00 UTC' });
    const b = tree('umask-b', { umask: '002', date: '2024-01-01 10:00:00 UTC' });
    sh(`cd ${a} && tar cf ../umask-a.tar pkg && cd ${b} && tar cf ../umask-b.tar pkg`);
    const r = await diffPaths(join(dir, 'umask-a.tar'), join(dir, 'umask-b.tar'));
    expect(r.identical).toBe(true);
    expect(fields(r)).toEqual(['mode']);
    const d = one(r, 'mode');
    expect(d.a).toMatch(/0755, 0644|0644, 0755/);
    expect(d.b).toMatch(/0775, 0664|0664, 0775/);
    expect(d.cause).toMatch(/group\/other write bits: each build's umask \(022 vs 002/);
  });

  it('owner only: the same tree archived as root and as uid 1234', async () => {
    const a = tree('own-a', { date: '2024-01-01 10:00:00 UTC' });
    sh(`cp -a ${a} ${dir}/own-b && chown -R 1234:1234 ${dir}/own-b`);
    sh(`cd ${a} && tar cf ../own-a.tar pkg && cd ${dir}/own-b && tar cf ../own-b.tar pkg`);
    const r = await diffPaths(join(dir, 'own-a.tar'), join(dir, 'own-b.tar'));
    expect(r.identical).toBe(true);
    expect(diffsOf(r)).toHaveLength(1);
    const d = diffsOf(r)[0]!;
    expect(d).toMatchObject({ kind: 'owner', a: '0/0 root/root', b: '1234/1234', count: 5 });
    expect(d.cause).toMatch(/every member of A is owned by 0\/0, every member of B by 1234\/1234: the user each build ran as/);
    // A sandbox's nobody is named as such.
    sh(`cp -a ${a} ${dir}/own-c && chown -R 65534:65534 ${dir}/own-c && cd ${dir}/own-c && tar cf ../own-c.tar pkg`);
    const s = await diffPaths(join(dir, 'own-a.tar'), join(dir, 'own-c.tar'));
    expect(diffsOf(s)[0]!.cause).toMatch(/B has members owned by uid\/gid 65534 \(nobody\): archived inside a sandbox/);
  });

  it('creation order only: the build lists the files in the order it made them', async () => {
    const t = tree('order', { date: '2024-01-01 10:00:00 UTC' });
    sh(`cd ${t} && tar cf ../order-a.tar --no-recursion pkg pkg/run.sh pkg/sub pkg/sub/b.txt pkg/a.txt && tar cf ../order-b.tar --no-recursion pkg pkg/a.txt pkg/run.sh pkg/sub pkg/sub/b.txt`);
    const r = await diffPaths(join(dir, 'order-a.tar'), join(dir, 'order-b.tar'));
    expect(r.identical).toBe(true);
    expect(fields(r)).toEqual(['order']);
    const d = one(r, 'order');
    expect(d).toMatchObject({ kind: 'order', note: '1 member moved' });
    expect(d.cause).toMatch(/B is sorted by name, A is not: A kept its file system's readdir \(or glob\) order/);
    // Neither sorted: both kept their file system's order.
    sh(`cd ${t} && tar cf ../order-c.tar --no-recursion pkg pkg/sub/b.txt pkg/run.sh pkg/a.txt pkg/sub`);
    const n = await diffPaths(join(dir, 'order-a.tar'), join(dir, 'order-c.tar'));
    expect(one(n, 'order').cause).toMatch(/neither side is sorted/);
  });

  it('build directory only: a C program built with -g in two directories', async () => {
    const mk = (d: string) => {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'prog.c'), 'int f(int x) { return x * 2; }\nint main(void) { return f(1) - 2; }\n');
      sh(`cd ${d} && gcc -g -O1 -o prog prog.c`);
      return join(d, 'prog');
    };
    const a = mk(join(dir, 'bd/build-a'));
    const b = mk(join(dir, 'bd/other/build-b'));
    const r = await diffPaths(a, b);
    expect(r.identical).toBe(false);
    expect(diffsOf(r).map((d) => d.kind)).toEqual(['path', 'build-id']);
    const p = diffsOf(r)[0]!;
    expect(p).toMatchObject({ a: join(dir, 'bd/build-a'), b: join(dir, 'bd/other/build-b'), normalized: false });
    expect(p.cause).toContain(`--map-path ${join(dir, 'bd/build-a')}=/build --map-path ${join(dir, 'bd/other/build-b')}=/build makes the files equal`);
    expect(diffsOf(r)[1]!.cause).toMatch(/a hash of the file: it differs because the rest does \(the build path\)/);
    // The cause is right: with those maps the two are identical after normalization.
    const m = await diffPaths(a, b, { mapPaths: [`${join(dir, 'bd/build-a')}=/build`, `${join(dir, 'bd/other/build-b')}=/build`] });
    expect(m.identical).toBe(true);
    expect(diffsOf(m).every((d) => d.normalized)).toBe(true);
  });

  it('build directory only: a pyc compiled in two directories (co_filename)', async () => {
    for (const d of ['pyd/a/src', 'pyd/b/other/src']) {
      mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, d, 'm.py'), 'def f():\n    return 1\n');
      sh(`touch -d '2024-01-01 10:00:00 UTC' ${join(dir, d, 'm.py')}`);
      run('python3', ['-c', `import py_compile; py_compile.compile('${join(dir, d, 'm.py')}', cfile='${join(dir, d, 'm.pyc')}')`], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '', SOURCE_DATE_EPOCH: '' } });
    }
    const r = await diffPaths(join(dir, 'pyd/a/src/m.pyc'), join(dir, 'pyd/b/other/src/m.pyc'));
    expect(fields(r)).toEqual(['co_filename']);
    expect(one(r, 'co_filename').cause).toBe(
      `build path: ${join(dir, 'pyd/a')} vs ${join(dir, 'pyd/b/other')} (with --map-path ${join(dir, 'pyd/a')}=/build --map-path ${join(dir, 'pyd/b/other')}=/build the code is equal)`,
    );
  });

  it.skipIf(!pythonBefore311())('PYTHONHASHSEED only: a Python < 3.11 pyc with set constants compiled under two seeds', async () => {
    const py = pythonBefore311()!;
    const d = join(dir, 'hashseed');
    mkdirSync(d);
    writeFileSync(join(d, 'm.py'), 'def f(x):\n    return x in {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}\n');
    for (const seed of ['1', '2']) {
      run(py, ['-c', `import py_compile; py_compile.compile('${d}/m.py', cfile='${d}/m-${seed}.pyc', dfile='m.py')`], { env: { ...process.env, PYTHONHASHSEED: seed, SOURCE_DATE_EPOCH: '' } });
    }
    const r = await diffPaths(join(d, 'm-1.pyc'), join(d, 'm-2.pyc'));
    expect(fields(r)).toEqual(['set constants']);
    expect(one(r, 'set constants')).toMatchObject({ kind: 'order', normalized: false });
    expect(one(r, 'set constants').cause).toMatch(/^PYTHONHASHSEED: Python 3\.\d+ marshals sets/);
    // --pyc-sort-sets removes it.
    expect((await diffPaths(join(d, 'm-1.pyc'), join(d, 'm-2.pyc'), { pycSortSets: true })).identical).toBe(true);
    expect(cli(['--pyc-sort-sets', join(d, 'm-1.pyc'), join(d, 'm-2.pyc')]).status).toBe(0);
  });

  it('gzip written by Python and by GNU gzip: the OS byte', async () => {
    const data = join(dir, 'g.txt');
    writeFileSync(data, 'same content\n'.repeat(40));
    const py = `import gzip,sys\nwith gzip.GzipFile(filename='', mode='wb', fileobj=sys.stdout.buffer, mtime=0, compresslevel=6) as z: z.write(open('${data}','rb').read())`;
    writeFileSync(join(dir, 'g-py.gz'), run('python3', ['-c', py]));
    writeFileSync(join(dir, 'g-gnu.gz'), run('gzip', ['-n', '-6', '-c', data]));
    const r = await diffPaths(join(dir, 'g-py.gz'), join(dir, 'g-gnu.gz'));
    expect(r.identical).toBe(true);
    expect(diffsOf(r)).toEqual([
      expect.objectContaining({ kind: 'header', field: 'OS byte', a: "255 (unknown: Python's gzip module writes it)", b: '3 (Unix)', normalized: true }),
    ]);
    expect(diffsOf(r)[0]!.cause).toBe("another OS or tool: A was written by Python's gzip module (OS 255), B by a Unix gzip (OS 3)");
  });
});

describe('pairs that differ in several planted things: each one listed, each real', () => {
  it('a tar.gz with other times, owner, one mode, order, one changed file and one new file', async () => {
    const a = tree('multi-a', { date: '2024-03-01 12:00:00 UTC' });
    const b = tree('multi-b', { date: '2025-07-15 18:30:00 UTC', extra: 'changed\\n' });
    writeFileSync(join(b, 'pkg/new.txt'), 'new\n');
    sh(`touch -d '2025-07-15 18:30:00 UTC' ${b}/pkg/new.txt ${b}/pkg`);
    chmodSync(join(b, 'pkg/a.txt'), 0o600);
    sh(`chown -R 1234:1234 ${b}`);
    sh(`cd ${a} && tar czf ../multi-a.tgz --no-recursion pkg pkg/a.txt pkg/run.sh pkg/sub pkg/sub/b.txt`);
    sh(`cd ${b} && tar czf ../multi-b.tgz --no-recursion pkg pkg/sub pkg/sub/b.txt pkg/a.txt pkg/run.sh pkg/new.txt`);
    const r = await diffPaths(join(dir, 'multi-a.tgz'), join(dir, 'multi-b.tgz'));
    expect(r.identical).toBe(false);
    const ds = diffsOf(r);
    const inner = 'multi-a.tar';
    // Every record, checked field by field against what was planted.
    const byField = new Map(ds.map((d) => [`${d.member ?? ''}|${d.field}`, d]));
    expect([...byField.keys()].sort()).toEqual(
      [`${inner}!/pkg/new.txt|only in B`, `${inner}!/pkg/sub/b.txt|data`, `${inner}!/pkg/a.txt|mode`, `${inner}|mtime`, `${inner}|order`, `${inner}|uid/gid (user/group)`].sort(),
    );
    expect(byField.get(`${inner}|mtime`)).toMatchObject({ a: '2024-03-01 12:00:00', b: '2025-07-15 18:30:00', count: 5, normalized: true });
    expect(byField.get(`${inner}|uid/gid (user/group)`)).toMatchObject({ a: '0/0 root/root', b: '1234/1234', count: 5, normalized: true });
    expect(byField.get(`${inner}!/pkg/a.txt|mode`)).toMatchObject({ a: '0644', b: '0600', normalized: true });
    expect(byField.get(`${inner}|order`)).toMatchObject({ kind: 'order', normalized: true });
    expect(byField.get(`${inner}!/pkg/new.txt|only in B`)).toMatchObject({ kind: 'only-in-b', normalized: false });
    expect(byField.get(`${inner}!/pkg/sub/b.txt|data`)).toMatchObject({ kind: 'content', a: '5 bytes', b: '13 bytes', offset: 5, normalized: false });
    // The mode of one file is not a umask; two different dates are not one build's clock each... they are: each side's times are one value.
    expect(byField.get(`${inner}!/pkg/a.txt|mode`)!.cause).toBeUndefined();
    const c = cli([join(dir, 'multi-a.tgz'), join(dir, 'multi-b.tgz')]);
    expect(c.status).toBe(1);
    expect(c.stdout).toContain(`${inner}!/pkg/sub/b.txt: data 5 bytes vs 13 bytes (first difference at byte 0x5)`);
    expect(c.stdout).toMatch(/normalized away:\n/);
  });

  it('a jar and its rebuild with another clock, one changed member and Info-ZIP extra fields on one side', async () => {
    const a = tree('jar-a', { date: '2024-01-01 10:00:00 UTC' });
    const b = tree('jar-b', { date: '2024-02-01 10:00:00 UTC', extra: 'changed\\n' });
    sh(`cd ${a} && jar cf ../a.jar pkg && cd ${b} && TZ=UTC zip -q -r ../b.jar pkg`);
    const r = await diffPaths(join(dir, 'a.jar'), join(dir, 'b.jar'));
    expect(r.identical).toBe(false);
    const ds = diffsOf(r);
    // What is left after normalization, each checked: the changed member, the META-INF/ entries
    // only jar writes, the exec bit jar does not store, and zip storing small files where jar
    // deflates them (compressed data is kept as it is, so method and version needed stay).
    const left = new Map(ds.filter((d) => !d.normalized).map((d) => [`${d.member ?? ''}|${d.field}`, d]));
    expect([...left.keys()].sort()).toEqual(['META-INF/MANIFEST.MF|only in A', 'META-INF/|only in A', '|method', '|version needed', 'pkg/run.sh|mode', 'pkg/sub/b.txt|data'].sort());
    expect(left.get('pkg/sub/b.txt|data')).toMatchObject({ kind: 'content', offset: 5 });
    expect(left.get('pkg/run.sh|mode')).toMatchObject({ a: '0644', b: '0755' });
    expect(left.get('|method')).toMatchObject({ a: 'deflated', b: 'stored', count: 3 });
    expect(run('unzip', ['-Z', '-v', join(dir, 'b.jar'), 'pkg/a.txt']).toString()).toMatch(/compression method:\s+none \(stored\)/);
    // Each other record is a real difference of the inputs.
    const f = new Map(ds.map((d) => [d.field, d]));
    expect(f.get('extra fields')).toMatchObject({ a: '(none)', b: expect.stringContaining('0x5455') });
    expect(f.get('extra fields')!.cause).toMatch(/Info-ZIP zip writes them unless -X/);
    expect(f.get('made by')).toMatchObject({ kind: 'header' });
    expect(f.get('DOS time')!.a).toMatch(/^2024-01-01/);
    expect(f.get('DOS time')!.b).toMatch(/^2024-02-01/);
  });
});

describe('what the bytes do not support is not said', () => {
  it('two tars both made by root name no owner; identical gzip layers name no gzip field', async () => {
    const a = tree('root-a', { date: '2024-01-01 10:00:00 UTC' });
    const b = tree('root-b', { date: '2024-01-02 10:00:00 UTC' });
    sh(`cd ${a} && tar cf - pkg | gzip -n > ../root-a.tgz && cd ${b} && tar cf - pkg | gzip -n > ../root-b.tgz`);
    const r = await diffPaths(join(dir, 'root-a.tgz'), join(dir, 'root-b.tgz'));
    expect(r.identical).toBe(true);
    expect(diffsOf(r).map((d) => d.kind)).toEqual(['timestamp']);
    expect(r.pairs[0]!.normalizedAway).toEqual(['timestamp']);
    expect(r.pairs[0]!.causes.join('\n')).not.toMatch(/owner|compression|gzip/i);
  });

  it('a mode change of one file is not called a umask; one moved time is not a build clock', async () => {
    const a = tree('one-a', { date: '2020-01-01 10:00:00 UTC' });
    sh(`cp -a ${a} ${dir}/one-b && chmod 600 ${dir}/one-b/pkg/a.txt && touch -d '2023-05-05 10:00:00 UTC' ${dir}/one-b/pkg/sub/b.txt`);
    sh(`cd ${a} && tar cf ../one-a.tar pkg && cd ${dir}/one-b && tar cf ../one-b.tar pkg`);
    const r = await diffPaths(join(dir, 'one-a.tar'), join(dir, 'one-b.tar'));
    expect(fields(r).sort()).toEqual(['mode', 'mtime']);
    expect(diffsOf(r).every((d) => d.cause === undefined)).toBe(true);
  });
});

describe('output: text, --json records, --summary, exit codes', () => {
  it('--json has the records (kind, field, member, a, b, count, cause, normalized); --summary one line per file', () => {
    const ta = join(dir, 'out-a');
    const tb = join(dir, 'out-b');
    mkdirSync(ta);
    mkdirSync(tb);
    writeFileSync(join(ta, 'same.txt'), 'x');
    writeFileSync(join(tb, 'same.txt'), 'x');
    writeFileSync(join(ta, 'diff.txt'), 'x');
    writeFileSync(join(tb, 'diff.txt'), 'y');
    sh(`cp ${dir}/own-a.tar ${ta}/o.tar && cp ${dir}/own-b.tar ${tb}/o.tar`);
    const j = cli(['--json', ta, tb]);
    expect(j.status).toBe(1);
    const doc = JSON.parse(j.stdout) as DiffResult;
    const o = doc.pairs.find((p) => p.path === 'o.tar')!;
    expect(o.status).toBe('normalized');
    expect(o.differences[0]).toMatchObject({ path: 'o.tar', kind: 'owner', field: 'uid/gid (user/group)', a: '0/0 root/root', b: '1234/1234', count: 5, normalized: true });
    expect(o.differences[0]!.cause).toMatch(/the user each build ran as/);
    expect(doc.pairs.find((p) => p.path === 'diff.txt')).toMatchObject({ status: 'differs', differences: [expect.objectContaining({ kind: 'content', field: 'data', offset: 0 })] });
    const s = cli(['--summary', ta, tb]);
    expect(s.stdout.trim().split('\n')).toEqual([
      'diff.txt: DIFFERS: content',
      'o.tar: identical after normalization (tar): normalized: owner',
      'detnorm diff: 3 files: 1 identical, 1 identical after normalization, 1 differ',
    ]);
    const v = cli(['-v', ta, tb]);
    expect(v.stdout).toContain('same.txt: identical');
    expect(v.stdout).toContain('both: not canonical: timestamp: mtime -> 0 (x5)');
  });

  it('an ar archive with members in another order: the order is left (the linker may care), exit 1', async () => {
    const d = join(dir, 'arord');
    mkdirSync(d);
    writeFileSync(join(d, 'x.o'), 'xx');
    writeFileSync(join(d, 'y.o'), 'yy');
    sh(`cd ${d} && ar rcD a.a x.o y.o && ar rcD b.a y.o x.o`);
    const r = await diffPaths(join(d, 'a.a'), join(d, 'b.a'));
    expect(r.identical).toBe(false);
    expect(diffsOf(r)).toEqual([expect.objectContaining({ kind: 'order', note: '1 member moved', normalized: false })]);
    expect(diffsOf(r)[0]!.cause).toMatch(/A is sorted by name, B is not/);
    const s = await diffPaths(join(d, 'a.a'), join(d, 'b.a'), { sortArMembers: true });
    expect(s.identical).toBe(true);
    expect(diffsOf(s)[0]!.normalized).toBe(true);
  });

  it('a wheel whose nested pyc differs in code, named down to the member', async () => {
    const mk = (name: string, body: string) => {
      const d = join(dir, name);
      mkdirSync(join(d, 'm'), { recursive: true });
      writeFileSync(join(d, 'm/__init__.py'), body);
      run('python3', ['-c', `import py_compile; py_compile.compile('${d}/m/__init__.py', cfile='${d}/m/__init__.pyc', dfile='m/__init__.py')`], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '' } });
      run('python3', ['-c', `import zipfile; z=zipfile.ZipFile('${d}.whl','w'); z.write('${d}/m/__init__.pyc','m/__init__.pyc'); z.close()`]);
      return `${d}.whl`;
    };
    const r = await diffPaths(mk('whl-a', 'X = 1\n'), mk('whl-b', 'X = 2\n'));
    const left = diffsOf(r).filter((d) => !d.normalized);
    expect(left).toEqual([expect.objectContaining({ member: 'm/__init__.pyc', kind: 'content', field: 'code' })]);
  });

  it('a shared library with a build path in .rodata (assert): not fixable after linking, said so', async () => {
    const mk = (name: string) => {
      const d = join(dir, name, 'src');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'lib.c'), '#include <assert.h>\nint f(int x) { assert(x > 0); return x * 2; }\n');
      run('gcc', ['-g', '-O2', '-shared', '-fPIC', '-o', join(dir, name, 'lib.so'), join(d, 'lib.c')]);
      return { so: join(dir, name, 'lib.so'), src: d };
    };
    const a = mk('rodata-a');
    const b = mk('rodata-bb');
    const r = cli(['--map-path', `${a.src}=/build/src`, '--map-path', `${b.src}=/build/src`, a.so, b.so]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/build path in loaded section \.rodata .*\n\s+cause: compiled into the program \(__FILE__, assert\): not fixable after linking/);
  });
});

describe('a handler without compare(): what it changes on each side, in its own words', () => {
  it.skipIf(!haveTool('mkimage'))('two uImages made at two times by mkimage', async () => {
    writeFileSync(join(dir, 'pl.bin'), 'payload-bytes');
    const mk = (out: string, env: NodeJS.ProcessEnv) => run('mkimage', ['-A', 'arm', '-O', 'linux', '-T', 'kernel', '-C', 'none', '-a', '0', '-e', '0', '-n', 'test', '-d', join(dir, 'pl.bin'), join(dir, out)], { env: { ...process.env, ...env } });
    mk('u1.img', { SOURCE_DATE_EPOCH: '1600000000' });
    mk('u2.img', { SOURCE_DATE_EPOCH: '1700000000' });
    const r = await diffPaths(join(dir, 'u1.img'), join(dir, 'u2.img'));
    expect(r.identical).toBe(true);
    expect(diffsOf(r)).toEqual([
      expect.objectContaining({ kind: 'timestamp', field: 'uimage timestamp (what detnorm changes)', a: 'ih_time 1600000000 -> 0 (header CRC recomputed)', b: 'ih_time 1700000000 -> 0 (header CRC recomputed)' }),
    ]);
  });
});

describe('diff understands container images: which layer, which file in it', () => {
  it('two OCI layouts from two builds: identical after normalization; a content change is named inside its layer', async () => {
    const { makeLayout, VARIANT_A, VARIANT_B } = await import('./oci-helpers.js');
    const a = join(dir, 'oci-a');
    const b = join(dir, 'oci-b');
    const c = join(dir, 'oci-c');
    makeLayout(a, VARIANT_A);
    makeLayout(b, VARIANT_B);
    makeLayout(c, { ...VARIANT_B, extraFile: 'a change' });
    const same = await diffPaths(a, b);
    expect(same.pairs).toHaveLength(1);
    expect(same.pairs[0]).toMatchObject({ status: 'normalized', format: 'oci' });
    expect(fields(same)).toContain('created');
    const r = await diffPaths(a, c);
    expect(r.identical).toBe(false);
    const left = diffsOf(r).filter((d) => !d.normalized);
    expect(left.length).toBeGreaterThan(0);
    // The extra file is a layer of its own in that image.
    expect(left).toEqual([expect.objectContaining({ kind: 'only-in-b', member: 'layer 3' })]);
    expect(cli([a, c]).status).toBe(1);
  });
});
