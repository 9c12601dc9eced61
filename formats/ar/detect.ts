// What detection needs of the ar handler (formats/ar.ts), apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { GLOBAL_MAGIC, THIN_MAGIC } from './header.js';

export function detectAr(probe: Probe): boolean {
  const m = Buffer.from(probe.head.subarray(0, 8)).toString('latin1');
  return m === GLOBAL_MAGIC || m === THIN_MAGIC;
}

export const arDetection: Detection = {
  name: 'ar',
  description: 'ar archives (.a GNU/BSD; .deb only with the deb handler off): member mtime T or 0, uid/gid 0, mode 644 (GNU ar D); symbol table kept right',
  extensions: ['.a'],
  detect: detectAr,
  // Every byte is read (headers, members, data copied): an input of up to limits.spillBytes is
  // read once, whole, and shared with the engine's comparison (issue 20, --check).
  wholeInput: true,
};
