// .ci/run's apt package list must install together on a clean Debian 12: a conflict (as
// gcc-multilib has with the cross compilers) fails CI before any test runs. apt-get can tell
// without installing anything: a simulated install against an empty package database.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const HAVE_APT = spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;

function ciPackages(): string[] {
  const text = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8').replace(/\\\n/g, ' ');
  const line = text.split('\n').find((l) => /apt-get install\b/.test(l));
  if (!line) throw new Error('.ci/run has no apt-get install line');
  return line
    .replace(/>.*$/, '')
    .split(/\s+/)
    .filter((w) => w && !w.startsWith('-') && !['apt-get', 'install'].includes(w));
}

describe.skipIf(!HAVE_APT)('.ci/run: its packages install together on a clean system', () => {
  it('apt-get resolves the whole list from an empty package database', () => {
    const pkgs = ciPackages();
    expect(pkgs).toContain('gcc-12-multilib');
    const { dir, cleanup } = tempDir('ci-apt-');
    const status = join(dir, 'status');
    writeFileSync(status, '');
    const r = spawnSync('apt-get', ['install', '-s', '--no-install-recommends', '-o', `Dir::State::status=${status}`, ...pkgs], { encoding: 'utf8' });
    cleanup();
    expect(r.stdout + r.stderr, 'apt-get -s').not.toMatch(/Conflicts:|held broken packages|Unable to locate/);
    expect(r.status).toBe(0);
  });
});
