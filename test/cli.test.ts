// End to end through the shipped CLI (dist/cli.mjs, the bundle `npm test`'s pretest step builds).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS } from '../formats/index.js';
import { haveTool, run, tempDir } from './helpers.js';

const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;

function detnorm(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Uint8Array; cwd?: string } = {}) {
  const env = { ...process.env, ...opts.env };
  if (!opts.env || !('SOURCE_DATE_EPOCH' in opts.env)) delete env.SOURCE_DATE_EPOCH;
  const r = spawnSync(process.execPath, [CLI, ...args], { env, input: opts.input, cwd: opts.cwd ?? ROOT, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString(), out: r.stdout };
}

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/cli.mjs is missing: run `npm run build` (npm test does it)');
  haveTool('gzip');
  haveTool('ar');
  ({ dir, cleanup } = tempDir('detnorm-cli-'));
});
afterAll(() => cleanup());

let n = 0;
/** A fresh directory with a gzip file that has a name and an mtime in its header. */
function gzFixture(content = 'hello detnorm\n'): { d: string; gz: string } {
  const d = join(dir, `case${n++}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'f.txt'), content);
  run('touch', ['-d', '2020-01-02 03:04:05 UTC', join(d, 'f.txt')]);
  run('gzip', ['-9', join(d, 'f.txt')]);
  return { d, gz: join(d, 'f.txt.gz') };
}
function gzipN(content: string, level = '-9'): Buffer {
  return run('gzip', ['-n', level], { input: Buffer.from(content) });
}

describe('normalizes in place and reports what changed', () => {
  it('a gzip with name and mtime becomes what gzip -n writes', () => {
    const { gz } = gzFixture();
    const r = detnorm(['-v', gz]);
    expect(r.status).toBe(0);
    expect(readFileSync(gz)).toEqual(gzipN('hello detnorm\n'));
    expect(r.stdout).toContain(`${gz}: gzip: normalized`);
    expect(r.stdout).toMatch(/timestamp: /);
    expect(r.stderr).toMatch(/1 file: 1 normalized/);
  });
  it('an already canonical file is not rewritten: same inode, same mtime', () => {
    const { gz } = gzFixture();
    detnorm([gz]);
    const before = statSync(gz);
    const r = detnorm(['-v', gz]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('unchanged');
    const after = statSync(gz);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });
  it('keeps the mode of the file it replaces', () => {
    const { gz } = gzFixture();
    chmodSync(gz, 0o640);
    detnorm([gz]);
    expect(statSync(gz).mode & 0o7777).toBe(0o640);
  });
  it('keeps the owner when running as root', () => {
    if (process.getuid?.() !== 0) return;
    const { gz } = gzFixture();
    chownSync(gz, 1234, 4321);
    detnorm([gz]);
    expect([statSync(gz).uid, statSync(gz).gid]).toEqual([1234, 4321]);
  });
  it('rewrites a hard-linked file once, and every link sees the new bytes', () => {
    const { d, gz } = gzFixture();
    linkSync(gz, join(d, 'other.gz'));
    const r = detnorm(['--json', d]);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs).toHaveLength(1);
    expect(recs[0].links).toEqual([join(d, 'other.gz')]);
    expect(readFileSync(join(d, 'other.gz'))).toEqual(gzipN('hello detnorm\n'));
    expect(statSync(gz).ino).toBe(statSync(join(d, 'other.gz')).ino);
  });
});

describe('exit codes (DESIGN.md section 5)', () => {
  it('--check changes nothing and exits 1 when something would change', () => {
    const { gz } = gzFixture();
    const before = readFileSync(gz);
    const st = statSync(gz);
    const r = detnorm(['--check', gz]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('would change');
    expect(readFileSync(gz)).toEqual(before);
    expect(statSync(gz).mtimeMs).toBe(st.mtimeMs);
    detnorm([gz]);
    expect(detnorm(['--check', gz]).status).toBe(0);
  });
  it.each([
    [['-T', 'yesterday']],
    [['-T', '-5']],
    [['--clamp']],
    [['--formats', '+nosuchformat']],
    [['--map-path', 'noequals']],
    [['-j', '0']],
    [['--bogus']],
    [[]],
  ])('usage error %j: exit 2, nothing touched', (args) => {
    const { gz } = gzFixture();
    const before = readFileSync(gz);
    const r = detnorm([...args, ...(args.length ? [gz] : [])]);
    expect(r.status).toBe(2);
    expect(readFileSync(gz)).toEqual(before);
  });
  it('a malformed SOURCE_DATE_EPOCH is a usage error; -T wins over a valid one', () => {
    const { gz } = gzFixture();
    const before = readFileSync(gz);
    expect(detnorm([gz], { env: { SOURCE_DATE_EPOCH: '12abc' } }).status).toBe(2);
    expect(readFileSync(gz)).toEqual(before);
    expect(detnorm(['-T', '5', gz], { env: { SOURCE_DATE_EPOCH: '12abc' } }).status).toBe(0);
  });
  it('-o needs exactly one input', () => {
    const { gz } = gzFixture();
    expect(detnorm(['-o', join(dir, 'x'), gz, gz]).status).toBe(2);
  });
});

describe('bad input never loses data: left byte-identical, one line each, exit 3, the rest done', () => {
  it('truncated, zero-length, wrong magic and huge declared sizes', () => {
    const { d, gz } = gzFixture('good file\n');
    const full = gzipN('x'.repeat(5000));
    const bad: Record<string, Buffer> = {
      'truncated.gz': full.subarray(0, full.length - 9),
      'wrongmagic.gz': Buffer.from('this is not gzip at all'),
      'huge.a': Buffer.from('!<arch>\n' + 'member.o/       0           0     0     644     9999999999`\n' + 'abc'),
      'truncated.a': Buffer.from('!<arch>\nmember.o/       0           0'),
    };
    for (const [name, bytes] of Object.entries(bad)) writeFileSync(join(d, name), bytes);
    const r = detnorm([d]);
    expect(r.status).toBe(3);
    for (const [name, bytes] of Object.entries(bad)) {
      expect(readFileSync(join(d, name)), name).toEqual(bytes);
      const lines = r.stderr.split('\n').filter((l) => l.includes(`${join(d, name)}:`));
      expect(lines, `${name}: ${r.stderr}`).toHaveLength(1);
      expect(lines[0]).toMatch(/^detnorm: .+: (gzip|ar): .+/);
    }
    expect(readFileSync(gz)).toEqual(gzipN('good file\n'));
    expect(readdirSync(d).filter((f) => f.includes('.detnorm-'))).toEqual([]);
  });
});

describe('-o and stdin/stdout', () => {
  it('-o writes the result elsewhere and leaves the input alone', () => {
    const { d, gz } = gzFixture();
    const before = readFileSync(gz);
    const out = join(d, 'out.gz');
    expect(detnorm(['-o', out, gz]).status).toBe(0);
    expect(readFileSync(gz)).toEqual(before);
    expect(readFileSync(out)).toEqual(gzipN('hello detnorm\n'));
  });
  it('-o of an already canonical file copies it', () => {
    const d = join(dir, `o${n++}`);
    mkdirSync(d);
    writeFileSync(join(d, 'in.gz'), gzipN('x'));
    expect(detnorm(['-o', join(d, 'out.gz'), join(d, 'in.gz')]).status).toBe(0);
    expect(readFileSync(join(d, 'out.gz'))).toEqual(gzipN('x'));
  });
  it('- reads stdin and writes stdout; reports go to stderr', () => {
    const { gz } = gzFixture();
    const r = detnorm(['-v', '-'], { input: readFileSync(gz) });
    expect(r.status).toBe(0);
    expect(r.out).toEqual(gzipN('hello detnorm\n'));
    expect(r.stderr).toContain('-: gzip: normalized');
  });
  it('- passes an unknown format through unchanged', () => {
    const r = detnorm(['-'], { input: Buffer.from('plain text\n') });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('plain text\n');
  });
  it('- with a bad file: exit 3, the input bytes on stdout', () => {
    const r = detnorm(['--stdin-name', 'x.gz', '-'], { input: Buffer.from('not gzip') });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('not gzip');
  });
});

describe('--json: one record per file, in sorted path order', () => {
  it('records path, format, changed, what changed and error', () => {
    const { d } = gzFixture();
    writeFileSync(join(d, 'a.txt'), 'plain');
    writeFileSync(join(d, 'bad.gz'), 'nope');
    const r = detnorm(['--json', d]);
    const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.map((x) => x.path)).toEqual([join(d, 'a.txt'), join(d, 'bad.gz'), join(d, 'f.txt.gz')]);
    expect(recs[0]).toMatchObject({ format: null, status: 'ignored', changed: false, error: null });
    expect(recs[1]).toMatchObject({ format: 'gzip', status: 'error', changed: false });
    expect(recs[1].error).toBeTruthy();
    expect(recs[2]).toMatchObject({ format: 'gzip', status: 'changed', changed: true, error: null });
    expect(recs[2].kinds).toContain('timestamp');
  });
});

describe('no progress bar on a non-TTY', () => {
  it('stderr holds no terminal control sequences', () => {
    const { d } = gzFixture();
    const r = detnorm([d]);
    expect(r.stderr).not.toMatch(/\x1b\[/);
  });
});

describe('-j1 and -jN give identical outputs and reports on a tree of 1,000 files', () => {
  it('same bytes, same report', () => {
    const base = join(dir, 'many');
    for (let i = 0; i < 1000; i++) {
      const sub = join(base, `d${i % 10}`);
      mkdirSync(sub, { recursive: true });
      const name = join(sub, `f${i}`);
      if (i % 3 === 0) writeFileSync(name + '.txt', `plain ${i}\n`);
      else writeFileSync(name + '.gz', gzipN(`file ${i}\n`.repeat(i % 50), i % 2 ? '-1' : '-9'));
    }
    // Give each gz a header with name and time (not canonical) by rewriting the header bytes.
    for (const sub of readdirSync(base)) {
      for (const f of readdirSync(join(base, sub))) {
        if (!f.endsWith('.gz')) continue;
        const p = join(base, sub, f);
        const b = readFileSync(p);
        b.writeUInt32LE(1600000000 + f.length, 4);
        b[9] = 0; // OS: FAT
        writeFileSync(p, b);
      }
    }
    const a = join(dir, 'many-j1');
    const b = join(dir, 'many-j2');
    run('cp', ['-a', base, a]);
    run('cp', ['-a', base, b]);
    const r1 = detnorm(['--json', '-j', '1', a]);
    const r2 = detnorm(['--json', '-j', '2', b]);
    expect(r1.status).toBe(0);
    expect(r2.status).toBe(0);
    expect(r2.stdout.replaceAll(b, 'X')).toBe(r1.stdout.replaceAll(a, 'X'));
    expect(r1.stdout.split('\n').filter((l) => l.includes('"changed":true'))).toHaveLength(666);
    expect(run('sh', ['-c', `cd ${a} && find . -type f | sort | xargs sha256sum`]).toString()).toBe(
      run('sh', ['-c', `cd ${b} && find . -type f | sort | xargs sha256sum`]).toString(),
    );
  });
});

describe('kill -9 in the middle of a large run leaves every file old or new, never partial', () => {
  it('then a second run finishes the job and removes the leftovers', async () => {
    const base = join(dir, 'killme');
    mkdirSync(base);
    const expected = new Map<string, Buffer>();
    const original = new Map<string, Buffer>();
    // Enough work that the run is still going when killed: 80 files of ~3 MB of text.
    for (let i = 0; i < 80; i++) {
      const content = `line ${i} `.repeat(300000);
      const p = join(base, `big${i}.gz`);
      const b = gzipN(content, '-1');
      b.writeUInt32LE(1500000000 + i, 4);
      writeFileSync(p, b);
      original.set(p, b);
      const e = Buffer.from(b);
      e.writeUInt32LE(0, 4);
      expected.set(p, e);
    }
    // One job, so files are done one after another; kill as soon as the first one is new.
    const child = spawn(process.execPath, [CLI, '-q', '-j', '1', base], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    const replaced = () => [...expected.keys()].some((p) => readFileSync(p).readUInt32LE(4) === 0);
    const deadline = Date.now() + 60_000;
    while (child.exitCode === null && !replaced() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;
    let done = 0;
    for (const [p, old] of original) {
      const now = readFileSync(p);
      const isOld = now.equals(old);
      const isNew = now.equals(expected.get(p)!);
      expect(isOld || isNew, `${p} is neither old nor new`).toBe(true);
      if (isNew) done++;
    }
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(80); // it was really interrupted
    const r = detnorm(['-q', base]);
    expect(r.status).toBe(0);
    for (const [p, e] of expected) expect(readFileSync(p).equals(e)).toBe(true);
    expect(readdirSync(base).filter((f) => f.includes('.detnorm-'))).toEqual([]);
  });
});

describe('-o reads a symlinked input (sandboxed build actions see inputs as symlinks)', () => {
  it('follows the input link, writes the output, leaves link and target alone', () => {
    const { d, gz } = gzFixture();
    const before = readFileSync(gz);
    symlinkSync(gz, join(d, 'link.gz'));
    const r = detnorm(['-o', join(d, 'out.gz'), join(d, 'link.gz')]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(d, 'out.gz'))).toEqual(gzipN('hello detnorm\n'));
    expect(readFileSync(gz)).toEqual(before);
  });
});

describe('symlinks named on the command line are followed (find -H, cp -H); those met in the walk never', () => {
  it('in place, through a link to a file: the target is normalized, the link stays a link, the report names the link', () => {
    const { d, gz } = gzFixture();
    symlinkSync(gz, join(d, 'link2.gz'));
    const r = detnorm(['-v', join(d, 'link2.gz')]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(gz)).toEqual(gzipN('hello detnorm\n'));
    expect(lstatSync(join(d, 'link2.gz')).isSymbolicLink()).toBe(true);
    expect(r.stdout).toContain(`${join(d, 'link2.gz')}: gzip: normalized`);
  });
  it('--check through a link to a directory (bazel-bin) checks what is under it; a link inside is not followed', () => {
    const { d, gz } = gzFixture();
    const outside = gzFixture('elsewhere\n');
    symlinkSync(outside.gz, join(d, 'inner-link.gz'));
    const bin = join(dir, `bazel-bin-${n++}`);
    symlinkSync(d, bin);
    const before = readFileSync(outside.gz);
    const r = detnorm(['--check', bin]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(`${join(bin, 'f.txt.gz')}: gzip: would change`);
    expect(r.stderr).toMatch(/1 file: 1 would change/);
    detnorm([bin]);
    expect(readFileSync(gz)).toEqual(gzipN('hello detnorm\n'));
    expect(readFileSync(outside.gz)).toEqual(before);
    expect(detnorm(['--check', bin]).status).toBe(0);
  });
  it('a dangling link named on the command line: an error with its reason, exit 3', () => {
    const d = join(dir, `dangling${n++}`);
    mkdirSync(d);
    symlinkSync(join(d, 'nowhere.gz'), join(d, 'dangling.gz'));
    const r = detnorm([join(d, 'dangling.gz')]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`detnorm: ${join(d, 'dangling.gz')}: symbolic link to a missing file`);
  });
  it('--check that finds no file at all says so and exits 2 (an empty directory, or one of symlinks only)', () => {
    const empty = join(dir, `empty${n++}`);
    mkdirSync(empty);
    let r = detnorm(['--check', empty]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`detnorm: nothing to check under ${empty}: no regular file found`);
    const { gz } = gzFixture();
    symlinkSync(gz, join(empty, 'only-a-link.gz'));
    r = detnorm(['--check', empty]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('nothing to check');
    // Without --check an empty tree is no error: there was nothing to do.
    expect(detnorm([empty]).status).toBe(0);
  });
  it('detnorm diff linkA linkB compares the targets; diff of two empty trees says so and exits 2', () => {
    const a = gzFixture('same\n');
    const b = join(dir, `plain${n++}.gz`);
    writeFileSync(b, gzipN('same\n'));
    const la = join(dir, `linkA${n++}.gz`);
    const lb = join(dir, `linkB${n++}.gz`);
    symlinkSync(a.gz, la);
    symlinkSync(b, lb);
    let r = detnorm(['diff', la, lb]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/identical after normalization \(gzip\)/);
    const ea = join(dir, `emptyA${n++}`);
    const eb = join(dir, `emptyB${n++}`);
    mkdirSync(ea);
    mkdirSync(eb);
    r = detnorm(['diff', ea, eb]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`detnorm diff: nothing to compare: no files under ${ea} or ${eb}`);
  });
});

describe('CLI words', () => {
  it('unknown options are reported with the detnorm: prefix', () => {
    let r = detnorm(['--bogus', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("detnorm: unknown option '--bogus'");
    r = detnorm(['diff', '--bogus', 'a', 'b']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("detnorm diff: unknown option '--bogus'");
  });
  it('--help shows every format of the registry and the diff usage', () => {
    const r = detnorm(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: detnorm \[options\] <path\.\.\.>\n +detnorm \[options\] - < IN > OUT\n +detnorm diff \[options\] A B/);
    const section = r.stdout.slice(r.stdout.indexOf('\nFormats'));
    for (const h of HANDLERS) expect(section, h.name).toMatch(new RegExp(`^  ${h.name} +${h.description.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  });
  it('the summary counts in words: 1 not an artifact, 2 not artifacts', () => {
    const d = join(dir, `words${n++}`);
    mkdirSync(d);
    writeFileSync(join(d, 'a.txt'), 'a');
    expect(detnorm([d]).stderr).toMatch(/detnorm: 1 file: 0 normalized, 0 already canonical, 1 not an artifact, 0 errors/);
    writeFileSync(join(d, 'b.txt'), 'b');
    expect(detnorm([d]).stderr).toMatch(/detnorm: 2 files: 0 normalized, 0 already canonical, 2 not artifacts, 0 errors/);
  });
  it('empty placeholder files (.jar, .gz, .tar) are not artifacts, not errors', () => {
    const d = join(dir, `empty-placeholders${n++}`);
    mkdirSync(d);
    for (const f of ['app.jar', 'notes.gz', 'x.tar']) writeFileSync(join(d, f), '');
    const r = detnorm(['-v', d]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${join(d, 'app.jar')}: -: not an artifact (empty file)`);
    expect(r.stderr).toMatch(/3 files: 0 normalized, 0 already canonical, 3 not artifacts, 0 errors/);
    for (const f of ['app.jar', 'notes.gz', 'x.tar']) expect(statSync(join(d, f)).size).toBe(0);
    expect(detnorm(['--stdin-name', 'x.jar', '-'], { input: Buffer.alloc(0) }).status).toBe(0);
  });
  it.runIf(haveTool('python3'))('the summary counts the .py files whose mtime was set to match their pyc', () => {
    const d = join(dir, `pyc${n++}`);
    mkdirSync(join(d, 'pkg'), { recursive: true });
    writeFileSync(join(d, 'pkg/a.py'), 'A = 1\n');
    writeFileSync(join(d, 'pkg/b.py'), 'B = 2\n');
    run('python3', ['-m', 'compileall', '-q', join(d, 'pkg')]);
    let r = detnorm(['--check', '-T', '1700000000', d]);
    expect(r.stderr).toMatch(/4 files: 2 would change, 0 already canonical, 2 not artifacts, would set the mtime of 2 pyc sources, 0 errors/);
    r = detnorm(['-T', '1700000000', d]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/4 files: 2 normalized, 0 already canonical, 2 not artifacts, set the mtime of 2 pyc sources, 0 errors/);
    expect(statSync(join(d, 'pkg/a.py')).mtimeMs).toBe(1700000000_000);
    expect(detnorm(['-T', '1700000000', d]).stderr).toMatch(/4 files: 0 normalized, 2 already canonical, 2 not artifacts, 0 errors/);
  });
  it('README\'s --json example is what detnorm prints for the jar it names', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const at = readme.indexOf('`--json` prints one record per file');
    const block = /```json\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
    const d = join(dir, `readme${n++}`);
    mkdirSync(join(d, 'dist'), { recursive: true });
    writeFileSync(join(d, 'dist/app.jar'), readFileSync(join(ROOT, 'corpus/zip/jar-cf.jar')));
    const r = detnorm(['--json', 'dist/app.jar'], { cwd: d });
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(block.replace(/\n\s*/g, '')));
  });
});

describe.runIf(haveTool('script'))('detnorm - refuses to write binary data to a terminal, as gzip does', () => {
  const onTty = (args: string, input: string) => spawnSync('script', ['-qec', `${process.execPath} ${CLI} ${args} < ${input}`, '/dev/null'], { encoding: 'latin1' });
  it('without -f: exit 2, a message, and no data on the terminal; with -f, or redirected, it writes', () => {
    const { gz } = gzFixture();
    let r = onTty('-', gz);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('detnorm: not writing binary data to a terminal: redirect stdout (detnorm - < IN > OUT), or use -f to force');
    expect(r.stdout).not.toContain('\x1f\x8b');
    r = onTty('-f -', gz);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\x1f\x8b');
    r = onTty('--check -', gz);
    expect(r.status).toBe(1);
    expect(detnorm(['-'], { input: readFileSync(gz) }).status).toBe(0);
  });
});
