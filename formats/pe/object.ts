// COFF objects (.o, .obj from GNU as, clang, MSVC): TimeDateStamp 0 (what /Brepro and GNU as
// write), DWARF build paths and string tables as in images, and GNU as's layout (layout.ts).
// A section whose contents change keeps its section symbol's aux record right: Length follows
// the new size and CheckSum (LLVM stores the JamCRC of every section there) the new contents.
import type { Change, Context, HandlerResult, Sink } from '../../src/types.js';
import { crc32 } from '../crc32.js';
import { Unsupported } from '../dwarf/container.js';
import { rewriteDebug } from '../dwarf/rewrite.js';
import { makePathMapper } from '../dwarf/strings.js';
import { FILE_HEADER_SIZE, MACHINES, SECTION_HEADER_SIZE, SYMBOL_SIZE, SYM_CLASS_STATIC, checkRawRanges, hasRawData, le32, need, parseCoff, putU32, readFileHeader, readSymbols, relocTable, u32, type Coff } from './coff.js';
import { coffDwarf } from './dwarf.js';
import { layoutObject } from './layout.js';

/** LLVM's section checksum: JamCRC started from 0 (the CRC-32 register, no inversions). */
function jamCrc(data: Uint8Array): number {
  return ~crc32(data, 0xffffffff) >>> 0;
}

export function parseObject(bytes: Uint8Array): Coff {
  const header = readFileHeader(bytes, 0);
  need(MACHINES.has(header.machine), `COFF machine 0x${header.machine.toString(16)} is not supported`);
  const c = parseCoff(bytes, header);
  const extra = [{ at: 0, size: FILE_HEADER_SIZE + header.optSize + header.nsections * SECTION_HEADER_SIZE, what: 'the headers' }];
  if (header.symtabOffset !== 0) extra.push({ at: header.symtabOffset, size: c.strtabAt + c.strtabSize - header.symtabOffset, what: 'the symbol and string tables' });
  checkRawRanges(c, extra);
  return c;
}

/** End of everything the headers describe. */
function describedEnd(c: Coff): number {
  let end = c.header.optSize + FILE_HEADER_SIZE + c.header.nsections * SECTION_HEADER_SIZE;
  for (const s of c.sections) {
    if (hasRawData(s)) end = Math.max(end, s.rawPtr + s.rawSize);
    const t = relocTable(s);
    if (t.size > 0) end = Math.max(end, t.at + t.size);
  }
  if (c.header.symtabOffset !== 0) end = Math.max(end, c.strtabAt + c.strtabSize);
  return end;
}

export async function normalizeObject(bytes: Uint8Array, output: Sink, ctx: Context): Promise<HandlerResult> {
  const c = parseObject(bytes);
  const end = describedEnd(c);
  if (bytes.subarray(end).some((b) => b !== 0)) return { status: 'untouched', reason: `${bytes.length - end} bytes of data after the COFF object` };
  const changes: Change[] = [];
  const { mapPaths } = ctx.options;

  const needles = mapPaths.map((m) => m.from).filter((f) => f.length > 0).map((f) => Buffer.from(f, 'utf8'));
  for (const s of c.sections) {
    if (s.name.startsWith('.debug_') || !hasRawData(s)) continue;
    const data = Buffer.from(bytes.buffer, bytes.byteOffset + s.rawPtr, s.rawSize);
    if (needles.some((n) => data.indexOf(n) >= 0)) ctx.notice(`build path in section ${s.name}: it will be in the linked program; use -ffile-prefix-map`);
  }

  const contents = new Map<number, Uint8Array>();
  const tables = new Map<number, Uint8Array>();
  let symtab: Uint8Array | undefined;
  if (c.sections.some((s) => s.name.startsWith('.debug_'))) {
    try {
      const d = coffDwarf(c, false);
      const rw = rewriteDebug(d, makePathMapper(mapPaths));
      const relocOf = new Map([...d.relocIndex].map(([n, i]) => [i, n]));
      for (const [idx, data] of rw.data) {
        if (idx === d.symtabIndex) symtab = data;
        else if (relocOf.has(idx)) tables.set(relocOf.get(idx)!, data);
        else contents.set(idx, data);
      }
      if (rw.mapped > 0) changes.push({ kind: 'path', what: 'build paths mapped in DWARF strings and line tables', count: rw.mapped });
      if (rw.reordered.length > 0) changes.push({ kind: 'order', what: `string tables rebuilt in canonical order: ${rw.reordered.join(', ')}`, count: rw.reordered.length });
    } catch (e) {
      if (e instanceof Unsupported) return { status: 'untouched', reason: e.message };
      throw e;
    }
  }
  // Section definitions (aux records of section symbols) of changed sections.
  if (contents.size > 0 && c.header.symtabOffset !== 0) {
    symtab ??= Uint8Array.from(bytes.subarray(c.header.symtabOffset, c.header.symtabOffset + c.header.nsymbols * SYMBOL_SIZE));
    const done = new Set<number>();
    for (const sym of readSymbols(c)) {
      const data = contents.get(sym.section);
      if (!data || done.has(sym.section) || sym.storageClass !== SYM_CLASS_STATIC || sym.value !== 0 || sym.naux < 1) continue;
      done.add(sym.section);
      const s = c.sections[sym.section - 1]!;
      const old = bytes.subarray(s.rawPtr, s.rawPtr + s.rawSize);
      const aux = sym.at - c.header.symtabOffset + SYMBOL_SIZE;
      const length = u32(symtab, aux);
      putU32(symtab, aux, length + data.length - old.length);
      const sum = u32(symtab, aux + 8);
      if (sum !== 0 && sum === jamCrc(old)) putU32(symtab, aux + 8, jamCrc(data));
    }
  }

  if (c.header.timeDateStamp !== 0) changes.push({ kind: 'timestamp', what: 'COFF TimeDateStamp -> 0' });
  let lay;
  try {
    lay = layoutObject(c, contents, tables, symtab);
  } catch (e) {
    if (e instanceof Unsupported) return { status: 'untouched', reason: e.message };
    throw e;
  }
  const out = lay.image;
  out.patch(4, le32(0));
  if (lay.moved) changes.push({ kind: 'layout', what: 'sections, relocations and symbols laid out as GNU as does' });
  if (changes.length === 0 && !out.equals(bytes)) changes.push({ kind: 'padding', what: 'stale bytes between sections zeroed' });
  await out.writeTo(output);
  return { status: 'normalized', changes };
}
