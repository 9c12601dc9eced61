// The self-contained bundle (scripts/bundle.mjs): runs with nothing but node, is reproducible,
// and packs into a tarball that installs offline.
import { execFileSync } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    // The entry points, the codecs and the code-split chunks (shared code, lazy handlers), named
    // by module and content hash: the same names and bytes from both builds.
    const chunks = files.filter((f) => !['api.mjs', 'cli.mjs', 'codecs', 'detnorm-worker.mjs'].includes(f));
    expect(files.length - chunks.length).toBe(4);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(c).toMatch(/^[a-z0-9-]+-[A-Z0-9]{8}\.mjs$/);
    expect(readdirSync(join(dir, 'b2')).sort()).toEqual(files);
    const codecs = readdirSync(join(dir, 'b1', 'codecs')).sort();
    expect(codecs).toEqual(['LICENSES.md', 'bzip2.wasm', 'lz4.wasm', 'xz.wasm', 'zstd.wasm']);
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

/** Relative link targets of a markdown file (no scheme, no pure #anchor), without their #part. */
function relativeLinks(md: string): string[] {
  return [...md.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#')).map((t) => t.replace(/#.*$/, ''));
}

describe('npm pack: the package a user installs', () => {
  const packDir = join(dir, 'pack-local');
  let tgz = '';
  it('holds LICENSE, the docs and examples README links to, and no test data', () => {
    mkdirSync(packDir, { recursive: true });
    const name = run('npm', ['pack', '--silent', '--pack-destination', packDir], { cwd: ROOT, env: { npm_config_ignore_scripts: 'true' } }).toString().trim().split('\n').pop()!;
    tgz = join(packDir, name);
    const files = run('tar', ['tzf', tgz]).toString().trim().split('\n');
    expect(files).toContain('package/LICENSE');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the detnorm authors\n/);
    for (const f of ['package/README.md', 'package/dist/cli.mjs', 'package/examples/library.mjs', 'package/docs/DESIGN.md']) expect(files).toContain(f);
    expect(files.filter((f) => /^package\/(corpus|test|src|formats|bench|scripts)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(run('tar', ['xzOf', tgz, 'package/package.json']).toString());
    expect(pkg.license).toBe('MIT');
    for (const k of ['repository', 'homepage', 'bugs']) expect(pkg[k], k).toBeTruthy();
    // No script npm runs when the package is installed (and warns about): the build runs in
    // the repository only (prepack, pretest, predemo; `dependencies` after npm ci).
    for (const k of ['preinstall', 'install', 'postinstall', 'prepare', 'prepublish']) expect(pkg.scripts?.[k], k).toBeUndefined();
  });
  it('installs into an empty project without a warning; npx detnorm --help works; every README link resolves in it', () => {
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', private: true }));
    const env = { ...process.env };
    delete env.npm_config_ignore_scripts;
    const r = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tgz], { cwd: project, encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/\bwarn/i);
    const help = spawnSync('npx', ['--offline', 'detnorm', '--help'], { cwd: project, encoding: 'utf8', env });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: detnorm /);
    const pkgDir = join(project, 'node_modules/detnorm');
    const docs = ['README.md', ...readdirSync(join(pkgDir, 'docs')).map((f) => `docs/${f}`)];
    const missing: string[] = [];
    for (const doc of docs) {
      const links = relativeLinks(readFileSync(join(pkgDir, doc), 'utf8'));
      if (doc === 'README.md') expect(links.length).toBeGreaterThan(3);
      for (const l of links) if (!existsSync(join(pkgDir, dirname(doc), l))) missing.push(`${doc}: ${l}`);
    }
    expect(missing).toEqual([]);
  });
});
