// --execution_log_binary_file: a stream of varint-length-prefixed SpawnExec messages
// (spawn.proto, package tools.protos). Fields read:
//   SpawnExec: 1 command_args, 2 environment_variables {1 name, 2 value}, 4 inputs (File),
//              9 progress_message (Bazel < 5; reserved later), 10 mnemonic, 11 actual_outputs
//              (File), 12 runner, 13 cache_hit (remote_cache_hit before), 15 exit_code,
//              18 target_label; the rest (platform, metrics, timings...) is skipped.
//   File:      1 path, 2 digest {1 hash, 2 size_bytes, 3 hash_function_name}, 4 symlink_target_path.
import { ProtoReader } from './protobuf.js';
import { Interner, targetFromProgress, type LoggedFile, type LoggedSpawn } from './spawn.js';

/** A Digest message: [hash, size]. */
export function readDigest(r: ProtoReader, intern: Interner): [string, number] {
  let hash = '';
  let size = 0;
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) hash = intern.get(r.string(w));
    else if (f === 2) size = r.varint(w);
    else r.skip(w);
  }
  return [hash, size];
}

function readFile(r: ProtoReader, intern: Interner): LoggedFile {
  let path = '';
  let hash = '';
  let size = 0;
  let link = '';
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) path = intern.get(r.string(w));
    else if (f === 2) [hash, size] = readDigest(r.message(w), intern);
    else if (f === 4) link = r.string(w);
    else r.skip(w);
  }
  return intern.file(path, link ? `->${link}` : hash, size);
}

/** name/value pairs (EnvironmentVariable, Platform.Property). */
export function readPair(r: ProtoReader, intern: Interner): readonly [string, string] {
  let name = '';
  let value = '';
  while (!r.done()) {
    const [f, w] = r.tag();
    if (f === 1) name = intern.get(r.string(w));
    else if (f === 2) value = intern.get(r.string(w));
    else r.skip(w);
  }
  return [name, value];
}

export function decodeSpawnExec(bytes: Uint8Array, offset: number, index: number, intern: Interner): LoggedSpawn {
  const r = new ProtoReader(bytes, offset);
  const args: string[] = [];
  const env: Array<readonly [string, string]> = [];
  const inputs: LoggedFile[] = [];
  const outputs: LoggedFile[] = [];
  let mnemonic = '';
  let runner = '';
  let cacheHit = false;
  let exitCode = 0;
  let label = '';
  let progress = '';
  while (!r.done()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        args.push(intern.get(r.string(w)));
        break;
      case 2:
        env.push(readPair(r.message(w), intern));
        break;
      case 4:
        inputs.push(readFile(r.message(w), intern));
        break;
      case 9:
        progress = r.string(w);
        break;
      case 10:
        mnemonic = intern.get(r.string(w));
        break;
      case 11:
        outputs.push(readFile(r.message(w), intern));
        break;
      case 12:
        runner = intern.get(r.string(w));
        break;
      case 13:
        cacheHit = r.bool(w);
        break;
      case 15:
        exitCode = r.int32(w);
        break;
      case 18:
        label = intern.get(r.string(w));
        break;
      default:
        r.skip(w);
    }
  }
  return { index, offset, args, env, inputs, outputs, mnemonic, target: label || intern.get(targetFromProgress(progress)), runner, cacheHit, exitCode };
}
