// The no-change fast path of the zip handler (Sink.copyInput, Handler.wholeInput): raw members of
// 16 KiB and more are offered to the engine's comparing sink as the input's own bytes. The bytes
// written must be exactly those of a plain copy, whatever is canonical or not around them.
import { describe, expect, it } from 'vitest';
import { zipHandler } from '../formats/zip/index.js';
import { ComparingSink, MemorySpill } from '../src/engine.js';
import { BufferSink, BufferSource } from '../src/io.js';
import { defaultOptions } from '../src/options.js';
import type { Context, Source } from '../src/types.js';
import { norm } from './helpers.js';
import { buildZip, type RawEntry } from './zip-helpers.js';

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
const data = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i < 4 ? 0x44 : i % 3 ? rand() : 0x20; // 'DDDD' then half-random: deflate shrinks it a little
  return b;
};

/** The handler's output into a sink without copyInput: every byte copied. */
async function plainOutput(z: Uint8Array): Promise<Uint8Array> {
  const ctx = { options: defaultOptions(), path: 'x.zip', depth: 0, spill: () => new MemorySpill(), notice: () => {}, normalizeMember: async () => ({ changed: false as const }) } as unknown as Context;
  const sink = new BufferSink();
  await zipHandler.normalize(new BufferSource(z), sink, ctx);
  return sink.bytes();
}

/** A Source that is not a BufferSource (as a file is): the engine reads it whole for the zip handler. */
class Opaque implements Source {
  readonly size: number;
  constructor(private readonly b: Uint8Array) {
    this.size = b.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.b.slice(offset, offset + length);
  }
}

describe('zip: raw members offered as the input own bytes give the bytes of a plain copy', () => {
  const shapes: Array<{ what: string; entries: () => RawEntry[] }> = [
    { what: 'a non-canonical time before a large member', entries: () => [{ name: 'a.txt', data: 'x', date: 0x5021, time: 0x6000 }, { name: 'b.bin', data: data(40000) }, { name: 'c.bin', data: data(20000), method: 8 }] },
    { what: 'a large member first, a non-canonical one last', entries: () => [{ name: 'a.bin', data: data(70000) }, { name: 'b.bin', data: data(30000), method: 8 }, { name: 'z.txt', data: 'z', date: 0x5021, time: 0x6000 }] },
    { what: 'members out of order around large ones', entries: () => [{ name: 'b.bin', data: data(17000) }, { name: 'a.bin', data: data(33000), method: 8 }] },
    { what: 'an extra field on a large member', entries: () => [{ name: 'a.bin', data: data(20000), localExtra: [{ id: 0x5455, data: Uint8Array.of(1, 0, 0, 0, 0) }] }, { name: 'b.bin', data: data(50000) }] },
  ];
  for (const s of shapes) {
    it(`${s.what}: changed as a plain copy, then unchanged (and from a file-like source)`, async () => {
      const z = buildZip(s.entries());
      const want = await plainOutput(z);
      const r = await norm(z, 'x.zip');
      expect(r.status).toBe('changed');
      expect(Buffer.from(r.output).equals(Buffer.from(want))).toBe(true);
      // Canonical now: the fast path says unchanged, and the plain copy agrees byte for byte.
      expect(Buffer.from(await plainOutput(r.output)).equals(Buffer.from(r.output))).toBe(true);
      expect((await norm(r.output, 'x.zip')).status).toBe('unchanged');
      // Through the engine with a source that is not in memory (the wholeInput read).
      const { Engine } = await import('../src/engine.js');
      const { HANDLERS } = await import('../formats/index.js');
      let out: BufferSink | undefined;
      const e = new Engine({ options: defaultOptions(), handlers: HANDLERS, spill: () => new MemorySpill() });
      const o = await e.normalize(new Opaque(z), 'x.zip', 'x.zip', 0, async () => (out = new BufferSink()));
      expect(o.status).toBe('changed');
      expect(Buffer.from(out!.bytes()).equals(Buffer.from(want))).toBe(true);
      const again = await new Engine({ options: defaultOptions(), handlers: HANDLERS, spill: () => new MemorySpill() }).normalize(new Opaque(want), 'x.zip', 'x.zip', 0, async () => new BufferSink());
      expect(again.status).toBe('unchanged');
    });
  }
});

describe('ComparingSink.copyInput: only the input own bytes, only where the output is', () => {
  it('takes a range at the output position while equal, refuses elsewhere and after a difference', async () => {
    const input = new BufferSource(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    let target: BufferSink | undefined;
    const s = new ComparingSink(input, async () => (target = new BufferSink()));
    await s.write(Uint8Array.of(1, 2));
    expect(s.copyInput(3, 2)).toBe(false); // not where the output is
    expect(s.copyInput(2, 7)).toBe(false); // past the end of the input
    expect(s.copyInput(2, 2)).toBe(true);
    expect(s.length).toBe(4);
    await s.write(Uint8Array.of(9));
    expect(s.copyInput(5, 1)).toBe(false); // the output differs: write it
    await s.write(Uint8Array.of(6, 7, 8));
    expect(await s.finish()).toBe(false);
    expect([...target!.bytes()]).toEqual([1, 2, 3, 4, 9, 6, 7, 8]);
  });
  it('an output equal to the input by copyInput alone is unchanged', async () => {
    const input = new BufferSource(Uint8Array.from([1, 2, 3]));
    const s = new ComparingSink(input, async () => undefined);
    expect(s.copyInput(0, 3)).toBe(true);
    expect(await s.finish()).toBe(true);
  });
});
