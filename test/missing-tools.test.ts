// Outside CI, a run that lacks tools ends by naming them, the tests they cost, and the apt-get
// line that brings them; under CI=true a missing tool fails its test. Checked on a small vitest
// project (test/fixtures/missing-tools/) run with a PATH that holds nothing but sh.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { NOT_APT, TOOL_PACKAGES } from './tool-packages.js';

const ROOT = new URL('..', import.meta.url).pathname;
const PROJECT = join(ROOT, 'test/fixtures/missing-tools');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const { dir, cleanup } = tempDir('detnorm-missing-tools-');
afterAll(() => cleanup());
const bin = join(dir, 'bin');
mkdirSync(bin);
symlinkSync('/bin/sh', join(bin, 'sh'));

function runProject(env: NodeJS.ProcessEnv) {
  const base = { ...process.env };
  delete base.CI;
  delete base.DETNORM_MISSING_TOOLS_DIR;
  const r = spawnSync(process.execPath, [VITEST, 'run', '--root', PROJECT], { env: { ...base, PATH: bin, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '') };
}

describe('missing tools: named once at the end of the run, with the apt-get line', () => {
  it('outside CI: the tests skip, and the message names the tools, the tests and the packages', () => {
    const r = runProject({});
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('Missing tools: python3, zstd.');
    expect(r.out).toContain('Without them 2 tests were skipped and 1 ran with a check left out');
    expect(r.out).toContain('needs-tools.fixture.ts: 2 skipped, 1 ran without a check (python3, zstd)');
    expect(r.out).toContain('check left out: needs nothing > runs, with its python3 check left out');
    expect(r.out).toContain('sudo apt-get install --no-install-recommends python3 zstd');
    expect(r.out.match(/Missing tools:/g)).toHaveLength(1);
  });
  it('under CI=true a missing tool fails the run, and no message is needed', () => {
    const r = runProject({ CI: 'true' });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('required tool "zstd" is missing in CI (.ci/run must install it)');
    expect(r.out).not.toContain('Missing tools:');
  });
});

/** The packages of .ci/run's apt-get install line. */
function ciPackages(): string[] {
  const text = readFileSync(join(ROOT, '.ci/run'), 'utf8').replace(/\\\n/g, ' ');
  const line = text.split('\n').find((l) => /apt-get install\b/.test(l))!;
  return line.replace(/>.*$/, '').split(/\s+/).filter((w) => w && !w.startsWith('-') && !['apt-get', 'install'].includes(w));
}

describe('test/tool-packages.ts: every tool a test checks has its package, and .ci/run installs it', () => {
  it('every package named is in .ci/run', () => {
    const ci = new Set(ciPackages());
    for (const [tool, pkg] of Object.entries(TOOL_PACKAGES)) expect(ci.has(pkg), `${tool}: ${pkg} is not in .ci/run`).toBe(true);
  });
  it('every haveTool("x") and missingTool("x") in the tests names a known tool', async () => {
    const { readdirSync } = await import('node:fs');
    const unknown: string[] = [];
    for (const f of readdirSync(join(ROOT, 'test')).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(join(ROOT, 'test', f), 'utf8');
      for (const m of src.matchAll(/(?:haveTool|missingTool)\('([^']+)'\)/g)) if (!TOOL_PACKAGES[m[1]!] && !NOT_APT[m[1]!]) unknown.push(`${f}: ${m[1]}`);
    }
    expect(unknown).toEqual([]);
  });
});
