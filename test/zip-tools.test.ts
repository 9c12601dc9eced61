// Reference tools accept every output (unzip -t, zipinfo, python zipfile, jar tf, java -jar,
// jarsigner -verify, jmod, pip install --no-index + import, python3 app.pyz, zipalign -c),
// and the convergence rule: one tree zipped by Info-ZIP, by jar and by Python at different
// times, umasks, owners and member orders normalizes to identical bytes per tool.
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTool, norm, run, tempDir } from './helpers.js';
import { contentOf, pyList } from './zip-py.js';

const CORPUS = new URL('../corpus/zip/', import.meta.url).pathname;
const T = 1423159771;
const tmp = tempDir('detnorm-zip-tools-');
afterAll(() => tmp.cleanup());

const outs = readdirSync(CORPUS).filter((f) => f.endsWith('.out')).sort();

function sh(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  return run(cmd, args, opts).toString();
}

describe('reference tools accept every golden output', () => {
  it('unzip -t and zipinfo', (ctx) => {
    if (!haveTool('unzip') || !haveTool('zipinfo')) return ctx.skip();
    for (const f of outs) {
      const t = sh('unzip', ['-t', join(CORPUS, f)]);
      expect(t, f).toMatch(/No errors detected/);
      expect(t, f).not.toMatch(/warning/i);
      sh('zipinfo', ['-v', join(CORPUS, f)]);
    }
  });
  it('python zipfile.testzip() and content preserved (except the members changed on purpose)', (ctx) => {
    if (!haveTool('python3')) return ctx.skip();
    const files = outs.flatMap((f) => [join(CORPUS, f), join(CORPUS, f.slice(0, -4))]);
    const py = pyList(files);
    const changedOnPurpose = /MANIFEST\.MF$|\.properties$|RECORD$|\.gz$|\.jar$/;
    for (const f of outs) {
      const out = py[join(CORPUS, f)]!;
      const inp = py[join(CORPUS, f.slice(0, -4))]!;
      expect(out.ok, `${f}: ${out.error}`).toBe(true);
      expect(contentOf(out, (n) => changedOnPurpose.test(n)), f).toEqual(contentOf(inp, (n) => changedOnPurpose.test(n)));
      expect(out.members.map((m) => m.name).sort(), f).toEqual(inp.members.map((m) => m.name).sort());
    }
  });
  it('jar tf, java -jar and jarsigner -verify', (ctx) => {
    if (!haveTool('jar') || !haveTool('java') || !haveTool('jarsigner')) return ctx.skip();
    for (const f of outs.filter((x) => /\.(jar|war)\.out$/.test(x))) {
      const p = join(tmp.dir, f.slice(0, -4));
      copyFileSync(join(CORPUS, f), p);
      expect(sh('jar', ['tf', p]).split('\n')[0], f).toBe('META-INF/');
    }
    expect(sh('java', ['-jar', join(tmp.dir, 'jar-cfm.jar')]).trim()).toBe('hello 2.4');
    expect(sh('jarsigner', ['-verify', join(tmp.dir, 'signed.jar')])).toMatch(/jar verified/);
  });
  it('jmod list and describe', (ctx) => {
    if (!haveTool('jmod')) return ctx.skip();
    const p = join(tmp.dir, 'hello.jmod');
    copyFileSync(join(CORPUS, 'hello.jmod.out'), p);
    expect(sh('jmod', ['list', p]).split('\n').filter(Boolean).sort()).toEqual(['bin/tool', 'classes/module-info.class']);
    expect(sh('jmod', ['describe', p])).toMatch(/^hello/);
  });
  it('pip install --no-index of the normalized wheel, then import', (ctx) => {
    if (!haveTool('python3')) return ctx.skip();
    const whl = join(tmp.dir, 'tinypkg-1.0-py3-none-any.whl');
    copyFileSync(join(CORPUS, 'tinypkg-1.0-py3-none-any.whl.out'), whl);
    const site = join(tmp.dir, 'site');
    sh('python3', ['-m', 'pip', 'install', '-q', '--no-index', '--no-deps', '--target', site, whl], { env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
    const v = sh('python3', ['-c', 'import tinypkg, gzip, os; print(tinypkg.VALUE, gzip.open(os.path.join(os.path.dirname(tinypkg.__file__), "data.txt.gz")).read().count(b"some"))'], { env: { PYTHONPATH: site } });
    expect(v.trim()).toBe('42 20');
  });
  it('python3 app.pyz runs', (ctx) => {
    if (!haveTool('python3')) return ctx.skip();
    const p = join(tmp.dir, 'app.pyz');
    copyFileSync(join(CORPUS, 'app.pyz.out'), p);
    expect(sh('python3', [p, 'x']).trim()).toBe("app ok ['x']");
  });
  it('zipalign -c -p 4 on the aligned APK', (ctx) => {
    if (!haveTool('zipalign')) return ctx.skip();
    expect(sh('zipalign', ['-c', '-p', '4', join(CORPUS, 'aligned.apk.out')]) + 'ok').toMatch(/ok$/);
  });
});

// A tree with a dir, an executable, a nested dir and (for Info-ZIP) a symlink.
function makeTree(dir: string, umask: number, mtime: number, uid: number): void {
  const files: Array<[string, string, number]> = [
    ['pkg/a.txt', 'hello\n', 0o666],
    ['pkg/sub/b.txt', 'x'.repeat(5000), 0o666],
    ['pkg/run.sh', '#!/bin/sh\necho hi\n', 0o777],
    ['top.txt', 'top\n', 0o666],
  ];
  for (const [p, data, mode] of files) {
    mkdirSync(join(dir, p, '..'), { recursive: true, mode: 0o777 & ~umask });
    writeFileSync(join(dir, p), data);
    chmodSync(join(dir, p), mode & ~umask);
  }
  for (const d of ['pkg/sub', 'pkg']) chmodSync(join(dir, d), 0o777 & ~umask);
  for (const p of ['pkg/a.txt', 'pkg/sub/b.txt', 'pkg/run.sh', 'top.txt', 'pkg/sub', 'pkg']) {
    utimesSync(join(dir, p), mtime, mtime);
    if (process.getuid?.() === 0) chownSync(join(dir, p), uid, uid); // owners only vary when run as root
  }
}

describe('convergence: same tree, different times, umasks, owners and orders, one result per tool', () => {
  const variants = [
    { umask: 0o022, mtime: 1500000000, uid: 0, tz: 'UTC', order: ['pkg', 'top.txt'] },
    { umask: 0o077, mtime: 1700000123, uid: 1234, tz: 'America/New_York', order: ['top.txt', 'pkg'] },
  ];
  async function normalized(file: string, name: string, opts = {}): Promise<Uint8Array> {
    const r = await norm(readFileSync(file), name, opts);
    expect(r.status, r.reason).toBe('changed');
    return r.output;
  }
  it('Info-ZIP zip -r -y', async (ctx) => {
    if (!haveTool('zip')) return ctx.skip();
    const outs: Uint8Array[] = [];
    for (const [i, v] of variants.entries()) {
      const d = join(tmp.dir, `iz${i}`);
      makeTree(d, v.umask, v.mtime, v.uid);
      symlinkSync('a.txt', join(d, 'pkg/link'));
      sh('zip', ['-q', '-r', '-y', '../iz.zip', ...v.order], { cwd: d, env: { TZ: v.tz } });
      outs.push(await normalized(join(tmp.dir, 'iz.zip'), 'iz.zip', { timestamp: T }));
      run('rm', [join(tmp.dir, 'iz.zip')]);
    }
    expect(Buffer.from(outs[0]!).equals(Buffer.from(outs[1]!))).toBe(true);
    const p = join(tmp.dir, 'iz-norm.zip');
    writeFileSync(p, outs[0]!);
    const m = pyList([p])[p]!;
    expect(m.members.filter((x) => x.exec).map((x) => x.name)).toEqual(['pkg/run.sh']);
    expect(m.members.filter((x) => x.kind === 'symlink').map((x) => x.name)).toEqual(['pkg/link']);
  });
  it('JDK jar cf', async (ctx) => {
    if (!haveTool('jar')) return ctx.skip();
    const outs: Uint8Array[] = [];
    for (const [i, v] of variants.entries()) {
      const d = join(tmp.dir, `jar${i}`);
      makeTree(d, v.umask, v.mtime, v.uid);
      sh('jar', ['cf', '../t.jar', ...v.order], { cwd: d, env: { TZ: v.tz } });
      outs.push(await normalized(join(tmp.dir, 't.jar'), 't.jar'));
    }
    expect(Buffer.from(outs[0]!).equals(Buffer.from(outs[1]!))).toBe(true);
  });
  it('Python zipfile (os.walk order, ZipFile.write)', async (ctx) => {
    if (!haveTool('python3')) return ctx.skip();
    const outs: Uint8Array[] = [];
    for (const [i, v] of variants.entries()) {
      const d = join(tmp.dir, `py${i}`);
      makeTree(d, v.umask, v.mtime, v.uid);
      const script = `import zipfile, os, sys
order = sys.argv[1:]
with zipfile.ZipFile('../t.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for top in order:
        if os.path.isdir(top):
            for root, dirs, files in os.walk(top):
                for x in (sorted(dirs) if order[0] == 'pkg' else sorted(dirs, reverse=True)):
                    z.write(os.path.join(root, x))
                for x in (sorted(files) if order[0] == 'pkg' else sorted(files, reverse=True)):
                    z.write(os.path.join(root, x))
        else:
            z.write(top)
`;
      sh('python3', ['-c', script, ...v.order], { cwd: d, env: { TZ: v.tz } });
      outs.push(await normalized(join(tmp.dir, 't.zip'), 't.zip', { timestamp: T }));
    }
    expect(Buffer.from(outs[0]!).equals(Buffer.from(outs[1]!))).toBe(true);
  });
});

describe('runnable jar built at test time', () => {
  it('javac + jar cfe, normalized, java -jar runs and jar tf lists the manifest first', async (ctx) => {
    if (!haveTool('javac') || !haveTool('java') || !haveTool('jar')) return ctx.skip();
    const d = join(tmp.dir, 'rj');
    mkdirSync(join(d, 'src/app'), { recursive: true });
    writeFileSync(join(d, 'src/app/Main.java'), 'package app; public class Main { public static void main(String[] a) { System.out.println("ran " + a.length); } }\n');
    sh('javac', ['-d', join(d, 'classes'), join(d, 'src/app/Main.java')]);
    sh('jar', ['cfe', join(d, 'app.jar'), 'app.Main', '-C', join(d, 'classes'), '.']);
    const r = await norm(readFileSync(join(d, 'app.jar')), 'app.jar', { timestamp: T });
    expect(r.status).toBe('changed');
    writeFileSync(join(d, 'n.jar'), r.output);
    expect(sh('java', ['-jar', join(d, 'n.jar'), 'x', 'y']).trim()).toBe('ran 2');
    expect(sh('jar', ['tf', join(d, 'n.jar')]).split('\n').slice(0, 2)).toEqual(['META-INF/', 'META-INF/MANIFEST.MF']);
    expect(existsSync(join(d, 'n.jar'))).toBe(true);
  });
});

describe('wheel with a pyc: nested pyc normalized, RECORD row rewritten, pip installs it', () => {
  it('RECORD matches every member after normalization; pip install --no-index + import', async (ctx) => {
    if (!haveTool('python3')) return ctx.skip();
    const d = join(tmp.dir, 'pycwheel');
    mkdirSync(d, { recursive: true });
    const make = `
import zipfile, hashlib, base64, py_compile, os, sys
os.makedirs('tinypy', exist_ok=True)
open('tinypy/__init__.py', 'w').write('def f():\\n    return {"a": (1, 2), "b": [3]}\\nX = f()\\n')
py_compile.compile('tinypy/__init__.py', cfile='tinypy/__pycache__/__init__.cpython-311.pyc')
files = {n: open(n, 'rb').read() for n in ['tinypy/__pycache__/__init__.cpython-311.pyc', 'tinypy/__init__.py']}
files['tinypy-1.0.dist-info/METADATA'] = b'Metadata-Version: 2.1\\nName: tinypy\\nVersion: 1.0\\n'
files['tinypy-1.0.dist-info/WHEEL'] = b'Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'
rec = ''.join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()},{len(b)}\\n" for n, b in files.items())
files['tinypy-1.0.dist-info/RECORD'] = (rec + 'tinypy-1.0.dist-info/RECORD,,\\n').encode()
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for n, b in files.items(): z.writestr(n, b)
`;
    const whl = join(d, 'tinypy-1.0-py3-none-any.whl');
    sh('python3', ['-c', make, whl], { cwd: d, env: { PYTHONDONTWRITEBYTECODE: '' } });
    const r = await norm(readFileSync(whl), 'tinypy-1.0-py3-none-any.whl', { timestamp: T });
    expect(r.status).toBe('changed');
    expect(r.changes.some((c) => c.member?.endsWith('.pyc'))).toBe(true);
    const out = join(d, 'out', 'tinypy-1.0-py3-none-any.whl');
    mkdirSync(join(d, 'out'));
    writeFileSync(out, r.output);
    const verify = `
import zipfile, hashlib, base64, csv, io, sys
z = zipfile.ZipFile(sys.argv[1])
rows = list(csv.reader(io.StringIO(z.read('tinypy-1.0.dist-info/RECORD').decode())))
bad = [p for p, h, s in rows if h and (h != 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(z.read(p)).digest()).rstrip(b'=').decode() or int(s) != len(z.read(p)))]
print(len(rows), bad, z.namelist()[-1])
`;
    expect(sh('python3', ['-c', verify, out]).trim()).toBe("5 [] tinypy-1.0.dist-info/RECORD");
    const site = join(d, 'site');
    sh('python3', ['-m', 'pip', 'install', '-q', '--no-index', '--no-deps', '--target', site, out], { env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
    expect(sh('python3', ['-c', 'import tinypy; print(tinypy.X["a"])'], { env: { PYTHONPATH: site } }).trim()).toBe('(1, 2)');
  });
});
