// RPM packages (rpm 4.x binary and source packages; spec: rpm's "Package format" and tag
// reference, docs/manual/format.md and lib/rpmtag.h of rpm 4.18; layout in ./header.ts, the
// payload in ./payload.ts). Canonical form = what rpmbuild 4.18 writes in its reproducible mode
// (SOURCE_DATE_EPOCH=T, %use_source_date_epoch_as_buildtime 1,
// %clamp_mtime_to_source_date_epoch 1, %_buildhost H) for the same package:
//  - main header: BUILDTIME -> T (0 without T); BUILDHOST -> H (option rpmBuildHost, default
//    "reproducible": rpm 4.18 itself has no default, it uses gethostname()); COOKIE ("host
//    time", build/pack.c) rebuilt from those; FILEMTIMES -> T (clamped with --clamp);
//    FILEINODES as build/files.c numbers them (file index + 1, a hard-link group sharing its
//    first member's) and FILEDEVICES 1; FILEDIGESTS, FILESIZES and SIZE of files whose data
//    the dispatcher changed (ELF, pyc, jar, ... in the payload); PAYLOADDIGEST (compressed) and
//    PAYLOADDIGESTALT (uncompressed) recomputed; every other tag kept; entries in tag order in
//    one HEADERIMMUTABLE region, as headerExport writes them;
//  - payload: cpio mtimes and inodes from the header (as rpm writes them), members normalized,
//    recompressed with the pinned encoder of PAYLOADCOMPRESSOR only when it changed
//    (PAYLOADCOMPRESSOR and PAYLOADFLAGS kept);
//  - signature header: SHA1HEADER, SHA256HEADER, MD5, SIZE/LONGSIZE, PAYLOADSIZE/
//    LONGARCHIVESIZE recomputed, RESERVEDSPACE sized so the signature header keeps its size.
// Signed packages (RSA/DSA/PGP/GPG/OpenPGP header or file signatures) are left untouched: sign
// after normalizing. A package whose stored digests do not match its bytes is rejected.
import { createHash } from 'node:crypto';
import { SliceSource, hashSource } from '../../src/io.js';
import { canonicalTime } from '../../src/time.js';
import { FormatError, type Change, type Context, type Handler, type HandlerResult, type MemberInfo, type Probe, type Sink, type Source } from '../../src/types.js';
import { bzip2Codec } from '../compressed/bzip2.js';
import { decodeToSpill, encodePayload, type Parsed, type PayloadCodec } from '../compressed/payload.js';
import { xzCodec } from '../compressed/xz.js';
import { zstdCodec } from '../compressed/zstd.js';
import { gzipCodec } from '../gzip.js';
import { Tally, mergeNested } from '../tally.js';
import {
  HEADER_MAGIC,
  LEAD_SIZE,
  RPMFILE_GHOST,
  SIG,
  TAG,
  T_BIN,
  T_INT32,
  T_INT64,
  T_STRING,
  Unsupported,
  decodeHeader,
  encodeHeader,
  getEntry,
  headerSizeFromPreamble,
  intEntry,
  ints,
  isRpmLead,
  stringEntry,
  strings,
  type Header,
  type TagEntry,
} from './header.js';
import { rewritePayload, type FileTable } from './payload.js';
import { BufferSource } from '../../src/io.js';
import { linkId, planBuildIds, readCpio, renamePaths, rewriteHeader, rootOf, siblingName, writeCpio } from './buildid.js';
import { compareRpm } from './compare.js';
import { looksLikeRpm, rpmDetection } from './detect.js';

export { looksLikeRpm };

/** The BUILDHOST written when no rpmBuildHost option is given. */
export const DEFAULT_BUILDHOST = 'reproducible';

/** PAYLOADCOMPRESSOR values rpm 4.18 writes (lib/rpmio rpmFileIsCompressed names) -> codec. */
export const RPM_CODECS: Readonly<Record<string, PayloadCodec<unknown>>> = {
  gzip: gzipCodec as PayloadCodec<unknown>,
  bzip2: bzip2Codec as PayloadCodec<unknown>,
  xz: xzCodec as PayloadCodec<unknown>,
  zstd: zstdCodec as PayloadCodec<unknown>,
};

/** rpm's PGPHASHALGO numbers -> node:crypto names. */
const HASH_ALGOS: Readonly<Record<number, string>> = { 1: 'md5', 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

const SIGNATURE_TAGS = [SIG.DSA, SIG.RSA, SIG.PGP, SIG.GPG, SIG.PGP5, SIG.FILESIGNATURES, SIG.VERITYSIGNATURES, SIG.OPENPGP];
const SIGNATURE_NAMES: Record<number, string> = { 267: 'DSA', 268: 'RSA', 1002: 'PGP', 1005: 'GPG', 1006: 'PGP5', 274: 'FILESIGNATURES', 276: 'VERITYSIGNATURES', 278: 'OPENPGP' };

export interface Package {
  readonly lead: Uint8Array;
  readonly sig: Header;
  readonly sigBytes: Uint8Array;
  readonly main: Header;
  readonly mainBytes: Uint8Array;
  /** Offset of the main header (the signature header padded to 8). */
  readonly mainStart: number;
  readonly payloadStart: number;
}

async function readExact(input: Source, at: number, n: number, what: string): Promise<Uint8Array> {
  if (at + n > input.size) throw new FormatError(`truncated package: ${what} at offset ${at} runs past the end (${input.size} bytes)`);
  return input.read(at, n);
}

/** Lead, signature header and main header; throws FormatError or Unsupported. */
export async function readPackage(input: Source, ctx: Context): Promise<Package> {
  const max = ctx.options.limits.memoryBytes;
  const lead = await readExact(input, 0, LEAD_SIZE, 'lead');
  if (!isRpmLead(lead)) throw new FormatError('not an RPM package: bad lead magic');
  const sigSize = headerSizeFromPreamble(await readExact(input, LEAD_SIZE, 16, 'signature header'), 'signature header', max);
  const sigBytes = await readExact(input, LEAD_SIZE, sigSize, 'signature header');
  const sig = decodeHeader(sigBytes, 'signature header', max);
  if (sig.region !== 62) throw new FormatError('signature header: region tag is not HEADERSIGNATURES');
  const sigEnd = LEAD_SIZE + sigSize;
  const mainStart = Math.ceil(sigEnd / 8) * 8;
  const pad = await readExact(input, sigEnd, mainStart - sigEnd, 'signature padding');
  if (pad.some((x) => x !== 0)) throw new FormatError('signature header padding is not zeros');
  const mainSize = headerSizeFromPreamble(await readExact(input, mainStart, 16, 'main header'), 'main header', max);
  const mainBytes = await readExact(input, mainStart, mainSize, 'main header');
  const main = decodeHeader(mainBytes, 'main header', max);
  if (main.region !== 63) throw new FormatError('main header: region tag is not HEADERIMMUTABLE');
  return { lead, sig, sigBytes, main, mainBytes, mainStart, payloadStart: mainStart + mainSize };
}

function hex(algo: string, ...parts: Uint8Array[]): string {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** The package's stored digests against its bytes: a corrupt or truncated package is refused. */
async function verify(input: Source, pkg: Package): Promise<void> {
  const sha1 = getEntry(pkg.sig, SIG.SHA1);
  if (sha1 && strings(sha1)[0] !== hex('sha1', pkg.mainBytes)) throw new FormatError('SHA1HEADER does not match the header: corrupt package');
  const sha256 = getEntry(pkg.sig, SIG.SHA256);
  if (sha256 && strings(sha256)[0] !== hex('sha256', pkg.mainBytes)) throw new FormatError('SHA256HEADER does not match the header: corrupt package');
  const size = getEntry(pkg.sig, SIG.LONGSIZE) ?? getEntry(pkg.sig, SIG.SIZE);
  if (size && ints(size)[0] !== input.size - pkg.mainStart) throw new FormatError(`SIZE says ${ints(size)[0]} bytes of header and payload, the file has ${input.size - pkg.mainStart}: truncated or extended package`);
  const md5 = getEntry(pkg.sig, SIG.MD5);
  if (md5) {
    const got = await hashSource(new SliceSource(input, pkg.mainStart, input.size - pkg.mainStart), 'md5');
    if (got !== Buffer.from(md5.data).toString('hex')) throw new FormatError('MD5 digest does not match: corrupt package');
  }
}

/** File paths of the header ("./usr/bin/x" as the payload names them), by file index. */
function filePaths(main: Header): string[] {
  const base = getEntry(main, TAG.BASENAMES);
  if (base) {
    const dirs = strings(getEntry(main, TAG.DIRNAMES) ?? fail('BASENAMES without DIRNAMES'));
    const idx = ints(getEntry(main, TAG.DIRINDEXES) ?? fail('BASENAMES without DIRINDEXES'));
    const names = strings(base);
    if (idx.length !== names.length) throw new FormatError('main header: DIRINDEXES and BASENAMES differ in length');
    return names.map((n, i) => {
      const d = dirs[idx[i]!];
      if (d === undefined) throw new FormatError('main header: DIRINDEXES out of range');
      // rpm names payload members "./usr/bin/x"; a source package's files have no directory.
      return d.startsWith('/') ? `.${d}${n}` : `${d}${n}`;
    });
  }
  const old = getEntry(main, TAG.OLDFILENAMES);
  return old ? strings(old).map((p) => (p.startsWith('/') ? `.${p}` : p)) : [];
}

function fail(reason: string): never {
  throw new FormatError(`main header: ${reason}`);
}

/** One value per file, or a FormatError. */
function perFile(main: Header, tag: number, n: number, what: string): number[] | undefined {
  const e = getEntry(main, tag);
  if (!e) return undefined;
  const v = ints(e);
  if (v.length !== n) throw new FormatError(`main header: ${what} has ${v.length} values for ${n} files`);
  return v;
}

/** rpm 4.18's inode numbers (build/files.c): index + 1, a hard-link group sharing its first's. */
export function canonicalInodes(modes: readonly number[], devices: readonly number[], inodes: readonly number[]): number[] {
  const first = new Map<string, number>();
  const counts = new Map<string, number>();
  const key = (i: number) => `${devices[i]}:${inodes[i]}`;
  for (let i = 0; i < inodes.length; i++) if ((modes[i]! & 0o170000) === 0o100000) counts.set(key(i), (counts.get(key(i)) ?? 0) + 1);
  return inodes.map((_, i) => {
    if ((modes[i]! & 0o170000) !== 0o100000 || (counts.get(key(i)) ?? 0) < 2) return i + 1;
    const k = key(i);
    if (!first.has(k)) first.set(k, i + 1);
    return first.get(k)!;
  });
}

function replace(entries: TagEntry[], e: TagEntry): void {
  const i = entries.findIndex((x) => x.tag === e.tag);
  if (i < 0) entries.push(e);
  else entries[i] = e;
}

function sameEntry(a: TagEntry | undefined, b: TagEntry | undefined): boolean {
  return !!a && !!b && a.type === b.type && a.count === b.count && Buffer.from(a.data).equals(Buffer.from(b.data));
}

function signedBy(pkg: Package): string | undefined {
  const s = pkg.sig.entries.find((e) => SIGNATURE_TAGS.includes(e.tag as (typeof SIGNATURE_TAGS)[number]));
  if (s) return `signed package (signature tag ${SIGNATURE_NAMES[s.tag] ?? s.tag}): normalize before signing`;
  const f = pkg.main.entries.find((e) => e.tag === TAG.FILESIGNATURES || e.tag === TAG.VERITYSIGNATURES);
  if (f) return `signed files (${f.tag === TAG.FILESIGNATURES ? 'FILESIGNATURES' : 'VERITYSIGNATURES'}): normalize before signing`;
  return undefined;
}

function codecOf(main: Header): PayloadCodec<unknown> | { untouched: string } {
  const fmt = getEntry(main, TAG.PAYLOADFORMAT);
  const format = fmt ? strings(fmt)[0] : 'cpio';
  if (format !== 'cpio') return { untouched: `payload format "${format}" is not supported (only cpio)` };
  const comp = getEntry(main, TAG.PAYLOADCOMPRESSOR);
  const name = comp ? strings(comp)[0]! : 'gzip';
  const codec = RPM_CODECS[name];
  return codec ?? { untouched: `payload compressor "${name}" is not supported` };
}

export interface Decoded {
  readonly pkg: Package;
  readonly codec: PayloadCodec<unknown>;
  readonly compressed: Source;
  readonly parsed: Parsed<unknown>;
  /** The decompressed payload (a cpio archive), spilled. */
  readonly payload: Source;
}

/** Read, check and decompress a package, or say why it stays as it is. */
export async function decodePackage(input: Source, ctx: Context): Promise<Decoded | { untouched: string }> {
  let pkg: Package;
  try {
    pkg = await readPackage(input, ctx);
  } catch (e) {
    if (e instanceof Unsupported) return { untouched: e.reason };
    throw e;
  }
  const signed = signedBy(pkg);
  if (signed) return { untouched: signed };
  await verify(input, pkg);
  const codec = codecOf(pkg.main);
  if ('untouched' in codec) return codec;
  const compressed = new SliceSource(input, pkg.payloadStart, input.size - pkg.payloadStart);
  if (compressed.size === 0) throw new FormatError('truncated package: no payload');
  const mctx: Context = { ...ctx, path: `${ctx.path}!/payload` };
  const decoded = await decodeToSpill(codec, compressed, mctx);
  if ('untouched' in decoded) return { untouched: `payload: ${decoded.untouched}` };
  const { parsed, payload } = decoded;
  if (parsed.end !== compressed.size) throw new FormatError(`payload: ${compressed.size - parsed.end} bytes after the ${codec.name} data`);
  const pd = getEntry(pkg.main, TAG.PAYLOADDIGEST);
  if (pd) {
    const algo = HASH_ALGOS[ints(getEntry(pkg.main, TAG.PAYLOADDIGESTALGO) ?? intEntry(0, T_INT32, [8]))[0]!];
    if (!algo) return { untouched: 'unknown PAYLOADDIGESTALGO' };
    if (strings(pd)[0] !== (await hashSource(compressed, algo))) throw new FormatError('PAYLOADDIGEST does not match the payload: corrupt package');
  }
  return { pkg, codec, compressed, parsed, payload };
}

/**
 * Every occurrence of a mapped prefix in free text, where it starts a path (not preceded by a
 * path character) and ends at a component boundary; longest prefix first. Latin-1 text, as
 * rpm's strings are bytes.
 */
export function mapPathsInText(text: string, maps: readonly { from: string; to: string }[]): string {
  const sorted = [...maps].map((m) => ({ from: Buffer.from(m.from).toString('latin1'), to: Buffer.from(m.to).toString('latin1') })).sort((a, b) => b.from.length - a.from.length);
  if (!sorted.length) return text;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?<![\\w.~/-])(${sorted.map((m) => esc(m.from.replace(/\/+$/, ''))).join('|')})(?=[/\\s"'):;,]|$)`, 'g');
  return text.replace(re, (m) => sorted.find((x) => x.from.replace(/\/+$/, '') === m)!.to.replace(/\/+$/, ''));
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const d = await decodePackage(input, ctx);
  if ('untouched' in d) return { status: 'untouched', reason: d.untouched };
  const { pkg: pkg0, codec, compressed, parsed } = d;
  const o = ctx.options;
  const tally = new Tally();
  // Build-ids paired with the -debuginfo sibling (./buildid.ts): a new header and payload.
  const bid = await buildIds(pkg0, d.payload, ctx, tally);
  const pkg = bid ? { ...pkg0, main: bid.main } : pkg0;
  const payload = bid ? bid.payload : d.payload;
  const main = pkg.main;
  const entries = [...main.entries];

  // Build time, host, cookie.
  const bt = getEntry(main, TAG.BUILDTIME);
  const oldTime = bt ? ints(bt)[0]! : undefined;
  const newTime = canonicalTime(o, oldTime, 0);
  if (bt && oldTime !== newTime) {
    replace(entries, intEntry(TAG.BUILDTIME, T_INT32, [newTime]));
    tally.add('timestamp', `BUILDTIME -> ${newTime}`, `BUILDTIME ${oldTime} -> ${newTime}`);
  }
  const host = o.rpmBuildHost ?? DEFAULT_BUILDHOST;
  const bh = getEntry(main, TAG.BUILDHOST);
  if (bh && strings(bh)[0] !== host) {
    replace(entries, stringEntry(TAG.BUILDHOST, bh.type, [host]));
    tally.add('metadata', `BUILDHOST -> ${host}`, `BUILDHOST ${JSON.stringify(strings(bh)[0])} -> ${JSON.stringify(host)}`);
  }
  const ck = getEntry(main, TAG.COOKIE);
  if (ck) {
    const old = strings(ck)[0]!;
    const cookie = `${host} ${bt ? newTime : old.slice(old.lastIndexOf(' ') + 1)}`;
    if (old !== cookie) {
      replace(entries, stringEntry(TAG.COOKIE, ck.type, [cookie]));
      tally.add('metadata', 'COOKIE rebuilt from build host and time');
    }
  }

  // The expanded spec a source package carries (SPEC, rpm 4.18): build paths under --map-path.
  const spec = getEntry(main, TAG.SPEC);
  if (spec && o.mapPaths.length) {
    const text = strings(spec)[0]!;
    const mapped = mapPathsInText(text, o.mapPaths);
    if (mapped !== text) {
      replace(entries, stringEntry(TAG.SPEC, spec.type, [mapped]));
      tally.add('path', 'SPEC: build paths mapped');
    }
  }

  // File table.
  const paths = filePaths(main);
  const n = paths.length;
  const modes = perFile(main, TAG.FILEMODES, n, 'FILEMODES') ?? paths.map(() => 0);
  const flags = perFile(main, TAG.FILEFLAGS, n, 'FILEFLAGS') ?? paths.map(() => 0);
  const mtimes = perFile(main, TAG.FILEMTIMES, n, 'FILEMTIMES') ?? paths.map(() => 0);
  const inodes = perFile(main, TAG.FILEINODES, n, 'FILEINODES') ?? paths.map((_, i) => i + 1);
  const devices = perFile(main, TAG.FILEDEVICES, n, 'FILEDEVICES') ?? paths.map(() => 1);
  const newMtimes = mtimes.map((m) => canonicalTime(o, m, 0));
  const newInodes = canonicalInodes(modes, devices, inodes);
  if (n && getEntry(main, TAG.FILEMTIMES) && newMtimes.some((m, i) => m !== mtimes[i])) {
    replace(entries, intEntry(TAG.FILEMTIMES, T_INT32, newMtimes));
    tally.add('timestamp', `FILEMTIMES -> ${newMtimes[0]}`, `FILEMTIMES -> ${newMtimes[0]}`, newMtimes.filter((m, i) => m !== mtimes[i]).length);
  }
  if (n && getEntry(main, TAG.FILEINODES) && newInodes.some((v, i) => v !== inodes[i])) {
    replace(entries, intEntry(TAG.FILEINODES, T_INT32, newInodes));
    tally.add('metadata', 'FILEINODES numbered as rpmbuild 4.18 does (file index + 1)');
  }
  if (n && getEntry(main, TAG.FILEDEVICES) && devices.some((v) => v !== 1)) {
    replace(entries, intEntry(TAG.FILEDEVICES, T_INT32, paths.map(() => 1)));
    tally.add('metadata', 'FILEDEVICES -> 1 (one flattened device, as rpmbuild 4.18)');
  }
  const index = new Map<string, number>();
  paths.forEach((p, i) => {
    if (!(flags[i]! & RPMFILE_GHOST)) index.set(p, i);
  });
  const algoNum = ints(getEntry(main, TAG.FILEDIGESTALGO) ?? intEntry(0, T_INT32, [1]))[0]!;
  const digestAlgo = HASH_ALGOS[algoNum];
  if (!digestAlgo) return { status: 'untouched', reason: `unknown FILEDIGESTALGO ${algoNum}` };
  const table: FileTable = { index, mtimes: newMtimes, inodes: newInodes, digestAlgo };

  // Payload.
  const cpio = ctx.spill();
  let pr;
  try {
    pr = await rewritePayload(payload, table, cpio, ctx);
  } catch (e) {
    if (e instanceof Unsupported) return { status: 'untouched', reason: e.reason };
    throw e;
  }
  const newCpio = await cpio.close();
  let payloadOut: Source = compressed;
  if (pr.changed || bid || parsed.headerChanges?.length) {
    const sink = ctx.spill();
    if (!pr.changed && !bid && codec.writeUnchanged) await codec.writeUnchanged(compressed, parsed, sink);
    else {
      const how = await encodePayload(codec, newCpio, parsed.settings, sink);
      tally.add('compression', 'payload recompressed', `payload recompressed with ${how}`);
    }
    for (const c of parsed.headerChanges ?? []) tally.add(c.kind, `payload: ${c.what}`);
    payloadOut = await sink.close();
  }

  // File digests and sizes.
  if (pr.files.size) {
    const groupOf = new Map<number, number[]>();
    newInodes.forEach((ino, i) => groupOf.set(ino, [...(groupOf.get(ino) ?? []), i]));
    const digests = strings(getEntry(main, TAG.FILEDIGESTS) ?? fail('files changed but there is no FILEDIGESTS'));
    const long = getEntry(main, TAG.LONGFILESIZES);
    const sizes = perFile(main, long ? TAG.LONGFILESIZES : TAG.FILESIZES, n, 'FILESIZES') ?? fail('no FILESIZES');
    let delta = 0;
    for (const [fx, f] of pr.files) {
      for (const i of groupOf.get(newInodes[fx]!)!) {
        digests[i] = f.digest;
        if (i === fx) delta += f.size - sizes[i]!;
        sizes[i] = f.size;
      }
    }
    replace(entries, stringEntry(TAG.FILEDIGESTS, getEntry(main, TAG.FILEDIGESTS)!.type, digests));
    replace(entries, long ? intEntry(TAG.LONGFILESIZES, T_INT64, sizes) : intEntry(TAG.FILESIZES, T_INT32, sizes));
    const total = getEntry(main, TAG.LONGSIZE) ?? getEntry(main, TAG.SIZE);
    if (total && delta) replace(entries, intEntry(total.tag, total.type, [ints(total)[0]! + delta]));
    tally.add('content', 'FILEDIGESTS/FILESIZES of normalized files updated', 'FILEDIGESTS/FILESIZES of normalized files updated', pr.files.size);
  }
  if (payloadOut !== compressed) {
    const algoE = getEntry(main, TAG.PAYLOADDIGESTALGO);
    const palgo = HASH_ALGOS[algoE ? ints(algoE)[0]! : 8] ?? 'sha256';
    const pd = getEntry(main, TAG.PAYLOADDIGEST);
    if (pd) replace(entries, stringEntry(TAG.PAYLOADDIGEST, pd.type, [await hashSource(payloadOut, palgo)]));
    const alt = getEntry(main, TAG.PAYLOADDIGESTALT);
    if (alt) replace(entries, stringEntry(TAG.PAYLOADDIGESTALT, alt.type, [await hashSource(newCpio, palgo)]));
  }
  const mainBytes = encodeHeader(63, entries);
  if (!Buffer.from(mainBytes).equals(Buffer.from(pkg.mainBytes)) && !tally.size) tally.add('layout', 'header entries in tag order, as rpm exports them');

  // Signature header.
  const sigEntries = [...pkg.sig.entries];
  const setSig = (tag: number, e: TagEntry) => {
    if (getEntry(pkg.sig, tag)) replace(sigEntries, e);
  };
  setSig(SIG.SHA1, stringEntry(SIG.SHA1, T_STRING, [hex('sha1', mainBytes)]));
  setSig(SIG.SHA256, stringEntry(SIG.SHA256, T_STRING, [hex('sha256', mainBytes)]));
  const total = mainBytes.length + payloadOut.size;
  if (getEntry(pkg.sig, SIG.SIZE)) {
    if (total > 0xffffffff) throw new FormatError('package over 4 GiB with a 32-bit SIZE tag');
    setSig(SIG.SIZE, intEntry(SIG.SIZE, T_INT32, [total]));
  }
  setSig(SIG.LONGSIZE, intEntry(SIG.LONGSIZE, T_INT64, [total]));
  if (getEntry(pkg.sig, SIG.PAYLOADSIZE)) setSig(SIG.PAYLOADSIZE, intEntry(SIG.PAYLOADSIZE, T_INT32, [newCpio.size]));
  setSig(SIG.LONGARCHIVESIZE, intEntry(SIG.LONGARCHIVESIZE, T_INT64, [newCpio.size]));
  if (getEntry(pkg.sig, SIG.MD5)) {
    const h = createHash('md5');
    h.update(mainBytes);
    for (let at = 0; at < payloadOut.size; at += 1 << 20) h.update(await payloadOut.read(at, Math.min(1 << 20, payloadOut.size - at)));
    setSig(SIG.MD5, { tag: SIG.MD5, type: T_BIN, count: 16, data: Uint8Array.from(h.digest()) });
  }
  let sigBytes = encodeHeader(62, sigEntries);
  const reserved = getEntry(pkg.sig, SIG.RESERVEDSPACE);
  if (reserved && sigBytes.length !== pkg.sigBytes.length) {
    const size = reserved.count + pkg.sigBytes.length - sigBytes.length;
    if (size > 0) {
      replace(sigEntries, { tag: SIG.RESERVEDSPACE, type: T_BIN, count: size, data: new Uint8Array(size) });
      sigBytes = encodeHeader(62, sigEntries);
    }
  }
  if (!sameEntry(getEntry(pkg.sig, SIG.SHA256), getEntry({ entries: sigEntries }, SIG.SHA256)) || !sameEntry(getEntry(pkg.sig, SIG.SHA1), getEntry({ entries: sigEntries }, SIG.SHA1))) {
    tally.add('header', 'signature header digests recomputed (SHA1HEADER, SHA256HEADER, MD5, SIZE, PAYLOADSIZE)');
  }

  await output.write(pkg.lead);
  await output.write(sigBytes);
  const sigEnd = LEAD_SIZE + sigBytes.length;
  await output.write(new Uint8Array(Math.ceil(sigEnd / 8) * 8 - sigEnd));
  await output.write(mainBytes);
  for (let at = 0; at < payloadOut.size; at += 1 << 20) await output.write(await payloadOut.read(at, Math.min(1 << 20, payloadOut.size - at)));
  return { status: 'normalized', changes: [...tally.changes(), ...mergeNested(pr.changes)] };
}

/**
 * The build-id rule (./buildid.ts): this package's header and payload with the build-ids its
 * pairs with the sibling package give, or undefined (nothing to do, or a notice says why not).
 */
async function buildIds(pkg: Package, payload: Source, ctx: Context, tally: Tally): Promise<{ main: Header; payload: Source } | undefined> {
  const sib = siblingName(pkg.main);
  if (!sib) return undefined;
  const paths = filePaths(pkg.main);
  const root = rootOf(sib.role);
  if (!paths.some((p) => linkId(p, root))) return undefined;
  const other = sib.role === 'main' ? 'its -debuginfo package' : 'its main package';
  const kept = (why: string) => {
    ctx.notice(`build-ids kept: ${why}`);
    return undefined;
  };
  if (!ctx.sibling) return kept(`${other} ${sib.name} cannot be looked for here (not a file of a tree)`);
  const bytes = await ctx.sibling(sib.name);
  if (!bytes) return kept(`${other} ${sib.name} is not beside it`);
  let sd: Decoded | { untouched: string };
  try {
    sd = await decodePackage(new BufferSource(bytes), { ...ctx, path: `${ctx.path} (sibling ${sib.name})` });
  } catch (e) {
    if (e instanceof FormatError) return kept(`${other} ${sib.name}: ${e.message}`);
    throw e;
  }
  if ('untouched' in sd) return kept(`${other} ${sib.name}: ${sd.untouched}`);
  // The sibling must name this package back: same name stem, version, release and arch.
  const back = siblingName(sd.pkg.main);
  if (!back || back.role === sib.role) return kept(`${sib.name} is not ${other}`);
  if (back.name.replace(/-debuginfo-/, '-') !== sib.name.replace(/-debuginfo-/, '-')) return kept(`${sib.name} is not ${other} (name, version, release or arch differ)`);
  // A malformed payload here (ours or the sibling's) only means no pairing: ours fails (or not)
  // in the usual normalization below, as it would alone.
  let own: Awaited<ReturnType<typeof readCpio>>;
  let plan: Awaited<ReturnType<typeof planBuildIds>>;
  try {
    own = await readCpio(payload, ctx);
    const theirs = await readCpio(sd.payload, ctx);
    plan = await planBuildIds(sib.role, own.members, theirs.members, ctx);
  } catch (e) {
    if (e instanceof FormatError || e instanceof Unsupported) return kept(`${e instanceof Unsupported ? e.reason : e.message} (pairing with ${sib.name})`);
    throw e;
  }
  if (plan === undefined) return undefined;
  if (typeof plan === 'string') return kept(plan);
  const n = paths.length;
  const modes = perFile(pkg.main, TAG.FILEMODES, n, 'FILEMODES') ?? paths.map(() => 0);
  let newPaths: string[];
  try {
    newPaths = renamePaths(paths, modes, root, plan.ids);
  } catch (e) {
    if (typeof e === 'string') return kept(e);
    throw e;
  }
  const hr = rewriteHeader(pkg.main.entries, paths, newPaths, plan.ids);
  const entries = hr.entries;
  // Digests and sizes of the files given new bytes (hard links share them).
  if (plan.data.size) {
    const view = { entries };
    const digests = strings(getEntry(view, TAG.FILEDIGESTS) ?? fail('no FILEDIGESTS'));
    const long = getEntry(view, TAG.LONGFILESIZES);
    const sizes = perFile(view as Header, long ? TAG.LONGFILESIZES : TAG.FILESIZES, n, 'FILESIZES') ?? fail('no FILESIZES');
    const inodes = perFile(view as Header, TAG.FILEINODES, n, 'FILEINODES') ?? hr.perm.map((_, i) => i + 1);
    const algo = HASH_ALGOS[ints(getEntry(view, TAG.FILEDIGESTALGO) ?? intEntry(0, T_INT32, [1]))[0]!];
    if (!algo) return kept('unknown FILEDIGESTALGO');
    const at = new Map<number, number>();
    hr.perm.forEach((old, i) => at.set(old, i));
    let delta = 0;
    for (const [name, data] of plan.data) {
      const fx = at.get(paths.indexOf(name))!;
      const dg = await hashSource(data, algo);
      for (let i = 0; i < n; i++) {
        if (i !== fx && (inodes[i] !== inodes[fx] || (modes[hr.perm[i]!]! & 0o170000) !== 0o100000)) continue;
        if (i === fx) delta += data.size - sizes[i]!;
        digests[i] = dg;
        sizes[i] = data.size;
      }
    }
    replace(entries, stringEntry(TAG.FILEDIGESTS, getEntry(view, TAG.FILEDIGESTS)!.type, digests));
    replace(entries, long ? intEntry(TAG.LONGFILESIZES, T_INT64, sizes) : intEntry(TAG.FILESIZES, T_INT32, sizes));
    const total = getEntry(view, TAG.LONGSIZE) ?? getEntry(view, TAG.SIZE);
    if (total && delta) replace(entries, intEntry(total.tag, total.type, [ints(total)[0]! + delta]));
  }
  const index = new Map<string, number>();
  const flags = perFile(pkg.main, TAG.FILEFLAGS, n, 'FILEFLAGS') ?? paths.map(() => 0);
  paths.forEach((p, i) => {
    if (!(flags[i]! & RPMFILE_GHOST)) index.set(p, i);
  });
  const cpio = await writeCpio(own.members, own.trailer, hr.perm, newPaths, index, plan, ctx);
  for (const [o, nw] of plan.ids) tally.add('build-id', 'build-id from the pair with the sibling package', `build-id ${o} -> ${nw} (a hash of the binary and its .debug file in ${sib.role === 'main' ? sib.name : 'this package and ' + sib.name}, ids zeroed)`);
  return { main: { ...pkg.main, entries }, payload: cpio };
}

/** For `detnorm diff`: the decompressed payload as one member, with the header fields. */
async function* members(input: Source, ctx: Context): AsyncIterable<MemberInfo> {
  const d = await decodePackage(input, ctx);
  if ('untouched' in d) return;
  yield { name: 'payload.cpio', data: d.payload, type: 'file', meta: { compression: d.codec.name } };
}

export const rpmHandler: Handler = {
  ...rpmDetection,
  normalize,
  members,
  compare: compareRpm,
};
