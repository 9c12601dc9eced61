// Shared test helpers: run one handler (or all) on bytes, run real tools, make temp dirs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { HANDLERS } from '../formats/index.js';
import type { Options } from '../src/types.js';

/** Normalize bytes through the full registry (nesting included). */
export async function norm(bytes: Uint8Array, name: string, opts: Partial<Options> = {}) {
  return normalizeBytes(bytes, name, defaultOptions(opts), HANDLERS);
}

/** True when the command exists; in CI a missing tool fails the test instead of skipping. */
export function haveTool(cmd: string): boolean {
  const ok = spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  if (!ok && process.env.CI) throw new Error(`required tool "${cmd}" is missing in CI (.ci/run must install it)`);
  return ok;
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
