// detnorm diff on pairs of real artifacts made here by real tools.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { diffPaths } from '../src/diff.js';
import { haveTool, run, tempDir } from './helpers.js';

const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;
const { dir, cleanup } = tempDir('detnorm-diff-');
afterAll(() => cleanup());

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'diff', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A small source tree, written with given mtime, owner and content tweak. */
function tree(name: string, opts: { date: string; uid?: number; extra?: string }): string {
  const d = join(dir, name);
  mkdirSync(join(d, 'pkg/sub'), { recursive: true });
  writeFileSync(join(d, 'pkg/a.txt'), 'alpha\n');
  writeFileSync(join(d, 'pkg/sub/b.txt'), `beta\n${opts.extra ?? ''}`);
  writeFileSync(join(d, 'pkg/run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  run('find', [d, '-exec', 'touch', '-d', opts.date, '{}', '+']);
  if (opts.uid !== undefined) run('chown', ['-R', `${opts.uid}:${opts.uid}`, d]);
  return d;
}

// Every test builds its inputs with these tools: without one, they skip (under CI they fail).
const TOOLS = ['zip', 'tar', 'ar', 'gzip', 'jar', 'gcc', 'python3'].map((t) => haveTool(t)).every(Boolean);
beforeEach((ctx) => {
  if (!TOOLS) ctx.skip();
});

describe('identical after normalization: exit 0, and what was normalized', () => {
  it('zips written in two time zones: the cause is local time', async () => {
    const a = tree('tz-a', { date: '2024-01-01 10:00:00 UTC' });
    const b = tree('tz-b', { date: '2024-01-01 10:00:00 UTC' });
    run('sh', ['-c', `cd ${a} && TZ=UTC zip -q -X -r ../tz-a.zip pkg`]);
    run('sh', ['-c', `cd ${b} && TZ=Asia/Kolkata zip -q -X -r ../tz-b.zip pkg`]);
    const r = await diffPaths(join(dir, 'tz-a.zip'), join(dir, 'tz-b.zip'));
    expect(r.identical).toBe(true);
    expect(r.pairs[0]!.status).toBe('normalized');
    expect(r.pairs[0]!.causes.join('\n')).toMatch(/\+05:30, a whole time-zone offset: the zip was written in local time/);
    expect(cli([join(dir, 'tz-a.zip'), join(dir, 'tz-b.zip')]).status).toBe(0);
  });
  it('tar.gz made by different users at different times, one in a sandbox (uid 65534)', async () => {
    const a = tree('own-a', { date: '2024-01-01 10:00:00 UTC', uid: 1000 });
    const b = tree('own-b', { date: '2025-06-01 10:00:00 UTC', uid: 65534 });
    run('sh', ['-c', `cd ${a} && tar --format=gnu -czf ../own-a.tar.gz pkg`]);
    run('sh', ['-c', `cd ${b} && tar --format=gnu -czf ../own-b.tar.gz pkg`]);
    const r = cli([join(dir, 'own-a.tar.gz'), join(dir, 'own-b.tar.gz')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('identical after normalization');
    const j = await diffPaths(join(dir, 'own-a.tar.gz'), join(dir, 'own-b.tar.gz'));
    expect(j.pairs[0]!.normalizedAway).toEqual(expect.arrayContaining(['owner', 'timestamp']));
    expect(j.pairs[0]!.causes.join('\n')).toMatch(/B has members owned by uid\/gid 65534 \(nobody\)/);
  });
  it('a gzip written by Python (OS 255) and one by gzip (OS 3)', async () => {
    const data = join(dir, 'g.txt');
    writeFileSync(data, 'same content\n');
    writeFileSync(join(dir, 'g-py.gz'), run('python3', ['-c', `import gzip,sys; sys.stdout.buffer.write(gzip.compress(open('${data}','rb').read(), 6, mtime=1))`]));
    writeFileSync(join(dir, 'g-gnu.gz'), run('gzip', ['-6', '-c', data]));
    const r = await diffPaths(join(dir, 'g-py.gz'), join(dir, 'g-gnu.gz'));
    expect(r.identical).toBe(true);
    expect(r.pairs[0]!.causes.join('\n')).toMatch(/OS byte is 255/);
  });
  it('two trees: identical files, normalized files', async () => {
    const ta = join(dir, 'treeA');
    const tb = join(dir, 'treeB');
    mkdirSync(ta);
    mkdirSync(tb);
    writeFileSync(join(ta, 'same.txt'), 'x');
    writeFileSync(join(tb, 'same.txt'), 'x');
    const g = run('gzip', ['-n'], { input: Buffer.from('y') });
    writeFileSync(join(ta, 'y.gz'), g);
    const g2 = Buffer.from(g);
    g2.writeUInt32LE(12345, 4);
    writeFileSync(join(tb, 'y.gz'), g2);
    const r = cli(['-v', ta, tb]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('same.txt: identical');
    expect(r.stdout).toContain('y.gz: identical after normalization');
  });
});

describe('content differs: exit 1, the member named', () => {
  it('a jar with one changed class member', async () => {
    const a = tree('jar-a', { date: '2024-01-01 10:00:00 UTC' });
    const b = tree('jar-b', { date: '2024-02-01 10:00:00 UTC', extra: 'changed\n' });
    run('sh', ['-c', `cd ${a} && jar cf ../a.jar pkg`]);
    run('sh', ['-c', `cd ${b} && jar cf ../b.jar pkg`]);
    const r = await diffPaths(join(dir, 'a.jar'), join(dir, 'b.jar'));
    expect(r.identical).toBe(false);
    const d = r.pairs[0]!.differences;
    expect(d).toEqual([expect.objectContaining({ member: 'pkg/sub/b.txt', kind: 'content' })]);
    expect(d[0]!.offset).toBe(5);
    const c = cli([join(dir, 'a.jar'), join(dir, 'b.jar')]);
    expect(c.status).toBe(1);
    expect(c.stdout).toMatch(/pkg\/sub\/b\.txt: content: .*first difference at byte 0x5/);
  });
  it('a tar.gz where one file is only in B, named through the gzip and tar layers', async () => {
    const a = tree('only-a', { date: '2024-01-01 10:00:00 UTC' });
    const b = tree('only-b', { date: '2024-01-01 10:00:00 UTC' });
    writeFileSync(join(b, 'pkg/new.txt'), 'new');
    run('sh', ['-c', `cd ${a} && tar -czf ../only-a.tgz pkg`]);
    run('sh', ['-c', `cd ${b} && tar -czf ../only-b.tgz pkg`]);
    const r = await diffPaths(join(dir, 'only-a.tgz'), join(dir, 'only-b.tgz'));
    expect(r.pairs[0]!.differences).toEqual([expect.objectContaining({ kind: 'only-in-b', member: expect.stringMatching(/pkg\/new\.txt$/) })]);
  });
  it('a wheel whose nested pyc differs in code, not only in flags', async () => {
    const mk = (name: string, body: string) => {
      const d = join(dir, name);
      mkdirSync(join(d, 'm'), { recursive: true });
      writeFileSync(join(d, 'm/__init__.py'), body);
      run('python3', ['-c', `import py_compile; py_compile.compile('${d}/m/__init__.py', cfile='${d}/m/__init__.pyc', dfile='m/__init__.py')`], { env: { PYTHONDONTWRITEBYTECODE: '' } });
      run('python3', ['-c', `import zipfile; z=zipfile.ZipFile('${d}.whl','w'); z.write('${d}/m/__init__.pyc','m/__init__.pyc'); z.close()`]);
      return `${d}.whl`;
    };
    const wa = mk('whl-a', 'X = 1\n');
    const wb = mk('whl-b', 'X = 2\n');
    const r = await diffPaths(wa, wb);
    expect(r.pairs[0]!.differences[0]).toMatchObject({ member: 'm/__init__.pyc', kind: 'content' });
  });
});

describe('differs in a way detnorm cannot normalize: exit 1, said so', () => {
  it('an ar archive with members in another order (ar order is kept: it can matter to the linker)', async () => {
    const d = join(dir, 'arord');
    mkdirSync(d);
    writeFileSync(join(d, 'x.o'), 'xx');
    writeFileSync(join(d, 'y.o'), 'yy');
    run('sh', ['-c', `cd ${d} && ar rcU a.a x.o y.o && ar rcU b.a y.o x.o`]);
    const r = await diffPaths(join(d, 'a.a'), join(d, 'b.a'));
    expect(r.identical).toBe(false);
    expect(r.pairs[0]!.differences[0]).toMatchObject({ kind: 'unfixable' });
    expect(r.pairs[0]!.differences[0]!.detail).toMatch(/order/);
    expect((await diffPaths(join(d, 'a.a'), join(d, 'b.a'), { sortArMembers: true })).identical).toBe(true);
  });
  it('a shared library with a build path in .rodata (assert): reported as not fixable after linking', async () => {
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
    expect(r.stdout).toMatch(/unfixable: .*not fixable after linking/i);
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
    const r = await diffPaths(a, c);
    expect(r.identical).toBe(false);
    const d = r.pairs[0]!.differences;
    expect(d.length).toBeGreaterThan(0);
    expect(d.some((x) => /layer \d/.test(x.member ?? ''))).toBe(true);
    expect(cli([a, c]).status).toBe(1);
  });
});
