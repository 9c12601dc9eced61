// Hand-made Bazel execution logs from spawn.proto: SpawnExec messages in JSON and binary form,
// and compact ExecLogEntry streams, for tests that need exact control over every field.
import { createHash } from 'node:crypto';
import { ProtoWriter, delimited } from '../src/execlog/protobuf.js';

export interface Spec {
  args?: string[];
  env?: Record<string, string>;
  /** path -> content (its SHA-256 is logged) */
  inputs?: Record<string, string>;
  outputs?: Record<string, string>;
  mnemonic?: string;
  label?: string;
  progress?: string;
  runner?: string;
}

export const sha = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');
const size = (s: string) => Buffer.byteLength(s);

/** One SpawnExec as protobuf bytes (fields as Bazel 4 to 8 number them). */
export function spawnExec(s: Spec): Uint8Array {
  const w = new ProtoWriter();
  for (const a of s.args ?? ['/bin/true']) w.string(1, a);
  for (const [n, v] of Object.entries(s.env ?? {})) w.message(2, (m) => m.string(1, n).string(2, v));
  w.message(3, () => {}); // platform, empty
  const file = (n: number, path: string, content: string) =>
    w.message(n, (m) => m.string(1, path).message(2, (d) => d.string(1, sha(content)).varint(2, size(content)).string(3, 'SHA-256')));
  for (const [p, c] of Object.entries(s.inputs ?? {})) file(4, p, c);
  for (const p of Object.keys(s.outputs ?? {}).sort()) w.string(5, p);
  w.bool(6, true).bool(7, true).varint(8, 0);
  if (s.progress) w.string(9, s.progress);
  w.string(10, s.mnemonic ?? 'Genrule');
  for (const [p, c] of Object.entries(s.outputs ?? {})) file(11, p, c);
  w.string(12, s.runner ?? 'linux-sandbox');
  if (s.label) w.string(18, s.label);
  w.message(20, (m) => m.message(1, (d) => d.varint(2, 5_000_000))); // metrics.total_time, skipped
  return w.finish();
}

/** The same SpawnExec in proto3 JSON, as Bazel's --execution_log_json_file writes it. */
export function spawnJson(s: Spec): Record<string, unknown> {
  const file = ([path, content]: [string, string]) => ({ path, digest: { hash: sha(content), sizeBytes: String(size(content)), hashFunctionName: 'SHA-256' } });
  return {
    commandArgs: s.args ?? ['/bin/true'],
    environmentVariables: Object.entries(s.env ?? {}).map(([name, value]) => ({ name, value })),
    platform: { properties: [] },
    inputs: Object.entries(s.inputs ?? {}).map(file),
    listedOutputs: Object.keys(s.outputs ?? {}).sort(),
    remotable: true,
    cacheable: true,
    timeoutMillis: '0',
    ...(s.progress ? { progressMessage: s.progress } : {}),
    mnemonic: s.mnemonic ?? 'Genrule',
    actualOutputs: Object.entries(s.outputs ?? {}).map(file),
    runner: s.runner ?? 'linux-sandbox',
    remoteCacheHit: false,
    status: '',
    exitCode: 0,
    ...(s.label ? { targetLabel: s.label } : {}),
  };
}

export const binaryLog = (specs: Spec[]) => Buffer.concat(specs.map((s) => delimited(spawnExec(s))));
export const jsonLog = (specs: Spec[], pretty = true) => Buffer.from(specs.map((s) => JSON.stringify(spawnJson(s), null, pretty ? 2 : undefined)).join(pretty ? '' : '\n') + '\n');

/** Builds a compact log (ExecLogEntry stream, uncompressed), entry by entry, ids as given. */
export class CompactLog {
  private readonly parts: Uint8Array[] = [];
  private entry(id: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    if (id) w.varint(1, id);
    build(w);
    this.parts.push(delimited(w.finish()));
    return this;
  }
  invocation(): this {
    return this.entry(0, (w) => w.message(2, (m) => m.string(1, 'SHA-256').string(2, '_main').string(4, 'inv-1')));
  }
  file(id: number, path: string, content: string): this {
    return this.entry(id, (w) => w.message(3, (m) => m.string(1, path).message(2, (d) => d.string(1, sha(content)).varint(2, size(content)))));
  }
  directory(id: number, path: string, files: Record<string, string>): this {
    return this.entry(id, (w) =>
      w.message(4, (m) => {
        m.string(1, path);
        for (const [p, c] of Object.entries(files)) m.message(2, (f) => f.string(1, p).message(2, (d) => d.string(1, sha(c)).varint(2, size(c))));
      }),
    );
  }
  symlink(id: number, path: string, target: string): this {
    return this.entry(id, (w) => w.message(5, (m) => m.string(1, path).string(2, target)));
  }
  /** An input set: direct entry ids (field 5, packed) and transitive set ids (field 4). `legacy`: Bazel 7.0's file_ids (field 1). */
  inputSet(id: number, direct: number[], transitive: number[] = [], legacy = false): this {
    return this.entry(id, (w) =>
      w.message(6, (m) => {
        if (transitive.length) m.packed(4, transitive);
        if (direct.length) m.packed(legacy ? 1 : 5, direct);
      }),
    );
  }
  runfilesTree(id: number, path: string, inputSet: number): this {
    return this.entry(id, (w) => w.message(10, (m) => m.string(1, path).varint(2, inputSet)));
  }
  spawn(s: { args: string[]; env?: Record<string, string>; inputSet?: number; toolSet?: number; outputs: number[]; legacyOutputs?: number[]; invalidOutput?: string; label: string; mnemonic: string }): this {
    return this.entry(0, (w) =>
      w.message(7, (m) => {
        for (const a of s.args) m.string(1, a);
        for (const [n, v] of Object.entries(s.env ?? {})) m.message(2, (e) => e.string(1, n).string(2, v));
        if (s.inputSet) m.varint(4, s.inputSet);
        if (s.toolSet) m.varint(5, s.toolSet);
        for (const o of s.outputs) m.message(6, (x) => x.varint(5, o));
        for (const o of s.legacyOutputs ?? []) m.message(6, (x) => x.varint(1, o));
        if (s.invalidOutput) m.message(6, (x) => x.string(4, s.invalidOutput!));
        m.string(7, s.label).string(8, s.mnemonic).string(11, 'linux-sandbox').bool(13, true).bool(14, true);
      }),
    );
  }
  symlinkAction(input: string, output: string, label: string): this {
    return this.entry(0, (w) => w.message(8, (m) => m.string(1, input).string(2, output).string(3, label).string(4, 'Symlink')));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
