// `npm run demo` (scripts/demo.mjs): a story a newcomer reads in one screen. The two builds
// differ, detnorm diff says why, detnorm fixes them, they are identical, and they still work.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { haveTool } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;

describe('npm run demo: one screen, and the outputs still work', () => {
  it('tells the story in order, makes every pair identical, and every reference check passes', () => {
    const tools = ['java', 'python3', 'tar', 'unzip', 'ar', 'gzip'].map((t) => haveTool(t));
    const r = spawnSync(process.execPath, ['scripts/demo.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const files = readdirSync(`${ROOT}corpus/demo/build-a`).length;
    // One screen: no -v change lines, no report printed twice.
    expect(lines.length).toBeLessThanOrEqual(60);
    expect(r.stdout).not.toMatch(/^\s+(timestamp|order|mode|owner): /m);
    const steps = ['1. The two builds differ', '2. detnorm diff says why', '3. detnorm fixes them', '4. Now', '5. And they still work'].map((s) => r.stdout.indexOf(s));
    expect(steps.every((at, i) => at >= 0 && (i === 0 || at > steps[i - 1]!)), String(steps)).toBe(true);
    expect(r.stdout).toContain(`differ: ${files} of ${files} files are not byte-identical`);
    expect(r.stdout.match(/same after normalization; was: /g)).toHaveLength(files);
    expect(r.stdout).toContain(`Now ${files} of ${files} files are byte-identical across the two builds`);
    expect(r.stdout.match(/^ {2}detnorm: \d+ files: /gm)).toHaveLength(2);
    const checks = lines.slice(lines.findIndex((l) => l.startsWith('5.')) + 1).filter((l) => /^ {2}(ok|FAILED|-) /.test(l));
    expect(checks).toHaveLength(6);
    expect(checks.filter((l) => l.startsWith('  FAILED'))).toEqual([]);
    if (tools.every(Boolean)) expect(checks.filter((l) => l.startsWith('  ok'))).toHaveLength(6);
    if (tools[0]) expect(r.stdout).toMatch(/ok java -jar app.jar +hello from the detnorm demo \(java\)/);
    expect(r.stdout).toMatch(/ok \.\/hello \(the program runs\) +hello from the detnorm demo: answer\(\) = 42/);
  });
});
