// The dispatcher: detect a source's format, run its handler with a Context, and decide from
// the bytes (not from the handler's word) whether anything changed. Nesting goes through here.
import { Deadline, FileFailure, FileGuard } from './errors.js';
import { BufferSink, BufferSource, CHUNK, copyRange } from './io.js';
import {
  FormatError,
  HEAD_BYTES,
  TAIL_BYTES,
  type Change,
  type Context,
  type Handler,
  type MemberResult,
  type Options,
  type Probe,
  type Sink,
  type Source,
  type SpillSink,
  type StreamedMemberResult,
  type TouchRequest,
} from './types.js';

/** The result of normalizing one artifact or member. */
export interface Outcome {
  /** Handler that took it; undefined when no format matched. */
  readonly format?: string;
  /**
   * ignored: no handler claimed it. unchanged: already canonical. changed: new bytes written.
   * untouched: deliberately left alone (reason says why). error: could not be processed.
   */
  readonly status: 'ignored' | 'unchanged' | 'changed' | 'untouched' | 'error';
  readonly changes: readonly Change[];
  readonly notices: readonly string[];
  readonly reason?: string;
  /** Files whose mtime the handler asks to set (top level only). */
  readonly touch?: readonly TouchRequest[];
}

/** What the engine needs from its caller besides the handlers. */
export interface EngineEnv {
  readonly options: Options;
  readonly handlers: readonly Handler[];
  /** Make a spill sink (memory first, then a temp file). */
  readonly spill: () => SpillSink;
  /** Read another file of the tree relative to the top-level artifact (see Context.sibling). */
  readonly sibling?: (relativePath: string) => Promise<Uint8Array | undefined>;
  /**
   * The file's deadline, decompression budget and failures, shared by every nesting level
   * (and by the spills and file sources made for it). Default: one made from options.limits.
   */
  readonly guard?: FileGuard;
}

/** The guard limits.deadlineMs and limits.maxRatio call for. */
export function guardFor(options: Options): FileGuard {
  return new FileGuard(new Deadline(options.limits.deadlineMs ?? 0), options.limits.maxRatio);
}

export async function makeProbe(src: Source, name: string): Promise<Probe> {
  const head = await src.read(0, Math.min(src.size, HEAD_BYTES));
  const tailLen = Math.min(src.size, TAIL_BYTES);
  const tail = tailLen <= head.length && tailLen === src.size ? head : await src.read(src.size - tailLen, tailLen);
  return { name, size: src.size, head, tail };
}

function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot);
}

/**
 * The handler for a probe: the first enabled handler whose content detection matches, else
 * the first whose extensions claim the name (it will then report why the content is wrong).
 */
export function selectHandler(probe: Probe, handlers: readonly Handler[], enabled: readonly string[]): Handler | undefined {
  return selectEnabled(probe, handlers.filter((h) => enabled.includes(h.name)));
}

/** selectHandler over handlers already filtered to the enabled ones. */
function selectEnabled(probe: Probe, on: readonly Handler[]): Handler | undefined {
  for (const h of on) if (h.detect(probe)) return h;
  // An empty file (a placeholder `.jar`, a `touch`ed `.gz`) is no archive whatever its name:
  // nothing in it can vary, so no name claims it.
  if (probe.size === 0) return undefined;
  const ext = extensionOf(probe.name);
  if (ext) for (const h of on) if (h.extensions.includes(ext)) return h;
  return undefined;
}

/**
 * A sink that compares what the handler writes with the input and only starts real output at
 * the first difference (copying the identical prefix), so an unchanged artifact costs no write.
 * When `open` gives no sink (--check), it only tells whether the output differs.
 */
export class ComparingSink implements Sink {
  private pos = 0;
  private target: Sink | undefined;
  private differs = false;
  /** A window of the input, read in CHUNK pieces, so many small writes cost few reads. */
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  private winSize = 32 * 1024;
  constructor(
    private readonly input: Source,
    private readonly open: () => Promise<Sink | undefined>,
    private readonly guard?: FileGuard,
  ) {}
  get length(): number {
    return this.pos;
  }
  get diverged(): boolean {
    return this.differs;
  }
  /** Output that is the input's own bytes at the same position stays equal: nothing to compare. */
  copyInput(offset: number, length: number): boolean {
    if (this.differs || offset !== this.pos || length < 0 || offset + length > this.input.size) return false;
    this.guard?.check();
    this.pos += length;
    return true;
  }
  /** Does the input at the current position hold exactly `chunk`? */
  private async same(chunk: Uint8Array): Promise<boolean> {
    if (this.pos + chunk.length > this.input.size) return false;
    let at = 0;
    while (at < chunk.length) {
      const p = this.pos + at;
      if (p < this.winStart || p >= this.winStart + this.win.length) {
        // Windows grow from 64 KiB to CHUNK as the output keeps matching: an output that
        // differs early (most do) costs one small read, an unchanged one few large ones.
        this.winSize = Math.min(CHUNK, this.winSize * 2);
        this.winStart = p;
        this.win = await this.input.read(p, Math.min(Math.max(this.winSize, chunk.length - at), CHUNK, this.input.size - p));
      }
      const off = p - this.winStart;
      const n = Math.min(chunk.length - at, this.win.length - off);
      const a = Buffer.from(this.win.buffer, this.win.byteOffset + off, n);
      const b = Buffer.from(chunk.buffer, chunk.byteOffset + at, n);
      if (!a.equals(b)) return false;
      at += n;
    }
    return true;
  }
  async write(chunk: Uint8Array): Promise<void> {
    this.guard?.check();
    if (chunk.length === 0) return;
    if (!this.differs) {
      if (await this.same(chunk)) {
        this.pos += chunk.length;
        return;
      }
      await this.diverge();
    }
    await this.target?.write(chunk);
    this.pos += chunk.length;
  }
  private async diverge(): Promise<void> {
    this.differs = true;
    this.win = new Uint8Array(0);
    this.target = await this.open();
    if (this.target) await copyRange(this.input, 0, this.pos, this.target);
  }
  /** True when the output equals the input; otherwise the target (if any) holds the whole output. */
  async finish(): Promise<boolean> {
    if (this.differs) return false;
    if (this.pos === this.input.size) return true;
    await this.diverge();
    return false;
  }
}

function prefixChanges(member: string, changes: readonly Change[]): Change[] {
  return changes.map((c) => ({ ...c, member: c.member ? `${member}!/${c.member}` : member }));
}

export class Engine {
  /** Deadline, decompression budget and the first failure that must fail the whole file. */
  readonly guard: FileGuard;
  private readonly enabled: readonly Handler[];
  constructor(private readonly env: EngineEnv) {
    this.guard = env.guard ?? guardFor(env.options);
    this.enabled = env.handlers.filter((h) => env.options.formats.includes(h.name));
  }

  /**
   * Normalize `input`. When the output differs, it is written to the sink `open()` returns
   * (opened at most once, only then; no sink: only find out whether it differs). `path` names
   * the artifact in messages. A FileFailure (environment, deadline, decompression budget) met
   * at any depth fails the whole file: below the top it is thrown on, never turned into a
   * "member kept as it was" notice; at the top it is the file's error.
   */
  async normalize(
    input: Source,
    name: string,
    path: string,
    depth: number,
    open: () => Promise<Sink | undefined>,
    /** Told the size of the new bytes when the output differs (with or without a sink). */
    sized?: (size: number) => void,
  ): Promise<Outcome> {
    const { options } = this.env;
    const guard = this.guard;
    if (depth === 0) guard.setInputSize(input.size);
    let handler: Handler | undefined;
    const notices: string[] = [];
    try {
      guard.check();
      if (depth > options.limits.maxDepth) {
        return { status: 'error', changes: [], notices: [], reason: `nesting deeper than ${options.limits.maxDepth}` };
      }
      const probe = await makeProbe(input, name);
      handler = selectEnabled(probe, this.enabled);
      if (!handler) return { status: 'ignored', changes: [], notices: [], ...(input.size === 0 ? { reason: 'empty file' } : {}) };
      const ctx: Context = {
        options,
        path,
        depth,
        spill: this.env.spill,
        notice: (m) => notices.push(m),
        normalizeMember: (memberName, member) => this.member(memberName, member, path, depth + 1, notices),
        normalizeMemberInto: (memberName, member, into) => this.memberInto(memberName, member, into, path, depth + 1, notices),
        claims: (p) => selectEnabled(p, this.enabled) !== undefined,
        checkDeadline: () => guard.check(),
        expand: (bytes, what) => guard.expand(bytes, `${path}: ${what}`),
        ...(depth === 0 && this.env.sibling ? { sibling: this.env.sibling } : {}),
      };
      // A handler that reads its input whole gets the copy the comparing sink checks against.
      const whole = handler.wholeInput && !(input instanceof BufferSource) && input.size <= options.limits.spillBytes;
      const source = whole ? new BufferSource(await input.read(0, input.size)) : input;
      const sink = new ComparingSink(source, open, guard);
      const result = await handler.normalize(source, sink, ctx);
      // A failure a handler caught and carried on from still fails the file.
      guard.check();
      if (result.status === 'untouched') {
        return { format: handler.name, status: 'untouched', changes: [], notices, reason: result.reason };
      }
      const same = await sink.finish();
      guard.check();
      if (!same) sized?.(sink.length);
      const touch = depth === 0 && result.touch?.length ? { touch: result.touch } : {};
      return same
        ? { format: handler.name, status: 'unchanged', changes: [], notices, ...touch }
        : { format: handler.name, status: 'changed', changes: result.changes, notices, ...touch };
    } catch (e) {
      const failure = guard.record(e);
      if (failure instanceof FileFailure) {
        if (depth > 0) throw failure;
        return { ...(handler ? { format: handler.name } : {}), status: 'error', changes: [], notices, reason: failure.message };
      }
      return { ...(handler ? { format: handler.name } : {}), status: 'error', changes: [], notices, reason: describeError(e) };
    }
  }

  /** Normalize a member into a spill (ctx.normalizeMember). */
  async member(name: string, member: Source, path: string, depth: number, parentNotices: string[]): Promise<MemberResult> {
    let spill: SpillSink | undefined;
    const outcome = await this.normalize(member, name, `${path}!/${name}`, depth, async () => (spill = this.env.spill()));
    for (const n of outcome.notices) parentNotices.push(`${name}: ${n}`);
    if (outcome.status !== 'changed') spill?.release?.();
    if (outcome.status === 'error' || outcome.status === 'untouched') {
      parentNotices.push(`${name}: ${outcome.format ?? 'member'}: ${outcome.reason}; member kept as it was`);
      return { changed: false, format: outcome.format };
    }
    if (outcome.status !== 'changed') return { changed: false, format: outcome.format };
    const output = await spill!.close();
    return { changed: true, format: outcome.format!, output, changes: prefixChanges(name, outcome.changes) };
  }

  /**
   * Normalize a member straight into the caller's sink (ctx.normalizeMemberInto): a first pass
   * only finds out whether it changes (keeping nothing), the second writes it. A member that
   * fails is thus kept as it was before any of it is written, as with normalizeMember.
   */
  private async memberInto(
    name: string,
    member: Source,
    into: (size: number) => Promise<Sink>,
    path: string,
    depth: number,
    parentNotices: string[],
  ): Promise<StreamedMemberResult> {
    const where = `${path}!/${name}`;
    let size = -1;
    const first = await this.normalize(member, name, where, depth, async () => undefined, (n) => (size = n));
    for (const n of first.notices) parentNotices.push(`${name}: ${n}`);
    if (first.status === 'error' || first.status === 'untouched') {
      parentNotices.push(`${name}: ${first.format ?? 'member'}: ${first.reason}; member kept as it was`);
      return { changed: false, format: first.format };
    }
    if (first.status !== 'changed') return { changed: false, format: first.format };
    let again = -1;
    const second = await this.normalize(member, name, where, depth, () => into(size), (n) => (again = n));
    if (second.status !== 'changed') {
      // Both passes see the same bytes and options: they cannot disagree unless something
      // outside the bytes changed between them.
      throw new FileFailure('environment', `${where}: the second pass over the member gave ${second.status}${second.reason ? ` (${second.reason})` : ''} after the first gave changed`);
    }
    if (again !== size) throw new FileFailure('environment', `${where}: the second pass over the member gave ${again} bytes after the first gave ${size}`);
    return { changed: true, format: second.format!, changes: prefixChanges(name, second.changes) };
  }
}

export function describeError(e: unknown): string {
  if (e instanceof FormatError || e instanceof FileFailure) return e.message;
  if (e instanceof RangeError) return `malformed: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** A spill sink held in memory (the core swaps in a file-backed one for large data). */
export class MemorySpill extends BufferSink implements SpillSink {
  async close(): Promise<Source> {
    return new BufferSource(this.bytes());
  }
}

/** Normalize a whole in-memory buffer (used by the library API and by tests). */
export async function normalizeBytes(
  bytes: Uint8Array,
  name: string,
  options: Options,
  handlers: readonly Handler[],
  spill: () => SpillSink = () => new MemorySpill(),
  guard?: FileGuard,
): Promise<Outcome & { output: Uint8Array }> {
  let out: BufferSink | undefined;
  const engine = new Engine({ options, handlers, spill, ...(guard ? { guard } : {}) });
  const outcome = await engine.normalize(new BufferSource(bytes), name, name, 0, async () => (out = new BufferSink()));
  return { ...outcome, output: outcome.status === 'changed' ? out!.bytes() : bytes };
}

