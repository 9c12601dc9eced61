// PE/COFF handler: PE32 and PE32+ images (executables, DLLs, drivers, EFI programs) for x86,
// x86-64 and ARM64 (and any other machine, for what does not depend on it), COFF objects, and
// the short import members of import libraries (which reach us from the ar handler, as the
// members of .lib and .dll.a archives). Specifications: Microsoft "PE Format" (the PE/COFF
// specification, learn.microsoft.com/windows/win32/debug/pe-format), the CodeView RSDS record
// as link.exe, lld-link and GNU ld write it, DWARF 2-5 for mingw's -g.
// The whole file is held in memory (up to 1 GiB), as for ELF: the rewriting needs random
// access, and the hash that derives the stamps covers the whole image.
import { readAll } from '../../src/io.js';
import type { Context, Handler, HandlerResult, Probe, Sink, Source } from '../../src/types.js';
import { comparePe } from './compare.js';
import { FILE_HEADER_SIZE, MACHINES, SECTION_HEADER_SIZE, readFileHeader, u32 } from './coff.js';
import { normalizeImage } from './executable.js';
import { peOffset } from './image.js';
import { normalizeObject } from './object.js';
import { isAnonymous, normalizeAnonymous, normalizeShortImport } from './short-import.js';

const MAX_PE_BYTES = 1 << 30;

/**
 * A COFF object by its header alone: a known machine, no optional header, sections and a symbol
 * table that fit the file, section names that look like names. (COFF objects have no magic
 * number; these checks keep arbitrary data from being taken for one.)
 */
export function looksLikeObject(head: Uint8Array, size: number): boolean {
  if (head.length < FILE_HEADER_SIZE) return false;
  const h = readFileHeader(head, 0);
  if (!MACHINES.has(h.machine) || h.optSize !== 0 || h.nsections === 0 || h.nsections > 65279) return false;
  if (h.characteristics & 0x0002 /* IMAGE_FILE_EXECUTABLE_IMAGE */) return false;
  const tableEnd = FILE_HEADER_SIZE + h.nsections * SECTION_HEADER_SIZE;
  if (tableEnd > size) return false;
  if (h.symtabOffset !== 0 && (h.symtabOffset < tableEnd || h.symtabOffset + h.nsymbols * 18 + 4 > size)) return false;
  if (h.symtabOffset === 0 && h.nsymbols !== 0) return false;
  for (let i = 0; i < h.nsections && FILE_HEADER_SIZE + (i + 1) * SECTION_HEADER_SIZE <= head.length; i++) {
    const at = FILE_HEADER_SIZE + i * SECTION_HEADER_SIZE;
    const name = head.subarray(at, at + 8);
    const nul = name.indexOf(0);
    const text = nul < 0 ? name : name.subarray(0, nul);
    if (text.length === 0 || text.some((c) => c < 0x21 || c > 0x7e)) return false;
    const rawSize = u32(head, at + 16);
    const rawPtr = u32(head, at + 20);
    if (rawPtr !== 0 && rawPtr + rawSize > size) return false;
  }
  return true;
}

function isShortImport(head: Uint8Array): boolean {
  return isAnonymous(head) && head.length >= 20 && MACHINES.has(head[6]! | (head[7]! << 8));
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const bytes = await readAll(input, MAX_PE_BYTES);
  if (peOffset(bytes, bytes.length) !== undefined) return normalizeImage(bytes, output, ctx);
  if (isAnonymous(bytes)) return normalizeAnonymous(bytes) ?? normalizeShortImport(bytes, output);
  return normalizeObject(bytes, output, ctx);
}

export const peHandler: Handler = {
  name: 'pe',
  description: 'PE/COFF executables, DLLs, objects and import members: stamps and CodeView GUID from the content (as /Brepro), DWARF paths, CheckSum',
  // Claimed by content only: .obj and .lib are also other things (and .lib/.dll.a go to ar).
  extensions: [],
  detect(probe: Probe): boolean {
    const h = probe.head;
    if (peOffset(h, probe.size) !== undefined) return true;
    if (isShortImport(h)) return true;
    return looksLikeObject(h, probe.size);
  },
  normalize,
  compare: comparePe,
};
