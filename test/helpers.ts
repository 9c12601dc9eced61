// Shared test helpers: run one handler (or all) on bytes, run real tools, make temp dirs.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { HANDLERS } from '../formats/index.js';
import type { Options } from '../src/types.js';

/** Normalize bytes through the full registry (nesting included). */
export async function norm(bytes: Uint8Array, name: string, opts: Partial<Options> = {}) {
  return normalizeBytes(bytes, name, defaultOptions(opts), HANDLERS);
}

/**
 * True when the command exists. A missing tool fails the test under CI=true; otherwise the test
 * skips, and the miss is recorded for the message at the end of the run (missingTool).
 */
export function haveTool(cmd: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${JSON.stringify(cmd)}`]).status === 0;
  if (!ok) missingTool(cmd);
  return ok;
}

/** The first file in a stack trace that is not this one nor a library: the test file. */
function callerFile(stack: string): string | undefined {
  for (const m of stack.matchAll(/(?:file:\/\/)?(\/[^\s():]+\.[cm]?[jt]s):\d+:\d+/g)) {
    const f = m[1]!;
    if (!f.endsWith('/test/helpers.ts') && !f.includes('/node_modules/')) return f;
  }
  return undefined;
}

/** The environment variable naming the run's directory of missing-tool records. */
export const TOOL_LOG_ENV = 'DETNORM_MISSING_TOOLS_DIR';

/**
 * Record that `tool` (a command, or a check such as "python3 -m wheel": a key of
 * test/tool-packages.ts) is missing: under CI=true that is an error; otherwise one JSON line
 * goes to the run-scoped directory test/missing-tools-reporter.ts reads at the end of the run,
 * naming the test file and, when called inside a test, the test.
 */
export function missingTool(tool: string): void {
  if (process.env.CI) throw new Error(`required tool "${tool}" is missing in CI (.ci/run must install it)`);
  const dir = process.env[TOOL_LOG_ENV];
  if (!dir) return;
  const file = callerFile(new Error().stack ?? '');
  let test: string | undefined;
  try {
    test = expect.getState().currentTestName;
  } catch {
    /* outside a test */
  }
  try {
    appendFileSync(join(dir, `${process.pid}.jsonl`), JSON.stringify({ tool, file, ...(test ? { test } : {}) }) + '\n');
  } catch {
    /* the run's directory is gone: nothing to report to */
  }
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Uint8Array } = {}): Buffer {
  return execFileSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, input: opts.input, maxBuffer: 1 << 30 });
}

export function tempDir(prefix = 'detnorm-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The peer tools' fixtures, carried in the repository (corpus/peers/README.md says whence). */
export const PEER = new URL('../corpus/peers/', import.meta.url).pathname;
