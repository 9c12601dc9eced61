// `detnorm diff` for tar: the fields a tar header stores, compared member by member, and the
// causes the bytes support (each build's clock, the building user or a sandbox's 65534, the
// umask, readdir order, GNU tar's --format, pax atime/ctime records).
import type { Comparison, Context, FieldDifference, MemberInfo, Source } from '../../src/types.js';
import { clockCause, compareMemberLists, numbers, ownerCause, showMode, showTime, umaskCause, type FieldSpec } from '../compare.js';
import { compareNames } from './order.js';
import { paxSeconds } from './pax.js';
import { readTar } from './reader.js';

const TAR_TYPES: Record<string, string> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'dir', '3': 'char device', '4': 'block device', '6': 'fifo' };

/** Pax records that hold times (GNU tar --format=pax writes atime and ctime unless told not to). */
const PAX_TIMES = ['atime', 'ctime', 'LIBARCHIVE.creationtime'];
/** Pax records shown as fields of their own or regenerated from the header fields. */
const PAX_SKIP = new Set(['path', 'linkpath', 'size', 'mtime', 'uid', 'gid', 'uname', 'gname', ...PAX_TIMES]);

/** A tar's members with every field its headers store, for comparison. */
export async function tarListing(input: Source): Promise<MemberInfo[]> {
  const out: MemberInfo[] = [];
  for await (const item of readTar(input)) {
    if (item.kind !== 'entry') continue;
    const e = item.entry;
    const type = TAR_TYPES[e.typeflag] ?? 'other';
    const pax = new Map(e.paxAll.map((r) => [r.key, r.value]));
    const meta: Record<string, string | number> = {
      mtime: e.mtime,
      owner: `${e.uid}/${e.gid}`,
      names: `${e.uname}/${e.gname}`,
      mode: e.mode & 0o7777,
      format: pax.size ? 'pax' : e.magic === 'gnu' ? 'gnu' : e.magic,
    };
    if (type === 'symlink' || type === 'hardlink') meta.linkTarget = e.linkname;
    if (type === 'char device' || type === 'block device') meta.device = `${e.devmajor},${e.devminor}`;
    for (const k of PAX_TIMES) {
      const v = pax.get(k);
      if (v !== undefined) meta[`pax ${k}`] = paxSeconds(v) ?? v;
    }
    const rest = e.paxAll.filter((r) => !PAX_SKIP.has(r.key)).map((r) => `${r.key}=${r.value}`);
    if (rest.length) meta.pax = rest.join(' ');
    const data = type === 'file' && !e.gnuSparseArea ? sliceOf(input, e.dataOffset, e.size) : undefined;
    out.push({ name: e.name, type, meta, ...(data ? { data } : {}) });
  }
  return out;
}

function sliceOf(src: Source, offset: number, size: number): Source {
  return { size, read: (o, l) => src.read(offset + o, l) };
}

const owners = (ms: readonly MemberInfo[]) => ms.map((m) => String(m.meta.owner));
const modes = (ms: readonly MemberInfo[]) => ms.map((m) => Number(m.meta.mode));

/** The tar header fields as `detnorm diff` compares them. */
export const TAR_FIELDS: readonly FieldSpec[] = [
  {
    kind: 'timestamp',
    label: 'mtime',
    value: (m) => m.meta.mtime,
    show: showTime,
    range: true,
    cause: (_d, all) => clockCause(numbers(all.a, 'mtime'), numbers(all.b, 'mtime')),
  },
  {
    kind: 'owner',
    label: 'uid/gid (user/group)',
    value: (m) => (m.meta.names === '/' ? String(m.meta.owner) : `${m.meta.owner} ${m.meta.names}`),
    cause: (d, all) =>
      d.every((x) => x.ma.meta.owner === x.mb.meta.owner)
        ? 'the same uid/gid under other user/group names: the names each build machine gives those ids (tar stores names unless --owner=0 --group=0 --numeric-owner)'
        : ownerCause(owners(all.a), owners(all.b), 'tar stores owners unless --owner=0 --group=0 --numeric-owner'),
  },
  {
    kind: 'mode',
    label: 'mode',
    value: (m) => m.meta.mode,
    show: showMode,
    cause: (d, all) => umaskCause(d.map((x) => ({ a: Number(x.a), b: Number(x.b) })), modes(all.a), modes(all.b)),
  },
  { kind: 'content', label: 'link target', value: (m) => m.meta.linkTarget },
  { kind: 'content', label: 'device', value: (m) => m.meta.device },
  {
    kind: 'header',
    label: 'header format',
    value: (m) => m.meta.format,
    cause: () => 'written with another tar --format (or another tar program)',
  },
  ...PAX_TIMES.map(
    (k): FieldSpec => ({
      kind: 'timestamp',
      label: `pax ${k}`,
      value: (m) => m.meta[`pax ${k}`],
      show: showTime,
      range: true,
      cause: (d) =>
        d.some((x) => x.a === undefined || x.b === undefined)
          ? `${k} records in one archive only: GNU tar --format=pax writes them unless --pax-option=delete=atime,delete=ctime`
          : k === 'ctime' || k === 'atime'
            ? `the files' ${k === 'ctime' ? 'status change' : 'access'} times at archive time (GNU tar --format=pax stores them)`
            : undefined,
    }),
  ),
  { kind: 'metadata', label: 'pax records', value: (m) => m.meta.pax },
];

/** Handler.compare for tar. */
export async function compareTar(a: Source, b: Source, _ctx: Context): Promise<Comparison> {
  const [la, lb] = [await tarListing(a), await tarListing(b)];
  const c = await compareMemberLists(la, lb, { fields: TAR_FIELDS, nameOrder: compareNames });
  return { differences: foldFormat(c.differences), members: c.members ?? [] };
}

/** Pax time records present on one side only are the header format's doing: said once, under the format. */
function foldFormat(ds: readonly FieldDifference[]): FieldDifference[] {
  const format = ds.find((d) => d.field === 'header format');
  if (!format) return [...ds];
  return ds.filter((d) => !(d.field.startsWith('pax ') && (d.a === '(none)' || d.b === '(none)')));
}
