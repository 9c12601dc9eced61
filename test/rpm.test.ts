// RPM packages (issue 19): header layout as rpm 4.18 exports it, the canonical fields
// (BUILDTIME, BUILDHOST, COOKIE, FILEMTIMES, FILEINODES), digests that `rpm -K --nosignature`
// accepts, the reference tools (rpm -qp --dump, rpm2cpio | cpio -t, rpm -i --root), two tiny
// rpmbuild runs (other clock, host, _topdir, umask, creation order) converging, idempotence,
// signed / truncated / corrupt packages left untouched, and `detnorm diff`'s explanations.
// The heavy build (gcc + debuginfo, pyc, jar; oracle build) is test/slow/rpm-e2e.slow.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffPair } from '../src/diff.js';
import { SIG, TAG, decodeHeader, encodeHeader, getEntry, ints, strings, type Header } from '../formats/rpm/header.js';
import { canonicalInodes, mapPathsInText } from '../formats/rpm/index.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { TINY_SPEC, rpmbuild } from './rpm-helpers.js';

const CORPUS = new URL('../corpus/rpm/', import.meta.url).pathname;
const corpus = (n: string) => readFileSync(join(CORPUS, n));
const T = 1700000000;
const tmp = tempDir('detnorm-rpm-');
afterAll(() => tmp.cleanup());

/** Signature and main header of a package (the layout test/rpm checks; no validation here). */
function headers(b: Uint8Array): { sig: Header; sigBytes: Uint8Array; main: Header; mainBytes: Uint8Array; payloadStart: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const sigLen = 16 + 16 * dv.getUint32(96 + 8) + dv.getUint32(96 + 12);
  const sigBytes = b.subarray(96, 96 + sigLen);
  const mainStart = Math.ceil((96 + sigLen) / 8) * 8;
  const mainLen = 16 + 16 * dv.getUint32(mainStart + 8) + dv.getUint32(mainStart + 12);
  const mainBytes = b.subarray(mainStart, mainStart + mainLen);
  return { sig: decodeHeader(sigBytes, 'sig', 1 << 26), sigBytes, main: decodeHeader(mainBytes, 'main', 1 << 26), mainBytes, payloadStart: mainStart + mainLen };
}

const str = (h: Header, tag: number) => strings(getEntry(h, tag)!)[0];
const int = (h: Header, tag: number) => ints(getEntry(h, tag)!);

const INPUTS = ['tiny-gzip.noarch.rpm', 'tiny-xz.noarch.rpm', 'tiny-zstd.noarch.rpm', 'tiny-bzip2.noarch.rpm', 'tiny-gzip.src.rpm', 'signed-rsa.noarch.rpm'];

describe('header layout: what rpm 4.18 headerExport writes (tag order, aligned data, region trailer last)', () => {
  for (const n of INPUTS) {
    it(`${n}: decoding and encoding both headers gives rpm's bytes back`, () => {
      const h = headers(corpus(n));
      expect(Buffer.from(encodeHeader(62, h.sig.entries)).equals(Buffer.from(h.sigBytes))).toBe(true);
      expect(Buffer.from(encodeHeader(63, h.main.entries)).equals(Buffer.from(h.mainBytes))).toBe(true);
    });
  }
  it('entries are written in tag order whatever order they come in, the trailer says how many there are', () => {
    const h = headers(corpus('tiny-gzip.noarch.rpm'));
    const shuffled = [...h.main.entries].reverse();
    const out = encodeHeader(63, shuffled);
    expect(Buffer.from(out).equals(Buffer.from(h.mainBytes))).toBe(true);
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const il = dv.getUint32(8);
    const dl = dv.getUint32(12);
    expect(dv.getInt32(16)).toBe(63);
    expect(dv.getInt32(24)).toBe(dl - 16);
    expect(dv.getInt32(16 + 16 * il + dl - 16 + 8)).toBe(-16 * il);
  });
});

describe('canonical fields: BUILDTIME, BUILDHOST, COOKIE, FILEMTIMES, FILEINODES', () => {
  it('T everywhere, the default host "reproducible", the cookie rebuilt from them', async () => {
    const r = await norm(corpus('tiny-gzip.src.rpm'), 'tiny.src.rpm', { timestamp: T });
    expect(r.status).toBe('changed');
    const { main } = headers(r.output);
    expect(int(main, TAG.BUILDTIME)).toEqual([T]);
    expect(str(main, TAG.BUILDHOST)).toBe('reproducible');
    expect(str(main, TAG.COOKIE)).toBe(`reproducible ${T}`);
    expect(new Set(int(main, TAG.FILEMTIMES))).toEqual(new Set([T]));
  });
  it('rpmBuildHost option; no T gives 0', async () => {
    const r = await norm(corpus('tiny-gzip.noarch.rpm'), 'tiny.rpm', { rpmBuildHost: 'builder' });
    const { main } = headers(r.output);
    expect(str(main, TAG.BUILDHOST)).toBe('builder');
    expect(int(main, TAG.BUILDTIME)).toEqual([0]);
    expect(new Set(int(main, TAG.FILEMTIMES))).toEqual(new Set([0]));
  });
  it('--clamp keeps times at or before T', async () => {
    const input = corpus('tiny-xz-clamp.src.rpm');
    const before = headers(input).main;
    const [built, spec] = [int(before, TAG.BUILDTIME)[0]!, int(before, TAG.FILEMTIMES)[0]!];
    const t = spec + 1;
    expect(built).toBeGreaterThan(t);
    const { main } = headers((await norm(input, 'x.src.rpm', { timestamp: t, clamp: true })).output);
    expect(int(main, TAG.BUILDTIME)).toEqual([t]);
    expect(int(main, TAG.FILEMTIMES)).toEqual([spec]);
  });
  it('inodes as rpmbuild 4.18 numbers them: file index + 1, a hard-link group sharing its first', () => {
    const REG = 0o100644;
    expect(canonicalInodes([REG, 0o40755, REG, REG], [7, 7, 7, 7], [900, 5, 77, 900])).toEqual([1, 2, 3, 1]);
    // Equal inodes of non-files, or a lone file, are not a group.
    expect(canonicalInodes([0o40755, 0o40755, REG], [1, 1, 2], [4, 4, 4])).toEqual([1, 2, 3]);
  });
  it('--map-path in a source package\'s SPEC text, at path boundaries only', () => {
    const maps = [{ from: '/tmp/b', to: '/topdir' }];
    expect(mapPathsInText('mkdir -p /tmp/b/BUILDROOT /tmp/bb /x/tmp/b "/tmp/b"', maps)).toBe('mkdir -p /topdir/BUILDROOT /tmp/bb /x/tmp/b "/topdir"');
  });
});

describe('digests: rpm -K --nosignature passes; idempotent', () => {
  for (const n of INPUTS.filter((x) => !x.startsWith('signed'))) {
    it.skipIf(!haveTool('rpm'))(`${n}`, async () => {
      for (const opts of [{ timestamp: T }, { rpmBuildHost: 'a-much-longer-build-host.example.org' }]) {
        const r = await norm(corpus(n), n, opts);
        expect(r.status).toBe('changed');
        const f = join(tmp.dir, `k-${n}`);
        writeFileSync(f, r.output);
        expect(execFileSync('rpm', ['-K', '--nosignature', f], { encoding: 'utf8' })).toContain('digests OK');
        const again = await norm(r.output, n, opts);
        expect(again.status).toBe('unchanged');
        // The signature header keeps its size (RESERVEDSPACE absorbs the difference).
        expect(headers(r.output).sigBytes.length).toBe(headers(corpus(n)).sigBytes.length);
        expect(int(headers(r.output).sig, SIG.SIZE)).toEqual([r.output.length - (headers(r.output).payloadStart - headers(r.output).mainBytes.length)]);
      }
    });
  }
});

describe('reference tools: rpm -qp --dump, rpm2cpio | cpio -t, rpm -i --root', () => {
  it.skipIf(!haveTool('rpm') || !haveTool('rpm2cpio') || !haveTool('cpio'))('tiny-gzip and tiny-xz after detnorm', async () => {
    for (const n of ['tiny-gzip.noarch.rpm', 'tiny-xz.noarch.rpm']) {
      const input = join(CORPUS, n);
      const out = join(tmp.dir, `tools-${n}`);
      writeFileSync(out, (await norm(corpus(n), n, { timestamp: T })).output);
      // --dump: path size mtime digest mode owner group isconfig isdoc rdev symlink; only mtime changes.
      const dump = (f: string) => execFileSync('rpm', ['-qp', '--dump', f], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' '));
      const [a, b] = [dump(input), dump(out)];
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) {
        expect(b[i]![2]).toBe(String(T));
        expect([...b[i]!.slice(0, 2), ...b[i]!.slice(3)]).toEqual([...a[i]!.slice(0, 2), ...a[i]!.slice(3)]);
      }
      const list = (f: string) => execFileSync('sh', ['-c', 'rpm2cpio "$1" | cpio -t --quiet', 'sh', f], { encoding: 'utf8' });
      expect(list(out)).toBe(list(input));
      const root = join(tmp.dir, `root-${n}`);
      mkdirSync(root);
      execFileSync('rpm', ['-i', '--root', root, '--nodeps', '--dbpath', join(root, 'db'), out], { stdio: 'pipe' });
      expect(readFileSync(join(root, 'usr/share/tiny/a.txt'), 'utf8')).toBe('hello\n');
      expect(execFileSync(join(root, 'usr/bin/tiny'), { encoding: 'utf8' })).toBe('tiny\n');
    }
  });
});

describe('convergence: two rpmbuild runs (other clock, host, _topdir, umask, creation order) give the same bytes', () => {
  it.skipIf(!haveTool('rpmbuild') || !haveTool('rpm'))('tiny spec, binary and source packages', async () => {
    // -bb and -bs apart: a -ba binary package records the MD5 of its source package
    // (SOURCEPKGID), which differs as long as the source packages do (README, "rpm").
    const build = (dir: string, o: Omit<Parameters<typeof rpmbuild>[2], 'topdir'>) =>
      new Map([...rpmbuild(TINY_SPEC, {}, { ...o, topdir: join(tmp.dir, dir), mode: '-bb' }), ...rpmbuild(TINY_SPEC, {}, { ...o, topdir: join(tmp.dir, dir), mode: '-bs' })]);
    const a = build('a', { host: 'host-a', env: { TINY_ORDER: 'a b c' } });
    await new Promise((r) => setTimeout(r, 1100));
    const b = build('build-b', { host: 'another-host.example', umask: '077', env: { TINY_ORDER: 'c b a' } });
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [n, pa] of a) {
      const [ra, rb] = [readFileSync(pa), readFileSync(b.get(n)!)];
      expect(ra.equals(rb)).toBe(false);
      const na = await norm(ra, n, { timestamp: T, mapPaths: [{ from: join(tmp.dir, 'a'), to: '/topdir' }] });
      const nb = await norm(rb, n, { timestamp: T, mapPaths: [{ from: join(tmp.dir, 'build-b'), to: '/topdir' }] });
      expect(Buffer.from(na.output).equals(Buffer.from(nb.output)), n).toBe(true);
    }
  });
});

describe('signed, truncated, corrupt: untouched and reported', () => {
  const base = corpus('tiny-gzip.noarch.rpm');
  it('the signed package', async () => {
    const r = await norm(corpus('signed-rsa.noarch.rpm'), 'x.rpm', { timestamp: T });
    expect(r.status).toBe('untouched');
    expect(r.reason).toContain('signed package');
  });
  it('every cut of the file, at 97 points, is refused with a reason', async () => {
    for (let i = 0; i < 97; i++) {
      const len = Math.floor((base.length * i) / 97);
      const r = await norm(base.subarray(0, len), 'x.rpm', { timestamp: T });
      expect(['error', 'untouched', 'unchanged', 'ignored']).toContain(r.status);
      expect(Buffer.from(r.output).equals(base.subarray(0, len))).toBe(true);
    }
  });
  it('a byte flipped anywhere in the lead, headers or payload: refused or still valid, never a crash', async () => {
    let seed = 19;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 150; i++) {
      const b = Buffer.from(base);
      const at = Math.floor(rnd() * b.length);
      b[at] = b[at]! ^ (1 + Math.floor(rnd() * 255));
      const r = await norm(b, 'x.rpm', { timestamp: T });
      expect(['error', 'untouched', 'changed', 'unchanged', 'ignored'], `offset ${at}`).toContain(r.status);
      if (r.status !== 'changed') expect(Buffer.from(r.output).equals(b)).toBe(true);
    }
  });
  it('header data items that overlap are refused (they would make the string scans quadratic)', async () => {
    const b = Buffer.from(base);
    const h = headers(b);
    const mainStart = h.payloadStart - h.mainBytes.length;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // Point the second entry's offset at the first's data.
    dv.setInt32(mainStart + 16 + 32 + 8, dv.getInt32(mainStart + 16 + 16 + 8));
    const r = await norm(b, 'x.rpm', { timestamp: T });
    expect(['error', 'untouched']).toContain(r.status);
    expect(r.reason).toContain('overlaps');
  });
  it('a header whose entries lie outside its region (a header changed after it was built) is left alone', async () => {
    const b = Buffer.from(base);
    const h = headers(b);
    // Make the trailer claim one entry fewer than the index has.
    const mainStart = h.payloadStart - h.mainBytes.length;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const il = dv.getUint32(mainStart + 8);
    const dl = dv.getUint32(mainStart + 12);
    dv.setInt32(mainStart + 16 + 16 * il + dl - 16 + 8, -16 * (il - 1));
    const r = await norm(b, 'x.rpm', { timestamp: T });
    expect(['error', 'untouched']).toContain(r.status);
    expect(Buffer.from(r.output).equals(b)).toBe(true);
  });
});

describe('detnorm diff: build time, host, cookie, file mtimes and payload compression explained', () => {
  it('gzip vs xz builds of the same spec', async () => {
    const [a, b] = [corpus('tiny-gzip.noarch.rpm'), corpus('tiny-xz.noarch.rpm')];
    const rep = await diffPair(a, b, 'tiny.rpm', 'tiny.rpm', { timestamp: T });
    const fields = rep.differences.map((d) => d.field);
    expect(fields).toContain('BUILDTIME');
    expect(fields).toContain('FILEMTIMES');
    expect(fields).toContain('PAYLOADCOMPRESSOR/PAYLOADFLAGS');
    expect(rep.differences.find((d) => d.field === 'BUILDTIME')!.normalized).toBe(true);
    expect(rep.differences.find((d) => d.field === 'FILEMTIMES')!.cause).toMatch(/each build ran/);
    const src = await diffPair(corpus('tiny-gzip.src.rpm'), corpus('tiny-xz-clamp.src.rpm'), 't.src.rpm', 't.src.rpm', { timestamp: T });
    expect(src.differences.map((d) => d.field)).toContain('COOKIE');
  });
  it('BUILDHOST with its cause', async () => {
    const a = corpus('tiny-gzip.noarch.rpm');
    const b = Buffer.from((await norm(a, 'x.rpm', { rpmBuildHost: 'elsewhere' })).output);
    const rep = await diffPair(a, b, 'x.rpm', 'x.rpm', {});
    const host = rep.differences.find((d) => d.field === 'BUILDHOST')!;
    expect(host.a).toBe('corpus.example');
    expect(host.cause).toMatch(/host name/);
  });
});
