// Failures that are not in the bytes. A member may be kept as it was only for a reason that
// lies in its bytes (FormatError: malformed, unsupported, signed); anything that depends on the
// machine or the moment (no temp space, too many open files, no memory, no permission, an I/O
// error, the per-file deadline, the file's decompression budget) fails the whole file, at any
// depth of nesting: it is left untouched and reported, so the output never depends on them.

/** Why a whole file failed although nothing in its bytes was wrong. */
export type FailureKind = 'environment' | 'deadline' | 'expansion';

/** Fails the whole top-level file (exit 3, untouched), whatever nesting level raised it. */
export class FileFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'FileFailure';
  }
}

/** Words for the errno codes a run can meet; the code itself is kept in the message. */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  EXDEV: 'on another file system',
  ELOOP: 'is a symbolic link (not followed)',
  EAGAIN: 'resource temporarily unavailable',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large for the file system',
  ENAMETOOLONG: 'file name too long',
};

/** "no space left on the device (ENOSPC)" for an errno error; undefined for other errors. */
export function errnoWords(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return undefined;
  return `${ERRNO_WORDS[code] ?? code.toLowerCase()} (${code})`;
}

/** An error thrown by the system (a failed syscall), not by a parser. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException | undefined;
  return x instanceof Error && typeof x.code === 'string' && /^E[A-Z0-9]+$/.test(x.code) && (typeof x.syscall === 'string' || typeof x.errno === 'number');
}

/**
 * The FileFailure an error amounts to, or undefined when it is a fact about the bytes (a
 * FormatError, a RangeError from a bounds check, a handler's own error). Allocation failures
 * and zlib's Z_MEM_ERROR are memory, hence environment.
 */
export function asFileFailure(e: unknown): FileFailure | undefined {
  if (e instanceof FileFailure) return e;
  if (isSystemError(e)) return new FileFailure('environment', `${e.syscall ? `${e.syscall}: ` : ''}${errnoWords(e)}`, e.code);
  if (e instanceof RangeError && /allocation failed|Array buffer allocation|out of memory/i.test(e.message)) {
    return new FileFailure('environment', `out of memory (${e.message})`, 'ENOMEM');
  }
  const code = (e as { code?: unknown } | undefined)?.code;
  if (e instanceof Error && (code === 'Z_MEM_ERROR' || code === 'ERR_WORKER_OUT_OF_MEMORY' || code === 'ERR_MEMORY_ALLOCATION_FAILED')) {
    return new FileFailure('environment', `out of memory (${e.message})`, 'ENOMEM');
  }
  return undefined;
}

/** A per-file deadline; `check` throws a FileFailure once it has passed. */
export class Deadline {
  private readonly at: number;
  constructor(readonly ms: number) {
    this.at = ms > 0 ? performance.now() + ms : Infinity;
  }
  get expired(): boolean {
    return performance.now() > this.at;
  }
  check(): void {
    if (performance.now() > this.at) throw deadlineFailure(this.ms);
  }
}

export function deadlineFailure(ms: number): FileFailure {
  return new FileFailure('deadline', `not finished within the per-file deadline of ${formatSeconds(ms)} (--deadline); left untouched`);
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * The state every level of one file's work shares: the deadline, the decompression budget, and
 * the first FileFailure met. Once a failure is recorded the file fails, even when a handler
 * caught the error and carried on (a debug link that "could not be checked", say).
 */
export class FileGuard {
  failure: FileFailure | undefined;
  private expanded = 0;
  private budget = Infinity;
  constructor(
    readonly deadline: Deadline = new Deadline(0),
    private readonly maxRatio = Infinity,
  ) {}
  /** Set the decompression budget from the top-level file's size (limits.maxRatio times it). */
  setInputSize(size: number): void {
    this.budget = this.maxRatio * Math.max(size, 1);
  }
  /** Throws the recorded failure, or a deadline failure once the deadline has passed. */
  check(): void {
    if (this.failure) throw this.failure;
    if (this.deadline.expired) throw (this.failure = deadlineFailure(this.deadline.ms));
  }
  /** Count `bytes` about to be decompressed against the budget (every nesting level together). */
  expand(bytes: number, what: string): void {
    this.check();
    this.expanded += Math.max(0, bytes);
    if (this.expanded > this.budget) {
      const ratio = Number.isFinite(this.maxRatio) ? this.maxRatio : 0;
      throw (this.failure = new FileFailure(
        'expansion',
        `decompression budget exceeded at ${what}: nested members decompress to more than ${ratio} times the file's size (a decompression bomb?); left untouched`,
      ));
    }
  }
  /** If `e` fails the whole file, record it (the first one wins) and return it; else return e. */
  record(e: unknown): unknown {
    const f = asFileFailure(e);
    if (!f) return e;
    this.failure ??= f;
    return this.failure;
  }
}
