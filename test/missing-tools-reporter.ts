// A vitest reporter that ends a run outside CI with what the run could not test: the tools that
// were missing (recorded by haveTool/missingTool in test/helpers.ts, from every test process,
// as JSON lines in a run-scoped directory), the tests skipped in the files that needed them,
// and the one `apt-get install` line that brings them (test/tool-packages.ts). Under CI=true a
// missing tool fails its test instead, so there is nothing to gather.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { TOOL_LOG_ENV } from './helpers.js';
import { NOT_APT, TOOL_PACKAGES } from './tool-packages.js';

interface Miss {
  tool: string;
  file?: string;
  test?: string;
}

export function readMisses(dir: string): Miss[] {
  const out: Miss[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    for (const line of readFileSync(join(dir, n), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as Miss);
  }
  return out;
}

/**
 * The message: the missing tools, then for each test file that needed one how many of its tests
 * were skipped (and which ran with a check left out), then the apt-get line.
 */
export function missingToolsMessage(misses: readonly Miss[], skippedIn: (file: string) => string[]): string[] {
  if (!misses.length) return [];
  const tools = [...new Set(misses.map((m) => m.tool))].sort();
  const files = new Map<string, { tools: Set<string>; partial: Set<string> }>();
  for (const m of misses) {
    const key = m.file ?? '(unknown test file)';
    let f = files.get(key);
    if (!f) files.set(key, (f = { tools: new Set(), partial: new Set() }));
    f.tools.add(m.tool);
    if (m.test) f.partial.add(m.test);
  }
  let skippedTotal = 0;
  let partialTotal = 0;
  const lines: string[] = [];
  for (const [file, f] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const skipped = new Set(skippedIn(file));
    const partial = [...f.partial].filter((t) => !skipped.has(t)).sort();
    if (!skipped.size && !partial.length) continue;
    skippedTotal += skipped.size;
    partialTotal += partial.length;
    const what = [skipped.size ? `${skipped.size} skipped` : '', partial.length ? `${partial.length} ran without a check` : ''].filter(Boolean).join(', ');
    lines.push(`  ${relative(process.cwd(), file) || file}: ${what} (${[...f.tools].sort().join(', ')})`);
    for (const t of partial.slice(0, 2)) lines.push(`      check left out: ${t}`);
    if (partial.length > 2) lines.push(`      ... and ${partial.length - 2} more`);
  }
  const pkgs = [...new Set(tools.map((t) => TOOL_PACKAGES[t]).filter((p): p is string => Boolean(p)))].sort();
  const unknown = tools.filter((t) => !TOOL_PACKAGES[t]).map((t) => `${t}: ${NOT_APT[t] ?? 'no package known (add it to test/tool-packages.ts)'}`);
  return [
    '',
    `Missing tools: ${tools.join(', ')}.`,
    `Without them ${skippedTotal} test${skippedTotal === 1 ? ' was' : 's were'} skipped${partialTotal ? ` and ${partialTotal} ran with a check left out` : ''} (under CI=true they fail instead):`,
    ...lines,
    ...unknown.map((u) => `  ${u}`),
    ...(pkgs.length ? ['Install them with (Debian 12; .ci/run installs the whole list):', `  sudo apt-get install --no-install-recommends ${pkgs.join(' ')}`] : []),
    '',
  ];
}

export default class MissingToolsReporter implements Reporter {
  private dir: string | undefined;

  onInit(): void {
    if (process.env.CI || process.env[TOOL_LOG_ENV]) return;
    this.dir = mkdtempSync(join(tmpdir(), 'detnorm-missing-tools-'));
    // Test processes start after this and inherit it.
    process.env[TOOL_LOG_ENV] = this.dir;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (!this.dir) return;
    const misses = readMisses(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
    delete process.env[TOOL_LOG_ENV];
    this.dir = undefined;
    const skippedIn = (file: string): string[] => {
      const m = modules.find((x) => x.moduleId === file);
      return m ? [...m.children.allTests('skipped')].map((t) => t.fullName) : [];
    };
    const lines = missingToolsMessage(misses, skippedIn);
    if (lines.length) process.stderr.write(lines.join('\n') + '\n');
  }
}
