// The cpio handler: newc, crc, odc and binary (either byte order) archives, including
// concatenated ones (initramfs images: cpio archives and compressed cpio archives (gzip, xz,
// zstd, bzip2, lz4 legacy or frame) back to back, each segment normalized, their order kept).
// Canonical form = GNU cpio 2.13 `-o -H <fmt> --reproducible` over the same files listed in
// bytewise name order, after setting every mtime to T (0 without T; --clamp honoured),
// owners to 0:0 and modes to `chmod a=rX,u+w` (files 0644/0755, directories 0755 with their
// set-id bits, symlinks kept):
//  - inodes renumbered from 0 in list order (hard links share theirs), dev numbers 0, rdev
//    kept for devices only; nlink kept;
//  - newc/crc: hard links written together where the last of the group appears, the data on
//    the last (GNU's deferral; incomplete groups at the end, latest first); odc/bin: every link
//    carries the data;
//  - trailer "TRAILER!!!" and zeros to a multiple of 512 bytes.
// Regular files' data goes through ctx.normalizeMember; symlink targets honour --map-path.
import { BufferSource, SliceSource, copyRange } from '../../src/io.js';
import { canonicalTime } from '../../src/time.js';
import { FormatError, type Change, type Comparison, type Context, type Handler, type HandlerResult, type MemberInfo, type MemberPair, type Probe, type Sink, type Source } from '../../src/types.js';
import { clockCause, compareMemberLists, numbers, ownerCause, showMode, showTime, umaskCause, type FieldSpec } from '../compare.js';
import { mapPath } from '../tar/order.js';
import { codecFor, compressedExtent } from '../compressed/index.js';
import { cpioDetection, looksLikeCpio } from './detect.js';

export { looksLikeCpio };
import {
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  TRAILER,
  alignment,
  cpioFormatOf,
  decodeCpio,
  encodeCpio,
  headerSize,
  padTo,
  type CpioFormat,
  type CpioHeader,
} from './header.js';

const MAX_NAME = 1 << 20;
const MAX_ENTRIES = 4_000_000;
const BLOCK = 512;
const SMALL_MEMBER = 1 << 20;

interface Entry {
  name: string;
  h: CpioHeader;
  dataOffset: number;
  index: number;
}

interface Segment {
  format: CpioFormat;
  entries: Entry[];
  start: number;
  end: number;
}

/** Parse one archive (up to and including its trailer) starting at `pos`. */
async function readSegment(src: Source, pos: number, format: CpioFormat): Promise<Segment> {
  const start = pos;
  const hs = headerSize(format);
  const al = alignment(format);
  const entries: Entry[] = [];
  for (;;) {
    if (pos + hs > src.size) throw new FormatError(`truncated cpio header at offset ${pos}`);
    const hb = await src.read(pos, hs);
    if (cpioFormatOf(hb) !== format) throw new FormatError(`bad cpio magic at offset ${pos}`);
    const h = decodeCpio(hb, format, pos);
    if (h.namesize < 1 || h.namesize > MAX_NAME) throw new FormatError(`bad cpio name size ${h.namesize} at offset ${pos}`);
    if (pos + hs + h.namesize > src.size) throw new FormatError(`truncated cpio name at offset ${pos}`);
    const nb = await src.read(pos + hs, h.namesize);
    if (nb[h.namesize - 1] !== 0) throw new FormatError(`cpio name at offset ${pos} is not NUL-terminated`);
    const name = Buffer.from(nb.buffer, nb.byteOffset, h.namesize - 1).toString('latin1');
    const dataOffset = padTo(pos + hs + h.namesize - start, al) + start;
    const end = dataOffset + h.filesize;
    if (end > src.size) throw new FormatError(`truncated cpio data of "${name.slice(0, 200)}" at offset ${dataOffset}`);
    pos = padTo(end - start, al) + start;
    if (name === TRAILER) return { format, entries, start, end: Math.min(pos, src.size) };
    if (entries.length >= MAX_ENTRIES) throw new FormatError(`more than ${MAX_ENTRIES} cpio members`);
    entries.push({ name, h, dataOffset, index: entries.length });
  }
}

/** GNU `chmod a=rX,u+w` on a full st_mode (type kept; symlinks unchanged). */
export function cpioMode(mode: number): number {
  const type = mode & S_IFMT;
  const perm = mode & 0o7777;
  if (type === S_IFLNK) return mode;
  if (type === S_IFDIR) return type | (perm & 0o6000) | 0o755;
  return type | (perm & 0o111 ? 0o755 : 0o644);
}

function sortKey(name: string): string {
  return name === '.' ? '' : name;
}

class Out {
  private parts: Uint8Array[] = [];
  private len = 0;
  pos = 0;
  constructor(private readonly sink: Sink) {}
  async put(b: Uint8Array): Promise<void> {
    if (!b.length) return;
    this.parts.push(b);
    this.len += b.length;
    this.pos += b.length;
    if (this.len >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.len) return;
    const buf = Buffer.concat(this.parts, this.len);
    this.parts = [];
    this.len = 0;
    await this.sink.write(buf);
  }
  async pad(to: number): Promise<void> {
    const n = padTo(this.pos, to) - this.pos;
    if (n) await this.put(new Uint8Array(n));
  }
}

class Tally {
  private m = new Map<string, Change & { count: number }>();
  add(kind: Change['kind'], what: string, n = 1): void {
    const k = `${kind}\0${what}`;
    const c = this.m.get(k);
    if (c) c.count += n;
    else this.m.set(k, { kind, what, count: n });
  }
  list(): Change[] {
    return [...this.m.values()].map((c) => (c.count === 1 ? { kind: c.kind, what: c.what, member: c.member } : c));
  }
  get size(): number {
    return this.m.size;
  }
}

/** The data of one member (or link group) after nested normalization and path mapping. */
async function memberData(input: Source, e: Entry, ctx: Context, tally: Tally): Promise<Source> {
  const raw = e.h.filesize <= SMALL_MEMBER ? new BufferSource(await input.read(e.dataOffset, e.h.filesize)) : new SliceSource(input, e.dataOffset, e.h.filesize);
  const type = e.h.mode & S_IFMT;
  if (type === S_IFLNK && ctx.options.mapPaths.length) {
    const target = Buffer.from(await raw.read(0, raw.size)).toString('latin1');
    const maps = ctx.options.mapPaths.map((m) => ({ from: Buffer.from(m.from).toString('latin1'), to: Buffer.from(m.to).toString('latin1') }));
    const mapped = mapPath(target, maps);
    if (mapped !== target) {
      tally.add('path', 'symlink target under a mapped build path rewritten');
      return new BufferSource(Buffer.from(mapped, 'latin1'));
    }
    return raw;
  }
  if (type === S_IFREG && e.h.filesize > 0) {
    const r = await ctx.normalizeMember(Buffer.from(e.name, 'latin1').toString('utf8'), raw);
    if (r.changed) {
      for (const c of r.changes) tally.add(c.kind, `${c.member ? c.member + ': ' : ''}${c.what}`, c.count ?? 1);
      return r.output;
    }
  }
  return raw;
}

async function checksum(src: Source): Promise<number> {
  let sum = 0;
  for (let at = 0; at < src.size; at += 1 << 20) {
    const b = await src.read(at, Math.min(1 << 20, src.size - at));
    for (let i = 0; i < b.length; i++) sum = (sum + b[i]!) >>> 0;
  }
  return sum;
}

async function writeSegment(input: Source, seg: Segment, out: Out, ctx: Context, tally: Tally): Promise<void> {
  const f = seg.format;
  const al = alignment(f);
  const sorted = seg.entries.map((e) => e).sort((a, b) => {
    const x = sortKey(a.name);
    const y = sortKey(b.name);
    return x < y ? -1 : x > y ? 1 : a.index - b.index;
  });
  if (sorted.some((e, i) => e !== seg.entries[i])) tally.add('order', 'members in bytewise name order');

  // Hard-link groups: same (dev, ino), nlink > 1, not directories.
  const groupKey = (e: Entry) =>
    e.h.nlink > 1 && (e.h.mode & S_IFMT) !== S_IFDIR ? `${e.h.devmajor}:${e.h.devminor}:${e.h.ino}:${e.h.mode & S_IFMT}` : undefined;
  const groups = new Map<string, Entry[]>();
  for (const e of seg.entries) {
    const k = groupKey(e);
    if (!k) continue;
    const list = groups.get(k);
    if (list) list.push(e);
    else groups.set(k, [e]);
  }
  // The member holding a group's data: the last (archive order) with any.
  const dataHolder = new Map<string, Entry>();
  for (const [k, members] of groups) dataHolder.set(k, [...members].reverse().find((m) => m.h.filesize > 0) ?? members[members.length - 1]!);

  // Inode numbers: from 0 in list order; a link group shares the first number it got.
  const ino = new Map<Entry, number>();
  const groupIno = new Map<string, number>();
  let next = 0;
  for (const e of sorted) {
    const k = groupKey(e);
    if (k && groupIno.has(k)) ino.set(e, groupIno.get(k)!);
    else {
      ino.set(e, next);
      if (k) groupIno.set(k, next);
      next++;
    }
  }

  const dataCache = new Map<string, Source>();
  const dataFor = async (e: Entry): Promise<Source> => {
    const k = groupKey(e);
    const holder = k ? dataHolder.get(k)! : e;
    const key = k ?? `#${e.index}`;
    let d = dataCache.get(key);
    if (!d) {
      d = await memberData(input, holder, ctx, tally);
      if (k) dataCache.set(key, d);
    }
    return d;
  };

  const emit = async (e: Entry, withData: boolean): Promise<void> => {
    const type = e.h.mode & S_IFMT;
    const device = type === S_IFCHR || type === S_IFBLK;
    const data = withData ? await dataFor(e) : undefined;
    const mtime = canonicalTime(ctx.options, e.h.mtime, 0);
    const mode = cpioMode(e.h.mode);
    if (mtime !== e.h.mtime) tally.add('timestamp', `mtime -> ${mtime}`);
    if (e.h.uid || e.h.gid) tally.add('owner', 'uid/gid -> 0');
    if (mode !== e.h.mode) tally.add('mode', 'mode -> a=rX,u+w');
    if (e.h.devmajor || e.h.devminor) tally.add('metadata', 'device numbers dropped');
    if (ino.get(e) !== e.h.ino) tally.add('metadata', 'inodes renumbered');
    const nameBytes = Buffer.from(e.name + '\0', 'latin1');
    const h: CpioHeader = {
      ino: ino.get(e)!,
      mode,
      uid: 0,
      gid: 0,
      nlink: e.h.nlink,
      mtime,
      filesize: data ? data.size : 0,
      devmajor: 0,
      devminor: 0,
      rdevmajor: device ? e.h.rdevmajor : 0,
      rdevminor: device ? e.h.rdevminor : 0,
      namesize: nameBytes.length,
      check: f === 'crc' && data && type === S_IFREG ? await checksum(data) : 0,
    };
    const start = out.pos;
    await out.put(encodeCpio(h, f));
    await out.put(nameBytes);
    await padRel(out, start, al);
    if (data && data.size) {
      const dstart = out.pos;
      if (data.size <= SMALL_MEMBER) await out.put(Uint8Array.from(await data.read(0, data.size)));
      else {
        await out.flush();
        await copyRange(data, 0, data.size, { write: (c) => out.put(Uint8Array.from(c)), length: 0 });
      }
      void dstart;
      await padRel(out, start, al);
    }
  };

  const hasData = (e: Entry) => {
    const t = e.h.mode & S_IFMT;
    return t === S_IFREG || t === S_IFLNK || e.h.filesize > 0;
  };

  if (f === 'newc' || f === 'crc') {
    // GNU cpio's deferral: links wait until the group's last one (by nlink) is listed. GNU
    // keeps one list, most recent first; here each group keeps its own (in listing order, read
    // backwards), so the work stays linear in the entries whatever their link counts say.
    const deferred: Entry[] = []; // in listing order
    const done = new Set<Entry>();
    const waiting = new Map<string, Entry[]>();
    const seen = new Map<string, number>();
    for (const e of sorted) {
      const k = groupKey(e);
      if (!k) {
        await emit(e, hasData(e));
        continue;
      }
      const n = (seen.get(k) ?? 0) + 1;
      seen.set(k, n);
      const group = waiting.get(k) ?? [];
      if (n < e.h.nlink) {
        deferred.push(e);
        group.push(e);
        waiting.set(k, group);
        continue;
      }
      for (let i = group.length - 1; i >= 0; i--) {
        await emit(group[i]!, false);
        done.add(group[i]!);
      }
      waiting.delete(k);
      await emit(e, hasData(e));
    }
    const left = new Map<string, number>();
    for (const d of deferred) if (!done.has(d)) left.set(groupKey(d)!, (left.get(groupKey(d)!) ?? 0) + 1);
    for (let i = deferred.length - 1; i >= 0; i--) {
      const d = deferred[i]!;
      if (done.has(d)) continue;
      const k = groupKey(d)!;
      const others = left.get(k)! - 1;
      left.set(k, others);
      await emit(d, others === 0 && hasData(d));
    }
  } else {
    for (const e of sorted) await emit(e, hasData(e));
  }
  // Trailer.
  const tname = Buffer.from(TRAILER + '\0', 'latin1');
  const tstart = out.pos;
  await out.put(
    encodeCpio(
      { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: 0, devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: tname.length, check: 0 },
      f,
    ),
  );
  await out.put(tname);
  await padRel(out, tstart, al);
  await out.pad(BLOCK);
}

async function padRel(out: Out, start: number, al: number): Promise<void> {
  const n = padTo(out.pos - start, al) - (out.pos - start);
  if (n) await out.put(new Uint8Array(n));
}

async function isZeros(src: Source, from: number, to: number): Promise<number> {
  // Returns the first non-zero offset in [from, to), or `to`.
  for (let at = from; at < to; at += 1 << 16) {
    const b = await src.read(at, Math.min(1 << 16, to - at));
    for (let i = 0; i < b.length; i++) if (b[i] !== 0) return at + i;
  }
  return to;
}

/** One piece of an initramfs: a cpio archive, or a compressed segment kept or normalized whole. */
type Piece = { kind: 'cpio'; seg: Segment } | { kind: 'compressed'; start: number; end: number; codec: string } | { kind: 'zeros' | 'tail'; start: number; end: number };

/**
 * The pieces of the input as the kernel's unpack_to_rootfs walks them: cpio archives (with
 * their zero padding), compressed segments (each ending where its decoder stops), zero runs
 * between them, and whatever follows that is neither (kept as it is).
 */
async function pieces(input: Source, ctx: Context): Promise<Piece[]> {
  const out: Piece[] = [];
  let pos = 0;
  while (pos < input.size) {
    const head = await input.read(pos, Math.min(64, input.size - pos));
    const f = cpioFormatOf(head);
    if (f) {
      const seg = await readSegment(input, pos, f);
      out.push({ kind: 'cpio', seg });
      // Zero padding after the trailer belongs to the segment (rewritten to 512 bytes).
      pos = await isZeros(input, seg.end, input.size);
      continue;
    }
    if (!out.length) throw new FormatError('not a cpio archive');
    if (head[0] === 0) {
      const end = await isZeros(input, pos, input.size);
      out.push({ kind: 'zeros', start: pos, end });
      pos = end;
      continue;
    }
    const codec = codecFor(head);
    const extent = codec ? await compressedExtent(codec, new SliceSource(input, pos, input.size - pos), ctx).catch((e: unknown) => ({ untouched: String(e) })) : undefined;
    if (!codec || extent === undefined || typeof extent !== 'number') {
      out.push({ kind: 'tail', start: pos, end: input.size });
      break;
    }
    out.push({ kind: 'compressed', start: pos, end: pos + extent, codec: codec.name });
    pos += extent;
  }
  return out;
}

export async function normalizeCpio(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const parts = await pieces(input, ctx);
  const tally = new Tally();
  const out = new Out(output);
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.kind === 'cpio') {
      await writeSegment(input, p.seg, out, ctx, tally);
      continue;
    }
    if (p.kind === 'compressed') {
      // A compressed segment: its handler (gzip, xz, zstd, bzip2, lz4) normalizes the cpio inside.
      const seg = new SliceSource(input, p.start, p.end - p.start);
      const r = await ctx.normalizeMember(`initramfs-segment-${++n}.cpio.${p.codec}`, seg);
      const src = r.changed ? r.output : seg;
      if (r.changed) for (const c of r.changes) tally.add(c.kind, `${c.member ? c.member + ': ' : ''}${c.what}`, c.count ?? 1);
      await out.flush();
      await copyRange(src, 0, src.size, { write: (c) => out.put(Uint8Array.from(c)), length: 0 });
      continue;
    }
    // Zero runs between segments are kept; before an uncompressed cpio archive they are
    // lengthened to a 4-byte boundary if a recompressed segment moved it (the kernel reads a
    // cpio header only at offsets that are multiples of 4).
    let zeros = p.end - p.start;
    if (p.kind === 'zeros' && parts[i + 1]?.kind === 'cpio') zeros += (4 - ((out.pos + zeros) % 4)) % 4;
    if (p.kind === 'tail') {
      ctx.notice(`${p.end - p.start} bytes after the last cpio or compressed segment (offset ${p.start}) kept as they are`);
      await out.flush();
      await copyRange(input, p.start, p.end - p.start, { write: (c) => out.put(Uint8Array.from(c)), length: 0 });
    } else if (zeros) await out.put(new Uint8Array(zeros));
  }
  await out.flush();
  if (!tally.size) tally.add('layout', 'trailer and 512-byte padding as GNU cpio writes them');
  return { status: 'normalized', changes: tally.list() };
}

const CPIO_TYPES: Record<number, string> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char device', 0o060000: 'block device', 0o010000: 'fifo', 0o140000: 'socket' };

/** The segments' members with their header fields, and the bytes after the last segment. */
async function cpioListing(input: Source): Promise<{ members: MemberInfo[]; tail?: Source }> {
  const members: MemberInfo[] = [];
  let pos = 0;
  let n = 0;
  const segments: Segment[] = [];
  while (pos < input.size) {
    const f = cpioFormatOf(await input.read(pos, Math.min(6, input.size - pos)));
    if (!f) {
      if (!segments.length) throw new FormatError('not a cpio archive');
      return { members, tail: new SliceSource(input, pos, input.size - pos) };
    }
    const seg = await readSegment(input, pos, f);
    segments.push(seg);
    n++;
    for (const e of seg.entries) {
      const type = CPIO_TYPES[e.h.mode & S_IFMT] ?? 'other';
      const name = n > 1 ? `segment ${n}: ${e.name}` : e.name;
      const meta: Record<string, string | number> = {
        mtime: e.h.mtime,
        owner: `${e.h.uid}/${e.h.gid}`,
        mode: e.h.mode & 0o7777,
        ino: e.h.ino,
        dev: `${e.h.devmajor},${e.h.devminor}`,
        nlink: e.h.nlink,
        format: seg.format,
      };
      if (type === 'char device' || type === 'block device') meta.rdev = `${e.h.rdevmajor},${e.h.rdevminor}`;
      const data = new SliceSource(input, e.dataOffset, e.h.filesize);
      if (type === 'symlink') meta.linkTarget = Buffer.from(await data.read(0, Math.min(data.size, 4096))).toString('latin1');
      members.push({ name, type, meta, ...(type === 'file' ? { data } : {}) });
    }
    pos = await isZeros(input, seg.end, input.size);
  }
  return { members };
}

const cpioOwners = (ms: readonly MemberInfo[]) => ms.map((m) => String(m.meta.owner));
const cpioModes = (ms: readonly MemberInfo[]) => ms.map((m) => Number(m.meta.mode));

const CPIO_FIELDS: readonly FieldSpec[] = [
  { kind: 'timestamp', label: 'mtime', value: (m) => m.meta.mtime, show: showTime, range: true, cause: (_d, all) => clockCause(numbers(all.a, 'mtime'), numbers(all.b, 'mtime')) },
  { kind: 'owner', label: 'uid/gid', value: (m) => m.meta.owner, cause: (_d, all) => ownerCause(cpioOwners(all.a), cpioOwners(all.b), 'cpio stores owners unless -R 0:0') },
  {
    kind: 'mode',
    label: 'mode',
    value: (m) => m.meta.mode,
    show: showMode,
    cause: (d, all) => umaskCause(d.map((x) => ({ a: Number(x.a), b: Number(x.b) })), cpioModes(all.a), cpioModes(all.b)),
  },
  { kind: 'metadata', label: 'inode number', value: (m) => m.meta.ino, cause: () => "the build machine's inode numbers (GNU cpio --reproducible renumbers them)" },
  { kind: 'metadata', label: 'device', value: (m) => m.meta.dev, cause: () => "the build machine's device numbers (GNU cpio --reproducible zeroes them)" },
  { kind: 'metadata', label: 'link count', value: (m) => m.meta.nlink },
  { kind: 'content', label: 'device numbers (rdev)', value: (m) => m.meta.rdev },
  { kind: 'content', label: 'link target', value: (m) => m.meta.linkTarget },
  { kind: 'header', label: 'cpio format', value: (m) => m.meta.format, cause: () => 'written with another cpio -H format' },
];

/** For `detnorm diff`: the header fields, order and data of the members, and an initramfs's compressed tail. */
async function compareCpio(a: Source, b: Source): Promise<Comparison> {
  const [la, lb] = [await cpioListing(a), await cpioListing(b)];
  const c = await compareMemberLists(la.members, lb.members, { fields: CPIO_FIELDS });
  const members: MemberPair[] = [...(c.members ?? [])];
  const differences = [...c.differences];
  if (la.tail && lb.tail) members.push({ name: 'initramfs-tail', a: la.tail, b: lb.tail });
  else if (la.tail || lb.tail) differences.push({ kind: la.tail ? 'only-in-a' : 'only-in-b', field: `only in ${la.tail ? 'A' : 'B'}`, member: 'initramfs-tail', note: 'data after the cpio archive' });
  return { differences, members };
}

export const cpioHandler: Handler = {
  ...cpioDetection,
  normalize: normalizeCpio,
  compare: compareCpio,
};

export default cpioHandler;
