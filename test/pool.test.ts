// The worker pool (src/pool.ts): every file is worked on in a worker thread, reports come in
// sorted path order whatever the thread count, a file past the per-file deadline is reported and
// left untouched while the run goes on, and the thread count is capped by cores and memory.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTree } from '../src/api.js';
import { HANDLERS } from '../formats/index.js';
import { normalizeFileJob, type FileJob } from '../src/normalize-file.js';
import { defaultOptions } from '../src/options.js';
import { WIRE_FIELDS, WORKER_MEMORY_BYTES, WorkerPool, effectiveJobs, toWireJob, withoutRefusedFlags } from '../src/pool.js';
import { DEFAULT_LIMITS } from '../src/types.js';
import { readLoopHandler } from './loop-handlers.js';
import { arOf, gzipOf, tarOf, wheelOf } from './safety-helpers.js';
import { tempDir } from './helpers.js';

const LOOPS = fileURLToPath(new URL('./loop-handlers.ts', import.meta.url));
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const sorted = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('every file once, in a worker, reports in sorted path order, the same for any -j', () => {
  it('-j1 and -j3 give the same reports, delivered in order', async () => {
    const make = (d: string) => {
      for (let i = 0; i < 40; i++) {
        mkdirSync(join(d, `s${i % 4}`), { recursive: true });
        // Sizes from tiny to 200 KiB: small files go in batches, large ones one by one.
        writeFileSync(join(d, `s${i % 4}`, `f${i}.gz`), gzipOf(Buffer.alloc(((i * 37) % 41) * 5000, i), 6));
      }
    };
    const a = join(dir, 'order-a');
    const b = join(dir, 'order-b');
    make(a);
    make(b);
    const seen: string[] = [];
    const ra = await normalizeTree(a, { jobs: 3, onReport: (r) => seen.push(r.path) });
    const rb = await normalizeTree(b, { jobs: 1 });
    expect(seen).toEqual(ra.reports.map((r) => r.path));
    expect(seen).toEqual(sorted(seen));
    expect(new Set(seen).size).toBe(40);
    expect(ra.summary).toEqual({ files: 40, changed: 40, unchanged: 0, untouched: 0, ignored: 0, errors: 0, touched: 0 });
    expect(JSON.stringify(ra.reports).replaceAll(a, 'X')).toBe(JSON.stringify(rb.reports).replaceAll(b, 'X'));
    for (const f of readdirSync(join(a, 's1'))) expect(readFileSync(join(a, 's1', f)).equals(readFileSync(join(b, 's1', f)))).toBe(true);
  }, 60_000);
});

describe('the per-file deadline: a file that never finishes is an error, left untouched, and the run goes on', () => {
  const spin = Buffer.concat([Buffer.from('SPIN'), Buffer.alloc(100, 1)]);
  const files: Record<string, Uint8Array> = {
    'a.spin': spin,
    'b.gz': gzipOf(tarOf(Buffer.from('hello'))),
    'c.a': arOf([{ name: 'ok.txt', data: Buffer.from('text') }, { name: 'x.spin', data: spin }]),
    'd.whl': wheelOf([{ name: 'pkg/__init__.py', data: Buffer.from('') }, { name: 'pkg/x.spin', data: spin }]),
    'e.rloop': Buffer.from('RLOOP and more'),
    'f.tar': tarOf(Buffer.from('world')),
  };
  const hanging = ['a.spin', 'c.a', 'd.whl', 'e.rloop'];
  for (const jobs of [1, 2]) {
    it(`-j${jobs}: a handler looping with and without I/O, alone, in an .a and in a wheel`, async () => {
      const d = join(dir, `deadline-j${jobs}`);
      mkdirSync(d);
      for (const [n, b] of Object.entries(files)) writeFileSync(join(d, n), b);
      const t0 = performance.now();
      const r = await normalizeTree(d, { jobs, deadlineMs: 1500, handlerModules: [LOOPS] });
      const took = performance.now() - t0;
      const by = Object.fromEntries(r.reports.map((x) => [x.path.slice(d.length + 1), x]));
      for (const n of hanging) {
        expect(by[n]!.status, n).toBe('error');
        expect(by[n]!.reason, n).toMatch(/per-file deadline of 1\.5 s/);
        expect(readFileSync(join(d, n)).equals(Buffer.from(files[n]!)), n).toBe(true);
      }
      expect(by['b.gz']!.status).toBe('changed');
      expect(by['f.tar']!.status).toBe('changed');
      expect(readdirSync(d).sort()).toEqual(Object.keys(files).sort()); // no temp file left
      expect(r.summary.errors).toBe(hanging.length);
      // Each hanging file costs about the deadline (plus a grace and a new worker), not forever.
      expect(took).toBeLessThan(hanging.length * 15_000);
    }, 90_000);
  }
  it('reports held back in a batch when a worker is stopped are not lost: those files run again, each reported once', async () => {
    // Files left as they were (here: not artifacts) report in batches; the 30 text files are
    // worked on first (largest first), then the spinning one, with some of their reports still
    // waiting in the worker when it is terminated. The gzips, after, must still say "changed".
    const d = join(dir, 'batch-deadline');
    mkdirSync(d);
    for (let i = 0; i < 30; i++) writeFileSync(join(d, `p${i}.txt`), `plain text ${i} `.repeat(8));
    writeFileSync(join(d, 'm.spin'), Buffer.concat([Buffer.from('SPIN'), Buffer.alloc(60)]));
    for (let i = 0; i < 10; i++) writeFileSync(join(d, `z${i}.gz`), gzipOf(Buffer.from(`z${i}`), 6));
    const seen: string[] = [];
    const r = await normalizeTree(d, { jobs: 1, deadlineMs: 1000, handlerModules: [LOOPS], onReport: (x) => seen.push(x.path) });
    expect(seen).toEqual(sorted(readdirSync(d).map((n) => join(d, n))));
    const by = Object.fromEntries(r.reports.map((x) => [x.path.slice(d.length + 1), x.status]));
    expect(by['m.spin']).toBe('error');
    for (let i = 0; i < 30; i++) expect(by[`p${i}.txt`]).toBe('ignored');
    for (let i = 0; i < 10; i++) expect(by[`z${i}.gz`]).toBe('changed');
    expect(r.summary).toEqual({ files: 41, changed: 10, unchanged: 0, untouched: 0, ignored: 30, errors: 1, touched: 0 });
  }, 60_000);

  it('on the calling thread (normalizeFile), a handler that reads is stopped by the deadline checks', async () => {
    const p = join(dir, 'inline.rloop');
    writeFileSync(p, files['e.rloop']!);
    const base = defaultOptions({ limits: { ...DEFAULT_LIMITS, deadlineMs: 300 } });
    const options = { ...base, formats: ['readloop', ...base.formats] };
    const r = await normalizeFileJob({ path: p, options }, [readLoopHandler, ...HANDLERS]);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/per-file deadline of 0\.3 s/);
  });
});

describe('-j is capped by cores and by memory', () => {
  it('no more threads than cores', () => expect(effectiveJobs(200, 64 * 2 ** 30, 2)).toBe(2));
  it('no more threads than half the memory holds at WORKER_MEMORY_BYTES each', () => {
    expect(effectiveJobs(200, 4 * WORKER_MEMORY_BYTES, 64)).toBe(2);
    expect(effectiveJobs(8, 1, 8)).toBe(1);
  });
  it('-j200 on a tree of small files uses the capped count', async () => {
    const d = join(dir, 'many');
    mkdirSync(d);
    for (let i = 0; i < 20; i++) writeFileSync(join(d, `f${i}.gz`), gzipOf(Buffer.from(`x${i}`)));
    const r = await normalizeTree(d, { jobs: 200 });
    expect(r.threads).toBe(effectiveJobs(200));
    expect(r.threads).toBeLessThanOrEqual(2 * 64);
    expect(r.summary.changed).toBe(20);
  }, 60_000);
});

describe('a job reaches its worker whole: every field but options, which go once by key', () => {
  it('toWireJob copies each field of FileJob but options, and leaves out the unset ones', () => {
    const options = defaultOptions();
    const full = {
      path: '/t/a.zip',
      options,
      check: true,
      output: '/o/a.zip',
      links: ['/t/b.zip'],
      roots: ['/t'],
      directory: 'oci',
      ident: { dev: '1', ino: '2', btime: '3' },
      parentIdent: { dev: '1', ino: '4' },
      name: 'a.zip',
      reportPath: '-',
    } satisfies Required<FileJob>;
    // Every field of the job above is a FileJob field (the test fails to compile otherwise) and
    // WIRE_FIELDS names them all (src/pool.ts fails to compile otherwise).
    expect(Object.keys(full).filter((k) => k !== 'options').sort()).toEqual([...WIRE_FIELDS].sort());
    const { options: _o, ...rest } = full;
    expect(toWireJob(full, 7)).toEqual({ ...rest, optionsKey: 7 });
    expect(toWireJob({ path: '/t/x', options }, 0)).toEqual({ path: '/t/x', optionsKey: 0 });
  });
});

describe('workers started at once or only when a run lasts (SPAWN_BYTES) change no byte and no report', () => {
  const options = defaultOptions();
  // Bytes that do not compress (an LCG): the files' sizes are their contents' lengths.
  const noise = (n: number, seed: number) => {
    const b = Buffer.alloc(n);
    let x = seed;
    for (let i = 0; i < n; i++) b[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return b;
  };
  // 30 gzip files from tiny to ~300 KiB (larger than a batch of small files), in two directories.
  const make = (d: string): string[] => {
    const files: string[] = [];
    for (let i = 0; i < 30; i++) {
      mkdirSync(join(d, `d${i % 2}`), { recursive: true });
      const f = join(d, `d${i % 2}`, `f${String(i).padStart(2, '0')}.gz`);
      writeFileSync(f, gzipOf(noise(((i * 53) % 61) * 5000 + i, i), 6));
      files.push(f);
    }
    return sorted(files);
  };
  const run = async (name: string, pool: WorkerPool) => {
    const files = make(join(dir, `spawn-${name}`));
    const seen: number[] = [];
    try {
      const reports = await pool.runAll(files.map((path) => ({ path, options })), (_r, i) => seen.push(i), files.map((f) => statSync(f).size));
      expect(seen).toEqual(files.map((_f, i) => i));
      return { reports: JSON.stringify(reports).replaceAll(join(dir, `spawn-${name}`), 'X'), bytes: files.map((f) => readFileSync(f)), started: pool.started };
    } finally {
      await pool.close();
    }
  };
  it('-j1, -j2 with both started at once, -j2 with the second started later, -j3: same bytes and reports, in order', async () => {
    const one = await run('j1', new WorkerPool({ threads: 1, deadlineMs: 0 }));
    const atOnce = await run('j2-now', new WorkerPool({ threads: 2, deadlineMs: 0, spawnBytes: 0 }));
    const later = await run('j2-later', new WorkerPool({ threads: 2, deadlineMs: 0, spawnBytes: Infinity, spawnAfterMs: 0 }));
    // Not capped here (effectiveJobs is api's): three threads even on two cores.
    const three = await run('j3', new WorkerPool({ threads: 3, deadlineMs: 0, spawnBytes: 0 }));
    expect(one.started).toBe(1);
    expect(atOnce.started).toBe(2);
    // Checked from the first job's start on: the first worker holds one large job at a time then, the others wait.
    expect(later.started).toBe(2);
    expect(JSON.parse(one.reports).map((r: { status: string }) => r.status)).toEqual(Array(30).fill('changed'));
    for (const other of [atOnce, later, three]) {
      expect(other.reports).toBe(one.reports);
      other.bytes.forEach((b, i) => expect(b.equals(one.bytes[i]!)).toBe(true));
    }
  }, 60_000);
  it('a run smaller than SPAWN_BYTES that ends before SPAWN_AFTER_MS starts no second worker', async () => {
    const r = await run('small', new WorkerPool({ threads: 2, deadlineMs: 0, spawnAfterMs: 600_000 }));
    expect(r.started).toBe(1);
    expect(JSON.parse(r.reports)).toHaveLength(30);
  }, 60_000);
});

describe('Node flags a worker may not be given (V8 and process-wide ones) are left out, not fatal', () => {
  it('withoutRefusedFlags drops the flags the error names, with a separate value', () => {
    const msg = 'Initiated Worker with invalid execArgv flags: --max-old-space-size=100, --stack-trace-limit';
    expect(withoutRefusedFlags(['--max-old-space-size=100', '--no-warnings', '--stack-trace-limit', '40', '--import', 'x'], msg)).toEqual(['--no-warnings', '--import', 'x']);
    expect(withoutRefusedFlags(['--no-warnings'], msg)).toBeUndefined();
    expect(withoutRefusedFlags(['--no-warnings'], 'no list')).toBeUndefined();
  });
  it('a pool started under `node --max-old-space-size=N --stack-trace-limit=N` runs its jobs', async () => {
    const saved = [...process.execArgv];
    process.execArgv.push('--max-old-space-size=2048', '--stack-trace-limit=20');
    try {
      const d = join(dir, 'v8flags');
      mkdirSync(d);
      writeFileSync(join(d, 'a.gz'), gzipOf(Buffer.from('flags')));
      const r = await normalizeTree(d, { jobs: 1 });
      expect(r.summary.changed).toBe(1);
    } finally {
      process.execArgv.splice(0, process.execArgv.length, ...saved);
    }
  }, 60_000);
});
