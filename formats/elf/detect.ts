// What detection needs of the elf handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';

export function isElf(head: Uint8Array): boolean {
  return head.length >= 16 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46 && (head[4] === 1 || head[4] === 2) && (head[5] === 1 || head[5] === 2);
}

export const elfDetection: Detection = {
  name: 'elf',
  description: 'ELF executables, shared libraries, objects and debug files: DWARF build paths, string order, layout, build-id',
  // Claimed by magic bytes only: a `.so` may be a linker script (libc.so) and a `.o` LLVM
  // bitcode, which are not ELF and not errors.
  extensions: [],
  detect: (probe: Probe): boolean => isElf(probe.head),
};
