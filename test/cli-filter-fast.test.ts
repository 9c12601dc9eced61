// The filter fast path (start-up, issue 20): `detnorm [simple options] - < IN > OUT` runs
// src/filter-main.ts (no commander, no tree or pool modules). It parses only what it parses
// exactly as commander does and hands anything else to the full command line; either way the
// output bytes, the report text and the exit status are the full path's.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFilterArgs } from '../src/filter-main.js';

const ROOT = new URL('..', import.meta.url).pathname;
/** The shipped command: src/bin.ts, which takes the fast path for these arguments. */
const FAST = `${ROOT}dist/cli.mjs`;
/** The full command line (src/cli.ts run as the program: commander, main(), runStdin). */
const FULL = `${ROOT}lib/src/cli.js`;

function run(cli: string, args: string[], input: Uint8Array, env: Record<string, string> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('SOURCE_DATE_EPOCH' in env)) delete e.SOURCE_DATE_EPOCH;
  const r = spawnSync(process.execPath, [cli, ...args], { input, env: e, maxBuffer: 1 << 26, timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr.toString() };
}

function same(args: string[], file: string, env: Record<string, string> = {}) {
  const input = readFileSync(`${ROOT}${file}`);
  const fast = run(FAST, args, input, env);
  const full = run(FULL, args, input, env);
  expect(fast.err, `${file} ${args.join(' ')}`).toBe(full.err);
  expect(fast.status, fast.err).toBe(full.status);
  expect(Buffer.compare(fast.out, full.out), `${file} ${args.join(' ')}: stdout differs`).toBe(0);
  return fast;
}

describe('parseFilterArgs takes only what it parses as commander does; anything else goes to the full CLI', () => {
  it('accepts the simple options, with their values parsed by the CLI\'s own parsers', () => {
    expect(parseFilterArgs(['-'])).toEqual({ jobs: 1, progress: true });
    expect(parseFilterArgs(['-q', '-T', '1700000000', '--clamp', '-'])).toEqual({ jobs: 1, progress: true, quiet: true, timestamp: 1700000000, clamp: true });
    expect(parseFilterArgs(['-', '--timestamp=5', '--deadline', '1.5', '--map-path', '/a=/b', '--map-path=/c=/d'])).toEqual({
      jobs: 1,
      progress: true,
      timestamp: 5,
      deadline: 1500,
      mapPath: ['/a=/b', '/c=/d'],
    });
    expect(parseFilterArgs(['--pe-timestamp', 'T', '--oci-owners', 'zero', '--keep-layers', '2', '--no-progress', '-j', '3', '-'])).toEqual({
      jobs: 3,
      progress: false,
      peTimestamp: 'T',
      ociOwners: 'zero',
      keepLayers: 2,
    });
  });
  it.each([
    [[]],
    [['-', '-']],
    [['-', 'x.zip']],
    [['-o', 'out.zip', '-']],
    [['-qv', '-']],
    [['-q', '-q', '-']],
    [['-T', '1', '-T', '2', '-']],
    [['-T', 'soon', '-']],
    [['-T', '-']],
    [['-T']],
    [['--deadline', '-1', '-']],
    [['--pe-timestamp', 'x', '-']],
    [['--map-path', 'nothing', '-']],
    [['--stdin-name', '-', '-']],
    [['--stdin-name', '@args', '-']],
    [['@args', '-']],
    [['--flagfile=args', '-']],
    [['--', '-']],
    [['--help', '-']],
    [['-V', '-']],
    [['--list-formats', '-']],
    [['--persistent_worker', '-']],
    [['--clamp=yes', '-']],
  ])('%j: not taken', (args) => {
    expect(parseFilterArgs(args)).toBeUndefined();
  });
});

describe('the fast path gives the full path\'s bytes, report and exit status', () => {
  it.each([
    [[], 'corpus/zip/jar-cf.jar'],
    [['-T', '1700000000'], 'corpus/zip/tinypkg-1.0-py3-none-any.whl'],
    [['-T', '1700000000', '--clamp', '-v'], 'corpus/ar/unsorted.a'],
    [['--sort-ar-members', '--json'], 'corpus/ar/unsorted.a'],
    [['--check'], 'corpus/tar/gnu-mixed.tar'],
    [['--check', '--json'], 'corpus/tar/gnu-canonical.tar'],
    [['-q', '--deadline', '0'], 'corpus/gzip/name-mtime.txt.gz'],
    [['--map-path', '/build=/src', '--map-path=/x=/y'], 'corpus/pyc/legacy36.pyc'],
    [['--pyc-sort-sets', '--pyc-invalidation', 'checked-hash'], 'corpus/pyc/refcount.cpython-311.pyc'],
    [['--pe-timestamp', 'T', '-T', '5', '-j', '2', '--no-progress'], 'corpus/pe/brepro.exe'],
    [['--oci-owners', 'zero', '--keep-layers', '1'], 'corpus/oci/keep-first-layer.tar'],
    [['--formats', '-zip', '-v'], 'corpus/zip/infozip.zip'],
    [['--stdin-name', 'x.jar'], 'corpus/zip/python.zip'],
    [['-v'], 'corpus/ar/truncated.a'],
    [['--json'], 'corpus/ar/truncated.a'],
    [['-v'], 'corpus/zip/README.md'],
  ])('%j %s', (args, file) => {
    same([...args, '-'], file);
  });
  it('SOURCE_DATE_EPOCH is T, as on the full path', () => {
    same(['-'], 'corpus/zip/infozip.zip', { SOURCE_DATE_EPOCH: '1700000000' });
  });
  it.each([
    [['--clamp', '-'], {}],
    [['--formats', 'nosuch', '-'], {}],
    [['-'], { SOURCE_DATE_EPOCH: 'yesterday' }],
    [['-T', '9999999999999', '-'], {}],
  ])('a usage error: %j %j: same message, exit 2, nothing on stdout', (args, env) => {
    const r = same(args, 'corpus/zip/jar-cf.jar', env);
    expect(r.status).toBe(2);
    expect(r.out.length).toBe(0);
  });
  it('arguments it does not take reach the full CLI (commander\'s error, exit 2)', () => {
    const r = same(['-T', 'soon', '-'], 'corpus/zip/jar-cf.jar');
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/timestamp/);
  });
});

const BIG = 'corpus/peers/add-determinism/libHSbase-compat-batteries-0.12.3-EvvecFThiaEAGWq5U5Tpi9.a';

/** The fast path with stdin written in two pieces, 300 ms apart, and stdout read only after 300 ms. */
function slowPipes(args: string[], input: Buffer): Promise<{ status: number | null; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [FAST, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.pause();
    setTimeout(() => {
      p.stdout.on('data', (c: Buffer) => out.push(c));
      p.stdout.resume();
    }, 600);
    p.stderr.on('data', (c: Buffer) => err.push(c));
    p.stdin.write(input.subarray(0, 1000));
    setTimeout(() => p.stdin.end(input.subarray(1000)), 300);
    p.on('close', (status) => resolve({ status, out: Buffer.concat(out), err: Buffer.concat(err).toString() }));
  });
}

describe('stdin and stdout as pipes that make the reader or the writer wait (read and written without streams until then)', () => {
  it('stdin arriving in pieces, a result larger than the pipe read late: the full path\'s bytes', async () => {
    const input = readFileSync(`${ROOT}${BIG}`);
    const r = await slowPipes(['-v', '-'], input);
    const full = run(FULL, ['-v', '-'], input);
    expect(r.err).toBe(full.err);
    expect(r.status).toBe(full.status);
    expect(r.out.length).toBeGreaterThan(1 << 17);
    expect(Buffer.compare(r.out, full.out)).toBe(0);
  });
  it('stdout closed early (| head -c): exit 0, no stack trace', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${FAST}" -q - < "${ROOT}${BIG}" | head -c 10 > /dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('0');
    expect(r.stderr).toBe('');
  });
});

/** The sources bundled into a chunk (esbuild's "// path" lines). */
function sourcesOf(chunk: string): string[] {
  return [...chunk.matchAll(/^\/\/ ((?:src|formats|node_modules)\/\S+)$/gm)].map((m) => m[1]!);
}
/** The chunks a dist file imports: statically (loaded with it), or also by import(). */
function importsOf(chunk: string, dynamic: boolean): string[] {
  const re = dynamic ? /(?:from|import\()\s*"\.\/([^"]+\.mjs)"/g : /from\s*"\.\/([^"]+\.mjs)"/g;
  return [...chunk.matchAll(re)].map((m) => m[1]!);
}

const DIST = `${ROOT}dist/`;
/** The sources of every chunk `first` loads, following static imports, or all imports. */
function closure(first: string, dynamic: boolean): string[] {
  const seen = new Set<string>();
  const todo = [first];
  const sources: string[] = [];
  while (todo.length) {
    const c = todo.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    const text = readFileSync(`${DIST}${c}`, 'utf8');
    sources.push(...sourcesOf(text));
    todo.push(...importsOf(text, dynamic));
  }
  return sources;
}

describe('the fast path loads neither commander, the progress bar, nor the tree, pool, diff and execlog modules', () => {
  const entry = readFileSync(`${DIST}cli.mjs`, 'utf8');
  const filterMain = importsOf(entry, true).find((c) => c.startsWith('filter-main-'));
  const banned = (s: string) => /^(node_modules\/(commander|cli-progress)\/|src\/(pool|api|cli|diff|progress|worker)\.ts$|src\/execlog\/|src\/bazel-worker\/)/.test(s);
  it('dist/cli.mjs loads nothing before it knows which path it takes', () => {
    expect(filterMain, 'dist/cli.mjs imports a filter-main chunk').toBeDefined();
    expect(sourcesOf(entry)).toEqual(['src/bin.ts']);
    expect(importsOf(entry, false)).toEqual([]);
  });
  it('what filter-main loads with it (before a format is met): none of them, nor the tree walk', () => {
    const sources = closure(filterMain!, false);
    expect(sources).toContain('src/filter-main.ts');
    expect(sources).toContain('src/engine.ts');
    expect(sources.filter((s) => banned(s) || s === 'src/walk.ts')).toEqual([]);
  });
  it('what it may load later (each format\'s chunks, as files of it are met): none of them', () => {
    const sources = closure(filterMain!, true);
    expect(sources).toContain('formats/zip/index.ts');
    expect(sources.filter(banned)).toEqual([]);
  });
});
