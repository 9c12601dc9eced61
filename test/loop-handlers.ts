// Test-only handlers that never finish, injected into the workers through normalizeTree's
// `handlerModules` (and into the engine directly): SPIN loops without any I/O (only a terminated
// worker stops it), RLOOP reads its input forever (the cooperative deadline check stops it).
import type { Handler } from '../src/types.js';

const starts = (head: Uint8Array, magic: string) => head.length >= magic.length && Buffer.from(head.subarray(0, magic.length)).toString('latin1') === magic;

export const spinHandler: Handler = {
  name: 'spin',
  description: 'test: loops forever without I/O',
  extensions: [],
  detect: (p) => starts(p.head, 'SPIN'),
  async normalize() {
    let x = 0;
    for (;;) x = (x + 1) | 0;
  },
};

export const readLoopHandler: Handler = {
  name: 'readloop',
  description: 'test: reads its input forever',
  extensions: [],
  detect: (p) => starts(p.head, 'RLOOP'),
  async normalize(input) {
    for (;;) await input.read(0, 1);
  },
};

export default [spinHandler, readLoopHandler];
