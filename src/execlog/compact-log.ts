// --execution_log_compact_file (Bazel 7 and later): a zstd-compressed stream of
// varint-length-prefixed ExecLogEntry messages (spawn.proto). Entries refer to earlier ones by
// id: a spawn names its input set, which names files, directories, symlinks, runfiles trees and
// other sets. This reader takes the decompressed stream (the caller decompresses) and rebuilds
// each spawn's full input and output lists. Fields read:
//   ExecLogEntry: 1 id; 3 file {1 path, 2 digest}; 4 directory {1 path, 2 files (File, paths
//     relative to it)}; 5 unresolved_symlink {1 path, 2 target_path}; 6 input_set {5 input_ids,
//     4 transitive_set_ids; Bazel 7.0/7.1: 1 file_ids, 2 directory_ids, 3 unresolved_symlink_ids};
//     7 spawn {1 args, 2 env_vars, 4 input_set_id, 6 outputs {5 output_id; 7.0/7.1: 1 file_id,
//     2 directory_id, 3 unresolved_symlink_id; 4 invalid_output_path}, 7 target_label,
//     8 mnemonic, 9 exit_code, 11 runner, 12 cache_hit}; 8 symlink_action {1 input_path,
//     2 output_path, 3 target_label, 4 mnemonic}; 10 runfiles_tree {1 path, 2 input_set_id}.
//   Invocation (2), symlink entry sets (9), platform and metrics are skipped.
import { ProtoError, ProtoReader } from './protobuf.js';
import { readDigest, readPair } from './binary-log.js';
import { Interner, type LoggedFile, type LoggedSpawn } from './spawn.js';

type Entry =
  | { kind: 'files'; files: readonly LoggedFile[] }
  | { kind: 'set'; direct: readonly number[]; transitive: readonly number[] };

export interface SymlinkAction {
  readonly input: string;
  readonly output: string;
  readonly target: string;
  readonly mnemonic: string;
}

export class CompactLogReader {
  private readonly entries = new Map<number, Entry>();
  readonly spawns: LoggedSpawn[] = [];
  readonly symlinks: SymlinkAction[] = [];
  constructor(private readonly intern = new Interner()) {}

  /** One ExecLogEntry, at `offset` in the decompressed stream. */
  accept(bytes: Uint8Array, offset: number): void {
    const r = new ProtoReader(bytes, offset);
    let id = 0;
    let entry: Entry | undefined;
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 1) id = r.varint(w);
      else if (f === 3) entry = { kind: 'files', files: [this.file(r.message(w), '')] };
      else if (f === 4) entry = this.directory(r.message(w));
      else if (f === 5) entry = { kind: 'files', files: [this.symlink(r.message(w))] };
      else if (f === 6) entry = this.inputSet(r.message(w));
      else if (f === 7) this.spawns.push(this.spawn(r.message(w), offset));
      else if (f === 8) this.symlinks.push(this.symlinkAction(r.message(w)));
      else if (f === 10) entry = this.runfilesTree(r.message(w));
      else r.skip(w);
    }
    // id 0: an entry nothing refers to. Ids are unique in a log; a repeat is an error.
    if (entry && id !== 0) {
      if (this.entries.has(id)) throw new ProtoError(`entry id ${id} defined twice`, offset);
      this.entries.set(id, entry);
    }
  }

  private file(r: ProtoReader, dir: string): LoggedFile {
    let path = '';
    let hash = '';
    let size = 0;
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 1) path = r.string(w);
      else if (f === 2) [hash, size] = readDigest(r.message(w), this.intern);
      else r.skip(w);
    }
    return this.intern.file(dir ? `${dir}/${path}` : path, hash, size);
  }

  private directory(r: ProtoReader): Entry {
    let path = '';
    const raw: ProtoReader[] = [];
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 1) path = r.string(w);
      else if (f === 2) raw.push(r.message(w));
      else r.skip(w);
    }
    // The path may come after the files: read them once it is known.
    return { kind: 'files', files: raw.map((m) => this.file(m, path)) };
  }

  private symlink(r: ProtoReader): LoggedFile {
    let path = '';
    let target = '';
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 1) path = r.string(w);
      else if (f === 2) target = r.string(w);
      else r.skip(w);
    }
    return this.intern.file(path, `->${target}`, 0);
  }

  private inputSet(r: ProtoReader): Entry {
    const direct: number[] = [];
    const transitive: number[] = [];
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 1 || f === 2 || f === 3 || f === 5) r.varints(w, direct);
      else if (f === 4) r.varints(w, transitive);
      else r.skip(w);
    }
    return { kind: 'set', direct, transitive };
  }

  /** A runfiles tree stands for the files of its input set (at their exec paths). */
  private runfilesTree(r: ProtoReader): Entry {
    const set: number[] = [];
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 2) set.push(r.varint(w));
      else r.skip(w);
    }
    return { kind: 'set', direct: [], transitive: set.filter((x) => x !== 0) };
  }

  private symlinkAction(r: ProtoReader): SymlinkAction {
    const s = { input: '', output: '', target: '', mnemonic: '' };
    while (!r.done()) {
      const [f, w] = r.tag();
      if (f === 1) s.input = this.intern.get(r.string(w));
      else if (f === 2) s.output = this.intern.get(r.string(w));
      else if (f === 3) s.target = this.intern.get(r.string(w));
      else if (f === 4) s.mnemonic = this.intern.get(r.string(w));
      else r.skip(w);
    }
    return s;
  }

  /**
   * The files an entry id stands for, depth first, each set once (sets form a DAG): transitive
   * sets first, then the direct entries (spawn.proto's "postorder"). An explicit stack: a chain
   * of nested sets is as long as the log allows, the call stack is not.
   */
  private expand(root: number, r: ProtoReader, into: LoggedFile[], seen: Set<number>): void {
    const stack = [root];
    while (stack.length) {
      const id = stack.pop()!;
      if (id === 0 || seen.has(id)) continue;
      seen.add(id);
      const e = this.entries.get(id);
      // Entries come before whatever refers to them: a missing id is a broken log.
      if (!e) r.fail(`reference to entry id ${id}, which no earlier entry defines`);
      if (e.kind === 'files') into.push(...e.files);
      else for (const x of [...e.transitive, ...e.direct].reverse()) stack.push(x);
    }
  }

  private spawn(r: ProtoReader, offset: number): LoggedSpawn {
    const args: string[] = [];
    const env: Array<readonly [string, string]> = [];
    const outputIds: number[] = [];
    let inputSet = 0;
    let label = '';
    let mnemonic = '';
    let runner = '';
    let cacheHit = false;
    let exitCode = 0;
    while (!r.done()) {
      const [f, w] = r.tag();
      switch (f) {
        case 1:
          args.push(this.intern.get(r.string(w)));
          break;
        case 2:
          env.push(readPair(r.message(w), this.intern));
          break;
        case 4:
          inputSet = r.varint(w);
          break;
        case 6: {
          const o = r.message(w);
          while (!o.done()) {
            const [g, v] = o.tag();
            if (g === 1 || g === 2 || g === 3 || g === 5) outputIds.push(o.varint(v));
            else o.skip(v);
          }
          break;
        }
        case 7:
          label = this.intern.get(r.string(w));
          break;
        case 8:
          mnemonic = this.intern.get(r.string(w));
          break;
        case 9:
          exitCode = r.int32(w);
          break;
        case 11:
          runner = this.intern.get(r.string(w));
          break;
        case 12:
          cacheHit = r.bool(w);
          break;
        default:
          r.skip(w);
      }
    }
    const inputs: LoggedFile[] = [];
    this.expand(inputSet, r, inputs, new Set());
    const outputs: LoggedFile[] = [];
    const seen = new Set<number>();
    for (const id of outputIds) this.expand(id, r, outputs, seen);
    return { index: this.spawns.length, offset, args, env, inputs, outputs, mnemonic, target: label, runner, cacheHit, exitCode };
  }
}

