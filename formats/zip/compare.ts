// `detnorm diff` for the zip family: the fields a zip stores per entry (DOS time, the UT and ux
// extra fields, Unix mode, creator, flags, method, comments), compared entry by entry, the
// compressed bytes of entries whose data are equal, and the causes the bytes support: a zip
// written in local time in two time zones (every DOS time shifted by one whole zone offset),
// each build's clock, umask, owners, readdir order, Info-ZIP's -X.
import type { Comparison, Context, FieldDifference, MemberInfo, Source } from '../../src/types.js';
import { SliceSource } from '../../src/io.js';
import { clockCause, compareMemberLists, keyed, numbers, ownerCause, showMode, showTime, umaskCause, zoneOffset, type FieldPair, type FieldSpec } from '../compare.js';
import { extendedMtime, kindAndMode } from './attrs.js';
import { inflateTo } from './deflate.js';
import { FLAG_ENCRYPTED, type ExtraField } from './records.js';
import { METHOD_DEFLATED, METHOD_STORED, displayName, readArchive } from './reader.js';

const HOSTS: Record<number, string> = { 0: 'MS-DOS', 3: 'Unix', 10: 'Windows NTFS', 11: 'MVS', 19: 'OS X', 14: 'VFAT' };
const METHODS: Record<number, string> = { 0: 'stored', 8: 'deflated', 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd' };

function dosString(date: number, time: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(1980 + (date >> 9), 4)}-${p((date >> 5) & 15)}-${p(date & 31)} ${p(time >> 11)}:${p((time >> 5) & 63)}:${p((time & 31) * 2)}`;
}

/** A DOS date/time read as if it were UTC, in seconds. */
function dosSeconds(date: number, time: number): number {
  return Date.UTC(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2) / 1000;
}

/** uid/gid from Info-ZIP's ux (0x7875) or old Ux (0x5855) extra field. */
function unixOwner(fields: readonly ExtraField[]): string | undefined {
  const ux = fields.find((f) => f.id === 0x7875);
  if (ux && ux.data.length >= 3 && ux.data[0] === 1) {
    const d = ux.data;
    const num = (at: number, n: number) => {
      let v = 0;
      for (let i = n - 1; i >= 0; i--) v = v * 256 + d[at + i]!;
      return v;
    };
    const us = d[1]!;
    if (2 + us < d.length) {
      const gs = d[2 + us]!;
      if (3 + us + gs <= d.length) return `${num(2, us)}/${num(3 + us, gs)}`;
    }
  }
  const old = fields.find((f) => f.id === 0x5855);
  if (old && old.data.length >= 12) {
    const v = new DataView(old.data.buffer, old.data.byteOffset, old.data.byteLength);
    return `${v.getUint16(8, true)}/${v.getUint16(10, true)}`;
  }
  return undefined;
}

interface Listing {
  readonly members: MemberInfo[];
  /** Raw (compressed) bytes of each entry, by key. */
  readonly raw: Map<string, Source>;
  readonly comment: string;
  readonly prefix: number;
}

async function listing(input: Source, ctx: Context): Promise<Listing> {
  const arc = await readArchive(input, ctx.options.limits);
  const fileOrder = [...arc.entries].sort((a, b) => a.localOffset - b.localOffset || a.index - b.index);
  const members: MemberInfo[] = [];
  const raw: Source[] = [];
  for (const e of fileOrder) {
    const { kind } = kindAndMode(e);
    const host = e.versionMadeBy >> 8;
    const meta: Record<string, string | number> = {
      dosTime: dosString(e.date, e.time),
      dosSeconds: dosSeconds(e.date, e.time),
      madeBy: `${((e.versionMadeBy & 0xff) / 10).toFixed(1)} (${HOSTS[host] ?? `host ${host}`})`,
      versionNeeded: ((e.versionNeeded & 0xff) / 10).toFixed(1),
      flags: `0x${e.flags.toString(16).padStart(4, '0')}`,
      method: METHODS[e.method] ?? String(e.method),
      internal: e.internalAttributes,
      dosAttributes: `0x${(e.externalAttributes & 0xff).toString(16).padStart(2, '0')}`,
      extraFields: [...new Set([...e.localExtra, ...e.centralExtra].map((f) => `0x${f.id.toString(16).padStart(4, '0')}`))].join(' ') || '(none)',
    };
    const high = e.externalAttributes >>> 16;
    if (high) meta.mode = high & 0o7777;
    const ut = extendedMtime(e.localExtra) ?? extendedMtime(e.centralExtra);
    if (ut !== undefined) meta.mtime = ut;
    const owner = unixOwner(e.localExtra) ?? unixOwner(e.centralExtra);
    if (owner !== undefined) meta.owner = owner;
    if (e.comment.length) meta.comment = displayName(e.comment);
    if (e.descriptorLength) meta.descriptor = e.descriptorLength;
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
    members.push({ name: e.displayName, type: kind, meta, ...(data && kind === 'file' ? { data } : {}) });
    raw.push(new SliceSource(input, e.dataOffset, e.compressedSize));
  }
  const keys = [...keyed(members).keys()];
  return { members, raw: new Map(keys.map((k, i) => [k, raw[i]!])), comment: displayName(arc.comment), prefix: arc.prefixLength };
}

/** Every DOS time shifted by one whole time-zone offset: written in local time in two zones. */
function localTimeCause(d: readonly FieldPair[], all: { paired: ReadonlyArray<readonly [MemberInfo, MemberInfo]> }): string | undefined {
  const deltas = new Set(all.paired.map(([a, b]) => Number(b.meta.dosSeconds) - Number(a.meta.dosSeconds)));
  if (deltas.size !== 1 || d.length === 0) return undefined;
  const offset = zoneOffset([...deltas][0]!);
  if (!offset) return undefined;
  const ut = all.paired.filter(([a, b]) => a.meta.mtime !== undefined && a.meta.mtime === b.meta.mtime).length;
  const confirm = ut === all.paired.length ? ' (the UTC times of the UT extra field are equal)' : '';
  return `every DOS time differs by ${offset}, a whole time-zone offset: the zips were written in local time, in two time zones (TZ)${confirm}`;
}

const owners = (ms: readonly MemberInfo[]) => ms.flatMap((m) => (m.meta.owner !== undefined ? [String(m.meta.owner)] : []));
const modes = (ms: readonly MemberInfo[]) => ms.flatMap((m) => (typeof m.meta.mode === 'number' ? [m.meta.mode] : []));
const times = (ms: readonly MemberInfo[]) => [...numbers(ms, 'mtime'), ...numbers(ms, 'dosSeconds')];

export const ZIP_FIELDS: readonly FieldSpec[] = [
  {
    kind: 'timestamp',
    label: 'DOS time',
    value: (m) => m.meta.dosTime,
    cause: (d, all) => localTimeCause(d, all) ?? clockCause(numbers(all.a, 'dosSeconds'), numbers(all.b, 'dosSeconds')),
  },
  {
    kind: 'timestamp',
    label: 'mtime (UT extra field)',
    value: (m) => m.meta.mtime,
    show: (v) => (v === undefined ? '(none)' : showTime(v)),
    range: true,
    cause: (_d, all) => clockCause(numbers(all.a, 'mtime'), numbers(all.b, 'mtime')),
  },
  {
    kind: 'owner',
    label: 'uid/gid (ux extra field)',
    value: (m) => m.meta.owner,
    cause: (_d, all) => ownerCause(owners(all.a), owners(all.b), 'Info-ZIP zip stores them unless -X'),
  },
  {
    kind: 'mode',
    label: 'mode',
    value: (m) => m.meta.mode,
    show: (v) => (v === undefined ? '(none)' : showMode(v)),
    cause: (d, all) =>
      d.every((x) => typeof x.a === 'number' && typeof x.b === 'number')
        ? umaskCause(d.map((x) => ({ a: Number(x.a), b: Number(x.b) })), modes(all.a), modes(all.b))
        : undefined,
  },
  { kind: 'mode', label: 'MS-DOS attributes', value: (m) => m.meta.dosAttributes },
  { kind: 'content', label: 'link target', value: (m) => m.meta.linkTarget },
  { kind: 'header', label: 'made by', value: (m) => m.meta.madeBy, cause: () => 'written by another zip tool, or on another OS' },
  { kind: 'header', label: 'version needed', value: (m) => m.meta.versionNeeded },
  { kind: 'header', label: 'flags', value: (m) => m.meta.flags },
  { kind: 'compression', label: 'method', value: (m) => m.meta.method },
  {
    kind: 'extra-field',
    label: 'extra fields',
    value: (m) => m.meta.extraFields,
    cause: (d) =>
      d.some((x) => String(x.a).includes('0x5455') !== String(x.b).includes('0x5455'))
        ? 'UT/ux extra fields (times, uid/gid) on one side only: Info-ZIP zip writes them unless -X; other tools do not'
        : undefined,
  },
  { kind: 'metadata', label: 'comment', value: (m) => m.meta.comment },
  { kind: 'metadata', label: 'internal attributes', value: (m) => m.meta.internal },
  { kind: 'layout', label: 'data descriptor', value: (m) => m.meta.descriptor, cause: () => 'written as a stream by one tool (data descriptors after the data), not by the other' },
];

/** The UT extra field's mtime and the DOS time differing alike are one time stored twice: one record. */
function foldTimes(ds: readonly FieldDifference[]): FieldDifference[] {
  const dos = ds.find((d) => d.field === 'DOS time');
  const ut = ds.find((d) => d.field === 'mtime (UT extra field)');
  if (!dos || !ut || dos.count !== ut.count || dos.member !== ut.member || ut.a === '(none)' || ut.b === '(none)') return [...ds];
  const merged: FieldDifference = { ...ut, field: 'mtime (UT extra field, and the DOS time)', ...(ut.cause ?? dos.cause ? { cause: ut.cause ?? dos.cause } : {}) };
  return ds.filter((d) => d !== dos).map((d) => (d === ut ? merged : d));
}

/** Handler.compare for the zip family. */
export async function compareZip(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const [la, lb] = [await listing(a, ctx), await listing(b, ctx)];
  const c = await compareMemberLists(la.members, lb.members, { fields: ZIP_FIELDS });
  const differences: FieldDifference[] = foldTimes(c.differences);
  // Entries whose data are equal but whose compressed bytes differ.
  const changed = new Set((c.members ?? []).map((p) => p.name));
  const [ka, kb] = [keyed(la.members), keyed(lb.members)];
  const recompressed: string[] = [];
  for (const [k, ma] of ka) {
    const mb = kb.get(k);
    if (!mb || changed.has(k) || !ma.data || !mb.data || ma.meta.method !== mb.meta.method) continue;
    const [ra, rb] = [la.raw.get(k)!, lb.raw.get(k)!];
    if (ra.size !== rb.size || !Buffer.from(await ra.read(0, ra.size)).equals(await rb.read(0, rb.size))) recompressed.push(k);
  }
  if (recompressed.length) {
    differences.push({
      kind: 'compression',
      field: 'compressed data',
      ...(recompressed.length === 1 ? { member: recompressed[0]! } : { count: recompressed.length }),
      note: 'the same data compressed differently',
      cause: 'another deflate level or implementation (zlib versions, Java, Python and Info-ZIP differ)',
    });
  }
  if (la.comment !== lb.comment) differences.push({ kind: 'metadata', field: 'archive comment', a: la.comment || '(none)', b: lb.comment || '(none)' });
  if (la.prefix !== lb.prefix) differences.push({ kind: 'layout', field: 'bytes before the first entry', a: String(la.prefix), b: String(lb.prefix) });
  return { differences, members: c.members ?? [] };
}
