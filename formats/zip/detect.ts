// What detection needs of the zip handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';

export const ZIP_EXTENSIONS = ['.zip', '.jar', '.war', '.ear', '.aar', '.jmod', '.apk', '.whl', '.egg', '.pyz', '.pyzw', '.epub', '.xpi'];

function startsWithPK(b: Uint8Array, at: number, k: number): boolean {
  return b.length >= at + 4 && b[at] === 0x50 && b[at + 1] === 0x4b && b[at + 2] === k && b[at + 3] === k + 1;
}

export function detectZip(p: Probe): boolean {
  const h = p.head;
  if (startsWithPK(h, 0, 3)) return true;
  if (startsWithPK(h, 0, 5) && p.size >= 22) return true; // empty archive
  if (startsWithPK(h, 0, 7) && startsWithPK(h, 4, 3)) return true; // "PK00" spanning marker, one segment
  if (h[0] === 0x4a && h[1] === 0x4d && startsWithPK(h, 4, 3)) return true; // jmod
  if (h[0] === 0x23 && h[1] === 0x21) {
    // pyzip: a shebang line, then the zip
    const nl = h.indexOf(0x0a);
    if (nl > 0 && startsWithPK(h, nl + 1, 3)) return true;
  }
  return false;
}

export const zipDetection: Detection = {
  name: 'zip',
  description: 'zip family: zip, jar/war/ear/aar, jmod, apk (unsigned), wheel, egg, pyzip, epub, xpi',
  extensions: ZIP_EXTENSIONS,
  detect: detectZip,
  wholeInput: true,
};
