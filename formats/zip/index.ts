// The zip family handler: zip, jar, war, ear, aar, xpi, jmod, apk (unsigned), wheel, egg,
// pyzip, epub. Follows PKWARE APPNOTE 6.3.10 (plus the JAR File Specification, PEP 427 for
// wheels, jmod's "JM" header, Android's zipalign field). Canonicalizes, per entry: DOS time
// (T as UTC), flags (UTF-8 only), version made by/needed, external attributes (type kept,
// canonical mode), internal attributes (0), extra fields (dropped; zip64 and APK alignment
// written when needed), data descriptors (removed); per archive: member order, offsets (file
// offsets after a kept prefix). Member data is copied raw unless the member itself changes
// (nested format, manifest, .properties date, wheel RECORD): then it is recompressed with pako.
// Encrypted archives and signed APKs are left untouched; signed jars keep their content.
import { createHash } from 'node:crypto';
import { BufferSink, BufferSource, SliceSource } from '../../src/io.js';
import {
  FormatError,
  HEAD_BYTES,
  type Change,
  type Context,
  type Handler,
  type HandlerResult,
  type MemberInfo,
  type Probe,
  type Sink,
  type Source,
} from '../../src/types.js';
import { VERSION_MADE_BY, canonicalDosTime, canonicalFlags, extendedMtime, kindAndMode, versionNeeded, type Kind } from './attrs.js';
import { crc32, crcOf } from '../crc32.js';
import { Tally } from '../tally.js';
import { HeadInflater, deflateTo, inflateTo, inflateWhole } from './deflate.js';
import { extensionOf, flavorOf, isJarLike, isManifest, isSignatureFile, isWheelRecord, orderEntries, type Flavor } from './flavor.js';
import { cleanManifest } from './manifest.js';
import { compareZip } from './compare.js';
import { removeDateComment } from './properties.js';
import { EXTRA_UNICODE_PATH, FLAG_CD_ENCRYPTED, FLAG_ENCRYPTED, FLAG_STRONG_ENCRYPTION, FLAG_UTF8, type ExtraField } from './records.js';
import { METHOD_DEFLATED, METHOD_STORED, displayName, readArchive, type Archive, type Entry } from './reader.js';
import { rewriteRecord, type RecordDigest } from './record.js';
import { WindowReader } from './window.js';
import { ZipWriter, type OutEntry } from './writer.js';
import { ZIP_EXTENSIONS, detectZip, zipDetection } from './detect.js';

export { ZIP_EXTENSIONS, detectZip };


/** Largest member a text rule (manifest, .properties, RECORD) reads into memory. */
const TEXT_LIMIT = 16 * 1024 * 1024;
const METHOD_AES = 99;
/** Extensions of members never probed for nested formats: Java classes, sources, text. */
const OPAQUE = new Set([
  '.class', '.java', '.kt', '.scala', '.groovy', '.clj', '.cljs', '.cljc', '.py', '.pyi', '.pyx', '.c', '.h', '.cc', '.cpp', '.hpp',
  '.js', '.mjs', '.cjs', '.ts', '.css', '.txt', '.md', '.rst', '.xml', '.xsd', '.json', '.yaml', '.yml', '.toml', '.csv', '.mf', '.sf', '.sql', '.sh',
]);
/**
 * Raw member data of at least this many bytes is offered to the sink as the input's own bytes
 * (Sink.copyInput): an archive already canonical up to that member is then neither copied nor
 * compared there. Smaller members go through the output buffer (a hand-over costs more).
 */
const ECHO_BYTES = 16 * 1024;
/** Probe size for members whose extension no handler lists: enough for every magic number and a tar header. */
const SMALL_PROBE = 512;

const EXTRA_WHAT = new Map<number, string>();
function extraWhat(id: number): string {
  let w = EXTRA_WHAT.get(id);
  if (!w) EXTRA_WHAT.set(id, (w = `extra field 0x${id.toString(16).padStart(4, '0')} removed`));
  return w;
}

/** Content to write for an entry: the input's raw bytes, or new uncompressed bytes. */
type Content = { kind: 'raw' } | { kind: 'new'; plain: Source; why: string };

let handlersPromise: Promise<readonly Handler[]> | undefined;
function registry(): Promise<readonly Handler[]> {
  // Lazy: formats/index.ts imports this module.
  handlersPromise ??= import('../index.js').then((m) => m.HANDLERS);
  return handlersPromise;
}

/** The enabled handlers and the extension map, made once per options.formats list (not per archive). */
const enabledCache = new WeakMap<readonly string[], { all: readonly Handler[]; key: string; handlers: readonly Handler[]; byExtension: ReadonlyMap<string, Handler> }>();
function enabledHandlers(all: readonly Handler[], formats: readonly string[]): { handlers: readonly Handler[]; byExtension: ReadonlyMap<string, Handler> } {
  const hit = enabledCache.get(formats);
  const key = formats.join('\0');
  if (hit && hit.all === all && hit.key === key) return hit;
  const handlers = all.filter((h) => formats.includes(h.name));
  const byExtension = new Map<string, Handler>();
  for (const h of handlers) for (const x of h.extensions) if (!byExtension.has(x)) byExtension.set(x, h);
  const made = { all, key, handlers, byExtension };
  enabledCache.set(formats, made);
  return made;
}

function deflateLevel(flags: number): number {
  // APPNOTE 4.4.4 bits 1-2 for deflate: 0 normal (6), 1 maximum (9), 2 fast, 3 super fast (1).
  return [6, 9, 1, 1][(flags >> 1) & 3]!;
}

function utf8Name(e: Entry): Uint8Array {
  // Info-ZIP's Unicode Path field names an unflagged entry in UTF-8 (APPNOTE 4.6.9); use it
  // when its CRC matches the header name, since the field itself is dropped.
  if (e.flags & FLAG_UTF8) return e.name;
  const f = findExtra(e.centralExtra, EXTRA_UNICODE_PATH) ?? findExtra(e.localExtra, EXTRA_UNICODE_PATH);
  if (!f || f.data.length < 5 || f.data[0] !== 1) return e.name;
  const crc = new DataView(f.data.buffer, f.data.byteOffset, 5).getUint32(1, true);
  if (crc !== crc32(e.name)) return e.name;
  return Uint8Array.from(f.data.subarray(5));
}

/** The first field with this id (a loop, not find() with a closure: it runs per member). */
function findExtra(fields: readonly ExtraField[], id: number): ExtraField | undefined {
  for (let i = 0; i < fields.length; i++) if (fields[i]!.id === id) return fields[i];
  return undefined;
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('!') ) + 1);
}

class ZipNormalizer {
  private readonly changes = new Tally();
  /** Nested members' changes, as their handlers reported them. */
  private readonly nestedChanges: Change[] = [];
  /** Change records of dropped extra fields, by field id. */
  private readonly extraRecords = new Map<number, { count: number }>();
  private readonly digests = new Map<string, RecordDigest>();
  /** The DOS time of every entry (and of `.clj` ones) when --clamp is off. */
  private dos: { date: number; time: number } | undefined;
  private dosClj: { date: number; time: number } | undefined;
  /** The Tally records header() counts into, made when first needed. */
  private readonly headerRecords: { time?: { count: number }; mode?: { count: number }; internal?: { count: number }; version?: { count: number }; descriptor?: { count: number } } = {};
  private flavor: Flavor = 'zip';
  private signed = false;
  private alignAll = 0;
  private alignSo = 0;
  // Made when a member is first probed (issue 20: most archives of a --check never probe one,
  // and each inflater holds a zlib state and its output buffer).
  private probeInflater: HeadInflater | undefined;
  /** Member data and probe reads go through a 64 KiB read cache (members come close to file order). */
  private readonly data: WindowReader;
  private smallProbeInflater: HeadInflater | undefined;
  /** Extension -> first enabled handler listing it (the engine's fallback when no content matches). */
  private byExtension: ReadonlyMap<string, Handler> = new Map();
  private handlers: readonly Handler[] = [];

  constructor(
    private readonly input: Source,
    private readonly output: Sink,
    private readonly ctx: Context,
  ) {
    this.data = new WindowReader(input, 64 * 1024);
  }

  /**
   * An archive that fits the in-memory limit (limits.spillBytes: jars, wheels, most zips) is
   * read once, whole: parsing, checking and copying then cost no more reads.
   */
  static async open(input: Source, output: Sink, ctx: Context): Promise<ZipNormalizer> {
    const small = input.size <= ctx.options.limits.spillBytes && !(input instanceof BufferSource);
    return new ZipNormalizer(small ? new BufferSource(await input.read(0, input.size)) : input, output, ctx);
  }

  private droppedExtra(id: number): void {
    let r = this.extraRecords.get(id);
    if (!r) this.extraRecords.set(id, (r = this.changes.record('extra-field', extraWhat(id))));
    r.count++;
  }

  async run(): Promise<HandlerResult> {
    const { input, ctx } = this;
    const arc = await readArchive(input, ctx.options.limits);
    const enabled = enabledHandlers(await registry(), ctx.options.formats);
    this.handlers = enabled.handlers;
    this.byExtension = enabled.byExtension;
    const prefix = arc.prefixLength ? Uint8Array.from(await input.read(0, arc.prefixLength)) : new Uint8Array(0);
    this.flavor = flavorOf(baseName(ctx.path), prefix, arc.entries, arc.signingBlock);

    for (const e of arc.entries) {
      if (e.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_CD_ENCRYPTED) || e.method === METHOD_AES) {
        return { status: 'untouched', reason: `encrypted member ${e.displayName}` };
      }
    }
    this.signed = arc.entries.some((e) => isSignatureFile(e.displayName));
    if (this.flavor === 'apk' && (this.signed || arc.signingBlock)) {
      return { status: 'untouched', reason: `signed APK (${arc.signingBlock ? 'APK Signing Block' : 'v1 JAR signature'})` };
    }
    if (arc.signingBlock) return { status: 'untouched', reason: 'APK Signing Block before the central directory' };
    if (this.signed) ctx.notice('signed jar: metadata normalized, member contents kept');
    if (this.flavor === 'apk') this.detectAlignment(arc);

    // Names first (a Unicode Path field gives the real name), so the order is that of the output.
    // Built by push, not map(): map() returns a packed or a holey array depending on its path in
    // V8, and the two array maps sent orderEntries, run and the order check back to the
    // interpreter (issue 20: "wrong map" deopts, each function compiled twice).
    const entries: Entry[] = [];
    for (const e of arc.entries) {
      const n = utf8Name(e);
      if (n === e.name) {
        entries.push(e);
        continue;
      }
      this.changes.add('header', 'Unicode Path extra field moved into the name');
      entries.push({ ...e, name: n, displayName: displayName(n) });
    }
    const ordered = orderEntries(entries, this.flavor, this.signed);
    const fileOrder = [...entries].sort((a, b) => a.localOffset - b.localOffset || a.index - b.index);
    if (ordered.some((e, i) => e !== fileOrder[i])) this.changes.add('order', 'members sorted');
    if (arc.delta !== 0) this.changes.add('layout', `offsets made file offsets (were relative to a ${arc.delta}-byte prefix)`);
    if (arc.cdStart !== (fileOrder.length ? this.endOf(fileOrder[fileOrder.length - 1]!) : arc.prefixLength)) {
      this.changes.add('layout', 'gap before the central directory removed');
    }
    if (arc.zip64) this.changes.add('layout', 'zip64 end records (kept only when needed)');

    const names = ordered.map((e) => e.displayName);
    const writer = new ZipWriter(this.output, arc.cdSize);
    await writer.raw(prefix);
    for (let i = 0; i < ordered.length; i++) {
      const e = ordered[i]!;
      // Every 16 members (issue 20: a clock read per member of an archive of tiny ones); every
      // read and write of the file checks it too.
      if ((i & 15) === 0) ctx.checkDeadline?.();
      const name = e.name;
      const { kind, external } = kindAndMode(e);
      if (this.plainlyRaw(e, kind)) {
        // Fast path (most members): headers and data go into the output buffer without waiting.
        const out = this.rawEntry(e, name, kind, external);
        // One call site each for begin() (large members, or a full output buffer) and copy():
        // a site first reached after TurboFan compiled run() has no type feedback and sends it
        // back to the interpreter (issue 20: a full buffer met late in a worker did).
        const large = e.compressedSize >= ECHO_BYTES;
        let written: boolean;
        if (large || !writer.tryBegin(out)) {
          await writer.begin(out);
          written = large && (await writer.out.copyInput(e.dataOffset, e.compressedSize));
        } else {
          const d = this.data.peek(e.dataOffset, e.compressedSize);
          written = d !== undefined && writer.out.tryWrite(d);
        }
        if (!written) await writer.out.copy(this.data, e.dataOffset, e.compressedSize);
        continue;
      }
      const content = await this.content(e, kind, names);
      await this.writeEntry(writer, e, name, kind, external, content);
    }
    await writer.finish(arc.comment, VERSION_MADE_BY);
    return { status: 'normalized', changes: [...this.changes.changes(), ...this.nestedChanges] };
  }

  private endOf(e: Entry): number {
    return e.dataOffset + e.compressedSize + e.descriptorLength;
  }

  /** An aligned APK (every stored member's data on a 4-byte boundary) stays aligned; .so files on 4096 when they were. */
  private detectAlignment(arc: Archive): void {
    const stored = arc.entries.filter((e) => e.method === METHOD_STORED && e.compressedSize > 0);
    if (!stored.length || !stored.every((e) => e.dataOffset % 4 === 0)) return;
    this.alignAll = 4;
    const so = stored.filter((e) => e.displayName.endsWith('.so'));
    this.alignSo = so.length && so.every((e) => e.dataOffset % 4096 === 0) ? 4096 : 4;
  }

  /** Decide what an entry's content becomes. */
  private async content(e: Entry, kind: Kind, names: readonly string[]): Promise<Content> {
    if (this.signed) return { kind: 'raw' };
    if (kind !== 'file' || e.uncompressedSize === 0) return { kind: 'raw' };
    if (e.method !== METHOD_STORED && e.method !== METHOD_DEFLATED) return { kind: 'raw' };
    const jarLike = isJarLike(this.flavor);
    const dn = e.displayName;
    const ext = extensionOf(dn);

    if (jarLike && isManifest(e.name)) {
      const text = await this.text(e);
      if (text === undefined) return { kind: 'raw' };
      const r = cleanManifest(Buffer.from(text.buffer, text.byteOffset, text.length).toString('latin1'));
      if (!r.removed.length) return { kind: 'raw' };
      for (const h of r.removed) this.changes.add('metadata', `MANIFEST.MF header ${h} removed`);
      return { kind: 'new', plain: new BufferSource(Buffer.from(r.text, 'latin1')), why: 'manifest' };
    }
    if (this.flavor === 'wheel' && isWheelRecord(dn)) {
      const text = await this.text(e);
      if (text === undefined) return { kind: 'raw' };
      let s: string;
      try {
        s = new TextDecoder('utf-8', { fatal: true }).decode(text);
      } catch {
        return { kind: 'raw' };
      }
      const out = rewriteRecord(s, this.digests, names);
      if (out === s) return { kind: 'raw' };
      if (this.digests.size) this.changes.add('content', `RECORD rows rewritten for changed members`, undefined, this.digests.size);
      this.changes.add('order', 'RECORD rows put in archive order');
      return { kind: 'new', plain: new BufferSource(new TextEncoder().encode(out)), why: 'record' };
    }

    // Members named as compiled classes, sources or plain text are not probed (issue 4: "decide by
    // member name extension / a cheap peek"), unless an enabled handler lists that extension.
    if (OPAQUE.has(ext) && !this.byExtension.has(ext)) return { kind: 'raw' };
    // Nested formats: probe the first bytes and ask the registry whether any handler wants them.
    // A deflated member whose extension no handler lists is probed on its first 512 bytes only
    // (magic numbers, tar's header block); others get the full 8 KiB probe the engine gives files.
    let head: Uint8Array;
    if (e.method === METHOD_STORED) head = await this.data.read(e.dataOffset, Math.min(HEAD_BYTES, e.compressedSize));
    else if (this.byExtension.has(ext)) head = await (this.probeInflater ??= new HeadInflater(HEAD_BYTES)).head(this.data, e.dataOffset, e.compressedSize);
    else head = await (this.smallProbeInflater ??= new HeadInflater(SMALL_PROBE)).head(this.data, e.dataOffset, e.compressedSize);
    const probe: Probe = { name: dn, size: e.uncompressedSize, head, tail: head.length === e.uncompressedSize ? head : new Uint8Array(0) };
    // The engine's choice (extra handlers included) when it offers one, else the registry's.
    const claimed = this.ctx.claims ? this.ctx.claims(probe) : this.select(probe, ext) !== undefined;
    const isProperties = jarLike && ext === '.properties';
    if (!claimed && !isProperties) return { kind: 'raw' };

    // Spilled data is released as soon as it is used: one member's data at a time, however
    // many members change (memory and temp disk bounded by the largest member, not the archive).
    const member = await this.plain(e);
    try {
      if (claimed) {
        const r = await this.ctx.normalizeMember(dn, member);
        if (r.changed) {
          this.nestedChanges.push(...r.changes);
          return { kind: 'new', plain: r.output, why: r.format };
        }
      }
      if (isProperties && member.size <= TEXT_LIMIT) {
        const s = Buffer.from(await member.read(0, member.size)).toString('latin1');
        const out = removeDateComment(s);
        if (out !== undefined) {
          this.changes.add('timestamp', '.properties date comment removed');
          return { kind: 'new', plain: new BufferSource(Buffer.from(out, 'latin1')), why: 'properties' };
        }
      }
      return { kind: 'raw' };
    } finally {
      member.release?.();
    }
  }

  /** The engine's selectHandler over the enabled handlers, without refiltering them per member. */
  private select(probe: Probe, ext: string): Handler | undefined {
    for (const h of this.handlers) if (h.detect(probe)) return h;
    return ext ? this.byExtension.get(ext) : undefined;
  }

  /** The member's uncompressed bytes as a Source (a window of the input when stored). */
  private async plain(e: Entry): Promise<Source> {
    if (e.method === METHOD_STORED) return new SliceSource(this.input, e.dataOffset, e.compressedSize);
    this.ctx.expand?.(e.uncompressedSize, e.displayName);
    const spill = this.ctx.spill();
    await inflateTo(this.input, e.dataOffset, e.compressedSize, e.uncompressedSize, e.crc, spill, e.displayName);
    return spill.close();
  }

  /** Small text members in memory (undefined when too large). */
  private async text(e: Entry): Promise<Uint8Array | undefined> {
    if (e.uncompressedSize > TEXT_LIMIT) return undefined;
    if (e.method === METHOD_STORED) return Uint8Array.from(await this.input.read(e.dataOffset, e.compressedSize));
    this.ctx.expand?.(e.uncompressedSize, e.displayName);
    if (e.compressedSize <= TEXT_LIMIT) {
      const whole = inflateWhole(await this.input.read(e.dataOffset, e.compressedSize), e.uncompressedSize, e.crc);
      if (whole) return whole;
    }
    const sink = new BufferSink();
    await inflateTo(this.input, e.dataOffset, e.compressedSize, e.uncompressedSize, e.crc, sink, e.displayName);
    return sink.bytes();
  }

  /** True when content() would say "raw" without reading anything. */
  private plainlyRaw(e: Entry, kind: Kind): boolean {
    if (this.signed || kind !== 'file' || e.uncompressedSize === 0) return true;
    if (e.method !== METHOD_STORED && e.method !== METHOD_DEFLATED) return true;
    const ext = extensionOf(e.displayName);
    if (!OPAQUE.has(ext) || this.byExtension.has(ext)) return false;
    if (isJarLike(this.flavor) && isManifest(e.name)) return false;
    if (this.flavor === 'wheel' && isWheelRecord(e.displayName)) return false;
    return true;
  }

  /** The output entry of a raw-copied member (changes accounted). */
  private rawEntry(e: Entry, name: Uint8Array, kind: Kind, external: number): OutEntry {
    return this.header(e, name, kind, external, e.crc, e.compressedSize, e.uncompressedSize);
  }

  /** Canonical header fields of an entry (sizes and CRC aside), counting what changes. */
  private header(e: Entry, name: Uint8Array, kind: Kind, external: number, crc: number, compressedSize: number, uncompressedSize: number): OutEntry {
    const clj = e.displayName.endsWith('.clj');
    // Without --clamp the time depends on nothing of the entry but `clj`: computed once.
    const options = this.ctx.options;
    const dos = options.clamp
      ? canonicalDosTime(e, options, clj)
      : clj
        ? (this.dosClj ??= canonicalDosTime(e, options, true))
        : (this.dos ??= canonicalDosTime(e, options, false));
    const flags = canonicalFlags(name, e.comment, e.flags);
    const needed = versionNeeded(e, kind);
    const align = e.method === METHOD_STORED && this.alignAll ? (e.displayName.endsWith('.so') ? this.alignSo : this.alignAll) : 0;
    // Counted through records made at first use (the order of the report), not add(): no key
    // string per member (issue 20).
    const ch = this.changes;
    const r = this.headerRecords;
    if (dos.date !== e.date || dos.time !== e.time) (r.time ??= ch.record('timestamp', 'DOS date/time')).count++;
    if (external !== e.externalAttributes) (r.mode ??= ch.record('mode', 'external attributes (file type and mode)')).count++;
    if (e.internalAttributes !== 0) (r.internal ??= ch.record('header', 'internal attributes cleared')).count++;
    if (flags !== (e.flags & ~0x0008) || (e.versionMadeBy !== VERSION_MADE_BY) || needed !== e.versionNeeded) {
      (r.version ??= ch.record('header', 'version made by/needed and flags')).count++;
    }
    if (e.descriptorLength || e.flags & 0x0008) (r.descriptor ??= ch.record('layout', 'data descriptor removed')).count++;
    const local = e.localExtra;
    const central = e.centralExtra;
    for (let i = 0; i < local.length; i++) this.droppedExtra(local[i]!.id);
    for (let i = 0; i < central.length; i++) {
      const id = central[i]!.id;
      let inLocal = false;
      for (let j = 0; j < local.length && !inLocal; j++) inLocal = local[j]!.id === id;
      if (!inLocal) this.droppedExtra(id);
    }
    return {
      name,
      comment: e.comment,
      versionMadeBy: VERSION_MADE_BY,
      versionNeeded: needed,
      flags,
      method: e.method,
      time: dos.time,
      date: dos.date,
      internalAttributes: 0,
      externalAttributes: external,
      align,
      crc,
      compressedSize,
      uncompressedSize,
    };
  }

  private async writeEntry(writer: ZipWriter, e: Entry, name: Uint8Array, kind: Kind, external: number, content: Content): Promise<void> {
    const ch = this.changes;
    if (content.kind === 'raw') {
      await writer.begin(this.header(e, name, kind, external, e.crc, e.compressedSize, e.uncompressedSize));
      if (!(e.compressedSize >= ECHO_BYTES && (await writer.out.copyInput(e.dataOffset, e.compressedSize)))) await writer.out.copy(this.data, e.dataOffset, e.compressedSize);
      return;
    }
    const plain = content.plain;
    try {
      if (this.flavor === 'wheel') this.digests.set(displayName(name), { hash: await sha256(plain), size: plain.size });
      if (e.method === METHOD_STORED) {
        const crc = await crcOf(plain);
        await writer.begin(this.header(e, name, kind, external, crc, plain.size, plain.size));
        await writer.out.copy(plain, 0, plain.size);
        return;
      }
      ch.add('compression', 'changed members recompressed (pako level ' + deflateLevel(e.flags) + ')');
      const spill = this.ctx.spill();
      const { crc, size } = await deflateTo(plain, deflateLevel(e.flags), spill);
      const packed = await spill.close();
      try {
        await writer.begin(this.header(e, name, kind, external, crc, packed.size, size));
        await writer.out.copy(packed, 0, packed.size);
      } finally {
        packed.release?.();
      }
    } finally {
      // Written out: the member's new bytes are not needed any more.
      plain.release?.();
    }
  }
}

async function sha256(src: Source): Promise<string> {
  const h = createHash('sha256');
  for (let at = 0; at < src.size; at += 1 << 20) h.update(await src.read(at, Math.min(1 << 20, src.size - at)));
  return h.digest('base64url');
}

/** For `detnorm diff`: members in archive (file) order with their stored fields and data. */
async function* zipMembers(input: Source, ctx: Context): AsyncIterable<MemberInfo> {
  const arc = await readArchive(input, ctx.options.limits);
  const fileOrder = [...arc.entries].sort((a, b) => a.localOffset - b.localOffset || a.index - b.index);
  for (const e of fileOrder) {
    const { kind } = kindAndMode(e);
    const meta: Record<string, string | number> = {
      dosTime: dosString(e.date, e.time),
      mode: (e.externalAttributes >>> 16).toString(8),
      msdosAttributes: e.externalAttributes & 0xffff,
      versionMadeBy: e.versionMadeBy,
      versionNeeded: e.versionNeeded,
      flags: e.flags,
      method: e.method,
      internalAttributes: e.internalAttributes,
      extraFields: [...new Set([...e.localExtra, ...e.centralExtra].map((f) => `0x${f.id.toString(16).padStart(4, '0')}`))].join(' '),
    };
    const ut = extendedMtime(e.localExtra) ?? extendedMtime(e.centralExtra);
    if (ut !== undefined) meta.mtime = ut;
    if (e.comment.length) meta.comment = displayName(e.comment);
    if (e.descriptorLength) meta.dataDescriptor = e.descriptorLength;
    let data: Source | undefined;
    if ((kind === 'file' || kind === 'symlink') && !(e.flags & FLAG_ENCRYPTED)) {
      if (e.method === METHOD_STORED) data = new SliceSource(input, e.dataOffset, e.compressedSize);
      else if (e.method === METHOD_DEFLATED) {
        const spill = ctx.spill();
        await inflateTo(input, e.dataOffset, e.compressedSize, e.uncompressedSize, e.crc, spill, e.displayName);
        data = await spill.close();
      }
    }
    if (kind === 'symlink' && data) meta.linkTarget = displayName(await data.read(0, Math.min(data.size, 4096)));
    yield { name: e.displayName, type: kind, meta, ...(data && kind === 'file' ? { data } : {}) };
  }
}

function dosString(date: number, time: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(1980 + (date >> 9), 4)}-${p((date >> 5) & 15)}-${p(date & 31)} ${p(time >> 11)}:${p((time >> 5) & 63)}:${p((time & 31) * 2)}`;
}

export const zipHandler: Handler = {
  ...zipDetection,
  async normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
    return (await ZipNormalizer.open(input, output, ctx)).run();
  },
  members: zipMembers,
  compare: compareZip,
};

export { FormatError };
