// `detnorm diff` for RPM packages: the package's own fields (BUILDTIME, BUILDHOST, COOKIE, the
// payload's compressor and flags) and, per file of the header's list, its FILEMTIMES,
// FILEMODES, owner, FILEINODES and digest, with the file data from the payload as member pairs
// (the core then compares an ELF, a pyc or a jar inside with its own handler).
import { clockCause, compareMemberLists, numbers, showMode, showTime, type FieldSpec } from '../compare.js';
import type { Comparison, Context, FieldDifference, MemberInfo, Source } from '../../src/types.js';
import { FormatError } from '../../src/types.js';
import { TAG, getEntry, ints, strings, type Header } from './header.js';
import { listPayload } from './payload.js';

const FILE_TYPES: Record<number, string> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink' };

interface Side {
  readonly main: Header;
  readonly files: MemberInfo[];
  readonly fields: Record<string, string | number | undefined>;
}

function str(h: Header, tag: number): string | undefined {
  const e = getEntry(h, tag);
  return e ? strings(e)[0] : undefined;
}

function int(h: Header, tag: number): number | undefined {
  const e = getEntry(h, tag);
  return e ? ints(e)[0] : undefined;
}

async function side(input: Source, ctx: Context): Promise<Side> {
  // Imported lazily: index.ts imports this module for the handler object.
  const { decodePackage } = await import('./index.js');
  const d = await decodePackage(input, ctx);
  if ('untouched' in d) throw new FormatError(d.untouched);
  const main = d.pkg.main;
  const data = new Map((await listPayload(d.payload)).map((m) => [m.name.replace(/^\.\//, '/'), m.data]));
  const base = getEntry(main, TAG.BASENAMES);
  const names: string[] = [];
  if (base) {
    const dirs = strings(getEntry(main, TAG.DIRNAMES)!);
    const idx = ints(getEntry(main, TAG.DIRINDEXES)!);
    strings(base).forEach((b, i) => names.push(`${dirs[idx[i]!]}${b}`));
  }
  const per = (tag: number) => {
    const e = getEntry(main, tag);
    return e ? (e.type === 6 || e.type === 8 ? strings(e) : ints(e)) : [];
  };
  const [mtimes, modes, inodes, digests, users, groups, links] = [TAG.FILEMTIMES, TAG.FILEMODES, TAG.FILEINODES, TAG.FILEDIGESTS, 1039, 1040, 1036].map(per);
  const files: MemberInfo[] = names.map((name, i) => {
    const mode = Number(modes[i] ?? 0);
    const type = FILE_TYPES[mode & 0o170000] ?? 'other';
    const d = data.get(name);
    return {
      name,
      type,
      meta: { mtime: Number(mtimes[i] ?? 0), mode: mode & 0o7777, ino: Number(inodes[i] ?? 0), digest: String(digests[i] ?? ''), owner: `${users[i] ?? ''}/${groups[i] ?? ''}`, linkTarget: String(links[i] ?? '') },
      ...(type === 'file' && d ? { data: d } : {}),
    };
  });
  const fields = {
    BUILDTIME: int(main, TAG.BUILDTIME),
    BUILDHOST: str(main, TAG.BUILDHOST),
    COOKIE: str(main, TAG.COOKIE),
    SOURCEPKGID: getEntry(main, 1146) ? Buffer.from(getEntry(main, 1146)!.data).toString('hex') : undefined,
    compression: `${str(main, TAG.PAYLOADCOMPRESSOR) ?? 'gzip'} ${str(main, TAG.PAYLOADFLAGS) ?? ''}`.trim(),
  };
  return { main, files, fields };
}

const FIELDS: readonly FieldSpec[] = [
  { kind: 'timestamp', label: 'FILEMTIMES', value: (m) => m.meta.mtime, show: showTime, range: true, cause: (_d, all) => clockCause(numbers(all.a, 'mtime'), numbers(all.b, 'mtime')) },
  { kind: 'mode', label: 'FILEMODES', value: (m) => m.meta.mode, show: showMode },
  { kind: 'owner', label: 'FILEUSERNAME/FILEGROUPNAME', value: (m) => m.meta.owner },
  { kind: 'metadata', label: 'FILEINODES', value: (m) => m.meta.ino, cause: () => 'inode numbers of the build machine (rpmbuild 4.14+ numbers files by their index)' },
  { kind: 'content', label: 'FILEDIGESTS', value: (m) => m.meta.digest },
  { kind: 'content', label: 'FILELINKTOS', value: (m) => m.meta.linkTarget || undefined },
];

export async function compareRpm(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const [sa, sb] = [await side(a, ctx), await side(b, ctx)];
  const differences: FieldDifference[] = [];
  const [ta, tb] = [sa.fields.BUILDTIME, sb.fields.BUILDTIME];
  if (ta !== tb) {
    const cause = typeof ta === 'number' && typeof tb === 'number' ? clockCause([ta], [tb]) ?? 'the time each rpmbuild ran (SOURCE_DATE_EPOCH with %use_source_date_epoch_as_buildtime makes it fixed)' : undefined;
    differences.push({ kind: 'timestamp', field: 'BUILDTIME', a: ta === undefined ? 'none' : showTime(ta), b: tb === undefined ? 'none' : showTime(tb), ...(cause ? { cause } : {}) });
  }
  if (sa.fields.BUILDHOST !== sb.fields.BUILDHOST) {
    differences.push({ kind: 'metadata', field: 'BUILDHOST', a: String(sa.fields.BUILDHOST ?? 'none'), b: String(sb.fields.BUILDHOST ?? 'none'), cause: "the build machine's host name (rpmbuild --define '_buildhost NAME' fixes it)" });
  }
  if (sa.fields.COOKIE !== sb.fields.COOKIE) {
    differences.push({ kind: 'metadata', field: 'COOKIE', a: String(sa.fields.COOKIE ?? 'none'), b: String(sb.fields.COOKIE ?? 'none'), cause: 'rpmbuild writes "BUILDHOST BUILDTIME" there' });
  }
  if (sa.fields.compression !== sb.fields.compression) {
    differences.push({ kind: 'compression', field: 'PAYLOADCOMPRESSOR/PAYLOADFLAGS', a: String(sa.fields.compression), b: String(sb.fields.compression), cause: 'built with another %_binary_payload setting' });
  }
  if (sa.fields.SOURCEPKGID !== sb.fields.SOURCEPKGID) {
    differences.push({
      kind: 'content',
      field: 'SOURCEPKGID',
      a: String(sa.fields.SOURCEPKGID ?? 'none'),
      b: String(sb.fields.SOURCEPKGID ?? 'none'),
      cause: 'the MD5 of the source package rpmbuild -ba built alongside: it differs because the source packages do',
      unfixable: true,
    });
  }
  const c = await compareMemberLists(sa.files, sb.files, { fields: FIELDS });
  return { differences: [...differences, ...c.differences], members: c.members ?? [] };
}
