// What detection needs of the cpio handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { cpioFormatOf, decodeCpio, headerSize } from './header.js';

/** A cpio header whose fields parse and whose name is NUL-terminated. */
export function looksLikeCpio(head: Uint8Array): boolean {
  const f = cpioFormatOf(head);
  if (!f) return false;
  const hs = headerSize(f);
  if (head.length < hs + 1) return false;
  try {
    const h = decodeCpio(head.subarray(0, hs), f, 0);
    if (h.namesize < 1 || h.namesize > 4096) return false;
    if (hs + h.namesize > head.length) return true;
    return head[hs + h.namesize - 1] === 0;
  } catch {
    return false;
  }
}

export const cpioDetection: Detection = {
  name: 'cpio',
  description: 'cpio archives (newc, crc, odc, binary; initramfs segments): GNU cpio --reproducible form',
  extensions: ['.cpio'],
  detect: (probe: Probe): boolean => looksLikeCpio(probe.head),
};
