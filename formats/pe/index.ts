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
import { looksLikeObject, peDetection } from './detect.js';

export { looksLikeObject };

const MAX_PE_BYTES = 1 << 30;

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const bytes = await readAll(input, MAX_PE_BYTES);
  if (peOffset(bytes, bytes.length) !== undefined) return normalizeImage(bytes, output, ctx);
  if (isAnonymous(bytes)) return normalizeAnonymous(bytes) ?? normalizeShortImport(bytes, output);
  return normalizeObject(bytes, output, ctx);
}

export const peHandler: Handler = {
  ...peDetection,
  normalize,
  compare: comparePe,
};
