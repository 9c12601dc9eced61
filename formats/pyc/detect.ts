// What detection needs of the pyc handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { classifyMagic } from './magic.js';

export function detectPyc(probe: Probe): boolean {
  const m = classifyMagic(probe.head);
  if (m.kind === 'supported') return probe.size >= m.headerSize + 1;
  if (m.kind === 'python2') return probe.size >= 9;
  return false;
}

export const pycDetection: Detection = {
  name: 'pyc',
  description: 'CPython 3.6-3.14 .pyc: canonical marshal refs, source mtime, co_filename build paths',
  extensions: ['.pyc', '.pyo'],
  detect: detectPyc,
};
