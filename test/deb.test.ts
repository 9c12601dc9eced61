// Debian packages (issue 15). Oracle: a package built twice by dpkg-deb --build without
// SOURCE_DATE_EPOCH (other clock, owners, umask, creation order) normalizes to the bytes
// `SOURCE_DATE_EPOCH=T dpkg-deb --build --root-owner-group` gives for the same tree, for every
// compressor dpkg-deb offers. Real packages from the archive (downloaded by .ci/run into
// $DETNORM_REAL_DEBS) come back byte-identical with T = their own build time and --clamp, and
// after normalizing without T they still pass dpkg-deb --info/--contents/-x and dpkg -i.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTool, norm, run, tempDir } from './helpers.js';

const T = 1600000000;
const ok = haveTool('dpkg-deb') && haveTool('xz');
const tmp = process.env.KEEP ? { dir: process.env.KEEP, cleanup: () => {} } : tempDir('detnorm-deb-');
afterAll(() => tmp.cleanup());

interface Opts {
  readonly umask: number;
  readonly owner?: [number, number];
  readonly reverse?: boolean;
  readonly mtime: number;
}

/** A package tree: control files, a script, a symlink, a long name, a gzipped doc, a setuid binary. */
function makePackage(dir: string, o: Opts): void {
  const files: Array<[string, string, number]> = [
    ['DEBIAN/control', 'Package: detnorm-test\nVersion: 1.0\nArchitecture: all\nMaintainer: X <x@example.org>\nDescription: test\n', 0o644],
    ['DEBIAN/postinst', '#!/bin/sh\nexit 0\n', 0o755],
    ['usr/bin/hello', '#!/bin/sh\necho hi\n', 0o755],
    ['usr/bin/su-helper', '#!/bin/sh\n', 0o4755],
    ['etc/hello.conf', 'conf\n', 0o644],
    ['etc/secret', 'private\n', 0o640],
    [`usr/share/hello/${'L'.repeat(120)}/f`, 'long\n', 0o644],
    ['usr/share/doc/hello/README', 'doc '.repeat(3000), 0o644],
  ];
  const order = o.reverse ? [...files].reverse() : files;
  for (const [p, content] of order) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  writeFileSync(join(dir, 'usr/share/doc/hello/changelog.gz'), execFileSync('gzip', ['-9'], { input: 'changes\n'.repeat(50) }));
  symlinkSync('hello', join(dir, 'usr/bin/hi'));
  const all = execFileSync('find', [dir]).toString().trim().split('\n');
  // Owners first: chown clears set-id bits. Then modes as the umask leaves them, then times.
  if (o.owner) for (const p of all) if (!p.includes('DEBIAN')) execFileSync('chown', ['-h', `${o.owner[0]}:${o.owner[1]}`, p]);
  for (const p of all) {
    if (p.endsWith('/hi')) continue;
    const isDir = execFileSync('stat', ['-c', '%F', p]).toString().startsWith('directory');
    if (isDir) chmodSync(p, p.includes('DEBIAN') ? 0o755 : 0o777 & ~o.umask);
  }
  // A permissive umask (002) leaves the usual 0644/0755 group-writable; explicit narrow modes stay.
  const widen = (mode: number) => (o.umask === 0o002 && [0o644, 0o755].includes(mode & 0o777) ? mode | 0o020 : mode);
  for (const [p, , mode] of files) chmodSync(join(dir, p), p.startsWith('DEBIAN/') ? mode : widen(mode));
  for (const p of all) if (!p.endsWith('/hi')) utimesSync(p, o.mtime, o.mtime);
}

function build(dir: string, out: string, compressor: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Buffer {
  run('dpkg-deb', [`-Z${compressor}`, ...extra, '--build', dir, out], { env: { SOURCE_DATE_EPOCH: undefined, ...env } });
  return readFileSync(out);
}

describe.skipIf(!ok)('oracle: two dpkg-deb builds normalize to dpkg-deb --root-owner-group with SOURCE_DATE_EPOCH=T', () => {
  for (const z of ['xz', 'gzip', 'zstd', 'none'] as const) {
    it(`-Z${z}`, async () => {
      const d = join(tmp.dir, `oracle-${z}`);
      const now = Math.floor(Date.now() / 1000);
      makePackage(join(d, 'a'), { umask: 0o022, mtime: now });
      makePackage(join(d, 'b'), { umask: 0o002, owner: [1234, 5678], reverse: true, mtime: now - 3600 });
      const a = build(join(d, 'a'), join(d, 'a.deb'), z);
      const b = build(join(d, 'b'), join(d, 'b.deb'), z);
      expect(a.equals(b)).toBe(false);
      // The oracle's files are all newer than T, so --clamp-mtime stamps every one with T.
      const oracle = build(join(d, 'a'), join(d, 'oracle.deb'), z, { SOURCE_DATE_EPOCH: String(T) }, ['--root-owner-group']);
      for (const x of [a, b]) {
        const r = await norm(x, 'detnorm-test_1.0_all.deb', { timestamp: T });
        expect(r.status, r.reason).toBe('changed');
        if (!Buffer.from(r.output).equals(oracle)) writeFileSync(join(d, 'failed.deb'), r.output);
        expect(Buffer.from(r.output).equals(oracle)).toBe(true);
      }
      const again = await norm(oracle, 'x.deb', { timestamp: T });
      expect(again.status).toBe('unchanged');
    });
  }
});

describe.skipIf(!ok)('what the canonical form keeps', () => {
  it('set-id bits and narrow modes survive; group/other write does not', async () => {
    const d = join(tmp.dir, 'modes');
    makePackage(join(d, 't'), { umask: 0o002, mtime: 1_650_000_000 });
    const r = await norm(build(join(d, 't'), join(d, 't.deb'), 'xz'), 't.deb');
    writeFileSync(join(d, 'n.deb'), r.output);
    const listing = run('dpkg-deb', ['--contents', join(d, 'n.deb')]).toString();
    expect(listing).toMatch(/-rwsr-xr-x root\/root .* \.\/usr\/bin\/su-helper/);
    expect(listing).toMatch(/-rw-r----- root\/root .* \.\/etc\/secret/);
    expect(listing).toMatch(/-rw-r--r-- root\/root .* \.\/etc\/hello\.conf/);
    expect(listing).not.toMatch(/rw-rw-/);
    expect(listing.trim().split('\n').pop()).toMatch(/\.\/usr\/bin\/hi -> hello$/);
  });
});

describe.skipIf(!ok)('left alone and reported', () => {
  it('a signed package (_gpgbuilder member)', async () => {
    const d = join(tmp.dir, 'signed');
    makePackage(join(d, 't'), { umask: 0o022, mtime: 1_650_000_000 });
    const deb = build(join(d, 't'), join(d, 't.deb'), 'xz');
    writeFileSync(join(d, '_gpgbuilder'), 'signature\n');
    run('ar', ['q', join(d, 't.deb'), join(d, '_gpgbuilder')]);
    const signed = readFileSync(join(d, 't.deb'));
    expect(signed.length).toBeGreaterThan(deb.length);
    const r = await norm(signed, 't.deb');
    expect(r.status).toBe('untouched');
    expect(r.reason).toMatch(/signed package/);
    expect(Buffer.from(r.output).equals(signed)).toBe(true);
  });
  it('a truncated package', async () => {
    const d = join(tmp.dir, 'trunc');
    makePackage(join(d, 't'), { umask: 0o022, mtime: 1_650_000_000 });
    const deb = build(join(d, 't'), join(d, 't.deb'), 'xz');
    const cut = deb.subarray(0, deb.length - 100);
    const r = await norm(cut, 't.deb');
    expect(r.status).toBe('error');
    expect(Buffer.from(r.output).equals(cut)).toBe(true);
  });
});

// Real packages: .ci/run downloads a few small ones (apt-get download) into $DETNORM_REAL_DEBS.
const realDir = process.env.DETNORM_REAL_DEBS;
if (process.env.CI && !realDir) throw new Error('DETNORM_REAL_DEBS is not set in CI (.ci/run downloads the sample packages)');
const real = realDir ? readdirSync(realDir).filter((f) => f.endsWith('.deb')).sort() : [];

/** dpkg-deb --contents without the times: type, mode, owner, size, name, link target. */
function contents(deb: string): string[] {
  return run('dpkg-deb', ['--contents', deb])
    .toString()
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/).filter((_, i) => i !== 2 && i !== 3 && i !== 4).join(' '));
}

describe.skipIf(!ok || real.length === 0)('real Debian packages', () => {
  for (const name of real) {
    it(`${name}: unchanged with T = its build time and --clamp (dpkg-deb wrote it in canonical form)`, async () => {
      const bytes = readFileSync(join(realDir!, name));
      const t = Number(Buffer.from(bytes.subarray(8 + 16, 8 + 28)).toString('latin1').trim());
      const r = await norm(bytes, name, { timestamp: t, clamp: true });
      expect(r.status, `${r.reason ?? ''} ${JSON.stringify(r.changes)}`).toBe('unchanged');
    });
    it(`${name}: normalized without T it passes dpkg-deb --info, --contents, -x and dpkg -i`, async () => {
      const src = join(realDir!, name);
      const r = await norm(readFileSync(src), name);
      expect(r.status, r.reason).toBe('changed');
      const d = join(tmp.dir, `real-${name}`);
      mkdirSync(d, { recursive: true });
      const out = join(d, name);
      writeFileSync(out, r.output);
      // --info: the same control files and fields (the first lines give the new archive sizes).
      const info = (f: string) => run('dpkg-deb', ['--info', f]).toString().split('\n').slice(2);
      expect(info(out)).toEqual(info(src));
      expect(contents(out)).toEqual(contents(src));
      run('dpkg-deb', ['-x', src, join(d, 'x-orig')]);
      run('dpkg-deb', ['-x', out, join(d, 'x-norm')]);
      for (const f of execFileSync('find', ['.', '-type', 'f'], { cwd: join(d, 'x-orig') }).toString().trim().split('\n')) {
        const before = readFileSync(join(d, 'x-orig', f));
        const after = readFileSync(join(d, 'x-norm', f));
        // A file differs only where its own handler changes it (a .mo's header, a .gz header).
        if (!before.equals(after)) expect(Buffer.from((await norm(before, f)).output).equals(after), f).toBe(true);
      }
      const root = join(d, 'root');
      mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
      mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
      writeFileSync(join(root, 'var/lib/dpkg/status'), '');
      run('dpkg', [`--root=${root}`, '--force-all', '--no-triggers', '-i', out]);
      expect(run('dpkg', [`--root=${root}`, '-s', name.split('_')[0]!]).toString()).toMatch(/Status: install ok (installed|unpacked)/);
    });
  }
});
