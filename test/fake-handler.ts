// A tiny test-only format: "FAKE" + one byte counter + payload. Normalizing sets the counter to
// 0; a payload starting with "FAKE" is a nested member handed to ctx.normalizeMember.
import { readAll } from '../src/io.js';
import { FormatError, type Handler } from '../src/types.js';

const MAGIC = Buffer.from('FAKE');

export const fakeHandler: Handler = {
  name: 'fake',
  description: 'test format',
  extensions: ['.fake'],
  detect: (p) => p.head.length >= 4 && Buffer.from(p.head.subarray(0, 4)).equals(MAGIC),
  async normalize(input, output, ctx) {
    const bytes = await readAll(input);
    if (bytes.length < 5 || !Buffer.from(bytes.subarray(0, 4)).equals(MAGIC)) throw new FormatError('bad magic');
    if (bytes[4] === 0xff) throw new FormatError('counter 255 is invalid');
    let payload: Uint8Array = bytes.subarray(5);
    const changes = [];
    if (bytes[4] !== 0) changes.push({ kind: 'timestamp' as const, what: `counter ${bytes[4]} -> 0` });
    if (payload.length >= 4 && Buffer.from(payload.subarray(0, 4)).equals(MAGIC)) {
      const { BufferSource } = await import('../src/io.js');
      const m = await ctx.normalizeMember('inner.fake', new BufferSource(payload));
      if (m.changed) {
        payload = await readAll(m.output);
        changes.push(...m.changes);
      }
    }
    await output.write(MAGIC);
    await output.write(Uint8Array.of(0));
    await output.write(payload);
    return { status: 'normalized', changes };
  },
};
