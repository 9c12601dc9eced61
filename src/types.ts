// The contract between the core and the format handlers (DESIGN.md section 2).
// The core owns all file I/O; a handler sees a Source (random-access input bytes), a Sink
// (where it writes the complete canonical output) and a Context. It knows no file system.

/** One `--map-path OLD=NEW` pair. */
export interface PathMap {
  readonly from: string;
  readonly to: string;
}

/** Limits that turn hostile input into an error instead of an OOM or a hang. */
export interface Limits {
  /** Maximum nesting depth (a jar in a war in a zip is depth 3). */
  readonly maxDepth: number;
  /** Largest structure a handler may hold in memory (a central directory, a pyc, a symbol table). */
  readonly memoryBytes: number;
  /** Intermediate data (a decompressed payload, a changed member) past this size spills to a temp file. */
  readonly spillBytes: number;
  /** Largest uncompressed size of one member (zip bombs). */
  readonly maxMemberBytes: number;
  /** Largest ratio uncompressed/compressed tolerated for one member. */
  readonly maxRatio: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxDepth: 8,
  memoryBytes: 64 * 1024 * 1024,
  spillBytes: 16 * 1024 * 1024,
  maxMemberBytes: 64 * 1024 * 1024 * 1024,
  maxRatio: 2000,
};

/** Everything that decides the output besides the input bytes. */
export interface Options {
  /** T, seconds since the epoch (UTC); undefined means each format's "no time" value. */
  readonly timestamp?: number;
  /** Only times later than T become T. */
  readonly clamp: boolean;
  readonly mapPaths: readonly PathMap[];
  /** ar: sort members bytewise by name instead of keeping their order. */
  readonly sortArMembers: boolean;
  /** pyc: convert timestamp pycs whose source is present into hash-based pycs. */
  readonly pycInvalidation?: 'checked-hash' | 'unchecked-hash';
  /**
   * pyc: also sort set/frozenset items of Python < 3.11 pycs (their order follows
   * PYTHONHASHSEED at compile time), as 3.11+ writes them. Off by default: the canonical form is
   * add-determinism's, which keeps that order.
   */
  readonly pycSortSets?: boolean;
  /**
   * PE images: the COFF header's and debug directory's TimeDateStamp derived from the content as
   * lld-link /Brepro does ('content', the default), or T ('T': every PE stamp becomes T, or 0
   * without T). COFF objects and import members always get 0.
   */
  readonly peTimestamp?: 'content' | 'T';
  /** Container image layers: keep numeric owners (default) or set them to 0. */
  readonly ociOwners?: 'keep' | 'zero';
  /** Container images: leave the first N layers of each image byte-identical (default 0). */
  readonly keepLayers?: number;
  /** Container images: also leave byte-identical the layers with these digests (sha256 hex, no prefix). */
  readonly keepLayerDigests?: readonly string[];
  /** Names of the enabled handlers. */
  readonly formats: readonly string[];
  readonly limits: Limits;
}

/** What kind of non-determinism a change removed (used by reports and `--json`). */
export type ChangeKind =
  | 'timestamp'
  | 'order'
  | 'owner'
  | 'mode'
  | 'path'
  | 'build-id'
  | 'marshal'
  | 'header'
  | 'extra-field'
  | 'padding'
  | 'layout'
  | 'compression'
  | 'metadata'
  | 'content';

/** One thing a handler changed. Aggregate repeated changes: one record and a count. */
export interface Change {
  readonly kind: ChangeKind;
  /** Human-readable: "MTIME 1700000000 -> 0", "FNAME removed". */
  readonly what: string;
  /** Member path inside the artifact, nested members joined with '!/'. */
  readonly member?: string;
  /** How many times this change was made (members, entries). Absent means 1. */
  readonly count?: number;
}

/** Random-access input bytes: a file, a buffer, or a spilled member. */
export interface Source {
  readonly size: number;
  /** Exactly `length` bytes from `offset`; throws a RangeError beyond the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Optional: fill `target` with the bytes at `offset` (no allocation); see readInto() in io.ts. */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
}

/** Where a handler writes its output, front to back. */
export interface Sink {
  /** The sink does not keep `chunk` once this resolves (it copies what it holds): the caller may reuse it. */
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly length: number;
}

/** A sink whose bytes can be read back as a Source once it is closed (memory, then temp file). */
export interface SpillSink extends Sink {
  /** Finish writing; the returned Source is valid until the handler returns. */
  close(): Promise<Source>;
}

/** What `ctx.normalizeMember` gives back. */
export type MemberResult =
  | { readonly changed: false; readonly format?: string; readonly notice?: string }
  | {
      readonly changed: true;
      readonly format: string;
      /** The member's new bytes. */
      readonly output: Source;
      readonly changes: readonly Change[];
    };

export interface Context {
  readonly options: Options;
  /** Path of the artifact being normalized, for messages. */
  readonly path: string;
  /** Nesting depth: 0 for a file, 1 for a member of it, ... */
  readonly depth: number;
  /**
   * Normalize a member with whatever handler detects it (by content; `name` is the member's
   * path inside this artifact and serves as the extension tie-break). Members no handler
   * claims, or that fail to parse, come back unchanged (a nested failure is reported as a
   * notice on the artifact, never an error that leaves the whole artifact untouched).
   */
  normalizeMember(name: string, member: Source): Promise<MemberResult>;
  /** A sink for intermediate data (a decompressed payload): memory first, temp file past the limit. */
  spill(): SpillSink;
  /** Report something that is not a change and not an error ("signed jar: content kept"). */
  notice(message: string): void;
  /**
   * Optional: the bytes of another file of the tree, named relative to this artifact's
   * directory ('/'-separated, may start with '../'), or undefined when it is absent, not a
   * regular file, or outside the tree being normalized. Used by the pyc handler to read a
   * pyc's source for --pyc-invalidation. Cores (or containers) that cannot provide it omit it.
   */
  sibling?(relativePath: string): Promise<Uint8Array | undefined>;
}

/**
 * A request to set another file's mtime (a pyc's source must carry the mtime recorded in the
 * pyc). The core honours it only for a top-level artifact, when the file is a regular file in
 * the tree being normalized and, if `size` is given, has that size (mod 2^32).
 */
export interface TouchRequest {
  /** Relative to the artifact's directory, '/'-separated. */
  readonly relativePath: string;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly size?: number;
}

/** What a handler's `normalize` returns (errors are thrown as FormatError). */
export type HandlerResult =
  /** The complete canonical output was written to the sink. The core compares it with the input. */
  | { readonly status: 'normalized'; readonly changes: readonly Change[]; readonly touch?: readonly TouchRequest[] }
  /** Deliberately left alone (signed APK, unsupported compression); nothing was written. */
  | { readonly status: 'untouched'; readonly reason: string };

/** What detection sees of a file: its name, size, first bytes and last bytes. */
export interface Probe {
  /** File or member name (only the base name and extension matter for detection). */
  readonly name: string;
  readonly size: number;
  /** The first min(size, HEAD_BYTES) bytes. */
  readonly head: Uint8Array;
  /** The last min(size, TAIL_BYTES) bytes (enough to find a zip end record with a comment). */
  readonly tail: Uint8Array;
}

export const HEAD_BYTES = 8192;
export const TAIL_BYTES = 65557;

export interface Handler {
  /** Short unique name, used in `--formats` and reports: "gzip", "ar", "zip", ... */
  readonly name: string;
  /** One line for `--list-formats`. */
  readonly description: string;
  /** Lower-case extensions (with the dot) that claim a file whose content does not match. */
  readonly extensions: readonly string[];
  /** True when the content is this format (magic bytes; the name only as a tie-break). */
  detect(probe: Probe): boolean;
  /** Write the canonical form of `input` to `output`, or throw FormatError. */
  normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult>;
  /**
   * Optional, for containers: the members in archive order, each with its (uncompressed) data
   * and the metadata fields the format stores. `detnorm diff` uses it to say which member and
   * which field differ. Throws FormatError on malformed input.
   */
  members?(input: Source, ctx: Context): AsyncIterable<MemberInfo>;
  /**
   * Optional, for `detnorm diff`: likely causes of the differences between two raw inputs of
   * this format, from fields only the format knows (PE: link stamps, CodeView GUID, DWARF).
   */
  explain?(a: Uint8Array, b: Uint8Array): string[];
}

/** One member of a container, as `Handler.members` lists it. */
export interface MemberInfo {
  readonly name: string;
  /** The member's uncompressed bytes (absent for directories, links and other non-files). */
  readonly data?: Source;
  /** 'file' | 'dir' | 'symlink' | 'hardlink' | 'other' */
  readonly type: string;
  /** Stored fields: mtime (seconds), uid, gid, mode, linkTarget, dosTime ('YYYY-MM-DD HH:MM:SS'), os, ... */
  readonly meta: Readonly<Record<string, string | number>>;
}

/** A malformed or unsupported input: the file is left untouched and this reason reported. */
export class FormatError extends Error {
  constructor(
    readonly reason: string,
    readonly member?: string,
  ) {
    super(member ? `${member}: ${reason}` : reason);
    this.name = 'FormatError';
  }
}
