// The self-contained bundle (scripts/bundle.mjs): runs with nothing but node, is reproducible,
// and packs into a tarball that installs offline.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, tempDir } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const { dir, cleanup } = tempDir('detnorm-bundle-');
afterAll(() => cleanup());

const gzWithTime = () => {
  const b = run('gzip', ['-n'], { input: Buffer.from('bundle test\n') });
  b.writeUInt32LE(1600000000, 4);
  return b;
};

describe('bundle: byte-identical from build to build', () => {
  it('two builds (one from a copy of the checkout elsewhere) give the same bytes', () => {
    run(process.execPath, ['scripts/bundle.mjs', join(dir, 'b1')], { cwd: ROOT });
    const copy = join(dir, 'checkout-copy');
    const skip = ['.git', 'node_modules', 'lib', 'dist', 'corpus'].map((d) => join(ROOT, d));
    cpSync(ROOT, copy, { recursive: true, filter: (s) => !skip.includes(s.replace(/\/$/, '')) });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    run(process.execPath, ['scripts/bundle.mjs', join(dir, 'b2')], { cwd: copy });
    const files = readdirSync(join(dir, 'b1')).sort();
    expect(files).toEqual(['api.mjs', 'cli.mjs', 'codecs', 'detnorm-worker.mjs', 'worker.js']);
    expect(readdirSync(join(dir, 'b2')).sort()).toEqual(files);
    const codecs = readdirSync(join(dir, 'b1', 'codecs')).sort();
    expect(codecs).toEqual(['bzip2.wasm', 'lz4.wasm', 'xz.wasm', 'zstd.wasm']);
    const all = [...files.filter((f) => f !== 'codecs'), ...codecs.map((c) => `codecs/${c}`)];
    for (const f of all) expect(readFileSync(join(dir, 'b1', f)).equals(readFileSync(join(dir, 'b2', f))), f).toBe(true);
    for (const f of all) expect(readFileSync(join(dir, 'b1', f), 'utf8')).not.toContain(ROOT);
  });
});

describe('bundle: runs with nothing but node', () => {
  it('normalizes with a worker pool from a directory with no node_modules', () => {
    const alone = join(dir, 'alone');
    cpSync(join(dir, 'b1'), alone, { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(alone, `f${i}.gz`), gzWithTime());
    // The codec modules load from dist/codecs/ (here a .deb with xz members, in a worker or not).
    for (let i = 0; i < 2; i++) cpSync(new URL('../corpus/deb/build.deb', import.meta.url).pathname, join(alone, `p${i}.deb`));
    const out = execFileSync(process.execPath, [join(alone, 'cli.mjs'), '--json', '-j', '2', '--timestamp', '1700000000', alone], { cwd: '/', encoding: 'utf8' });
    const recs = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.filter((r) => r.format === 'gzip' && r.status === 'changed')).toHaveLength(4);
    expect(recs.filter((r) => r.format === 'deb' && r.status === 'changed')).toHaveLength(2);
    expect(readFileSync(join(alone, 'p0.deb')).equals(readFileSync(new URL('../corpus/deb/build.deb.out', import.meta.url)))).toBe(true);
  });
});

describe('npm pack: a tarball that installs offline and puts detnorm on the PATH', () => {
  it('installs with --offline into a fresh prefix and runs', () => {
    const packDir = join(dir, 'pack');
    run('mkdir', ['-p', packDir]);
    const name = run('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: ROOT, env: { npm_config_ignore_scripts: 'true' } })
      .toString()
      .trim()
      .split('\n')
      .pop()!;
    const prefix = join(dir, 'prefix');
    run('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(packDir, name)]);
    const bin = join(prefix, 'bin', 'detnorm');
    const f = join(dir, 'p.gz');
    writeFileSync(f, gzWithTime());
    const out = execFileSync(bin, ['-v', f], { encoding: 'utf8', env: { ...process.env, PATH: `${join(prefix, 'bin')}:/usr/bin:/bin` } });
    expect(out).toContain('gzip: normalized');
    expect(readFileSync(f).readUInt32LE(4)).toBe(0);
  });
});
