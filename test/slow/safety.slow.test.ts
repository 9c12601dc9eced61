// Issue 13's heavy cases, through the shipped CLI, with the process's peak RSS (main thread and
// workers together). `npm run test:slow`; each failed (or ran out of memory or temp space) on
// the code before the fix: the figures it had are in the comments.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTool, tempDir } from '../helpers.js';
import { detnorm, mountPermitted, withTmpfs } from '../safety-helpers.js';
// @ts-expect-error plain .mjs generators shared with bench/
import { bigTarCompressedFile, bigTarFile, bigTarGzFile, gzipZerosFile, nestedTarZip } from '../../bench/safety-gen.mjs';

const MB = 1024 * 1024;
const RSS_LIMIT = 300 * MB;
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  haveTool('gzip');
  haveTool('tar');
  ({ dir, cleanup } = tempDir('detnorm-slow-'));
});
afterAll(() => cleanup());
const MOUNT = mountPermitted();

describe('memory is bounded by the limits, not by the archive', () => {
  let zip: Uint8Array;
  beforeAll(() => {
    zip = nestedTarZip(150, 8 << 20); // 1.2 MB: 150 members, each an 8 MiB tar to normalize
  });
  for (const jobs of [1, 2]) {
    it(`a zip of 150 x 8 MiB tars that need normalizing, -j${jobs}: peak RSS under 300 MB`, () => {
      // Before: 2.56 GB (every changed member kept until the archive was done).
      const f = join(dir, `nested-j${jobs}.zip`);
      writeFileSync(f, zip);
      const r = detnorm(['-q', '-j', String(jobs), f], { measure: true });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(f).equals(Buffer.from(zip))).toBe(false);
      expect(spawnSync('unzip', ['-tq', f]).status).toBe(0);
      console.log(`nested zip -j${jobs}: peak RSS ${(r.maxRss! / MB).toFixed(0)} MiB`);
      expect(r.maxRss).toBeLessThan(RSS_LIMIT);
      rmSync(f);
    });
  }
  it('1 GiB through stdin: spilled to a file, peak RSS under 300 MB, the same bytes as file mode', () => {
    // Before: 2.16 GB of RSS for 1 GB (4.26 GB measured here); 4.3 GB in: a RangeError.
    const f = join(dir, 'big.tar');
    bigTarFile(f, 16, 64 << 20);
    const out = join(dir, 'out.tar');
    const r = detnorm(['-q', '-o', out, '-'], { measure: true, stdinFile: f });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    console.log(`1 GiB stdin: peak RSS ${(r.maxRss! / MB).toFixed(0)} MiB`);
    expect(r.maxRss).toBeLessThan(RSS_LIMIT);
    expect(detnorm(['-q', f]).status).toBe(0);
    expect(spawnSync('cmp', [f, out]).status).toBe(0);
    rmSync(f);
    rmSync(out);
  });
});

describe('temp disk is bounded', () => {
  it.skipIf(!MOUNT)('a gzip of 4 GiB of zeros with TMPDIR on a 256 MiB tmpfs succeeds, peak RSS under 300 MB', async () => {
    // Before: the payload was spilled whole: ENOSPC on 256 MiB, exit 3 (and 20 GB of temp for 20 GB).
    const f = join(dir, 'zeros.gz');
    gzipZerosFile(f, 4 * 1024 * MB);
    const tmp = join(dir, 'tmp256');
    await withTmpfs(tmp, '256m', () => {
      const r = detnorm(['-q', f], { measure: true, env: { TMPDIR: tmp } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readdirSync(tmp)).toEqual([]);
      console.log(`4 GiB of zeros: peak RSS ${(r.maxRss! / MB).toFixed(0)} MiB`);
      expect(r.maxRss).toBeLessThan(RSS_LIMIT);
    });
    expect(spawnSync('gzip', ['-t', f]).status).toBe(0);
    expect(readFileSync(f).subarray(4, 8).equals(Buffer.alloc(4))).toBe(true); // MTIME 0
    rmSync(f);
  });
  it.skipIf(!MOUNT)('a .tar.gz with one 1 GiB member fits a TMPDIR of 1.25 GiB (payload once, output streamed)', async () => {
    // Before: the payload and the normalized tar were both spilled (2 GiB).
    const f = join(dir, 'big.tar.gz');
    bigTarGzFile(f, 1024 * MB);
    const tmp = join(dir, 'tmp1g');
    await withTmpfs(tmp, '1280m', () => {
      const r = detnorm(['-v', f], { measure: true, env: { TMPDIR: tmp } });
      expect(r.stdout + r.stderr).not.toMatch(/kept as it was|ENOSPC/);
      expect(r.status).toBe(0);
      expect(readdirSync(tmp)).toEqual([]);
      console.log(`1 GiB .tar.gz: peak RSS ${(r.maxRss! / MB).toFixed(0)} MiB`);
    });
    const list = spawnSync('tar', ['tvzf', f, '--numeric-owner'], { encoding: 'utf8' }).stdout;
    expect(list).toMatch(/^-rw-r--r-- 0\/0 +1073741824 1970-01-01 00:00 big\.bin$/m);
    expect(statSync(f).size).toBeGreaterThan(1000 * MB);
    rmSync(f);
  });
});

describe('temp disk is bounded for every compressor (the shared payload mechanism)', () => {
  // Before: the decompressed payload and the normalized tar were both spilled (2x the payload).
  // xz re-encodes at -6 in WebAssembly (about 1 MB/s on a busy machine): a smaller member.
  for (const [ext, tool, cmd, mib, tmpfs] of [
    ['tar.zst', 'zstd', 'zstd -q -1 -T0 -c', 1024, '1280m'],
    ['tar.xz', 'xz', 'xz -0 -T0 -c', 48, '72m'],
  ] as const) {
    it.skipIf(!MOUNT || !haveTool(tool))(`a .${ext} with one ${mib} MiB member fits a TMPDIR of ${tmpfs} (payload once, output streamed)`, async () => {
      const f = join(dir, `big.${ext}`);
      bigTarCompressedFile(f, mib * MB, cmd);
      const tmp = join(dir, `tmp-${ext}`);
      await withTmpfs(tmp, tmpfs, () => {
        const r = detnorm(['-v', f], { measure: true, env: { TMPDIR: tmp } });
        expect(r.stdout + r.stderr).not.toMatch(/kept as it was|ENOSPC/);
        expect(r.status).toBe(0);
        expect(readdirSync(tmp)).toEqual([]);
        console.log(`${mib} MiB .${ext}: peak RSS ${(r.maxRss! / MB).toFixed(0)} MiB`);
        expect(r.maxRss).toBeLessThan(RSS_LIMIT);
      });
      const list = spawnSync('sh', ['-c', `${tool} -dc "$0" | tar tv --numeric-owner -f -`, f], { encoding: 'utf8' }).stdout;
      expect(list).toMatch(new RegExp(`^-rw-r--r-- 0/0 +${mib * MB} 1970-01-01 00:00 big\\.bin$`, 'm'));
      rmSync(f);
    }, 1_800_000);
  }
});

describe('the tree stays clean', () => {
  it('nothing is left in the work directory', () => {
    mkdirSync(join(dir, 'probe'), { recursive: true });
    expect(readdirSync(dir).filter((n) => n.includes('detnorm-'))).toEqual([]);
  });
});
