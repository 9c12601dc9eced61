// Helpers for the pyc tests that run CPython: an environment that lets Python write pycs,
// a field-by-field comparison of code objects (one Python process for many files), a fake
// handler Context (with the optional `sibling` hook), and tree copying.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MemorySpill } from '../src/engine.js';
import { BufferSink, BufferSource } from '../src/io.js';
import { defaultOptions } from '../src/options.js';
import type { Context, HandlerResult, Options } from '../src/types.js';
import { pycHandler } from '../formats/pyc/index.js';

/** process.env without PYTHONDONTWRITEBYTECODE and SOURCE_DATE_EPOCH (which makes py_compile write checked-hash pycs). */
export function pyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.PYTHONDONTWRITEBYTECODE;
  if (!('SOURCE_DATE_EPOCH' in extra)) delete env.SOURCE_DATE_EPOCH;
  return env;
}

/** Run a Python program; throws with its stderr when it fails. */
export function python(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string | Uint8Array; exe?: string; allowFail?: boolean } = {}): string {
  const r = spawnSync(opts.exe ?? 'python3', args, { env: opts.env ?? pyEnv(), cwd: opts.cwd, input: opts.input, maxBuffer: 1 << 28, encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`python ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout + (opts.allowFail ? r.stderr : '');
}

/** Every file under dir (relative paths, sorted) that satisfies pred. */
export function listFiles(dir: string, pred: (rel: string) => boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, pred, r));
    else if (e.isFile() && pred(r)) out.push(r);
  }
  return out.sort();
}

export function copyFiles(from: string, to: string, rels: readonly string[]): void {
  for (const r of rels) {
    mkdirSync(dirname(join(to, r)), { recursive: true });
    copyFileSync(join(from, r), join(to, r));
  }
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Python source comparing pairs of pycs (paths on stdin, "orig<TAB>norm<TAB>expected
 * co_filename prefix map from=>to" per line): marshal.loads both bodies and compares code
 * objects attribute by attribute, constants by type and value (floats by bit pattern),
 * recursively, with co_filename of the normalized one equal to the mapped original.
 * Prints "OK n" or the first differences.
 */
export const COMPARE_PY = String.raw`
import sys, marshal, struct, importlib.util
def hsize(b):
    return 12 if int.from_bytes(b[:2], 'little') < 3390 else 16
ATTRS = [a for a in ('co_argcount','co_posonlyargcount','co_kwonlyargcount','co_nlocals','co_stacksize','co_flags',
         'co_code','co_names','co_varnames','co_freevars','co_cellvars','co_name','co_qualname','co_firstlineno',
         'co_lnotab','co_linetable','co_exceptiontable') if hasattr(compile('0','x','eval'), a)]
def same(a, b, fmap, path):
    if type(a) is not type(b):
        return f'{path}: type {type(a).__name__} != {type(b).__name__}'
    if isinstance(a, type(same.__code__)):
        for at in ATTRS:
            r = same(getattr(a, at), getattr(b, at), fmap, path + '.' + at)
            if r: return r
        fa, fb = a.co_filename, b.co_filename
        src, dst = fmap
        want = dst + fa[len(src):] if src and (fa == src or fa.startswith(src.rstrip('/') + '/')) else fa
        if fb != want:
            return f'{path}.co_filename: {fb!r} != {want!r}'
        return same(a.co_consts, b.co_consts, fmap, path + '.co_consts')
    if isinstance(a, (tuple, list)):
        if len(a) != len(b): return f'{path}: len {len(a)} != {len(b)}'
        for i, (x, y) in enumerate(zip(a, b)):
            r = same(x, y, fmap, f'{path}[{i}]')
            if r: return r
        return None
    if isinstance(a, (frozenset, set)):
        return None if a == b else f'{path}: sets differ'
    if isinstance(a, float):
        return None if struct.pack('<d', a) == struct.pack('<d', b) else f'{path}: {a!r} != {b!r}'
    if isinstance(a, complex):
        return None if struct.pack('<dd', a.real, a.imag) == struct.pack('<dd', b.real, b.imag) else f'{path}: {a!r} != {b!r}'
    return None if a == b else f'{path}: {a!r} != {b!r}'
n = 0
bad = []
for line in sys.stdin.read().splitlines():
    orig, norm, src, dst = line.split('\t')
    A = open(orig, 'rb').read(); B = open(norm, 'rb').read()
    a = marshal.loads(A[hsize(A):]); b = marshal.loads(B[hsize(B):])
    r = same(a, b, (src, dst), norm)
    if r: bad.append(r)
    n += 1
print('OK', n) if not bad else print('\n'.join(bad[:20]))
`;

/** A handler Context for calling the pyc handler directly (optionally with `sibling`). */
export function fakeContext(path: string, options: Partial<Options>, sibling?: (rel: string) => Promise<Uint8Array | undefined>): Context & { notices: string[] } {
  const notices: string[] = [];
  return {
    options: defaultOptions({ formats: ['pyc'], ...options }),
    path,
    depth: 0,
    normalizeMember: async () => ({ changed: false }),
    spill: () => new MemorySpill(),
    notice: (m) => notices.push(m),
    notices,
    ...(sibling ? { sibling } : {}),
  };
}

/** Run the pyc handler directly; returns its result and output bytes. */
export async function runPyc(bytes: Uint8Array, ctx: Context): Promise<{ result: HandlerResult; output: Uint8Array }> {
  const sink = new BufferSink();
  const result = await pycHandler.normalize(new BufferSource(bytes), sink, ctx);
  return { result, output: sink.bytes() };
}
