// Image layers (OCI image spec layer.md; Docker image spec v1.2 "layer.tar"): a tar, or a tar
// in gzip, of one file system change set. Normalized as the tar family does (formats/tar:
// same reader and writer, GNU tar's header layout in the input's format family, mtime T or 0,
// user and group names dropped, pax atime/ctime/inode records and the writer's pid in
// extended header names dropped, members nested through ctx.normalizeMember), except where a
// layer's meaning differs from an archive's:
//  - numeric owners are kept by default (uid/gid are the file's owner inside the container);
//    options.ociOwners 'zero' sets them to 0;
//  - modes are kept exactly (setuid binaries, 1777 /tmp and 0600 secrets are content);
//  - whiteouts (`.wh.<name>`, `.wh..wh..opq`) are kept exactly, and ordered first among their
//    siblings, opaque marker first (layer.md: "Implementations SHOULD generate layers such that
//    the whiteout files appear before sibling directory entries"); otherwise each directory's
//    entries in bytewise order, a directory before its contents, as GNU tar --sort=name.
// A gzip layer keeps its compressed bytes when the tar is unchanged (only the gzip header is
// made canonical, as formats/gzip.ts does) and is recompressed with pako otherwise. zstd and
// unknown compressions are kept as they are and reported.
import { BufferSource, SliceSource, sourcesEqual } from '../../src/io.js';
import { canonicalTime } from '../../src/time.js';
import { FormatError, type Change, type Context, type MemberResult, type Sink, type Source } from '../../src/types.js';
import { gzipHandler } from '../gzip.js';
import { isGzipMagic } from '../gzip/header.js';
import { Tally } from '../tally.js';
import { maxOctal, type TarFormat } from '../tar/header.js';
import { looksLikeTar } from '../tar/index.js';
import { hardLinkGroups, linkKey, repointHardLinks } from '../tar/order.js';
import { canonicalRecords, type PaxRecord } from '../tar/pax.js';
import { printable, readTar, type TarEntry, type TarGlobal } from '../tar/reader.js';
import { TarWriter, type OutEntry } from '../tar/writer.js';
import { hashSource } from './digest.js';

const SMALL_MEMBER = 1 << 20;
export const OPAQUE = '.wh..wh..opq';
export const WHITEOUT_PREFIX = '.wh.';

export type OwnerPolicy = 'keep' | 'zero';

function components(name: string): string[] {
  let end = name.length;
  while (end > 1 && name[end - 1] === '/') end--;
  let s = name.slice(0, end);
  while (s.startsWith('./')) s = s.slice(2);
  return s.split('/');
}

function rank(component: string): number {
  if (component === OPAQUE) return 0;
  if (component.startsWith(WHITEOUT_PREFIX)) return 1;
  return 2;
}

/** Layer member order: component-wise, whiteouts first among siblings, then bytewise. */
export function compareLayerNames(a: string, b: string): number {
  const ca = components(a);
  const cb = components(b);
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x === y) continue;
    const r = rank(x) - rank(y);
    if (r) return r;
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

function isSparse(e: TarEntry): boolean {
  return e.typeflag === 'S' || e.paxKeys.some((k) => k.startsWith('GNU.sparse.'));
}

const GLOBAL_DROPPED = new Set(['atime', 'ctime', 'mtime', 'uname', 'gname', 'SCHILY.dev', 'SCHILY.ino', 'SCHILY.nlink', 'LIBARCHIVE.creationtime']);

/**
 * Normalize one layer tar into `output`. Returns the changes, or an 'untouched' reason for a
 * tar we must not rewrite (the caller keeps the layer as it is).
 */
export async function normalizeLayerTar(
  input: Source,
  output: Sink,
  ctx: Context,
  owners: OwnerPolicy,
): Promise<{ status: 'normalized'; changes: Change[] } | { status: 'untouched'; reason: string }> {
  const { options } = ctx;
  const entries: TarEntry[] = [];
  const globals: TarGlobal[] = [];
  let sawPax = false;
  let sawGnu = false;
  for await (const item of readTar(input)) {
    if (item.kind === 'global') {
      if (entries.length) return { status: 'untouched', reason: `pax global header at offset ${item.global.offset} after the first member` };
      if (item.global.records.some((r) => r.key === 'uid' || r.key === 'gid')) {
        return { status: 'untouched', reason: 'pax global header sets owners for every member' };
      }
      globals.push(item.global);
      sawPax = true;
      continue;
    }
    const e = item.entry;
    if (e.magic === 'v7') return { status: 'untouched', reason: `pre-POSIX (v7) tar header at offset ${e.headerOffset}` };
    if (e.typeflag === 'M' || e.typeflag === 'V') return { status: 'untouched', reason: 'GNU multi-volume or volume-label member' };
    if (e.paxKeys.length) sawPax = true;
    if (e.magic === 'gnu' || e.gnuLong) sawGnu = true;
    entries.push(e);
  }
  const format: TarFormat = sawPax ? 'posix' : sawGnu ? 'gnu' : 'ustar';
  const tally = new Tally();
  const zero = owners === 'zero';
  const work = entries.map((e) => {
    let typeflag = e.typeflag;
    let name = e.name;
    if (typeflag === '\0') typeflag = name.endsWith('/') ? '5' : '0';
    if (typeflag === '5' && !name.endsWith('/')) name += '/';
    if (format === 'posix' && isSparse(e)) name = name.replace(/(^|\/)GNUSparseFile\.\d+\//, '$1GNUSparseFile.0/');
    const uid = zero ? 0 : e.uid;
    const gid = zero ? 0 : e.gid;
    const records = canonicalRecords(e.records);
    const out: OutEntry = {
      name,
      linkname: typeflag === '1' || typeflag === '2' ? e.linkname : '',
      typeflag,
      mode: e.mode & 0o7777,
      mtime: canonicalTime(options, e.mtime, 0),
      size: e.size,
      devmajor: typeflag === '3' || typeflag === '4' ? e.devmajor : 0,
      devminor: typeflag === '3' || typeflag === '4' ? e.devminor : 0,
      records,
      gnuSparseArea: format === 'gnu' ? e.gnuSparseArea : undefined,
      gnuSparseExt: format === 'gnu' ? e.gnuSparseExt : undefined,
      uid,
      gid,
    };
    if (format !== 'gnu' && e.gnuSparseArea) throw new FormatError(`GNU sparse member "${printable(e.name)}" in a pax layer`);
    // Owners beyond the octal field go in pax records (posix); GNU uses base-256.
    if (format !== 'gnu' && (uid > maxOctal(8) || gid > maxOctal(8))) {
      if (format === 'ustar') throw new FormatError(`owner ${uid}:${gid} of "${printable(name)}" does not fit a ustar header`);
      const extra: PaxRecord[] = [];
      if (gid > maxOctal(8)) {
        extra.push({ key: 'gid', value: String(gid) });
        out.gid = 0;
      }
      if (uid > maxOctal(8)) {
        extra.push({ key: 'uid', value: String(uid) });
        out.uid = 0;
      }
      out.records = canonicalRecords([...records, ...extra]);
    }
    const content = (typeflag === '0' || typeflag === '7') && !isSparse(e);
    return { entry: e, out, content };
  });

  // Hard links: the first member of each group in layer order carries the data.
  const { groups } = hardLinkGroups(work.map((w) => w.out));
  // Swapped members keep their own header fields: owners and mode follow the data.
  const firstInLayerOrder = (members: readonly OutEntry[]) => members.reduce((best, m) => (compareLayerNames(m.name, best.name) < 0 ? m : best));
  const moved = repointHardLinks(groups, firstInLayerOrder);
  if (moved) tally.add('order', 'hard link re-pointed to the first member of its group', undefined, moved);

  for (const w of work) {
    const e = w.entry;
    if (e.mtime !== w.out.mtime) tally.add('timestamp', `mtime -> ${w.out.mtime}`);
    if (zero && (e.uid || e.gid)) tally.add('owner', 'uid/gid -> 0');
    if (e.uname || e.gname) tally.add('owner', 'user/group names removed');
    const dropped = e.paxKeys.filter((k) => !['path', 'linkpath', 'size', 'uid', 'gid'].includes(k) && !e.records.some((r) => r.key === k));
    if (dropped.length) tally.add('metadata', `pax records removed (${[...new Set(dropped)].sort().join(', ')})`);
  }

  const sorted = work
    .map((w, i) => ({ w, i }))
    .sort((x, y) => compareLayerNames(x.w.out.name, y.w.out.name) || x.i - y.i)
    .map((x) => x.w);
  if (sorted.some((w, i) => w !== work[i])) tally.add('order', 'members in layer order (whiteouts first, then by name)');
  // A hard link must follow its target after sorting (names were swapped to make it so).
  const seen = new Set<string>();
  const names = new Set(work.map((x) => linkKey(x.out.name)));
  for (const w of sorted) {
    if (w.out.typeflag === '1' && !seen.has(linkKey(w.out.linkname)) && names.has(linkKey(w.out.linkname))) {
      throw new FormatError(`hard link "${printable(w.out.name)}" would precede its target`);
    }
    seen.add(linkKey(w.out.name));
  }

  const writer = new TarWriter(output, format, options.timestamp ?? 0);
  for (const g of globals) {
    const recs = canonicalRecords(g.records.filter((r) => !GLOBAL_DROPPED.has(r.key)));
    if (recs.length !== g.records.length) tally.add('metadata', 'pax global records for times removed');
    if (recs.length) await writer.global(g.name.replace(/(^|\/)GlobalHead\.\d+\.(\d+)$/, '$1GlobalHead.0.$2'), recs);
  }
  for (const { entry: e, out: o, content } of sorted) {
    if (o.typeflag === '1' || o.size === 0 || ['2', '3', '4', '5', '6'].includes(o.typeflag)) {
      if (o.typeflag === '1') o.size = 0;
      await writer.header(o);
      continue;
    }
    if (!content) {
      await writer.header(o);
      await writer.copyFrom(input, e.dataOffset, e.size);
      continue;
    }
    const small = e.size <= SMALL_MEMBER ? await input.read(e.dataOffset, e.size) : undefined;
    const src: Source = small ? new BufferSource(small) : new SliceSource(input, e.dataOffset, e.size);
    const memberName = Buffer.from(o.name, 'latin1').toString('utf8');
    const r = await ctx.normalizeMember(memberName, src);
    const data = r.changed ? r.output : src;
    if (r.changed) {
      o.size = r.output.size;
      for (const c of r.changes) tally.add(c.kind, `${c.member ? c.member + ': ' : ''}${c.what}`, undefined, c.count ?? 1);
    }
    await writer.header(o);
    await writer.copyFrom(data, 0, data.size);
  }
  await writer.finish();
  return { status: 'normalized', changes: tally.changes() };
}

/** What became of one layer blob. */
export interface LayerOutcome {
  /** The blob to reference (the input itself when unchanged). */
  readonly blob: Source;
  readonly changed: boolean;
  /** sha256 hex of the uncompressed tar before and after (the config's diff_id). */
  readonly oldDiffId: string;
  readonly newDiffId: string;
  readonly changes: readonly Change[];
  /** Set when the layer was kept as it is on purpose (zstd, unknown data, odd tar). */
  readonly kept?: string;
}

function zstdMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}

/**
 * Normalize a layer blob (tar or gzip'd tar, told apart by content). `keep`: leave it as it
 * is (still hashed, so the caller can check the config's diff_id).
 */
export async function normalizeLayerBlob(blob: Source, ctx: Context, owners: OwnerPolicy, keep: boolean, what: string): Promise<LayerOutcome> {
  const head = await blob.read(0, Math.min(blob.size, 512));
  const gz = isGzipMagic(head);
  if (zstdMagic(head)) {
    return { blob, changed: false, oldDiffId: '', newDiffId: '', changes: [], kept: 'zstd-compressed layer: no deterministic zstd codec here; kept as it is' };
  }
  if (!gz && !looksLikeTar(head) && blob.size > 0) {
    return { blob, changed: false, oldDiffId: '', newDiffId: '', changes: [], kept: 'neither a tar nor a gzip-compressed tar; kept as it is' };
  }
  let oldDiffId = '';
  let newDiffId = '';
  let kept: string | undefined;
  const normalizeTarPayload = async (payload: Source): Promise<MemberResult> => {
    oldDiffId = await hashSource(payload);
    newDiffId = oldDiffId;
    if (keep) return { changed: false };
    const out = ctx.spill();
    const r = await normalizeLayerTar(payload, out, ctx, owners);
    if (r.status === 'untouched') {
      kept = `${r.reason}; layer kept as it is`;
      return { changed: false };
    }
    const output = await out.close();
    if (await sourcesEqual(output, payload)) return { changed: false };
    newDiffId = await hashSource(output);
    return { changed: true, format: 'oci-layer', output, changes: r.changes };
  };
  if (!gz) {
    const r = await normalizeTarPayload(blob);
    if (!r.changed) return { blob, changed: false, oldDiffId, newDiffId, changes: [], ...(kept ? { kept } : {}) };
    return { blob: r.output, changed: true, oldDiffId, newDiffId, changes: r.changes };
  }
  // gzip: the gzip handler's member rules, with the payload normalized as a layer.
  const sink = ctx.spill();
  // The payload always goes through normalizeTarPayload (it hashes the diff_id): no head-based
  // shortcut, no streaming into the output.
  const gctx: Context = {
    ...ctx,
    path: `${ctx.path}!/${what}`,
    normalizeMember: (_name, payload) => normalizeTarPayload(payload),
    normalizeMemberInto: undefined,
    claims: undefined,
  };
  const res = await gzipHandler.normalize(blob, sink, gctx);
  if (res.status === 'untouched') {
    // Still need the diff_id: hash the payload without rewriting.
    return { blob, changed: false, oldDiffId, newDiffId, changes: [], kept: res.reason };
  }
  if (keep || kept) return { blob, changed: false, oldDiffId, newDiffId, changes: [], ...(kept ? { kept } : {}) };
  const out = await sink.close();
  if (await sourcesEqual(out, blob)) return { blob, changed: false, oldDiffId, newDiffId, changes: [] };
  return { blob: out, changed: true, oldDiffId, newDiffId, changes: res.changes };
}
