// What detection needs of the deb handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { GLOBAL_MAGIC } from '../ar/header.js';

export function isDebHead(head: Uint8Array): boolean {
  return Buffer.from(head.subarray(0, 8)).toString('latin1') === GLOBAL_MAGIC && Buffer.from(head.subarray(8, 21)).toString('latin1') === 'debian-binary';
}

export const debDetection: Detection = {
  name: 'deb',
  description: 'Debian packages (.deb/.udeb/.ddeb): dpkg-deb --build --root-owner-group form (ar headers, tar order, owners, modes, times; compressor kept)',
  extensions: ['.deb', '.udeb', '.ddeb'],
  detect: (probe: Probe): boolean => isDebHead(probe.head),
};
