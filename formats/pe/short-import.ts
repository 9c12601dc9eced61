// "Short" import members of import libraries (Microsoft "PE Format", "Import Library Format"):
// Sig1 0, Sig2 0xFFFF, Version 0, Machine, TimeDateStamp, SizeOfData, Ordinal/Hint, Type, then
// the symbol name and the DLL name, NUL-terminated. TimeDateStamp becomes 0, as llvm-lib and
// llvm-dlltool write it (link.exe's lib writes the time). Other "anonymous" objects
// (Version 1 and up: LTCG objects, bigobj) are recognized and left untouched.
import type { Change, HandlerResult, Sink } from '../../src/types.js';
import { MACHINES, le32, need, u16, u32 } from './coff.js';

export const SHORT_IMPORT_HEADER = 20;

/** Sig1 0, Sig2 0xFFFF: an import member or another anonymous object. */
export function isAnonymous(head: Uint8Array): boolean {
  return head.length >= 8 && u16(head, 0) === 0 && u16(head, 2) === 0xffff;
}

const BIGOBJ_CLASS = 'c7a1bad1eebaa94baf20faf66aa4dcb8'; // {D1BAA1C7-BAEE-4BA9-AF20-FAF66AA4DCB8} as stored

export function normalizeAnonymous(bytes: Uint8Array): { status: 'untouched'; reason: string } | undefined {
  const version = u16(bytes, 4);
  if (version === 0) return undefined;
  if (version === 2 && bytes.length >= 56 && Buffer.from(bytes.subarray(12, 28)).toString('hex') === BIGOBJ_CLASS) return { status: 'untouched', reason: 'bigobj COFF object: not supported' };
  return { status: 'untouched', reason: `anonymous COFF object version ${version} (LTCG or other): not supported` };
}

export async function normalizeShortImport(bytes: Uint8Array, output: Sink): Promise<HandlerResult> {
  need(bytes.length >= SHORT_IMPORT_HEADER, `truncated import header (${bytes.length} bytes)`);
  const machine = u16(bytes, 6);
  need(MACHINES.has(machine), `import member for machine 0x${machine.toString(16)}: not supported`);
  const size = u32(bytes, 12);
  need(size === bytes.length - SHORT_IMPORT_HEADER, `import member declares ${size} bytes of names, has ${bytes.length - SHORT_IMPORT_HEADER}`);
  const names = bytes.subarray(SHORT_IMPORT_HEADER);
  const first = names.indexOf(0);
  need(first >= 0 && names.indexOf(0, first + 1) >= 0, 'import member names are not two NUL-terminated strings');
  const stamp = u32(bytes, 8);
  const changes: Change[] = [];
  if (stamp === 0) await output.write(bytes);
  else {
    const out = Uint8Array.from(bytes);
    out.set(le32(0), 8);
    await output.write(out);
    changes.push({ kind: 'timestamp', what: 'import member TimeDateStamp -> 0' });
  }
  return { status: 'normalized', changes };
}
