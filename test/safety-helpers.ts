// Small builders for the safety tests: a ustar archive, a gzip member, a zip of stored or
// deflated members, made in memory so the tests read as the inputs they describe.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import pako from 'pako';
import { crc32 } from '../formats/crc32.js';
import { buildZip, type RawEntry } from './zip-helpers.js';

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar archive of regular files (mtime 1600000000, uid 1000: it needs normalizing). */
export function tarOf(files: ReadonlyArray<{ name: string; data: Uint8Array }> | Uint8Array): Uint8Array {
  const list = files instanceof Uint8Array ? [{ name: 'f', data: files }] : files;
  const parts: Uint8Array[] = [];
  for (const f of list) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    h.write(octal(0o644, 8), 100);
    h.write(octal(1000, 8), 108);
    h.write(octal(1000, 8), 116);
    h.write(octal(f.data.length, 12), 124);
    h.write(octal(1600000000, 12), 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7) + ' ', 148);
    parts.push(h, f.data, new Uint8Array((512 - (f.data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, new Uint8Array((10240 - (body.length % 10240)) % 10240)]);
}

/** A gzip member with a name and an mtime (so it always needs normalizing). */
export function gzipOf(payload: Uint8Array, level: 1 | 6 | 9 = 6, xfl = 0): Uint8Array {
  const head = Buffer.from([0x1f, 0x8b, 8, 8, 1, 2, 3, 4, xfl, 3, ...Buffer.from('x'), 0]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(payload) >>> 0, 0);
  trailer.writeUInt32LE(payload.length % 2 ** 32, 4);
  return Buffer.concat([head, pako.deflateRaw(payload, { level }), trailer]);
}

/** A zip whose members are deflated (method 8) unless `stored`. */
export function zipOf(members: ReadonlyArray<{ name: string; data: Uint8Array; stored?: boolean }>): Uint8Array {
  const entries: RawEntry[] = members.map((m) => ({ name: m.name, data: m.data, method: m.stored ? 0 : 8 }));
  return buildZip(entries);
}

/** A GNU ar archive of the given members (mtime 1600000000: it needs normalizing). */
export function arOf(members: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from('!<arch>\n')];
  for (const m of members) {
    const h = `${(m.name + '/').padEnd(16)}${'1600000000'.padEnd(12)}${'1000'.padEnd(6)}${'1000'.padEnd(6)}${'100644'.padEnd(8)}${String(m.data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(h, 'latin1'), m.data);
    if (m.data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** A minimal wheel holding `files` (WHEEL and RECORD included, RECORD last). */
export function wheelOf(files: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array {
  const di = 'pkg-1.0.dist-info';
  const wheel = Buffer.from('Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n');
  const record = Buffer.from([...files.map((f) => `${f.name},,`), `${di}/WHEEL,,`, `${di}/RECORD,,`].join('\n') + '\n');
  return zipOf([...files, { name: `${di}/WHEEL`, data: wheel }, { name: `${di}/RECORD`, data: record }]);
}

// ---- running the shipped CLI and library bundle, mounting small file systems ----

export const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;
export const API = new URL('../dist/api.mjs', import.meta.url).href;

/** Prints the process's peak RSS (KiB) on stderr at exit: `MAXRSS <n>`. */
export const MAXRSS_PRELOAD =
  "data:text/javascript,import { writeSync } from 'node:fs'; process.on('exit', () => writeSync(2, `MAXRSS ${process.resourceUsage().maxRSS}\\n`));";

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  out: Buffer;
  /** Peak RSS in bytes (measure: true). */
  maxRss?: number;
}

export function detnorm(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Uint8Array | string; cwd?: string; measure?: boolean; stdinFile?: string; timeout?: number } = {}): CliRun {
  if (!existsSync(CLI)) throw new Error('dist/cli.mjs is missing: run `npm run build` (npm test does it)');
  const env = { ...process.env, ...opts.env };
  if (!opts.env || !('SOURCE_DATE_EPOCH' in opts.env)) delete env.SOURCE_DATE_EPOCH;
  const pre = opts.measure ? ['--import', MAXRSS_PRELOAD] : [];
  const r = opts.stdinFile
    ? spawnSync('sh', ['-c', `exec "$0" "$@" < "$DETNORM_STDIN"`, process.execPath, ...pre, CLI, ...args], {
        env: { ...env, DETNORM_STDIN: opts.stdinFile },
        cwd: opts.cwd,
        maxBuffer: 1 << 30,
        timeout: opts.timeout,
      })
    : spawnSync(process.execPath, [...pre, CLI, ...args], { env, input: opts.input, cwd: opts.cwd, maxBuffer: 1 << 30, timeout: opts.timeout });
  const stderr = r.stderr?.toString() ?? '';
  const m = /MAXRSS (\d+)/.exec(stderr);
  return { status: r.status, stdout: r.stdout?.toString() ?? '', stderr: stderr.replace(/MAXRSS \d+\n/, ''), out: r.stdout ?? Buffer.alloc(0), ...(m ? { maxRss: Number(m[1]) * 1024 } : {}) };
}

/** Start the CLI without waiting (for signals). */
export function detnormAsync(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run an ES module snippet with the library bundle imported as `api`; it prints JSON on stdout. */
export function apiScript(body: string, timeout = 60_000): { status: number | null; json: unknown; stderr: string } {
  const code = `import * as api from ${JSON.stringify(API)};\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { timeout, maxBuffer: 1 << 26 });
  const out = r.stdout?.toString() ?? '';
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, stderr: (r.stderr?.toString() ?? '') + (r.error ? String(r.error) : '') };
}

let canMount: boolean | undefined;
/** Can this process mount a tmpfs (root)? Under CI=true a test that needs it must not skip. */
export function mountPermitted(): boolean {
  if (canMount !== undefined) return canMount;
  const probe = `/tmp/detnorm-mount-probe-${process.pid}`;
  mkdirSync(probe, { recursive: true });
  canMount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0;
  if (canMount) spawnSync('umount', [probe]);
  rmdirSync(probe);
  if (!canMount && process.env.CI) throw new Error('CI: mounting a tmpfs is not permitted (the safety tests need root: CI runs as root)');
  return canMount;
}

/** Mount a tmpfs of `size` (e.g. "8m") at `dir` for the duration of `fn`. */
export async function withTmpfs<T>(dir: string, size: string, fn: () => Promise<T> | T): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (m.status !== 0) throw new Error(`mount tmpfs at ${dir}: ${m.stderr}`);
  try {
    return await fn();
  } finally {
    spawnSync('umount', ['-l', dir]);
  }
}

/** A PID no process has now (one that just exited). */
export function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}
