// Loading the vendored codec modules (vendor/codecs/*.wasm, built by scripts/build-codecs.sh
// from Debian 12's xz-utils, zstd, bzip2 and lz4) and calling into them. A module is compiled
// once per thread (a pure function of its bytes); every coding session gets its own instance,
// so the memory a large encoder grew to is freed with the session (wasm memory never shrinks).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Set by scripts/bundle.mjs: the bundle carries the modules in dist/codecs/.
declare const __DETNORM_BUNDLE__: boolean | undefined;

export type CodecName = 'xz' | 'zstd' | 'bzip2' | 'lz4';

function wasmPath(name: CodecName): string {
  const self = import.meta.url;
  const candidates =
    typeof __DETNORM_BUNDLE__ !== 'undefined' && __DETNORM_BUNDLE__
      ? [`./codecs/${name}.wasm`]
      : [`../../vendor/codecs/${name}.wasm`, `../../../vendor/codecs/${name}.wasm`];
  for (const c of candidates) {
    const p = fileURLToPath(new URL(c, self));
    if (existsSync(p)) return p;
  }
  throw new Error(`codec module ${name}.wasm not found beside ${fileURLToPath(self)}`);
}

// Compiled modules: immutable and derived only from the files, so a per-thread memo is not state.
const compiled = new Map<CodecName, WebAssembly.Module>();

function moduleOf(name: CodecName): WebAssembly.Module {
  let m = compiled.get(name);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(wasmPath(name)));
    compiled.set(name, m);
  }
  return m;
}

type Fn = (...args: Array<number | bigint>) => number;

/** One instance of a codec module: its exports, and helpers over its memory. */
export class WasmCodec {
  private readonly exports: Record<string, unknown>;
  private readonly memory: WebAssembly.Memory;
  constructor(readonly name: CodecName) {
    const instance = new WebAssembly.Instance(moduleOf(name), {});
    this.exports = instance.exports as Record<string, unknown>;
    this.memory = this.exports.memory as WebAssembly.Memory;
  }
  fn(name: string): Fn {
    const f = this.exports[name];
    if (typeof f !== 'function') throw new Error(`${this.name}.wasm has no export ${name}`);
    return f as Fn;
  }
  /** malloc in the module; throws when the module cannot grow. */
  alloc(n: number): number {
    const p = this.fn('dn_malloc')(Math.max(1, n));
    if (!p) throw new Error(`${this.name}: out of memory allocating ${n} bytes`);
    return p;
  }
  free(p: number): void {
    this.fn('dn_free')(p);
  }
  /** A view of module memory (invalid after the memory grows: take a new one after each call). */
  view(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, len);
  }
  /** Copy bytes out of module memory. */
  copyOut(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer.slice(ptr, ptr + len));
  }
  u32(ptr: number, index = 0): number {
    return new DataView(this.memory.buffer).getUint32(ptr + index * 4, true);
  }
  u64(ptr: number, index = 0): number {
    return Number(new DataView(this.memory.buffer).getBigUint64(ptr + index * 8, true));
  }
}
