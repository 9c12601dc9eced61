// What detnorm keeps of one spawn in a Bazel execution log, whichever of the three forms it
// came from (JSON, binary SpawnExec, compact ExecLogEntry): enough to pair the actions of two
// builds and say why their outputs differ.

export interface LoggedFile {
  /** Relative to the execution root. */
  readonly path: string;
  /** Lower-case hex content digest; '' when the log gives none (an empty file, a symlink). */
  readonly hash: string;
  readonly size: number;
}

export interface LoggedSpawn {
  /** Position in its log (0-based), the order Bazel wrote it. */
  readonly index: number;
  /** Byte offset of the spawn's message in the log (in the decompressed stream for the compact form). */
  readonly offset: number;
  readonly args: readonly string[];
  /** Environment variables in the log's order. */
  readonly env: ReadonlyArray<readonly [name: string, value: string]>;
  readonly inputs: readonly LoggedFile[];
  readonly outputs: readonly LoggedFile[];
  readonly mnemonic: string;
  /** The target's label; from the progress message in logs without one (Bazel before 5). */
  readonly target: string;
  readonly runner: string;
  readonly cacheHit: boolean;
  readonly exitCode: number;
}

export interface ExecLog {
  readonly path: string;
  readonly form: 'json' | 'binary' | 'compact';
  readonly spawns: readonly LoggedSpawn[];
}

/** A malformed or truncated execution log: which file, what, and the byte offset. */
export class ExecLogError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${file}: ${reason} at byte ${offset}`);
    this.name = 'ExecLogError';
  }
}

/** The target named in a progress message ("Executing genrule //pkg:name", "Compiling x.c [for host]"). */
export function targetFromProgress(message: string): string {
  const m = /(@[\w.~+-]*)?\/\/[^\s;,)]*/.exec(message);
  return m ? m[0] : '';
}

/**
 * Interns the strings and file records of a log: paths and digests repeat in every spawn's
 * inputs (a big build's log lists the same tool files thousands of times), one copy each is kept.
 */
export class Interner {
  private readonly seen = new Map<string, string>();
  private readonly files = new Map<string, LoggedFile>();
  get(s: string): string {
    const had = this.seen.get(s);
    if (had !== undefined) return had;
    this.seen.set(s, s);
    return s;
  }
  /** One shared record per (path, digest, size): a spawn's input list holds references. */
  file(path: string, hash: string, size: number): LoggedFile {
    const key = `${path}\0${hash}\0${size}`;
    const had = this.files.get(key);
    if (had) return had;
    const f = { path: this.get(path), hash: this.get(hash), size };
    this.files.set(key, f);
    return f;
  }
}
