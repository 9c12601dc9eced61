// Issue 13's safety rules, one describe per rule (the per-file deadline, rule 1, is in
// pool.test.ts; the heavy cases, 1 GiB through stdin and a gzip of 4 GiB of zeros, in
// test/slow/). Each test fails on the code before the fix: the comment says how.
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLERS } from '../formats/index.js';
import { MemorySpill, normalizeBytes } from '../src/engine.js';
import { BufferSink, BufferSource, readAll } from '../src/io.js';
import { normalizeFileJob } from '../src/normalize-file.js';
import { defaultOptions } from '../src/options.js';
import { ownerTag } from '../src/ownership.js';
import type { Handler, Source, SpillSink } from '../src/types.js';
import { fakeHandler } from './fake-handler.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { deadPid, detnorm, detnormAsync, gzipOf, mountPermitted, tarOf, withTmpfs, zipOf } from './safety-helpers.js';
// @ts-expect-error plain .mjs generator shared with bench/
import { zip42 } from '../bench/safety-gen.mjs';

let dir: string;
let cleanup: () => void;
let n = 0;
beforeAll(() => {
  haveTool('gzip');
  ({ dir, cleanup } = tempDir('detnorm-safety-'));
});
afterAll(() => cleanup());
const fresh = (name = 'case') => {
  const d = join(dir, `${name}-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const MOUNT = mountPermitted();

/** Spills that count the bytes they hold and never lose the count when released. */
class Ledger {
  live = 0;
  peak = 0;
  written = 0;
  spills = 0;
  make = (): SpillSink => {
    const self = this;
    const mem = new BufferSink();
    let released = false;
    let held = 0;
    self.spills++;
    const release = () => {
      if (released) return;
      released = true;
      self.live -= held;
    };
    return {
      get length() {
        return mem.length;
      },
      async write(c: Uint8Array) {
        await mem.write(c);
        held += c.length;
        self.written += c.length;
        self.live += c.length;
        self.peak = Math.max(self.peak, self.live);
      },
      async close(): Promise<Source> {
        const src = new BufferSource(mem.bytes());
        return { size: src.size, read: (o, l) => src.read(o, l), readInto: (o, t) => src.readInto(o, t), release };
      },
      release,
    };
  };
}

/** A tar member of text that always needs normalizing (uid, mtime). */
const tarWith = (bytes: number, fill = 7) => tarOf(Buffer.alloc(bytes, fill));

describe('3. memory is bounded by the limits, not by the archive: each member is written as soon as it is final', () => {
  it('a zip of 24 changed 2 MiB tars holds the spills of about one member at a time', async () => {
    // Before: every changed member's inflated input, normalized output and recompressed data
    // were kept until the archive was done (peak = all 24 members, ~100 MiB here).
    const tar = tarWith(2 << 20);
    const zip = zipOf(Array.from({ length: 24 }, (_, i) => ({ name: `t${i}.tar`, data: tar })));
    const ledger = new Ledger();
    const r = await normalizeBytes(zip, 'nested.zip', defaultOptions(), HANDLERS, ledger.make);
    expect(r.status).toBe('changed');
    expect(ledger.written).toBeGreaterThan(24 * tar.length);
    expect(ledger.peak).toBeLessThan(3 * tar.length);
    expect(ledger.live).toBe(0);
  });
  it('a 42.zip-style file (16 KiB: 4 levels of 16 zips over 1 MiB leaves) fails on the decompression budget, holding one branch at a time', async () => {
    // Before: every nested zip's spills were kept until the top-level file was done, and the
    // whole tree of 4,368 nested zips was worked through (the 9 KiB one reached 1.8 GB).
    const bomb: Uint8Array = zip42(4, 16, 1 << 20);
    expect(bomb.length).toBeLessThan(32 * 1024);
    const ledger = new Ledger();
    const r = await normalizeBytes(bomb, '42.zip', defaultOptions(), HANDLERS, ledger.make);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/decompression budget exceeded/);
    expect(Buffer.from(r.output).equals(Buffer.from(bomb))).toBe(true);
    expect(ledger.peak).toBeLessThan(1 << 20);
  }, 120_000);
});

describe('4. temp disk is bounded: a payload is kept only when a handler may change it, and never left behind', () => {
  it('a gzip of 64 MiB of zeros is rewritten without any temp space (TMPDIR unusable)', () => {
    // Before: the 64 MiB payload was spilled to $TMPDIR whole, and failed without one.
    const d = fresh('zeros');
    const f = join(d, 'zeros.gz');
    writeFileSync(f, gzipOf(Buffer.alloc(64 << 20), 6));
    const r = detnorm(['-q', f], { env: { TMPDIR: join(d, 'no-such-dir') } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(spawnSync('gzip', ['-t', f]).status).toBe(0);
    expect(readFileSync(f).subarray(0, 10).equals(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]))).toBe(true);
  });
  it('a gzip of a gzip of zeros (a few KB that decompress to 256 MiB) is stopped by the decompression budget', async () => {
    // limits.maxRatio used to be checked per deflate stream, where it can never fire (~1032:1 at most).
    const inner = gzipOf(Buffer.alloc(256 << 20), 9);
    const outer = gzipOf(inner, 9);
    expect(outer.length).toBeLessThan(64 * 1024);
    const t0 = performance.now();
    const r = await norm(outer, 'bomb.gz.gz');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/decompression budget exceeded .*more than 2000 times the file's size/);
    expect(Buffer.from(r.output).equals(Buffer.from(outer))).toBe(true);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
  it.skipIf(!MOUNT)(`a .tar.gz with a 40 MiB member needs temp space for the payload only, not twice`, async () => {
    // Before: the inflated payload and the normalized tar were both spilled (80 MiB in a 56 MiB
    // TMPDIR: ENOSPC, then "member kept as it was": the tar inside was not normalized).
    const d = fresh('targz');
    const f = join(d, 'big.tar.gz');
    const member = Buffer.alloc(40 << 20);
    for (let i = 0, x = 1; i < member.length; i += 4) member.writeUInt32LE((x = (Math.imul(x, 1103515245) + 12345) >>> 0), i);
    writeFileSync(f, gzipOf(tarOf(member), 1));
    await withTmpfs(join(d, 'tmp'), '56m', () => {
      const r = detnorm(['-v', f], { env: { TMPDIR: join(d, 'tmp') } });
      expect(r.stdout + r.stderr).not.toMatch(/kept as it was|ENOSPC/);
      expect(r.status).toBe(0);
      expect(readdirSync(join(d, 'tmp'))).toEqual([]);
    });
    const tar = spawnSync('tar', ['tvzf', f, '--numeric-owner'], { encoding: 'utf8' }).stdout;
    expect(tar).toMatch(/^-rw-r--r-- 0\/0 +41943040 1970-01-01 00:00 f$/m);
  });
  for (const [tool, ext] of [['xz', 'xz'], ['zstd', 'zst']] as const) {
    it.skipIf(!haveTool(tool))(`a .${ext} of 17 MiB that is no artifact is verified without any temp space (TMPDIR unusable)`, () => {
      // Before (the shared payload mechanism): the payload, over limits.spillBytes (16 MiB), was
      // spilled to $TMPDIR whole. (Zeros would do for gzip; an .xz or .zst of zeros is over
      // limits.maxRatio, refused as a bomb before anything is kept.)
      const d = fresh(`plain-${ext}`);
      const f = join(d, `data.${ext}`);
      const lines: string[] = [];
      let len = 0;
      for (let i = 0, x = 1; len < 17 << 20; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        const line = `${i} ${x.toString(36)} ${(x >>> 7).toString(16)}\n`;
        lines.push(line);
        len += line.length;
      }
      const input = spawnSync(tool, ['-0', '-T1', '-q', '-c'], { input: Buffer.from(lines.join('')), maxBuffer: 1 << 28 }).stdout;
      writeFileSync(f, input);
      const r = detnorm(['-q', f], { env: { TMPDIR: join(d, 'no-such-dir') } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(f).equals(input)).toBe(true);
      // A corrupt copy is still refused: the stream is verified, only not kept.
      const bad = Buffer.from(input);
      bad[bad.length >> 1]! ^= 0x55;
      writeFileSync(f, bad);
      const rb = detnorm(['-q', f], { env: { TMPDIR: join(d, 'no-such-dir') } });
      expect(rb.status).toBe(3);
      expect(rb.stderr).toMatch(new RegExp(`data\\.${ext}: ${tool}: .*(corrupt|checksum)`));
    });
  }
  it.skipIf(!MOUNT || !haveTool('zstd'))('a .tar.zst with a 40 MiB member needs temp space for the payload only, not twice', async () => {
    // Before: the decompressed payload and the normalized tar were both spilled (80 MiB in 56 MiB).
    const d = fresh('tarzst');
    const f = join(d, 'big.tar.zst');
    const member = Buffer.alloc(40 << 20);
    for (let i = 0, x = 1; i < member.length; i += 4) member.writeUInt32LE((x = (Math.imul(x, 1103515245) + 12345) >>> 0), i);
    writeFileSync(f, spawnSync('zstd', ['-1', '-q', '-c'], { input: tarOf(member), maxBuffer: 1 << 28 }).stdout);
    await withTmpfs(join(d, 'tmp'), '56m', () => {
      const r = detnorm(['-v', f], { env: { TMPDIR: join(d, 'tmp') } });
      expect(r.stdout + r.stderr).not.toMatch(/kept as it was|ENOSPC/);
      expect(r.status).toBe(0);
      expect(readdirSync(join(d, 'tmp'))).toEqual([]);
    });
    const tar = spawnSync('sh', ['-c', `zstd -dc "$0" | tar tv --numeric-owner -f -`, f], { encoding: 'utf8' }).stdout;
    expect(tar).toMatch(/^-rw-r--r-- 0\/0 +41943040 1970-01-01 00:00 f$/m);
  });
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal} removes the run's spill directories and temp files, and leaves the file as it was`, async () => {
      // Before: /tmp/detnorm-spill-* directories survived SIGTERM and SIGINT.
      const d = fresh('signal');
      const tmp = join(d, 'tmp');
      mkdirSync(tmp);
      const f = join(d, 'big.tar.gz');
      const bytes = gzipOf(tarWith(48 << 20, 3), 1);
      writeFileSync(f, bytes);
      const child = detnormAsync(['-q', f], { TMPDIR: tmp });
      let stderr = '';
      child.stderr!.on('data', (c) => (stderr += c));
      const exited = new Promise<number | null>((res) => child.on('exit', (c, s) => res(c ?? (s ? -1 : null))));
      for (let i = 0; i < 600 && !readdirSync(tmp).some((x) => x.startsWith('detnorm-spill-')); i++) await new Promise((r) => setTimeout(r, 25));
      expect(readdirSync(tmp).some((x) => x.startsWith('detnorm-spill-'))).toBe(true);
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(stderr).toMatch(new RegExp(`${signal}: stopping`));
      expect(readdirSync(tmp)).toEqual([]);
      expect(readdirSync(d).sort()).toEqual(['big.tar.gz', 'tmp']);
      expect(readFileSync(f).equals(bytes)).toBe(true);
    });
  }
  it("a later writing run reaps spill directories of dead runs on this machine, and no one else's", () => {
    // Before: nothing ever removed them.
    const d = fresh('reap');
    const tmp = join(d, 'tmp');
    mkdirSync(tmp);
    const dead = deadPid();
    const mk = (name: string) => {
      mkdirSync(join(tmp, name));
      writeFileSync(join(tmp, name, 's1'), 'spilled');
      return name;
    };
    const stale = mk(`detnorm-spill-${dead}-${ownerTag(dead)}-0-abcdef`);
    const live = mk(`detnorm-spill-${process.pid}-${ownerTag(process.pid)}-0-abcdef`);
    const foreign = mk(`detnorm-spill-${dead}-0badc0de-0-abcdef`);
    const old = mk('detnorm-spill-Xy12Zq');
    const f = join(d, 'a.gz');
    writeFileSync(f, gzipOf(Buffer.from('x')));
    expect(detnorm(['-q', '--check', f], { env: { TMPDIR: tmp } }).status).toBe(1);
    expect(readdirSync(tmp).sort()).toEqual([stale, live, foreign, old].sort()); // --check removes nothing
    expect(detnorm(['-q', f], { env: { TMPDIR: tmp } }).status).toBe(0);
    expect(readdirSync(tmp).sort()).toEqual([live, foreign, old].sort());
  });
});

/** A spill factory whose writes fail with a system error, as a full or broken disk gives. */
function failingSpill(code: string): () => SpillSink {
  return () => {
    const s = new MemorySpill();
    s.write = async () => {
      throw Object.assign(new Error(`${code}: simulated, write`), { code, errno: -28, syscall: 'write' });
    };
    return s;
  };
}

describe('5. an environmental failure inside a nested member fails the whole file; only the bytes may keep a member as it was', () => {
  const fakeIn = (inner: Uint8Array) => Buffer.concat([Buffer.from('FAKE'), Uint8Array.of(3), inner]);
  for (const code of ['ENOSPC', 'EMFILE', 'ENOMEM', 'EACCES', 'EIO']) {
    it(`${code} while a nested member spills: the file is an error, its bytes untouched`, async () => {
      // Before: "member kept as it was", status changed, exit 0: the output depended on the machine.
      const input = fakeIn(Buffer.concat([Buffer.from('FAKE'), Uint8Array.of(9), Buffer.from('payload')]));
      const r = await normalizeBytes(input, 'x.fake', defaultOptions({ formats: ['fake'] }), [fakeHandler], failingSpill(code));
      expect(r.status).toBe('error');
      expect(r.reason).toContain(`(${code})`);
      expect(Buffer.from(r.output).equals(input)).toBe(true);
    });
  }
  it('a reason in the bytes (a malformed member) still keeps that member as it was, with a notice', async () => {
    const input = fakeIn(Buffer.concat([Buffer.from('FAKE'), Uint8Array.of(0xff)]));
    const r = await normalizeBytes(input, 'x.fake', defaultOptions({ formats: ['fake'] }), [fakeHandler]);
    expect(r.status).toBe('changed');
    expect(r.notices.join('\n')).toMatch(/counter 255 is invalid; member kept as it was/);
  });
  it('a handler that catches the failure and carries on does not hide it', async () => {
    const swallowing: Handler = {
      ...fakeHandler,
      name: 'swallow',
      async normalize(input, output, ctx) {
        const bytes = await readAll(input);
        try {
          await ctx.normalizeMember('inner.fake', new BufferSource(bytes.subarray(5)));
        } catch {
          ctx.notice('inner member could not be checked'); // as .gnu_debuglink does
        }
        await output.write(bytes.subarray(0, 4));
        await output.write(Uint8Array.of(0));
        await output.write(bytes.subarray(5));
        return { status: 'normalized', changes: [] };
      },
    };
    const input = fakeIn(Buffer.concat([Buffer.from('FAKE'), Uint8Array.of(9), Buffer.from('payload')]));
    const r = await normalizeBytes(input, 'x.fake', defaultOptions({ formats: ['swallow', 'fake'] }), [swallowing, fakeHandler], failingSpill('ENOSPC'));
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/ENOSPC/);
  });
  it.skipIf(!MOUNT)(`through the CLI: a zip whose 24 MiB member must spill, with TMPDIR on a 1 MiB tmpfs, exits 3 untouched`, async () => {
    const d = fresh('enospc');
    const f = join(d, 'app.zip');
    const bytes = zipOf([{ name: 'inner.tar', data: tarWith(24 << 20) }]);
    writeFileSync(f, bytes);
    await withTmpfs(join(d, 'tmp'), '1m', () => {
      const r = detnorm([f], { env: { TMPDIR: join(d, 'tmp') } });
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/app\.zip: zip: .*no space left on the device \(ENOSPC\)/);
      expect(readFileSync(f).equals(bytes)).toBe(true);
      expect(readdirSync(join(d, 'tmp'))).toEqual([]);
    });
    // With room, the same file is normalized (the tar inside too).
    const ok = detnorm(['-q', f], { env: { TMPDIR: d } });
    expect(ok.status).toBe(0);
    expect(readFileSync(f).equals(bytes)).toBe(false);
  });
});

describe('6. --check and diff delete nothing; a writing run removes only what it can prove a dead run left', () => {
  it('a provable leftover survives --check and diff, a writing run removes it and says so; an unprovable one stays', () => {
    // Before: --check and diff deleted any `.X.detnorm-N-8hex.tmp` whose PID was not alive here.
    const d = fresh('leftover');
    const f = join(d, 'a.gz');
    writeFileSync(f, gzipOf(Buffer.from('hello')));
    const dead = deadPid();
    const ours = join(d, `.a.gz.detnorm-${dead}-${ownerTag(dead)}.tmp`);
    const foreign = join(d, `.a.gz.detnorm-${dead}-0123abcd.tmp`);
    writeFileSync(ours, 'partial');
    writeFileSync(foreign, 'partial');
    const check = detnorm(['--check', f, d]);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/temp file left by an interrupted run .*not removed/);
    const other = fresh('other');
    writeFileSync(join(other, 'a.gz'), gzipOf(Buffer.from('hello')));
    detnorm(['diff', d, other]);
    expect(existsSync(ours) && existsSync(foreign)).toBe(true);
    const w = detnorm([d]);
    expect(w.status).toBe(0);
    expect(w.stderr).toMatch(/removed a temp file left by an interrupted run/);
    expect(w.stderr).toMatch(/another detnorm run .* left alone/);
    expect(existsSync(ours)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
  });
});

describe('7. a hard-linked file is never truncated: room is made before an old byte is overwritten', () => {
  const growing = () => {
    // A .tar.gz whose header says "fastest" (XFL 4) over level-9 data: once the tar inside is
    // normalized it is recompressed at level 1, and the file grows (33 KiB -> 90 KiB).
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
    const parts: string[] = [];
    for (let x = 7, len = 0; len < 3 << 20; ) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const w = words[x % 10]! + (x % 97);
      parts.push(w);
      len += w.length + 1;
    }
    return gzipOf(tarOf(Buffer.from(parts.join(' ')).subarray(0, 3 << 20)), 9, 4);
  };
  it.skipIf(!MOUNT)(`the disk fills while a growing hard-linked file is rewritten: it is left whole, exit 3, no temp file`, async () => {
    // Before: the in-place copy started at offset 0 and hit ENOSPC midway: a truncated file
    // (gzip -t failed), and the next run deleted the temp file, the only complete copy.
    const d = fresh('hardlink');
    const bytes = growing();
    const grown = (await norm(bytes, 'a.tar.gz')).output.length;
    expect(grown).toBeGreaterThan(bytes.length + 16384);
    await withTmpfs(join(d, 'fs'), '8m', () => {
      const fs = join(d, 'fs');
      mkdirSync(join(fs, 'out'));
      const a = join(fs, 'out', 'a.tar.gz');
      writeFileSync(a, bytes);
      linkSync(a, join(fs, 'out', 'b.tar.gz'));
      // Leave room for the temp copy and half the growth: the growth cannot be made.
      const st = statfsSync(fs);
      const free = st.bavail * st.bsize;
      const filler = free - grown - Math.floor((grown - bytes.length) / 2);
      writeFileSync(join(fs, 'filler'), Buffer.alloc(Math.max(0, filler - (filler % 4096))));
      const r = detnorm([join(fs, 'out')]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/a\.tar\.gz: .*no space left on the device \(ENOSPC\)/);
      expect(readFileSync(a).equals(bytes)).toBe(true);
      expect(statSync(a).ino).toBe(statSync(join(fs, 'out', 'b.tar.gz')).ino);
      expect(spawnSync('gzip', ['-t', a]).status).toBe(0);
      expect(readdirSync(join(fs, 'out')).sort()).toEqual(['a.tar.gz', 'b.tar.gz']);
      // With room again, the same run succeeds and both links see the new bytes.
      spawnSync('rm', [join(fs, 'filler')]);
      expect(detnorm(['-q', join(fs, 'out')]).status).toBe(0);
      expect(readFileSync(join(fs, 'out', 'b.tar.gz')).length).toBe(grown);
    });
  });
  it('an interrupted in-place copy: its .inplace.tmp, the last good copy, is kept and reported until the target equals it', () => {
    const d = fresh('inplace');
    const a = join(d, 'a.gz');
    const good = gzipOf(Buffer.from('new'));
    writeFileSync(a, good.subarray(0, 10)); // what a crash midway leaves
    linkSync(a, join(d, 'b.gz'));
    const dead = deadPid();
    const keep = join(d, `.a.gz.detnorm-${dead}-${ownerTag(dead)}.inplace.tmp`);
    writeFileSync(keep, good);
    const r = detnorm([d]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/holds its complete new bytes, .*a\.gz may be incomplete/);
    expect(readFileSync(keep).equals(good)).toBe(true);
    writeFileSync(a, good); // the user copies it over
    const again = detnorm([d]);
    expect(again.stderr).toMatch(/removed: an interrupted run .* had finished rewriting/);
    expect(existsSync(keep)).toBe(false);
  });
});

describe('8. only the regular file the walk saw is replaced, and only if nobody wrote it since it was read', () => {
  /** normalizeTree from the bundle, with a hook run after the walk and before any file is opened. */
  const treeWithSwap = (root: string, swap: string) => {
    const code = `
      import * as fs from 'node:fs';
      import { execFileSync } from 'node:child_process';
      import { normalizeTree } from ${JSON.stringify(new URL('../dist/api.mjs', import.meta.url).href)};
      const r = await normalizeTree(${JSON.stringify(root)}, { jobs: 1, onStart: () => { ${swap} } });
      console.log(JSON.stringify(r.reports.map((x) => [x.path, x.status, x.reason ?? ''])));`;
    return spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  };
  it('a directory swapped for a symlink after the walk: nothing outside the tree is written', () => {
    // Before: the file behind the symlink (outside the tree) was rewritten.
    const d = fresh('swapdir');
    mkdirSync(join(d, 'tree', 'sub'), { recursive: true });
    mkdirSync(join(d, 'outside'));
    const bytes = gzipOf(Buffer.from('inside'));
    writeFileSync(join(d, 'tree', 'sub', 'a.gz'), bytes);
    writeFileSync(join(d, 'outside', 'a.gz'), bytes);
    const r = treeWithSwap(join(d, 'tree'), `fs.renameSync(${JSON.stringify(join(d, 'tree', 'sub'))}, ${JSON.stringify(join(d, 'moved'))}); fs.symlinkSync(${JSON.stringify(join(d, 'outside'))}, ${JSON.stringify(join(d, 'tree', 'sub'))});`);
    expect(r.status).toBe(0);
    const reports = JSON.parse(r.stdout) as string[][];
    expect(reports[0]![1]).toBe('error');
    expect(reports[0]![2]).toMatch(/not the file the walk saw/);
    expect(readFileSync(join(d, 'outside', 'a.gz')).equals(bytes)).toBe(true);
    expect(readdirSync(join(d, 'outside'))).toEqual(['a.gz']);
  });
  it('a file swapped for a FIFO after the walk does not hang the run', () => {
    // Before: open() of the FIFO blocked forever (this test then timed out).
    const d = fresh('fifo');
    mkdirSync(join(d, 'tree'));
    writeFileSync(join(d, 'tree', 'a.gz'), gzipOf(Buffer.from('a')));
    writeFileSync(join(d, 'tree', 'b.gz'), gzipOf(Buffer.from('b')));
    const a = join(d, 'tree', 'a.gz');
    const r = treeWithSwap(join(d, 'tree'), `fs.rmSync(${JSON.stringify(a)}); execFileSync('mkfifo', [${JSON.stringify(a)}]);`);
    expect(r.error).toBeUndefined();
    const reports = JSON.parse(r.stdout) as string[][];
    expect(reports.map((x) => x[1])).toEqual(['error', 'changed']);
    expect(reports[0]![2]).toMatch(/not a regular file|not the file the walk saw/);
    expect(lstatSync(a).isFIFO()).toBe(true);
  });
  const writerHandler = (act: (path: string) => void): Handler => ({
    ...fakeHandler,
    name: 'writer',
    async normalize(input, output, ctx) {
      const bytes = await readAll(input);
      await output.write(Buffer.concat([Buffer.from('FAKE'), Uint8Array.of(0), bytes.subarray(5)]));
      act(ctx.path); // another process writes while we work
      return { status: 'normalized', changes: [{ kind: 'timestamp', what: 'counter -> 0' }] };
    },
  });
  it("a concurrent writer's data is not lost: the file is reported, not replaced", async () => {
    // Before: the rename replaced the file, and the appended bytes were gone.
    const d = fresh('writer');
    const f = join(d, 'x.fake');
    writeFileSync(f, Buffer.concat([Buffer.from('FAKE'), Uint8Array.of(5), Buffer.from('data')]));
    const ident = { dev: String(statSync(f, { bigint: true }).dev), ino: String(statSync(f, { bigint: true }).ino) };
    const options = defaultOptions({ formats: ['writer'] });
    const r = await normalizeFileJob({ path: f, options, ident }, [writerHandler((p) => appendFileSync(p, ' + more from another writer'))]);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/changed by another process while it was being normalized/);
    expect(readFileSync(f, 'latin1')).toBe('FAKE\x05data + more from another writer');
    expect(readdirSync(d)).toEqual(['x.fake']);
  });
  it('a file replaced (renamed over) while it is normalized is left as the other writer made it', async () => {
    const d = fresh('replaced');
    const f = join(d, 'x.fake');
    writeFileSync(f, Buffer.concat([Buffer.from('FAKE'), Uint8Array.of(5), Buffer.from('data')]));
    const options = defaultOptions({ formats: ['writer'] });
    const r = await normalizeFileJob({ path: f, options }, [
      writerHandler((p) => {
        writeFileSync(`${p}.new`, 'the new build');
        renameSync(`${p}.new`, p);
      }),
    ]);
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/replaced by another file/);
    expect(readFileSync(f, 'latin1')).toBe('the new build');
  });
});

describe('9. -o OUT - writes through a temp file and a rename, never through a symlink at OUT', () => {
  it('a symlink at OUT is replaced by the output; its target is not touched', () => {
    // Before: OUT was opened and written directly, following the symlink.
    const d = fresh('ostdin');
    const victim = join(d, 'victim');
    writeFileSync(victim, 'precious');
    const out = join(d, 'out.gz');
    symlinkSync(victim, out);
    const r = detnorm(['-o', out, '-'], { input: gzipOf(Buffer.from('payload')) });
    expect(r.status).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(out).isFile()).toBe(true);
    expect(spawnSync('gzip', ['-dc', out], { encoding: 'utf8' }).stdout).toBe('payload');
    expect(readdirSync(d).sort()).toEqual(['out.gz', 'victim']);
  });
  it('stdin goes through a spill file that is removed afterwards; stdout gets the same bytes as file mode', () => {
    const d = fresh('stdin');
    const tmp = join(d, 'tmp');
    mkdirSync(tmp);
    const input = gzipOf(tarWith(3 << 20));
    const r = detnorm(['-q', '-'], { input, env: { TMPDIR: tmp } });
    expect(r.status).toBe(0);
    writeFileSync(join(d, 'f.tar.gz'), input);
    detnorm(['-q', join(d, 'f.tar.gz')]);
    expect(r.out.equals(readFileSync(join(d, 'f.tar.gz')))).toBe(true);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('10. options: one rule each, checked before anything is touched (usage error, exit 2)', () => {
  const target = () => {
    const d = fresh('opts');
    const f = join(d, 'a.zip');
    writeFileSync(f, zipOf([{ name: 'x.txt', data: Buffer.from('x') }]));
    return { f, bytes: readFileSync(f) };
  };
  const cases: Array<[string, string[], NodeJS.ProcessEnv | undefined, RegExp]> = [
    ['--formats , (an empty selection)', ['--formats', ','], undefined, /empty format selection/],
    ['--formats that turns every handler off', ['--formats', HANDLERS.map((h) => `-${h.name}`).join(',')], undefined, /leaves no format enabled/],
    ['-T after 2106-02-07 06:28:15 UTC (zip would clamp it, cpio and pyc cannot store it)', ['-T', '4294967296'], undefined, /after 2106-02-07 06:28:15 UTC/],
    ['SOURCE_DATE_EPOCH after 2106', [], { SOURCE_DATE_EPOCH: '5000000000' }, /after 2106-02-07 06:28:15 UTC/],
    ['--map-path with an empty NEW', ['--map-path', '/x='], undefined, /NEW is empty/],
  ];
  for (const [what, args, env, msg] of cases) {
    it(what, () => {
      const { f, bytes } = target();
      const r = detnorm([...args, f], env ? { env } : {});
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(readFileSync(f).equals(bytes)).toBe(true);
    });
  }
  it('the latest storable T is accepted (zip keeps its DOS maximum, 2107)', () => {
    const { f } = target();
    expect(detnorm(['-q', '-T', '4294967295', f]).status).toBe(0);
  });
});

describe('14.5 -o to a directory writes DIR/NAME as cp does; a path that cannot be written is an error in words before anything is written', () => {
  it('-o DIR file and -o DIR - --stdin-name NAME write DIR/NAME', () => {
    const d = fresh('odir');
    const f = join(d, 'app.gz');
    writeFileSync(f, gzipOf(Buffer.from('x')));
    mkdirSync(join(d, 'out'));
    expect(detnorm(['-q', '-o', join(d, 'out'), f]).status).toBe(0);
    expect(readdirSync(join(d, 'out'))).toEqual(['app.gz']);
    expect(detnorm(['-q', '-o', join(d, 'out'), '--stdin-name', 'piped.gz', '-'], { input: readFileSync(f) }).status).toBe(0);
    expect(readdirSync(join(d, 'out')).sort()).toEqual(['app.gz', 'piped.gz']);
    const noName = detnorm(['-o', join(d, 'out'), '-'], { input: readFileSync(f) });
    expect(noName.status).toBe(2);
    expect(noName.stderr).toMatch(/is a directory: give a file name .*--stdin-name/);
  });
  it('-o /missing/dir/out.jar: exit 2, the path and the reason in words, no temp file anywhere', () => {
    // Before: "copyfile ... .tmp" (ENOENT) from inside the write, after the work was done.
    const d = fresh('omissing');
    const f = join(d, 'app.gz');
    writeFileSync(f, gzipOf(Buffer.from('x')));
    const r = detnorm(['-o', join(d, 'missing', 'dir', 'out.gz'), f], { cwd: d });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*missing\/dir\/out\.gz: directory .*missing\/dir does not exist/);
    expect(r.stderr).not.toMatch(/copyfile|\.tmp/);
    expect(readdirSync(d)).toEqual(['app.gz']);
  });
  it('an output directory without write permission: exit 3, the path and the reason in words', () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a read-only bind of the directory's meaning instead.
      const d = fresh('orofs');
      const f = join(d, 'app.gz');
      writeFileSync(f, gzipOf(Buffer.from('x')));
      const r = detnorm(['-o', '/proc/version', f]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/cannot create a temp file for \/proc\/version: /);
      return;
    }
    const d = fresh('oro');
    mkdirSync(join(d, 'ro'));
    chmodSync(join(d, 'ro'), 0o555);
    const f = join(d, 'app.gz');
    writeFileSync(f, gzipOf(Buffer.from('x')));
    const r = detnorm(['-o', join(d, 'ro', 'out.gz'), f]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/permission denied \(EACCES\)/);
  });
});
