// The fuzzing core shared by `npm run fuzz` (scripts/fuzz.ts) and the property test
// (test/idempotence.property.test.ts): seeds from the corpus (and every member a handler meets
// inside them), structure-aware mutations driven by fast-check, and the per-input checks of
// issue 13: no exception escapes a handler except the typed ones, a refused file is untouched,
// a normalized file normalizes to itself, and no input is slow. Findings are written under
// corpus/<format>/fuzz/ and replayed by the property test.
//
// Jazzer.js (@jazzer.js/core 4.0.0) was considered: it needs @jazzer.js/fuzzer, a native
// libFuzzer addon built with cmake-js, which the pure-JS/WASM dependency rule excludes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import fc from 'fast-check';
import { FileFailure } from '../src/errors.js';
import { normalizeBytes } from '../src/engine.js';
import { optionsFromJson } from '../src/options.js';
import { FormatError, type Handler, type Options, type Source } from '../src/types.js';
import { HANDLERS } from '../formats/index.js';
import { crc32 } from '../formats/crc32.js';

export const CORPUS = new URL('../corpus/', import.meta.url).pathname;
const SIDE = /\.(out|json|error|md|fixed|txt|py|c|h|java|sh)$/;

/** One input to mutate: a corpus file or a member found inside one. */
export interface Seed {
  /** Where it comes from: `elf/main-dwarf5.o`, `zip/x.jar!/a/b.class`. */
  readonly id: string;
  /** The handler that takes it. */
  readonly format: string;
  /** Name for detection (the extension breaks ties). */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The corpus case's options (its .json), as JSON. */
  readonly optionsJson: Record<string, unknown>;
}

// ---- typed errors and handlers that report anything else ----

/** Errors that are facts about the bytes, which a handler may throw. */
export function isTyped(e: unknown): boolean {
  if (e instanceof FormatError || e instanceof FileFailure) return true;
  if (e instanceof Error && e.constructor.name === 'Unsupported') return true;
  if (e instanceof RangeError) return !/call stack|Invalid (typed )?array length|allocation failed|Invalid string length/i.test(e.message);
  return false;
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const frame = (e.stack ?? '').split('\n').find((l) => /formats\/|src\//.test(l))?.trim() ?? '';
    return `${e.name}: ${e.message}${frame ? ` (${frame.replace(/^at /, '').replace(/.*\/(formats|src)\//, '$1/')})` : ''}`;
  }
  return String(e);
}

type Capture = (member: { name: string; format: string; depth: number; input: Source }) => Promise<void>;

/** The registry, each handler wrapped: untyped errors go to `escapes`, members to `capture`. */
export function instrument(escapes: string[], capture?: Capture, handlers: readonly Handler[] = HANDLERS): Handler[] {
  return handlers.map((h) => {
    const w: Handler = Object.assign(Object.create(h) as Handler, {
      async normalize(input: Source, output: Parameters<Handler['normalize']>[1], ctx: Parameters<Handler['normalize']>[2]) {
        if (capture && ctx.depth > 0) await capture({ name: ctx.path.slice(ctx.path.lastIndexOf('!/') + 2), format: h.name, depth: ctx.depth, input });
        try {
          return await h.normalize(input, output, ctx);
        } catch (e) {
          if (!isTyped(e)) escapes.push(`${h.name}${ctx.depth > 0 ? ` (member ${ctx.path.slice(ctx.path.indexOf('!/') + 2)})` : ''}: ${describe(e)}`);
          throw e;
        }
      },
    });
    return w;
  });
}

// ---- seeds ----

function walkFiles(dir: string, out: string[]): void {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (f === 'fuzz') continue;
      walkFiles(p, out);
    } else if (st.isFile() && !SIDE.test(f)) out.push(p);
  }
}

/** Corpus files to seed from: every case of corpus/<format>/, the demo builds, the peers' fixtures (a few pycs per version). */
export function seedFiles(): string[] {
  const out: string[] = [];
  for (const family of readdirSync(CORPUS).sort()) {
    const dir = join(CORPUS, family);
    if (!statSync(dir).isDirectory()) continue;
    if (family !== 'peers') {
      walkFiles(dir, out);
      continue;
    }
    const peers: string[] = [];
    walkFiles(dir, peers);
    const perDir = new Map<string, number>();
    for (const p of peers) {
      const d = p.slice(0, p.lastIndexOf('/'));
      if (d.includes('python_stdlib')) {
        const n = perDir.get(d) ?? 0;
        if (n >= 3 || statSync(p).size > 16384) continue;
        perDir.set(d, n + 1);
      }
      out.push(p);
    }
  }
  return out;
}

/** Seeds: each corpus file a handler takes, and each member a handler takes inside it (up to `maxBytes`). */
export async function loadSeeds(maxBytes = 512 * 1024): Promise<Seed[]> {
  const seeds: Seed[] = [];
  const seen = new Set<string>();
  const add = (s: Seed) => {
    const key = `${s.format}:${createHash('sha1').update(s.bytes).digest('hex')}`;
    if (seen.has(key)) return;
    seen.add(key);
    seeds.push(s);
  };
  for (const file of seedFiles()) {
    const bytes = readFileSync(file);
    if (bytes.length === 0 || bytes.length > 8 * maxBytes) continue;
    const optionsJson = existsSync(`${file}.json`) ? (JSON.parse(readFileSync(`${file}.json`, 'utf8')) as Record<string, unknown>) : {};
    const id = relative(CORPUS, file);
    const members: Seed[] = [];
    const capture: Capture = async (m) => {
      if (m.input.size === 0 || m.input.size > maxBytes || members.length >= 64) return;
      members.push({ id: `${id}!/${m.name}`, format: m.format, name: basename(m.name), bytes: Uint8Array.from(await m.input.read(0, m.input.size)), optionsJson });
    };
    const r = await normalizeBytes(bytes, basename(file), optionsFromJson(optionsJson), instrument([], capture));
    if (!r.format || r.status === 'ignored') continue;
    if (bytes.length <= maxBytes) add({ id, format: r.format, name: basename(file), bytes: Uint8Array.from(bytes), optionsJson });
    for (const m of members) add(m);
  }
  return seeds;
}

// ---- mutations ----

export type Mutation =
  | { readonly t: 'flip'; readonly pos: number; readonly bit: number }
  | { readonly t: 'set'; readonly pos: number; readonly v: number }
  | { readonly t: 'zero'; readonly pos: number; readonly len: number }
  | { readonly t: 'trunc'; readonly len: number }
  | { readonly t: 'splice'; readonly from: number; readonly pos: number; readonly len: number }
  | { readonly t: 'insert'; readonly from: number; readonly pos: number; readonly len: number }
  | { readonly t: 'int'; readonly pos: number; readonly width: 2 | 4 | 8; readonly le: boolean; readonly v: IntChoice }
  | { readonly t: 'digits'; readonly pos: number; readonly text: string }
  /** Recompute the format's header checksums afterwards (tar header sums, PNG chunk CRCs), so mutations reach past them. */
  | { readonly t: 'fix' };

type IntChoice = 'zero' | 'one' | 'max' | 'sign' | 'len' | 'len+1' | 'double' | 'inc' | 'dec' | 'huge';
const INT_CHOICES: readonly IntChoice[] = ['zero', 'one', 'max', 'sign', 'len', 'len+1', 'double', 'inc', 'dec', 'huge'];
const DIGIT_TEXTS = ['0', '1', '-1', '99999999999', '77777777777', '9999999999', 'garbage!', '4294967296', '00000000000', ' ', '0x10', '1e9', '+1', '\0'];
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x2f, 0x30, 0x0a];

/** Positions biased to the head and the tail of the input, where the headers are. */
function position(n: number): fc.Arbitrary<number> {
  const last = Math.max(0, n - 1);
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: Math.min(last, 1023) }) },
    { weight: 2, arbitrary: fc.integer({ min: Math.max(0, n - 1024), max: last }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: last }) },
  );
}

export function mutationArb(n: number): fc.Arbitrary<Mutation> {
  const pos = position(n);
  const len = fc.integer({ min: 1, max: Math.max(1, Math.min(n, 256)) });
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ t: fc.constant('flip' as const), pos, bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('set' as const), pos, v: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('zero' as const), pos, len }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('trunc' as const), len: fc.integer({ min: 0, max: Math.max(0, n - 1) }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('splice' as const), from: pos, pos, len }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('insert' as const), from: pos, pos, len }) },
    {
      weight: 5,
      arbitrary: fc.record({ t: fc.constant('int' as const), pos, width: fc.constantFrom(2 as const, 4 as const, 8 as const), le: fc.boolean(), v: fc.constantFrom(...INT_CHOICES) }),
    },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('digits' as const), pos, text: fc.constantFrom(...DIGIT_TEXTS) }) },
    { weight: 3, arbitrary: fc.constant({ t: 'fix' as const }) },
  );
}

/** One to four mutations of an input of `n` bytes. */
export function mutationsArb(n: number): fc.Arbitrary<Mutation[]> {
  return fc.array(mutationArb(n), { minLength: 1, maxLength: 4 });
}

function intValue(choice: IntChoice, old: bigint, width: number, n: number): bigint {
  const max = (1n << BigInt(8 * width)) - 1n;
  const v: Record<IntChoice, bigint> = {
    zero: 0n,
    one: 1n,
    max,
    sign: 1n << BigInt(8 * width - 1),
    len: BigInt(n),
    'len+1': BigInt(n + 1),
    double: old * 2n,
    inc: old + 1n,
    dec: old - 1n,
    huge: max >> 1n,
  };
  return ((v[choice] % (max + 1n)) + max + 1n) % (max + 1n);
}

/** Tar: every block with a ustar magic gets its header checksum recomputed. */
function fixTar(b: Buffer): void {
  for (let at = 0; at + 512 <= b.length; at += 512) {
    if (b.toString('latin1', at + 257, at + 262) !== 'ustar') continue;
    b.fill(0x20, at + 148, at + 156);
    let sum = 0;
    for (let i = at; i < at + 512; i++) sum += b[i]!;
    b.write(`${(sum % 0o1000000).toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
  }
}

/** PNG: every whole chunk gets its CRC recomputed. */
function fixPng(b: Buffer): void {
  let at = 8;
  while (at + 12 <= b.length) {
    const len = b.readUInt32BE(at);
    if (at + 12 + len > b.length) return;
    b.writeUInt32BE(crc32(b.subarray(at + 4, at + 8 + len)) >>> 0, at + 8 + len);
    at += 12 + len;
  }
}

export function applyMutations(input: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(input);
  if (muts.some((m) => m.t === 'fix')) {
    b = applyMutations(input, muts.filter((m) => m.t !== 'fix')) as Buffer;
    if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47) fixPng(b);
    else fixTar(b);
    return b;
  }
  for (const m of muts) {
    const n = b.length;
    if (n === 0) break;
    const at = (p: number) => Math.min(p, n - 1);
    switch (m.t) {
      case 'flip':
        b[at(m.pos)] ^= 1 << m.bit;
        break;
      case 'set':
        b[at(m.pos)] = m.v;
        break;
      case 'zero':
        b.fill(0, at(m.pos), Math.min(n, at(m.pos) + m.len));
        break;
      case 'trunc':
        b = b.subarray(0, Math.min(m.len, n));
        break;
      case 'splice': {
        const from = at(m.from);
        const chunk = Buffer.from(b.subarray(from, Math.min(n, from + m.len)));
        chunk.copy(b, at(m.pos));
        break;
      }
      case 'insert': {
        const from = at(m.from);
        const chunk = b.subarray(from, Math.min(n, from + m.len));
        b = Buffer.concat([b.subarray(0, at(m.pos)), chunk, b.subarray(at(m.pos))]);
        break;
      }
      case 'int': {
        if (n < m.width) break;
        const p = Math.min(m.pos, n - m.width);
        const old = m.width === 2 ? BigInt(m.le ? b.readUInt16LE(p) : b.readUInt16BE(p)) : m.width === 4 ? BigInt(m.le ? b.readUInt32LE(p) : b.readUInt32BE(p)) : m.le ? b.readBigUInt64LE(p) : b.readBigUInt64BE(p);
        const v = intValue(m.v, old, m.width, n);
        if (m.width === 2) m.le ? b.writeUInt16LE(Number(v), p) : b.writeUInt16BE(Number(v), p);
        else if (m.width === 4) m.le ? b.writeUInt32LE(Number(v), p) : b.writeUInt32BE(Number(v), p);
        else m.le ? b.writeBigUInt64LE(v, p) : b.writeBigUInt64BE(v, p);
        break;
      }
      case 'fix':
        break;
      case 'digits': {
        // The ASCII number fields of tar, ar, cpio: the run of digits at or after pos (within
        // 64 bytes), overwritten in place (padded with spaces, or cut, to the run's length).
        let s = at(m.pos);
        const stop = Math.min(n, s + 64);
        while (s < stop && !(b[s]! >= 0x30 && b[s]! <= 0x39)) s++;
        if (s >= stop) break;
        let e = s;
        while (e < n && b[e]! >= 0x30 && b[e]! <= 0x39) e++;
        const width = Math.max(e - s, Math.min(m.text.length, 12));
        b.write(m.text.padEnd(width, ' ').slice(0, width), s, 'latin1');
        break;
      }
    }
  }
  return b;
}

// ---- the checks ----

export type FindingKind = 'escape' | 'drift' | 'refuses-own-output' | 'slow' | 'memory' | 'touched';

export interface Verdict {
  readonly ok: boolean;
  readonly kind?: FindingKind;
  readonly detail?: string;
  /** Outcome of the first run. */
  readonly status: string;
  readonly reason?: string;
  readonly ms: number;
}

export interface CheckOptions {
  /** An input taking longer than this (first run) is a finding. */
  readonly slowMs: number;
  /** Per-file deadline given to the engine (async loops stop there; a synchronous one is the caller's watchdog's). */
  readonly deadlineMs?: number;
}

function withDeadline(o: Options, ms: number | undefined): Options {
  return ms === undefined ? o : { ...o, limits: { ...o.limits, deadlineMs: ms } };
}

/**
 * Run 1, and run 2 on run 1's output: typed errors only; refused means untouched; success
 * means run 2 changes nothing; run 1 within `slowMs`.
 */
export async function check(bytes: Uint8Array, name: string, optionsJson: Record<string, unknown>, co: CheckOptions): Promise<Verdict> {
  const options = withDeadline(optionsFromJson(optionsJson), co.deadlineMs);
  const escapes: string[] = [];
  const handlers = instrument(escapes);
  const copy = Uint8Array.from(bytes);
  const t0 = performance.now();
  let r1;
  try {
    r1 = await normalizeBytes(copy, name, options, handlers);
  } catch (e) {
    return { ok: false, kind: 'escape', detail: `engine threw ${describe(e)}`, status: 'threw', ms: performance.now() - t0 };
  }
  const ms = performance.now() - t0;
  const base = { status: r1.status, ...(r1.reason ? { reason: r1.reason } : {}), ms };
  if (escapes.length > 0) return { ...base, ok: false, kind: 'escape', detail: escapes[0]! };
  if (!Buffer.from(copy).equals(Buffer.from(bytes))) return { ...base, ok: false, kind: 'touched', detail: 'the input buffer was modified' };
  if (r1.status !== 'changed' && !Buffer.from(r1.output).equals(Buffer.from(bytes))) return { ...base, ok: false, kind: 'touched', detail: `${r1.status} but the output differs from the input` };
  if (ms > co.slowMs) return { ...base, ok: false, kind: 'slow', detail: `first run took ${Math.round(ms)} ms (${r1.status}${r1.reason ? `: ${r1.reason}` : ''})` };
  if (r1.status !== 'changed') return { ...base, ok: true };
  const r2 = await normalizeBytes(r1.output, name, options, handlers);
  if (escapes.length > 0) return { ...base, ok: false, kind: 'escape', detail: `second run: ${escapes[0]}` };
  if (r2.status === 'changed') {
    const grew = r2.output.length - r1.output.length;
    return { ...base, ok: false, kind: 'drift', detail: `second run changed it again (${r2.changes.map((c) => c.what).join('; ')}; size ${r1.output.length} -> ${r2.output.length}${grew ? `, ${grew > 0 ? '+' : ''}${grew}` : ''})` };
  }
  if (r2.status === 'error') return { ...base, ok: false, kind: 'refuses-own-output', detail: `second run refused what the first wrote: ${r2.reason}` };
  return { ...base, ok: true };
}

// ---- findings ----

export interface FindingCase {
  /** File name inside corpus/<format>/fuzz/. */
  readonly file: string;
  /** Name given to detection. */
  readonly name: string;
  readonly options: Record<string, unknown>;
  /** What the harness found (before the fix). */
  readonly found: FindingKind;
  readonly detail: string;
  /** The seed and mutations that made it. */
  readonly origin: string;
  /**
   * Set while the bug is not fixed (it lies in another helper's module): why, and whose. The
   * property test then expects the case to still fail (it.fails), so the fix must remove it.
   */
  readonly open?: string;
}

function casesFile(format: string): string {
  return join(CORPUS, format, 'fuzz', 'cases.json');
}

export function loadFindings(): Array<FindingCase & { format: string; path: string }> {
  const out: Array<FindingCase & { format: string; path: string }> = [];
  for (const format of readdirSync(CORPUS).sort()) {
    const f = casesFile(format);
    if (!existsSync(f)) continue;
    for (const c of JSON.parse(readFileSync(f, 'utf8')) as FindingCase[]) out.push({ ...c, format, path: join(CORPUS, format, 'fuzz', c.file) });
  }
  return out;
}

/** Write a finding as a regression case (corpus/<format>/fuzz/<kind>-<hash><ext>); returns its path. */
export function saveFinding(format: string, bytes: Uint8Array, name: string, options: Record<string, unknown>, found: FindingKind, detail: string, origin: string): string {
  const dir = join(CORPUS, format, 'fuzz');
  mkdirSync(dir, { recursive: true });
  const ext = /\.[A-Za-z0-9]{1,8}$/.exec(name)?.[0] ?? '.bin';
  const file = `${found}-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}${ext}`;
  writeFileSync(join(dir, file), bytes);
  const list = existsSync(casesFile(format)) ? (JSON.parse(readFileSync(casesFile(format), 'utf8')) as FindingCase[]) : [];
  if (!list.some((c) => c.file === file)) list.push({ file, name, options, found, detail, origin });
  list.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  writeFileSync(casesFile(format), JSON.stringify(list, null, 2) + '\n');
  return join(dir, file);
}

/** A finding's signature, to keep one case per bug: the kind, the format and the detail without numbers. */
export function signature(format: string, v: Verdict): string {
  return `${format}|${v.kind}|${(v.detail ?? '').replace(/0x[0-9a-f]+|\d+/gi, 'N').replace(/"[^"]*"/g, '"S"').slice(0, 160)}`;
}
