// The tar handler (ustar, GNU, pax; .tar.gz/.tgz arrive here as the gzip handler's payload).
// Canonical form = what GNU tar 1.34 writes for the same tree with
//   --sort=name --mtime=@T --owner=0 --group=0 --numeric-owner --mode=a=rX,u+w
//   --format=<the input's family> [posix: --pax-option=delete=atime,delete=ctime,exthdr.name=%d/PaxHeaders/%f]
// i.e. GNU --sort=name order with hard links re-pointed to the first of their group, mtime T
// or 0 (clamp honoured), owners 0 with empty names, modes a=rX,u+w with the file type kept,
// pax time/owner/inode records dropped and the rest kept, GNU tar's header layout, end blocks
// and record padding. Member data goes through ctx.normalizeMember (a jar in a tar is
// normalized too). Two passes over the Source: index the headers (memory ~ member count),
// then write in canonical order copying each member's data range.
import { BufferSource, SliceSource } from '../../src/io.js';
import { canonicalTime } from '../../src/time.js';
import { compareTar } from './compare.js';
import { FormatError, type Context, type Handler, type HandlerResult, type MemberInfo, type Probe, type Sink, type Source } from '../../src/types.js';
import { BLOCK, checksumOk, magicOf, type TarFormat } from './header.js';
import { firstByName, hardLinkGroups, mapPath, repointHardLinks, sortByName } from './order.js';
import { canonicalRecords } from './pax.js';
import { printable, readTar, type TarEntry, type TarGlobal } from './reader.js';
import { TarWriter, type OutEntry } from './writer.js';
import { Tally } from '../tally.js';
import { looksLikeTar, tarDetection } from './detect.js';

export { looksLikeTar };

/** Members up to this size are read once into memory (probe and copy from the same bytes). */
const SMALL_MEMBER = 1 << 20;

/** GNU tar --mode=a=rX,u+w: directories keep set-id bits (gnulib modechange), symlinks 0755. */
export function canonicalMode(typeflag: string, mode: number): number {
  if (typeflag === '5') return (mode & 0o6000) | 0o755;
  if (typeflag === '2') return 0o755;
  return mode & 0o111 ? 0o755 : 0o644;
}

interface Work {
  entry: TarEntry;
  out: OutEntry;
  /** The input's data is the member's content (regular files not sparse). */
  content: boolean;
}

function isSparse(e: TarEntry): boolean {
  return e.typeflag === 'S' || e.paxKeys.some((k) => k.startsWith('GNU.sparse.'));
}

/** "GNUSparseFile.<pid>" in pax sparse 1.0 names carries the writer's pid: make it 0. */
function canonicalSparseName(name: string): string {
  return name.replace(/(^|\/)GNUSparseFile\.\d+\//, '$1GNUSparseFile.0/');
}

/** GNU tar's global header names carry a pid ("/tmp/GlobalHead.%p.%n"). */
function canonicalGlobalName(name: string): string {
  return name.replace(/(^|\/)GlobalHead\.\d+\.(\d+)$/, '$1GlobalHead.0.$2');
}

function utf8Latin1(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

/**
 * What differs between tar writers that detnorm reproduces: GNU tar's reproducible form (the
 * tar handler) and dpkg-deb's (Debian packages, formats/deb). Everything else is shared.
 */
export interface TarFlavor {
  /** Canonical permission bits (with set-id and sticky bits) of a member. */
  mode(typeflag: string, mode: number): number;
  /** How the mode rule reads in reports. */
  readonly modeRule: string;
  /** Owner names written with uid/gid 0 (absent: empty names, as --numeric-owner). */
  readonly owner?: { readonly uname: string; readonly gname: string };
  /** Final member order from the GNU --sort=name order (default: that order), and its name. */
  order?(sorted: OutEntry[]): OutEntry[];
  readonly orderRule?: string;
}

/** GNU tar --sort=name --owner=0 --group=0 --numeric-owner --mode=a=rX,u+w. */
export const GNU_REPRODUCIBLE: TarFlavor = { mode: canonicalMode, modeRule: 'a=rX,u+w' };

export async function normalizeTar(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  return normalizeTarAs(input, output, ctx, GNU_REPRODUCIBLE);
}

export async function normalizeTarAs(input: Source, output: Sink, ctx: Context, flavor: TarFlavor): Promise<HandlerResult> {
  const { options } = ctx;
  const entries: TarEntry[] = [];
  const globals: TarGlobal[] = [];
  let sawPax = false;
  let sawGnu = false;
  for await (const item of readTar(input)) {
    if (item.kind === 'global') {
      if (entries.length) {
        return { status: 'untouched', reason: `pax global header at offset ${item.global.offset} after the first member: reordering would change its scope` };
      }
      globals.push(item.global);
      sawPax = true;
      continue;
    }
    const e = item.entry;
    if (e.magic === 'v7') return { status: 'untouched', reason: `pre-POSIX (v7) tar header at offset ${e.headerOffset}: not supported` };
    if (e.typeflag === 'M') return { status: 'untouched', reason: 'GNU multi-volume continuation: not supported' };
    if (e.typeflag === 'V' && entries.length) throw new FormatError(`volume label at offset ${e.headerOffset} is not the first member`);
    if (e.paxKeys.length) sawPax = true;
    if (e.magic === 'gnu' || e.gnuLong) sawGnu = true;
    entries.push(e);
  }
  const format: TarFormat = sawPax ? 'posix' : sawGnu ? 'gnu' : 'ustar';
  const tally = new Tally();
  const maps = options.mapPaths.map((m) => ({ from: utf8Latin1(m.from), to: utf8Latin1(m.to) }));
  const paxMtime = options.timestamp ?? 0;

  // Canonical values per member.
  const work: Work[] = entries.map((e) => {
    let typeflag = e.typeflag;
    let name = e.name;
    if (typeflag === '\0') {
      typeflag = name.endsWith('/') ? '5' : '0';
      tally.add('header', 'old-style typeflag NUL written as GNU tar does');
    }
    if (typeflag === '5' && !name.endsWith('/')) name += '/';
    if (format === 'posix' && isSparse(e)) name = canonicalSparseName(name);
    if (name !== e.name) tally.add('header', 'directory names end in "/" (GNU tar)');
    let linkname = e.linkname;
    if (typeflag === '2' && maps.length) {
      linkname = mapPath(linkname, maps);
      if (linkname !== e.linkname) tally.add('path', 'symlink target under a mapped build path rewritten');
    }
    if (typeflag !== '1' && typeflag !== '2' && linkname) {
      linkname = '';
      tally.add('header', 'link name field cleared on a non-link member');
    }
    const mode = flavor.mode(typeflag, e.mode & 0o7777);
    const mtime = canonicalTime(options, e.mtime, 0);
    const device = typeflag === '3' || typeflag === '4';
    const out: OutEntry = {
      name,
      linkname,
      typeflag,
      mode,
      mtime,
      size: e.size,
      devmajor: device ? e.devmajor : 0,
      devminor: device ? e.devminor : 0,
      records: canonicalRecords(e.records),
      gnuSparseArea: format === 'gnu' ? e.gnuSparseArea : undefined,
      gnuSparseExt: format === 'gnu' ? e.gnuSparseExt : undefined,
      ...(flavor.owner ? { uname: flavor.owner.uname, gname: flavor.owner.gname } : {}),
    };
    if (format !== 'gnu' && e.gnuSparseArea) {
      throw new FormatError(`GNU sparse member "${printable(e.name)}" in a pax archive: cannot be written in one format`);
    }
    const content = (typeflag === '0' || typeflag === '7') && !isSparse(e);
    return { entry: e, out, content };
  });

  // Hard links: the first of each group in --sort=name order carries the data.
  const { groups, unresolved } = hardLinkGroups(work.map((w) => w.out));
  const moved = repointHardLinks(groups, firstByName, (root) => (root.typeflag === '2' ? 0o755 : root.mode));
  if (moved) tally.add('order', 'hard link re-pointed to the first member of its group in name order', undefined, moved);
  for (const l of unresolved) {
    const mapped = mapPath(l.linkname, maps);
    if (mapped !== l.linkname) {
      l.linkname = mapped;
      tally.add('path', 'hard-link target under a mapped build path rewritten');
    }
  }

  // Report what changed (aggregated).
  for (const w of work) {
    const e = w.entry;
    if (e.mtime !== w.out.mtime) tally.add('timestamp', `mtime -> ${w.out.mtime}`);
    if (e.uid || e.gid) tally.add('owner', 'uid/gid -> 0');
    if (e.uname !== (w.out.uname ?? '') || e.gname !== (w.out.gname ?? '')) tally.add('owner', flavor.owner ? `user/group names -> ${flavor.owner.uname}/${flavor.owner.gname}` : 'user/group names removed');
    if ((e.mode & 0o7777) !== w.out.mode && e.typeflag !== '1') tally.add('mode', `mode -> ${flavor.modeRule}`);
    const dropped = e.paxKeys.filter((k) => k !== 'path' && k !== 'linkpath' && k !== 'size' && !e.records.some((r) => r.key === k));
    if (dropped.length) tally.add('metadata', `pax records removed (${[...new Set(dropped)].sort().join(', ')})`);
  }

  const byName = sortByName(work.map((w) => w.out));
  const sorted = flavor.order ? flavor.order(byName) : byName;
  const label = sorted.findIndex((o) => o.typeflag === 'V');
  if (label > 0) sorted.unshift(...sorted.splice(label, 1));
  if (sorted.some((o, i) => o !== work[i]!.out)) tally.add('order', `members in ${flavor.orderRule ?? 'GNU tar --sort=name'} order`);

  // Write.
  const writer = new TarWriter(output, format, paxMtime, flavor.owner);
  for (const g of globals) {
    const recs = canonicalRecords(g.records.filter((r) => !isGlobalDropped(r.key)));
    if (recs.length !== g.records.length) tally.add('metadata', 'pax global records for times/owners removed');
    if (recs.length) await writer.global(canonicalGlobalName(g.name), recs);
  }
  const contentOf = new Map<OutEntry, boolean>();
  for (const w of work) contentOf.set(w.out, w.content);
  const dataOf = new Map<OutEntry, TarEntry>();
  // After re-pointing, the data belongs to whichever OutEntry kept a non-'1' type: that is
  // the same object as before (names were swapped, not payloads), so its TarEntry is its own.
  for (const w of work) dataOf.set(w.out, w.entry);
  for (const o of sorted) {
    const e = dataOf.get(o)!;
    if (o.typeflag === '1' || o.size === 0 || !sizeCarriesData(o)) {
      o.size = o.typeflag === '1' ? 0 : o.size;
      await writer.header(o);
      continue;
    }
    if (!contentOf.get(o)) {
      await writer.header(o);
      await writer.copyFrom(input, e.dataOffset, e.size);
      continue;
    }
    const memberName = Buffer.from(o.name, 'latin1').toString('utf8');
    if (e.size <= SMALL_MEMBER) {
      // Read into the writer's buffer behind its header; rewritten only if the member changes.
      const done = await writer.memberInPlace(o, input, e.dataOffset, async (data) => {
        const r = await ctx.normalizeMember(memberName, new BufferSource(data));
        if (!r.changed) return undefined;
        o.size = r.output.size;
        for (const c of r.changes) tally.add(c.kind, `${c.member ? c.member + ': ' : ''}${c.what}`, undefined, c.count ?? 1);
        return r.output;
      });
      if (done) continue;
    }
    let src: Source;
    let small: Uint8Array | undefined;
    if (e.size <= SMALL_MEMBER) {
      small = await input.read(e.dataOffset, e.size);
      src = new BufferSource(small);
    } else {
      src = new SliceSource(input, e.dataOffset, e.size);
    }
    const r = await ctx.normalizeMember(memberName, src);
    if (r.changed) {
      o.size = r.output.size;
      await writer.header(o);
      await writer.copyFrom(r.output, 0, r.output.size);
      for (const c of r.changes) tally.add(c.kind, `${c.member ? c.member + ': ' : ''}${c.what}`, undefined, c.count ?? 1);
    } else {
      await writer.header(o);
      if (small) await writer.data(small);
      else await writer.copyFrom(input, e.dataOffset, e.size);
    }
  }
  await writer.finish();
  if (!tally.size) tally.add('layout', 'headers, end-of-archive blocks and record padding as GNU tar writes them');
  return { status: 'normalized', changes: tally.changes() };
}

function sizeCarriesData(o: OutEntry): boolean {
  return !['1', '2', '3', '4', '5', '6'].includes(o.typeflag);
}

function isGlobalDropped(key: string): boolean {
  return ['atime', 'ctime', 'mtime', 'uid', 'gid', 'uname', 'gname', 'SCHILY.dev', 'SCHILY.ino', 'SCHILY.nlink', 'LIBARCHIVE.creationtime'].includes(key);
}

const TAR_TYPES: Record<string, string> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'dir' };

/** For `detnorm diff`: members in archive order with their stored fields and data. */
async function* tarMembers(input: Source): AsyncIterable<MemberInfo> {
  for await (const item of readTar(input)) {
    if (item.kind !== 'entry') continue;
    const e = item.entry;
    const type = TAR_TYPES[e.typeflag] ?? 'other';
    const meta: Record<string, string | number> = { mtime: e.mtime, uid: e.uid, gid: e.gid, mode: e.mode, uname: e.uname, gname: e.gname };
    if (e.linkname) meta.linkTarget = e.linkname;
    for (const r of e.records) meta[`pax:${r.key}`] = r.value;
    const data = type === 'file' && !e.gnuSparseArea ? new SliceSource(input, e.dataOffset, e.size) : undefined;
    yield { name: e.name, type, meta, ...(data ? { data } : {}) };
  }
}

export const tarHandler: Handler = {
  ...tarDetection,
  normalize: normalizeTar,
  members: tarMembers,
  compare: compareTar,
};

export default tarHandler;
