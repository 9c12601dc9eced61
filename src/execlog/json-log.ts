// --execution_log_json_file: SpawnExec messages in proto3 JSON (lowerCamelCase names, int64
// as strings), pretty-printed back to back (Bazel 4 to 6) or one a line (later versions).
import { Interner, targetFromProgress, type LoggedFile, type LoggedSpawn } from './spawn.js';

type Obj = Record<string, unknown>;

class FieldError extends Error {}

function list(o: Obj, name: string): unknown[] {
  const v = o[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new FieldError(`${name} is not a list`);
  return v;
}

function str(o: Obj, name: string): string {
  const v = o[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new FieldError(`${name} is not a string`);
  return v;
}

function num(o: Obj, name: string): number {
  const v = o[name];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new FieldError(`${name} is not a number`);
  return n;
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FieldError(`${what} is not an object`);
  return v as Obj;
}

function file(v: unknown, what: string, intern: Interner): LoggedFile {
  const f = obj(v, what);
  const d = f.digest === undefined || f.digest === null ? {} : obj(f.digest, `${what}.digest`);
  const link = str(f, 'symlinkTargetPath');
  return intern.file(str(f, 'path'), link ? `->${link}` : str(d, 'hash'), num(d, 'sizeBytes'));
}

/** One SpawnExec JSON object. Throws FieldError (a message without offset) on a wrong type. */
export function spawnFromJson(o: Obj, index: number, offset: number, intern: Interner): LoggedSpawn {
  const args = list(o, 'commandArgs');
  if (!args.every((a) => typeof a === 'string')) throw new FieldError('commandArgs is not a list of strings');
  const env = list(o, 'environmentVariables').map((e, i) => {
    const x = obj(e, `environmentVariables[${i}]`);
    return [intern.get(str(x, 'name')), intern.get(str(x, 'value'))] as const;
  });
  const label = str(o, 'targetLabel') || str(o, 'label');
  return {
    index,
    offset,
    args: (args as string[]).map((a) => intern.get(a)),
    env,
    inputs: list(o, 'inputs').map((f, i) => file(f, `inputs[${i}]`, intern)),
    outputs: list(o, 'actualOutputs').map((f, i) => file(f, `actualOutputs[${i}]`, intern)),
    mnemonic: intern.get(str(o, 'mnemonic')),
    target: intern.get(label || targetFromProgress(str(o, 'progressMessage'))),
    runner: intern.get(str(o, 'runner')),
    cacheHit: o.cacheHit === true || o.remoteCacheHit === true,
    exitCode: num(o, 'exitCode'),
  };
}

export { FieldError };
