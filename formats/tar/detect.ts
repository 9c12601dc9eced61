// What detection needs of the tar handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { BLOCK, checksumOk, magicOf } from './header.js';

/** Detects a ustar/GNU/pax header with a valid checksum in the first block. */
export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  const block = head.subarray(0, BLOCK);
  return magicOf(block) !== 'v7' && checksumOk(block);
}

export const tarDetection: Detection = {
  name: 'tar',
  description: 'tar archives (ustar, GNU, pax; inside .tar.gz too): GNU tar --sort=name reproducible form',
  extensions: ['.tar'],
  detect: (probe: Probe): boolean => looksLikeTar(probe.head),
};
