// What detection needs of the rpm handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { HEADER_MAGIC, LEAD_SIZE, isRpmLead } from './header.js';

export function looksLikeRpm(head: Uint8Array): boolean {
  return isRpmLead(head) && head.length >= LEAD_SIZE + 4 && HEADER_MAGIC.every((m, i) => head[LEAD_SIZE + i] === m);
}

export const rpmDetection: Detection = {
  name: 'rpm',
  description:
    'RPM packages (rpm 4.x): rpmbuild reproducible form (BUILDTIME, BUILDHOST, COOKIE, file mtimes, inodes; payload members normalized, digests recomputed; signed packages kept)',
  extensions: ['.rpm'],
  detect: (probe: Probe): boolean => looksLikeRpm(probe.head),
};
