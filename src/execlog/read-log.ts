// Read one Bazel execution log, whichever form: JSON (starts with '{'), compact (a zstd frame,
// magic 28 b5 2f fd) or binary (length-prefixed SpawnExec). The file is read in chunks; only
// the spawns' kept fields stay in memory (strings interned). Errors name the byte offset.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { zstdStream } from './zstd.js';
import { FileSource } from '../file-io.js';
import type { Sink, Source } from '../types.js';
import { decodeSpawnExec } from './binary-log.js';
import { CompactLogReader, type SymlinkAction } from './compact-log.js';
import { JsonObjectSplitter } from './json-stream.js';
import { FieldError, spawnFromJson } from './json-log.js';
import { DelimitedSplitter, ProtoError } from './protobuf.js';
import { ExecLogError, Interner, type ExecLog, type LoggedSpawn } from './spawn.js';

const CHUNK = 1 << 20;
/** A single message larger than this is taken for a corrupt length. */
const MAX_MESSAGE = 256 << 20;
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

export interface ReadOptions {
  /** Decompresses the zstd frames of a compact log into the sink (default: src/execlog/zstd.ts). */
  readonly decompress?: (input: Source, sink: Sink) => Promise<void>;
}

export interface ExecLogWithSymlinks extends ExecLog {
  /** Compact logs only: symlink actions (no spawn), output path -> input path. */
  readonly symlinks: readonly SymlinkAction[];
}

function* chunks(path: string): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) return;
      yield buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

function firstBytes(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

function wrap(path: string, e: unknown, where?: string): never {
  if (e instanceof ProtoError) throw new ExecLogError(path, where ? `${where}: ${e.reason}` : e.reason, e.offset);
  throw e;
}

function readJson(path: string, intern: Interner): LoggedSpawn[] {
  const split = new JsonObjectSplitter(MAX_MESSAGE);
  const spawns: LoggedSpawn[] = [];
  try {
    for (const c of chunks(path)) {
      for (const m of split.push(c)) {
        try {
          spawns.push(spawnFromJson(m.value, spawns.length, m.offset, intern));
        } catch (e) {
          if (e instanceof FieldError) throw new ExecLogError(path, `spawn #${spawns.length + 1}: ${e.message}`, m.offset);
          throw e;
        }
      }
    }
    split.end();
  } catch (e) {
    wrap(path, e);
  }
  return spawns;
}

function readBinary(path: string, intern: Interner): LoggedSpawn[] {
  const split = new DelimitedSplitter(MAX_MESSAGE);
  const spawns: LoggedSpawn[] = [];
  try {
    for (const c of chunks(path)) for (const m of split.push(c)) spawns.push(decodeSpawnExec(m.bytes, m.offset, spawns.length, intern));
    split.end();
  } catch (e) {
    wrap(path, e, `SpawnExec #${spawns.length + 1}`);
  }
  return spawns;
}

/** Reads a compact log's ExecLogEntry stream as it is written in: a Sink for the decompressor. */
class CompactSink implements Sink {
  private readonly split = new DelimitedSplitter(MAX_MESSAGE);
  readonly reader: CompactLogReader;
  length = 0;
  entries = 0;
  constructor(intern: Interner) {
    this.reader = new CompactLogReader(intern);
  }
  async write(chunk: Uint8Array): Promise<void> {
    this.length += chunk.length;
    for (const m of this.split.push(chunk)) {
      this.reader.accept(m.bytes, m.offset);
      this.entries++;
    }
  }
  end(): void {
    this.split.end();
  }
}

/** The ExecLogEntry stream of a compact log, decompressed by `decompress` (or as is: `undefined`). */
async function readCompact(path: string, decompress: ReadOptions['decompress'] | undefined, intern: Interner): Promise<{ spawns: LoggedSpawn[]; symlinks: SymlinkAction[] }> {
  const sink = new CompactSink(intern);
  const fd = openSync(path, 'r');
  try {
    if (decompress) {
      const size = fstatSync(fd).size;
      try {
        await decompress(new FileSource(fd, size), sink);
      } catch (e) {
        if (e instanceof ProtoError) throw e;
        // The decoder's own error: where in the compressed file it stopped, if it says.
        throw new ExecLogError(path, `zstd: ${(e as Error).message}`, (e as { offset?: number }).offset ?? 0);
      }
    } else {
      for (const c of chunks(path)) await sink.write(c);
    }
    sink.end();
  } catch (e) {
    wrap(path, e, `ExecLogEntry #${sink.entries + 1} (offsets in the decompressed stream)`);
  } finally {
    closeSync(fd);
  }
  return { spawns: sink.reader.spawns, symlinks: sink.reader.symlinks };
}

/**
 * An uncompressed stream: SpawnExec messages (binary) start with command_args (tag 0x0a);
 * ExecLogEntry messages (a compact log whose zstd layer was removed) with an id (0x08) or a
 * payload (0x12 invocation, 0x1a file, ...).
 */
export function binaryOrCompact(head: Uint8Array): 'binary' | 'compact' {
  let i = 0;
  while (i < head.length && head[i]! & 0x80) i++;
  return i + 1 < head.length && head[i + 1] !== 0x0a ? 'compact' : 'binary';
}

export async function readExecLog(path: string, options: ReadOptions = {}): Promise<ExecLogWithSymlinks> {
  const intern = new Interner();
  const head = firstBytes(path, 64);
  const start = head.findIndex((c) => c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d);
  if (head.length === 0) return { path, form: 'binary', spawns: [], symlinks: [] };
  if (start >= 0 && head[start] === 0x7b) return { path, form: 'json', spawns: readJson(path, intern), symlinks: [] };
  if (ZSTD_MAGIC.every((b, i) => head[i] === b)) return { path, form: 'compact', ...(await readCompact(path, options.decompress ?? zstdStream, intern)) };
  if (binaryOrCompact(head) === 'compact') return { path, form: 'compact', ...(await readCompact(path, undefined, intern)) };
  return { path, form: 'binary', spawns: readBinary(path, intern), symlinks: [] };
}
