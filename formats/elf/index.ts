// ELF handler: executables, shared libraries, .o files and separate .debug files.
// Follows the System V gABI (ELF) and DWARF 2-5. Canonicalizes, without touching anything a
// program loads: build paths in DWARF (--map-path, the post-hoc -ffile-prefix-map), the order
// of .debug_str/.debug_line_str, the layout of non-allocated sections and the bytes between
// them, the GNU build-id (recomputed with the algorithm of the linker that made the file,
// only when the stored id is what that algorithm gives for the input), and the .gnu_debuglink
// CRC of a separate debug file normalized in the same tree.
// The whole file is held in memory (readAll, up to 1 GiB): ELF files are at most a few hundred
// MB and DWARF rewriting needs random access to many sections at once. Every size read from
// the file is checked against the buffer or the limits before anything is allocated from it.
import { readAll } from '../../src/io.js';
import { FormatError, type Change, type Context, type Handler, type HandlerResult, type Probe, type Sink, type Source } from '../../src/types.js';
import { computeBuildId, verifyBuildId } from './buildid.js';
import { compareElf } from './compare.js';
import { bytesEq, rewriteDebug, Unsupported, type DebugRewrite } from './debug.js';
import { makePathMapper } from '../dwarf/strings.js';
import { ET_REL, SHF_ALLOC, SHF_COMPRESSED, SHT_NOBITS, compressSection, findBuildId, isCompressed, isElf, parseElf, rawSection, readChdr, type Elf } from './elf.js';
import { elfPairCheck, updateDebugLink } from './debuglink.js';
import { isDebugOnly, isFixed, layout, type NewSection } from './layout.js';
import { elfDetection } from './detect.js';

const MAX_ELF_BYTES = 1 << 30;

function allocatedPathNotices(elf: Elf, froms: readonly string[]): string[] {
  const out: string[] = [];
  const needles = froms.filter((f) => f.length > 0).map((f) => Buffer.from(f, 'utf8'));
  if (needles.length === 0) return out;
  for (const s of elf.sections) {
    if (!(s.flags & SHF_ALLOC) || s.type === SHT_NOBITS) continue;
    const data = Buffer.from(rawSection(elf, s));
    if (needles.some((n) => data.indexOf(n) >= 0)) {
      out.push(`build path in allocated section ${s.name || `#${s.index}`}: not fixable after linking; use -ffile-prefix-map`);
    }
  }
  return out;
}

export async function normalizeElf(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const bytes = await readAll(input, MAX_ELF_BYTES);
  const elf = parseElf(bytes);
  if (elf.sections.length === 0) {
    await output.write(bytes);
    return { status: 'normalized', changes: [] };
  }
  // Data after everything the headers describe (a kernel module's appended signature) would be
  // lost by a new layout: leave such files alone.
  const h = elf.header;
  let end = Math.max(h.ehsize, h.phoff + h.phnum * h.phentsize, h.shoff + elf.sections.length * h.shentsize);
  for (const s of elf.sections) if (s.type !== SHT_NOBITS) end = Math.max(end, s.offset + s.size);
  // (A separate debug file's program headers are its binary's and say nothing of this file.)
  const debugOnly = isDebugOnly(elf);
  if (!debugOnly) for (const p of elf.segments) end = Math.max(end, p.offset + p.filesz);
  if (bytes.subarray(end).some((b) => b !== 0)) {
    return { status: 'untouched', reason: `${bytes.length - end} bytes of data after the ELF image (an appended signature?)` };
  }
  const { limits, mapPaths } = ctx.options;
  for (const n of allocatedPathNotices(elf, mapPaths.map((m) => m.from))) ctx.notice(n);

  let rw: DebugRewrite;
  try {
    rw = rewriteDebug(elf, makePathMapper(mapPaths), Math.min(limits.maxMemberBytes, MAX_ELF_BYTES), limits.maxRatio);
  } catch (e) {
    if (e instanceof Unsupported) return { status: 'untouched', reason: e.message };
    throw e;
  }
  // A separate debug file changes only when a build path is mapped in it. Its binary's
  // .gnu_debuglink holds the CRC of its bytes, which detnorm sets again only when both are in
  // the tree being normalized; in an rpm -debuginfo package the binary is in another package,
  // and debugedit has already put /usr/src/debug paths in the DWARF: a new string order or
  // layout there would only break the pair for GDB's lookup by .gnu_debuglink.
  if (debugOnly && rw.mapped === 0) {
    await output.write(bytes);
    return { status: 'normalized', changes: [] };
  }
  const changes: Change[] = [];
  if (rw.mapped > 0) changes.push({ kind: 'path', what: 'build paths mapped in DWARF strings and line tables', count: rw.mapped });
  if (rw.reordered.length > 0) changes.push({ kind: 'order', what: `string tables rebuilt in canonical order: ${rw.reordered.join(', ')}`, count: rw.reordered.length });

  // Changed sections of a file built with compressed debug sections are compressed when that
  // makes them smaller, as GNU as and ld decide (compressed size with its header < plain size).
  const usesCompression = elf.sections.some((s) => isCompressed(s));
  const contents = new Map<number, NewSection>();
  let recompressed = 0;
  for (const [idx, data] of rw.data) {
    const s = elf.sections[idx]!;
    const was = isCompressed(s);
    const baseAlign = was ? readChdr(elf, s).addralign : s.addralign;
    // Arithmetic, not bitwise: sh_flags is 64-bit, and `&` would cut it to a signed 32-bit value.
    const plainFlags = was ? s.flags - SHF_COMPRESSED : s.flags;
    if (usesCompression && s.name.startsWith('.debug_')) {
      const z = compressSection(elf.header.is64, elf.header.le, baseAlign, data);
      if (z.length < data.length) {
        contents.set(idx, { data: z, flags: plainFlags + SHF_COMPRESSED, addralign: elf.header.is64 ? 8 : 4 });
        recompressed++;
        continue;
      }
    }
    contents.set(idx, { data, flags: plainFlags, addralign: baseAlign });
  }
  // A separate debug file's CRC, when that file is in the tree and changes too.
  const link = elf.sections.find((s) => s.name === '.gnu_debuglink' && s.type !== SHT_NOBITS && !isCompressed(s));
  if (link && !contents.has(link.index) && !isFixed(elf, link)) {
    const data = await updateDebugLink(rawSection(elf, link), elf.header.le, ctx, changes, elfPairCheck(elf));
    if (data) contents.set(link.index, { data, flags: link.flags, addralign: link.addralign });
  }
  const lay = layout(elf, contents);
  const out = lay.image;
  // Whether the new image differs from the input, compared at most once (a whole-file pass).
  let differs: boolean | undefined;
  const changed = () => (differs ??= !out.equals(bytes));
  const moved = elf.sections.some((s) => s.type !== SHT_NOBITS && lay.offsets[s.index] !== s.offset) || out.length !== bytes.length;
  if (moved) changes.push({ kind: 'layout', what: 'non-allocated sections laid out canonically' });

  // Build-id: only a file the linker's own algorithm explains gets a recomputed one. A separate
  // debug file's id is its binary's (the hash of the binary as linked, build paths and all): it
  // must stay what the binary says, so that debuggers pair the two.
  const note = elf.header.type === ET_REL ? undefined : findBuildId(elf);
  if (note && debugOnly) {
    if (changed()) ctx.notice('separate debug file: build-id is the binary\'s (a hash of the binary as linked); kept');
  } else if (note) {
    const { algorithm, linker } = verifyBuildId(elf, note);
    const stored = bytes.subarray(note.fileOffset, note.fileOffset + note.size);
    // (A stripped file's id is its linker's from before strip: only worth a word when the file changes.)
    if (!algorithm) {
      if (changed()) ctx.notice(`build-id is not what ${linker} computes for this file; kept`);
    } else {
      // The note is in a loaded section, which the layout never moves.
      if (lay.offsets[note.section.index] !== note.section.offset) throw new FormatError('internal: build-id note moved');
      const id = computeBuildId(algorithm, { header: lay.header, sections: lay.sections, bytes: out }, note)!;
      if (!bytesEq(id, stored)) {
        out.patch(note.fileOffset, id);
        changes.push({ kind: 'build-id', what: `build-id recomputed (${algorithm} algorithm)` });
      }
    }
  }
  if (changes.length === 0 && changed()) changes.push({ kind: 'padding', what: 'stale bytes outside sections zeroed' });
  await out.writeTo(output);
  return { status: 'normalized', changes };
}

export const elfHandler: Handler = {
  ...elfDetection,
  normalize: normalizeElf,
  compare: compareElf,
};
