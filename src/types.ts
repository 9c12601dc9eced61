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
  /**
   * Decompression budget: the bytes decompressed for one file, at every nesting level together,
   * may not exceed maxRatio times the file's size. One deflate layer tops out near 1032:1, so
   * with the default 2000 only nested bombs (42.zip) reach it; the whole file then fails.
   */
  readonly maxRatio: number;
  /**
   * Per-file deadline in milliseconds (0: none). A file not done by then is reported as an
   * error and left untouched; the run goes on (README "Safety" says how this is enforced).
   */
  readonly deadlineMs?: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxDepth: 8,
  memoryBytes: 64 * 1024 * 1024,
  spillBytes: 16 * 1024 * 1024,
  maxMemberBytes: 64 * 1024 * 1024 * 1024,
  maxRatio: 2000,
  deadlineMs: 600_000,
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
  /** RPM packages: the BUILDHOST to write (default "reproducible"). */
  readonly rpmBuildHost?: string;
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
  /**
   * Optional (spilled data): the reader is done with these bytes; free their memory or temp
   * file now rather than when the artifact is done. Reading afterwards is an error.
   */
  release?(): void;
}

/** Where a handler writes its output, front to back. */
export interface Sink {
  /** The sink does not keep `chunk` once this resolves (it copies what it holds): the caller may reuse it. */
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly length: number;
  /**
   * Optional: the next `length` bytes of output are the bytes of the handler's own input at
   * `offset` (what the handler would otherwise read from its input and write). True when the
   * sink took them so (the engine's comparing sink, while the output still equals the input
   * and `offset` is where the output is); false: write them as usual.
   */
  copyInput?(offset: number, length: number): boolean;
}

/** A sink whose bytes can be read back as a Source once it is closed (memory, then temp file). */
export interface SpillSink extends Sink {
  /** Finish writing; the returned Source is valid until the handler returns (or is released). */
  close(): Promise<Source>;
  /** Optional: drop what was written (memory or temp file) now. */
  release?(): void;
}

/** What `ctx.normalizeMember` gives back. */
export type MemberResult =
  | { readonly changed: false; readonly format?: string; readonly notice?: string }
  | {
      readonly changed: true;
      readonly format: string;
      /** The member's new bytes (release() them once written: memory and temp disk stay bounded). */
      readonly output: Source;
      readonly changes: readonly Change[];
    };

/** What `ctx.normalizeMemberInto` gives back: the new bytes, if any, went into the caller's sink. */
export type StreamedMemberResult =
  | { readonly changed: false; readonly format?: string }
  | { readonly changed: true; readonly format: string; readonly changes: readonly Change[] };

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
  /**
   * Optional: like normalizeMember, but nothing is kept: when the member changes, its new bytes
   * are written into the sink `open` returns (called once, only then). The member is normalized
   * twice when it changes (first only to learn whether it does), so a member that fails is kept
   * as it was before any of it is written. For large payloads (a .tar.gz's tar): no temp copy
   * of the output. `open` is told the size of the new bytes (known from the first pass), which
   * an encoder may need before the first byte (zstd and lz4 record it in the frame header).
   * A Context that overrides normalizeMember must drop or override this too.
   */
  normalizeMemberInto?(name: string, member: Source, open: (size: number) => Promise<Sink>): Promise<StreamedMemberResult>;
  /**
   * Optional: would any enabled handler take a member with this probe? Lets a handler decide
   * from a payload's head whether it can change at all before keeping any of it.
   */
  claims?(probe: Probe): boolean;
  /** Optional: throws once the file's deadline has passed; call it in long loops. */
  checkDeadline?(): void;
  /**
   * Optional: count `bytes` about to be decompressed against the file's decompression budget
   * (limits.maxRatio); throws when it is exceeded (the whole file then fails).
   */
  expand?(bytes: number, what: string): void;
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
   * Optional: the handler reads an input of up to limits.spillBytes whole anyway. The engine
   * then reads it once, before the handler runs, and the handler and the engine's check that
   * the output equals the input share that copy (no second read of the file).
   */
  readonly wholeInput?: boolean;
  /**
   * Optional, for containers: the members in archive order, each with its (uncompressed) data
   * and the metadata fields the format stores. `detnorm diff` uses it to say which member and
   * which field differ. Throws FormatError on malformed input.
   */
  members?(input: Source, ctx: Context): AsyncIterable<MemberInfo>;
  /**
   * Optional, for `detnorm diff`: compare two inputs of this format field by field (after
   * decoding both). Returns the fields that differ between A and B, grouped (each field once,
   * with A's and B's values and a count), each with the cause its bytes support in the
   * format's own words (none when they support none), and the members present on both sides
   * whose data differ: the core compares those in turn with whatever handler detects them, so
   * nesting comes free. Nothing equal on both sides is listed. Throws FormatError when either
   * side is malformed (the core then compares bytes). See docs/DESIGN.md, "detnorm diff".
   */
  compare?(a: Source, b: Source, ctx: Context): Promise<Comparison>;
  /**
   * Optional, for directory-shaped artifacts (an OCI image layout): true when a directory
   * holding these entry names is one artifact of this format. The walk then hands the
   * directory over whole, and the core calls the two methods below on its files.
   */
  detectDirectory?(names: readonly string[]): boolean;
  /** Normalize a directory artifact given as its files: what to write and delete. */
  normalizeDirectory?(files: DirectoryFiles, ctx: Context): Promise<DirectoryResult>;
  /** Like `compare`, for two directory artifacts. */
  compareDirectory?(a: DirectoryFiles, b: DirectoryFiles, ctx: Context): Promise<Comparison>;
}

/** A directory artifact's regular files by '/'-separated path relative to its root. */
export type DirectoryFiles = ReadonlyMap<string, Source>;

/** What `Handler.normalizeDirectory` returns. */
export interface DirectoryResult {
  /**
   * Files to create or replace, written in this map's order. The handler orders them so that a
   * crash between two writes leaves a valid artifact (new files first, the file that switches
   * the artifact over to them last).
   */
  readonly writes: ReadonlyMap<string, Source>;
  /** Files to remove once every write is done. */
  readonly deletes: readonly string[];
  readonly changes: readonly Change[];
}

/** What sort of field a difference is in: the change kinds, plus what only a comparison finds. */
export type DifferenceKind = ChangeKind | 'only-in-a' | 'only-in-b' | 'type' | 'error';

/** One difference between A and B in a format's fields (grouped: each field once). */
export interface FieldDifference {
  readonly kind: DifferenceKind;
  /** The format's own name for the field: "mtime", "uid/gid", "DOS time", "OS byte", "DW_AT_comp_dir", "order", "data". */
  readonly field: string;
  /** The member it is in (nested members joined by '!/'); absent for the artifact itself or a field grouped over several members. */
  readonly member?: string;
  /** A's and B's values as short text (absent when they do not fit: then `detail` says it). */
  readonly a?: string;
  readonly b?: string;
  /** How many members (entries, records) show this difference; absent means 1. */
  readonly count?: number;
  /** Free text when A and B's values are not the point: "3 members moved", "e.g. pkg/a.txt". */
  readonly note?: string;
  /** The cause the bytes support, in the format's own words; absent when they support none. */
  readonly cause?: string;
  /** First differing byte of the member's data (content differences). */
  readonly offset?: number;
  /**
   * Set when normalization cannot remove this difference (a build path compiled into a loaded
   * section): the core never reports it as normalized away, whatever the normalized sides show.
   */
  readonly unfixable?: boolean;
}

/** A member present on both sides whose data differ. */
export interface MemberPair {
  readonly name: string;
  readonly a: Source;
  readonly b: Source;
}

/** What `Handler.compare` returns. */
export interface Comparison {
  readonly differences: readonly FieldDifference[];
  readonly members?: readonly MemberPair[];
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
