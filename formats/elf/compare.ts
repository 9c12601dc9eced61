// `detnorm diff` for ELF: the build paths in DWARF (the prefixes that differ in front of the
// same file names, e.g. each checkout's directory), whether mapping those two prefixes to one
// makes the files equal, a build path compiled into a loaded section (not fixable after
// linking), the GNU build-id (a hash of the file: it differs whenever anything else does), and
// otherwise the sections whose contents differ.
import { BufferSink, readAll } from '../../src/io.js';
import { FormatError, type Comparison, type Context, type FieldDifference, type PathMap, type Source } from '../../src/types.js';
import { pathPrefixes } from '../compare.js';
import { rewriteDebug, Unsupported } from './debug.js';
import { SHF_ALLOC, SHT_NOBITS, findBuildId, parseElf, rawSection, type Elf } from './elf.js';
import { normalizeElf } from './index.js';

const MAX_ELF_BYTES = 1 << 30;
/** Path strings tried against each other when looking for the two build directories. */
const MAX_CANDIDATES = 200;
const PLACEHOLDER = '/detnorm-build';

/** Absolute paths stored in DWARF (string tables, inline strings), as the path mapper sees them. */
function dwarfPaths(elf: Elf, ctx: Context): Set<string> {
  const out = new Set<string>();
  try {
    rewriteDebug(elf, { active: true, map: (s) => (s.startsWith('/') && out.add(s), s) }, Math.min(ctx.options.limits.maxMemberBytes, MAX_ELF_BYTES), ctx.options.limits.maxRatio);
  } catch (e) {
    if (!(e instanceof Unsupported)) throw e;
  }
  return out;
}

/** The pairs of prefixes (A's, B's) that make the DWARF paths of one side the other's, most telling first. */
export function buildDirs(pa: Set<string>, pb: Set<string>): Array<{ a: string; b: string; count: number }> {
  let onlyA = [...pa].filter((p) => !pb.has(p)).sort();
  let onlyB = [...pb].filter((p) => !pa.has(p)).sort();
  const found: Array<{ a: string; b: string; count: number }> = [];
  for (let round = 0; round < 4 && onlyA.length && onlyB.length; round++) {
    const votes = new Map<string, number>();
    for (const x of onlyA.slice(0, MAX_CANDIDATES)) {
      for (const y of onlyB.slice(0, MAX_CANDIDATES)) {
        const p = pathPrefixes(x, y);
        if (p) votes.set(`${p.a}\0${p.b}`, (votes.get(`${p.a}\0${p.b}`) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    for (const [k, v] of votes) if (best === undefined || v > votes.get(best)! || (v === votes.get(best)! && k < best)) best = k;
    if (!best) break;
    const [a, b] = best.split('\0') as [string, string];
    const map = (p: string, from: string) => (p === from || p.startsWith(`${from}/`) ? PLACEHOLDER + p.slice(from.length) : p);
    const ma = new Set(onlyA.map((p) => map(p, a)));
    const mb = new Set(onlyB.map((p) => map(p, b)));
    const count = onlyA.filter((p) => map(p, a) !== p).length;
    if (count === 0) break;
    found.push({ a, b, count });
    onlyA = [...ma].filter((p) => !mb.has(p) && !p.startsWith(PLACEHOLDER));
    onlyB = [...mb].filter((p) => !ma.has(p) && !p.startsWith(PLACEHOLDER));
  }
  return found;
}

async function normalizedWith(bytes: Uint8Array, ctx: Context, mapPaths: readonly PathMap[]): Promise<Uint8Array> {
  const sink = new BufferSink();
  const c: Context = { ...ctx, options: { ...ctx.options, mapPaths }, notice: () => {} };
  const r = await normalizeElf({ size: bytes.length, read: async (o, l) => bytes.subarray(o, o + l) }, sink, c);
  return r.status === 'normalized' ? sink.bytes() : bytes;
}

/** Names of the sections whose contents differ (sections matched by name and position). */
function sectionsThatDiffer(ea: Elf, eb: Elf): string[] {
  const out: string[] = [];
  const names = (e: Elf) => e.sections.map((s) => s.name || `#${s.index}`);
  const [na, nb] = [names(ea), names(eb)];
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const [sa, sb] = [ea.sections[i], eb.sections[i]];
    if (!sa || !sb || na[i] !== nb[i]) {
      out.push(na[i] ?? nb[i]!);
      continue;
    }
    if (sa.type === SHT_NOBITS && sb.type === SHT_NOBITS) {
      if (sa.size !== sb.size) out.push(na[i]!);
      continue;
    }
    if (!Buffer.from(rawSection(ea, sa)).equals(rawSection(eb, sb))) out.push(na[i]!);
  }
  return out;
}

/** Loaded sections that hold `path` (a build path compiled into the program: __FILE__, assert). */
function allocatedWith(elf: Elf, path: string): string[] {
  const needle = Buffer.from(path, 'utf8');
  return elf.sections.filter((s) => s.flags & SHF_ALLOC && s.type !== SHT_NOBITS && Buffer.from(rawSection(elf, s)).indexOf(needle) >= 0).map((s) => s.name || `#${s.index}`);
}

const hex = (elf: Elf, bytes: Uint8Array) => {
  const n = findBuildId(elf);
  return n ? Buffer.from(bytes.subarray(n.fileOffset, n.fileOffset + n.size)).toString('hex') : undefined;
};

function listNames(names: readonly string[]): string {
  return names.length > 6 ? `${names.slice(0, 6).join(', ')}, ... (${names.length} sections)` : names.join(', ');
}

/** Handler.compare for ELF. */
export async function compareElf(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const [ba, bb] = [await readAll(a, MAX_ELF_BYTES), await readAll(b, MAX_ELF_BYTES)];
  const [ea, eb] = [parseElf(ba), parseElf(bb)];
  if (ea.header.is64 !== eb.header.is64 || ea.header.le !== eb.header.le) throw new FormatError('ELF class or byte order differs');
  const out: FieldDifference[] = [];
  const dirs = buildDirs(dwarfPaths(ea, ctx), dwarfPaths(eb, ctx));
  const maps = { a: dirs.map((d) => ({ from: d.a, to: PLACEHOLDER })), b: dirs.map((d) => ({ from: d.b, to: PLACEHOLDER })) };
  const [na, nb] = [await normalizedWith(ba, ctx, maps.a), await normalizedWith(bb, ctx, maps.b)];
  const equalMapped = Buffer.from(na).equals(nb);
  for (const d of dirs) {
    const how = `--map-path ${d.a}=/build --map-path ${d.b}=/build`;
    out.push({
      kind: 'path',
      field: 'build path (DWARF: DW_AT_comp_dir, file names, line tables)',
      a: d.a,
      b: d.b,
      ...(d.count > 1 ? { count: d.count } : {}),
      cause: equalMapped
        ? `built in two directories: ${how} makes the files equal`
        : `built in two directories (${how} maps the debug information)`,
    });
    const [sa, sb] = [allocatedWith(ea, d.a), allocatedWith(eb, d.b)];
    if (sa.length || sb.length) {
      out.push({
        kind: 'path',
        field: `build path in loaded section ${listNames([...new Set([...sa, ...sb])])}`,
        a: d.a,
        b: d.b,
        cause: 'compiled into the program (__FILE__, assert): not fixable after linking; build with -ffile-prefix-map=OLD=NEW',
        unfixable: true,
      });
    }
  }
  if (!equalMapped) {
    const [ma, mb] = [parseElf(na), parseElf(nb)];
    const differ = sectionsThatDiffer(ma, mb).filter((n) => n !== '.note.gnu.build-id');
    if (differ.length) out.push({ kind: 'content', field: 'sections', note: listNames(differ), ...(differ.length > 1 ? { count: differ.length } : {}) });
    else if (hex(ma, na) === hex(mb, nb)) out.push({ kind: 'layout', field: 'bytes outside sections', note: 'headers, padding or layout' });
  } else if (!dirs.length) {
    const differ = sectionsThatDiffer(ea, eb).filter((n) => n !== '.note.gnu.build-id');
    if (differ.length) out.push({ kind: 'layout', field: 'sections', note: `${listNames(differ)}: the same after detnorm's canonical string order, layout and padding` });
  }
  const [ida, idb] = [hex(ea, ba), hex(eb, bb)];
  if (ida !== idb) {
    const others = out.map((d) => (d.kind === 'path' ? 'the build path' : d.field)).filter((x, i, all) => all.indexOf(x) === i);
    out.push({
      kind: 'build-id',
      field: 'GNU build-id',
      a: ida ?? '(none)',
      b: idb ?? '(none)',
      cause: others.length
        ? `the build-id is a hash of the file: it differs because the rest does (${others.join(', ')})`
        : 'only the build-id differs: it is not a hash of this content (ld --build-id=uuid, or an id given by hand)',
    });
  }
  return { differences: out };
}
