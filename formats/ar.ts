// ar archives (ar(5), binutils bfd/archive.c): GNU/SysV (`/` and `/SYM64/` symbol tables, `//`
// long-name table, `name/` and `/N` names) and BSD (`#1/N` names, `__.SYMDEF` tables); `.a`,
// and `.deb` when the deb handler (formats/deb) is switched off. Canonical form is what GNU
// `ar D` writes: every member mtime T (or 0), uid 0, gid 0, mode 644; the symbol table header
// `0 0 0 0`; the long-name table rebuilt in member order with a blank header. Member order is
// kept unless options.sortArMembers (bytewise by name; never for a .deb, whose order dpkg
// requires). Every member goes through ctx.normalizeMember, and symbol table offsets follow
// the members' new sizes and places. Thin archives and GNU ld scripts named `.a` are left
// untouched.
import { SliceSource, copyRange } from '../src/io.js';
import { canonicalTime } from '../src/time.js';
import { FormatError, type Change, type Comparison, type Context, type Handler, type HandlerResult, type MemberInfo, type Probe, type Sink, type Source } from '../src/types.js';
import { clockCause, compareMemberLists, numbers, ownerCause, showMode, showTime, umaskCause, type FieldSpec } from './compare.js';
import { GLOBAL_MAGIC, HEADER_SIZE, MAX_FIELD_SIZE, THIN_MAGIC, encodeHeader, showField, type ArHeaderFields } from './ar/header.js';
import { Unsupported, parseArchive, type Entry } from './ar/parse.js';
import { rewriteBsdSymtab, rewriteGnuSymtab, rewriteMsSymtab } from './ar/symtab.js';
import { Tally, mergeNested } from './tally.js';
import { arDetection } from './ar/detect.js';

const MEMBER_MODE = 0o644;
/** GNU ar writes a name of up to 15 bytes as `name/` (even one holding a '/', from `ar P`), longer ones in `//`. */
const GNU_SHORT_MAX = 15;

function latin1(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

/** Member name for messages and nested dispatch (names are bytes; most are UTF-8). */
function display(name: string): string {
  return Buffer.from(name, 'latin1').toString('utf8');
}

/** What a member's data will be in the output. */
interface Planned {
  readonly entry: Entry;
  /** Changed contents (a range of the spill) or undefined to copy the input range. */
  changed?: { start: number; size: number };
  /** New header name field (at most 16 bytes) for GNU-style names. */
  nameField?: string;
}

function isLdScript(head: Uint8Array): boolean {
  const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('latin1');
  return /^\s*(\/\*[\s\S]*?\*\/\s*)?(INPUT|GROUP|OUTPUT_FORMAT|SEARCH_DIR)\s*\(/.test(text) || text.startsWith('/* GNU ld script');
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  if (input.size === 0) throw new FormatError('empty file (0 bytes), not an ar archive');
  const head = await input.read(0, Math.min(input.size, 512));
  const magic = Buffer.from(head.subarray(0, 8)).toString('latin1');
  if (magic === THIN_MAGIC) return { status: 'untouched', reason: 'thin ar archive (members are references to outside files): left as it is' };
  if (magic.startsWith('<bigaf>')) return { status: 'untouched', reason: 'AIX big archive: not supported' };
  if (magic !== GLOBAL_MAGIC) {
    if (isLdScript(head)) return { status: 'untouched', reason: 'GNU ld script (text), not an ar archive: left as it is' };
    throw new FormatError(input.size < 8 ? `truncated ar magic (${input.size} bytes)` : 'not an ar archive: bad magic at offset 0');
  }

  const limits = ctx.options.limits;
  const parsed = await parseArchive(input, limits.memoryBytes);
  if (parsed instanceof Unsupported) return { status: 'untouched', reason: parsed.reason };
  const { entries, style, msvc } = parsed;
  const tally = new Tally();
  const tables = entries.filter((e) => e.kind !== 'member' && e.kind !== 'gnu-longnames' && e.kind !== 'ms-symtab');
  if (tables.length > 1) throw new FormatError(`more than one symbol table (second at offset ${tables[1]!.headerOffset})`);

  // Pass 1: normalize every member; changed contents go to one spill, in member order.
  const members: Planned[] = [];
  const specials: Entry[] = [];
  const spill = ctx.spill();
  const nestedChanges: Change[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'member') {
      specials.push(entry);
      continue;
    }
    const plan: Planned = { entry };
    const r = await ctx.normalizeMember(display(entry.name), new SliceSource(input, entry.dataOffset, entry.dataSize));
    if (r.changed) {
      const start = spill.length;
      await copyRange(r.output, 0, r.output.size, spill);
      plan.changed = { start, size: r.output.size };
      nestedChanges.push(...r.changes);
      if (entry.bsdNameLength + r.output.size > MAX_FIELD_SIZE) throw new FormatError(`member "${display(entry.name)}" grows past the ar size field`);
    }
    members.push(plan);
  }
  const changedData = await spill.close();

  // Order.
  const isDeb = members[0]?.entry.name === 'debian-binary';
  let ordered = members;
  if (ctx.options.sortArMembers) {
    if (isDeb) ctx.notice('.deb: member order kept (dpkg requires debian-binary, control, data)');
    else {
      ordered = members
        .map((m, i) => [m, i] as const)
        .sort(([a, i], [b, j]) => (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : i - j))
        .map(([m]) => m);
      if (ordered.some((m, i) => m !== members[i])) tally.add('order', 'members sorted by name', 'members sorted by name', members.length);
    }
  }

  // Names and the GNU long-name table, rebuilt in output order. Microsoft's format ends each
  // long name with a NUL instead of "/\n", and the member padding follows the table.
  let longTable: Uint8Array | undefined;
  if (style === 'gnu') {
    const parts: string[] = [];
    let size = 0;
    const end = msvc ? '\0' : '/\n';
    for (const m of ordered) {
      const name = m.entry.name;
      // Names GNU ar cannot write back as they were read: a NUL or newline ends a name (binutils
      // stops there; the long-name table separates entries with them), "/" alone is the symbol
      // table. Refused rather than turned into a name the next run would read differently.
      if (/[\0\n]/.test(name) || name === '/') {
        throw new FormatError(`member name ${JSON.stringify(display(name))} at offset ${m.entry.headerOffset} holds ${name === '/' ? 'only "/"' : 'a NUL or newline byte'}: GNU ar names cannot hold it`);
      }
      if (name.length <= GNU_SHORT_MAX) m.nameField = `${name}/`;
      else {
        m.nameField = `/${size}`;
        parts.push(`${name}${end}`);
        size += name.length + end.length;
      }
    }
    if (parts.length > 0) {
      if (size % 2 === 1 && !msvc) parts.push('\n');
      longTable = latin1(parts.join(''));
    }
  }
  const oldTable = specials.find((e) => e.kind === 'gnu-longnames');
  if (oldTable && !longTable) tally.add('layout', 'long-name table removed (no name needs it)');
  if (longTable && (!oldTable || !Buffer.from(await input.read(oldTable.dataOffset, oldTable.dataSize)).equals(longTable))) {
    tally.add('layout', 'long-name table rebuilt in member order');
  }

  // Layout: symbol table first, then the long-name table, then the members.
  const symtab = specials.find((e) => e.kind === 'gnu-symtab' || e.kind === 'gnu-symtab64' || e.kind === 'bsd-symtab');
  const msSymtab = specials.find((e) => e.kind === 'ms-symtab');
  const padded = (n: number) => n + (n % 2);
  let at = GLOBAL_MAGIC.length;
  if (symtab) at += HEADER_SIZE + padded(symtab.header.size);
  if (msSymtab) at += HEADER_SIZE + padded(msSymtab.header.size);
  if (longTable) at += HEADER_SIZE + padded(longTable.length);
  const moved = new Map<number, number>();
  for (const m of ordered) {
    moved.set(m.entry.headerOffset, at);
    at += HEADER_SIZE + padded(m.entry.bsdNameLength + (m.changed?.size ?? m.entry.dataSize));
  }

  // Symbol table with offsets that follow the members.
  let symData: Uint8Array | undefined;
  if (symtab) {
    const old = await input.read(symtab.dataOffset, symtab.dataSize);
    const map = (o: number) => moved.get(o);
    const reorder = ordered !== members;
    symData =
      symtab.kind === 'bsd-symtab'
        ? rewriteBsdSymtab(old, symtab.name.startsWith('__.SYMDEF_64'), symtab.name.endsWith(' SORTED'), map, reorder)
        : rewriteGnuSymtab(old, symtab.kind === 'gnu-symtab64', map, reorder);
    if (!Buffer.from(symData).equals(Buffer.from(old))) tally.add('layout', 'symbol table offsets rewritten');
    const h = symtab.header;
    if (h.mtime !== 0 || h.uid !== 0 || h.gid !== 0 || h.mode !== 0 || (msSymtab && (msSymtab.header.mtime !== 0 || msSymtab.header.uid !== 0 || msSymtab.header.gid !== 0 || msSymtab.header.mode !== 0))) {
      tally.add('timestamp', 'symbol table header -> 0 0 0 0', `symbol table header (mtime ${showField(h, 'mtime')}, uid ${showField(h, 'uid')}, gid ${showField(h, 'gid')}, mode ${showField(h, 'mode')}) -> 0 0 0 0`);
    }
  }

  let msData: Uint8Array | undefined;
  if (msSymtab) {
    const old = await input.read(msSymtab.dataOffset, msSymtab.dataSize);
    msData = rewriteMsSymtab(old, (o) => moved.get(o));
    if (!Buffer.from(msData).equals(Buffer.from(old))) tally.add('layout', 'second linker member offsets rewritten');
  }

  // Pass 2: write.
  await output.write(latin1(GLOBAL_MAGIC));
  const pad = async (n: number) => {
    if (n % 2 === 1) await output.write(Uint8Array.of(0x0a));
  };
  if (symtab && symData) {
    const name = style === 'gnu' ? (symtab.kind === 'gnu-symtab' ? '/' : '/SYM64/') : symtab.header.rawName;
    await output.write(encodeHeader({ name, mtime: 0, uid: 0, gid: 0, mode: 0, size: symtab.header.size }));
    if (symtab.bsdNameLength) await copyRange(input, symtab.headerOffset + HEADER_SIZE, symtab.bsdNameLength, output);
    await output.write(symData);
    await pad(symtab.header.size);
  }
  if (msSymtab && msData) {
    await output.write(encodeHeader({ name: '/', mtime: 0, uid: 0, gid: 0, mode: 0, size: msData.length }));
    await output.write(msData);
    await pad(msData.length);
  }
  if (longTable) {
    await output.write(encodeHeader({ name: '//', size: longTable.length }));
    await output.write(longTable);
    await pad(longTable.length);
  }
  for (const m of ordered) {
    const e = m.entry;
    const h = e.header;
    const original = h.mtime !== undefined && !Number.isNaN(h.mtime) ? h.mtime : undefined;
    const mtime = canonicalTime(ctx.options, original, 0);
    const size = e.bsdNameLength + (m.changed?.size ?? e.dataSize);
    const fields: ArHeaderFields = { name: m.nameField ?? h.rawName, mtime, uid: 0, gid: 0, mode: MEMBER_MODE, size };
    if (h.mtime !== mtime) tally.add('timestamp', `member mtime -> ${mtime}`, `member mtime ${showField(h, 'mtime')} -> ${mtime}`);
    if (h.uid !== 0 || h.gid !== 0) tally.add('owner', 'member uid/gid -> 0', `member uid/gid ${showField(h, 'uid')}/${showField(h, 'gid')} -> 0/0`);
    if (h.mode !== MEMBER_MODE) tally.add('mode', 'member mode -> 644', `member mode ${showField(h, 'mode')} -> 644`);
    if (m.nameField !== undefined && m.nameField.padEnd(16) !== h.rawName && !m.nameField.startsWith('/')) {
      tally.add('header', 'member name field re-encoded', `member name field "${h.rawName.trimEnd()}" -> "${m.nameField}"`);
    }
    await output.write(encodeHeader(fields));
    if (e.bsdNameLength) await copyRange(input, e.headerOffset + HEADER_SIZE, e.bsdNameLength, output);
    if (m.changed) await copyRange(changedData, m.changed.start, m.changed.size, output);
    else await copyRange(input, e.dataOffset, e.dataSize, output);
    await pad(size);
  }
  return { status: 'normalized', changes: [...tally.changes(), ...mergeNested(nestedChanges)] };
}

/** For `detnorm diff`: every member with the fields its header stores. */
async function* members(input: Source, ctx: Context): AsyncIterable<MemberInfo> {
  const head = await input.read(0, Math.min(input.size, 8));
  if (Buffer.from(head).toString('latin1') !== GLOBAL_MAGIC) return;
  const parsed = await parseArchive(input, ctx.options.limits.memoryBytes);
  if (parsed instanceof Unsupported) return;
  for (const e of parsed.entries) {
    if (e.kind !== 'member') continue;
    const meta: Record<string, string | number> = {};
    const h = e.header;
    if (h.mtime !== undefined) meta.mtime = h.mtime;
    if (h.uid !== undefined) meta.uid = h.uid;
    if (h.gid !== undefined) meta.gid = h.gid;
    if (h.mode !== undefined) meta.mode = h.mode.toString(8);
    yield { name: display(e.name), data: new SliceSource(input, e.dataOffset, e.dataSize), type: 'file', meta };
  }
}

const arOwners = (ms: readonly MemberInfo[]) => ms.map((m) => `${m.meta.uid}/${m.meta.gid}`);
const arModes = (ms: readonly MemberInfo[]) => ms.map((m) => parseInt(String(m.meta.mode), 8));

/** The ar header fields as `detnorm diff` compares them. */
export const AR_FIELDS: readonly FieldSpec[] = [
  {
    kind: 'timestamp',
    label: 'mtime',
    value: (m) => m.meta.mtime,
    show: showTime,
    range: true,
    cause: (_d, all) => clockCause(numbers(all.a, 'mtime'), numbers(all.b, 'mtime')) ?? 'ar stores each file\'s mtime unless D (deterministic mode) is given',
  },
  {
    kind: 'owner',
    label: 'uid/gid',
    value: (m) => (m.meta.uid === undefined && m.meta.gid === undefined ? undefined : `${m.meta.uid}/${m.meta.gid}`),
    cause: (_d, all) => ownerCause(arOwners(all.a), arOwners(all.b), 'ar stores owners unless D (deterministic mode) is given'),
  },
  {
    kind: 'mode',
    label: 'mode',
    value: (m) => m.meta.mode,
    show: (v) => (v === undefined ? '(none)' : showMode(parseInt(String(v), 8))),
    cause: (d, all) => umaskCause(d.map((x) => ({ a: parseInt(String(x.a), 8), b: parseInt(String(x.b), 8) })), arModes(all.a), arModes(all.b)),
  },
];

/** For `detnorm diff`: the members' header fields, their order (which the linker may care about) and data. */
async function compare(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const list = async (s: Source) => {
    const out: MemberInfo[] = [];
    for await (const m of members(s, ctx)) out.push(m);
    return out;
  };
  return compareMemberLists(await list(a), await list(b), { fields: AR_FIELDS });
}

export const arHandler: Handler = {
  ...arDetection,
  normalize,
  members,
  compare,
};
