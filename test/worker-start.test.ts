// Rule 4 (never hangs): a worker thread that cannot start (its module is missing from a
// broken install) fails the run's files with the reason, instead of being respawned forever.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'detnorm-worker-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a worker thread that cannot start', () => {
  it('every file is reported as an error, left untouched, and the run ends (exit 3)', () => {
    cpSync(join(__dirname, '..', 'dist'), join(dir, 'dist'), { recursive: true });
    rmSync(join(dir, 'dist', 'detnorm-worker.mjs'));
    const files = ['a.gz', 'b.gz', 'c.gz'].map((n) => join(dir, n));
    for (const f of files) writeFileSync(f, gzipSync(Buffer.from(`payload of ${f}\n`)));
    const before = files.map((f) => readFileSync(f));
    const r = spawnSync(process.execPath, [join(dir, 'dist', 'cli.mjs'), '-j2', ...files], { encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/the worker thread could not start \(.*detnorm-worker\.mjs.*\); left untouched/);
    expect(r.stderr).toMatch(/3 errors/);
    files.forEach((f, i) => expect(readFileSync(f).equals(before[i]!)).toBe(true));
  });
});
