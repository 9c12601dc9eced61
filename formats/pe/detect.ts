// What detection needs of the pe handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { FILE_HEADER_SIZE, MACHINES, SECTION_HEADER_SIZE, readFileHeader, u32 } from './coff.js';
import { peOffset } from './image.js';
import { isAnonymous } from './short-import.js';

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

export function detectPe(probe: Probe): boolean {
  const h = probe.head;
  if (peOffset(h, probe.size) !== undefined) return true;
  if (isShortImport(h)) return true;
  return looksLikeObject(h, probe.size);
}

export const peDetection: Detection = {
  name: 'pe',
  description: 'PE/COFF executables, DLLs, objects and import members: stamps and CodeView GUID from the content (as /Brepro), DWARF paths, CheckSum',
  // Claimed by content only: .obj and .lib are also other things (and .lib/.dll.a go to ar).
  extensions: [],
  detect: detectPe,
};
