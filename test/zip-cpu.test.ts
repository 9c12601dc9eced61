// Issue 20 (zip handler CPU): the per-member shortcuts give what the plain code gave.
import { describe, expect, it } from 'vitest';
import { extensionOf } from '../formats/zip/flavor.js';
import { decodeDescriptor, decodeDescriptorAt, decodeExtra, decodeExtraAt, encodeExtra } from '../formats/zip/records.js';
import { ZipWriter, type OutEntry } from '../formats/zip/writer.js';
import { BufferSink } from '../src/io.js';

/** extensionOf as it was: the whole base name lowered, then its last dot. */
function extensionOfWhole(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot);
}

describe('extensionOf lowers only the extension and agrees with lowering the whole base name', () => {
  const names = [
    'a/B.JAR', 'x.Class', '.hidden', 'dir/.hidden', 'dir.d/file', 'dir.d/', 'noext', 'a.b.C', '', '.', 'a.', 'a/b.',
    // Non-ASCII: a final sigma lowers by its context, 'İ' lowers to two code units.
    'ΑΣ.ΣΑΣ', 'ΑΣ.Σ', 'x.İ', 'İİ.TXT', 'Ω.TXT', 'dir/Ω.tXt', 'a/ΑΣ', 'é.É',
  ];
  for (const n of names) it(JSON.stringify(n), () => expect(extensionOf(n)).toBe(extensionOfWhole(n)));
});

describe('decodeExtraAt and decodeDescriptorAt read in place what the whole-buffer decoders read', () => {
  const fields = [
    { id: 0x5455, data: Uint8Array.from([1, 2, 3, 4, 5]) },
    { id: 0x7875, data: Uint8Array.from([1, 4, 0, 0, 0, 0]) },
  ];
  const block = encodeExtra(fields);
  const padded = new Uint8Array(block.length + 10).fill(0xee);
  padded.set(block, 7);
  it('same fields at an offset', () => {
    const at = decodeExtraAt(padded, 7, 7 + block.length, 'extra field of ', 'a.txt');
    expect(at.map((f) => ({ id: f.id, data: Uint8Array.from(f.data) }))).toEqual(decodeExtra(block).map((f) => ({ id: f.id, data: Uint8Array.from(f.data) })));
    expect(decodeExtraAt(padded, 7, 7, 'extra field of ', 'a.txt')).toEqual([]);
  });
  it('same error messages', () => {
    const bad = Uint8Array.from([0x55, 0x54, 9, 0, 1, 2]);
    const box = new Uint8Array(bad.length + 3);
    box.set(bad, 3);
    expect(() => decodeExtraAt(box, 3, 3 + bad.length, 'extra field of ', 'a.txt')).toThrow('extra field of a.txt 0x5455 overruns its block');
    expect(() => decodeExtra(bad, 'extra field of a.txt')).toThrow('extra field of a.txt 0x5455 overruns its block');
    expect(() => decodeExtraAt(Uint8Array.from([9, 9, 1, 2]), 2, 4, 'local extra field of ', 'b')).toThrow('truncated local extra field of b: 2 stray bytes');
  });
  it('descriptors: signed, unsigned, 64-bit, at an offset', () => {
    const want = { crc: 0x89abcdef, compressedSize: 10, uncompressedSize: 20 };
    const d = new Uint8Array(40).fill(0xee);
    const v = new DataView(d.buffer);
    v.setUint32(5, 0x08074b50, true);
    v.setUint32(9, want.crc, true);
    v.setUint32(13, 10, true);
    v.setUint32(17, 20, true);
    const view = new DataView(d.buffer);
    for (const [off, n] of [[5, 24], [9, 24], [5, 3], [9, 11], [0, 24]] as const) {
      expect(decodeDescriptorAt(view, off, n, want)).toEqual(decodeDescriptor(d.subarray(off, off + n), want));
    }
    expect(decodeDescriptorAt(view, 5, 24, want)?.length).toBe(16);
    const wide = new Uint8Array(30);
    const w = new DataView(wide.buffer);
    w.setUint32(2, want.crc, true);
    w.setBigUint64(6, 10n, true);
    w.setBigUint64(14, 20n, true);
    expect(decodeDescriptorAt(w, 2, 20, want)?.length).toBe(20);
    expect(decodeDescriptorAt(w, 2, 20, want)).toEqual(decodeDescriptor(wide.subarray(2, 22), want));
  });
});

describe('the zip writer reuses its buffers: an archive written after others is byte-identical', () => {
  const entry = (name: string, size: number): OutEntry => ({
    name: new TextEncoder().encode(name),
    comment: new Uint8Array(0),
    versionMadeBy: 0x31e,
    versionNeeded: 10,
    flags: 0,
    method: 0,
    time: 0x6000,
    date: 0x21,
    crc: 0,
    compressedSize: size,
    uncompressedSize: size,
    internalAttributes: 0,
    externalAttributes: 0x81a40000,
    align: 0,
  });
  async function write(entries: Array<[string, number, number]>): Promise<Uint8Array> {
    const sink = new BufferSink();
    const w = new ZipWriter(sink);
    for (const [name, size, fill] of entries) {
      await w.begin(entry(name, size));
      await w.out.write(new Uint8Array(size).fill(fill));
    }
    await w.finish(new Uint8Array(0), 0x31e);
    return Uint8Array.from(sink.bytes());
  }
  it('small archive, then a large one filling the buffers with 0xff, then the small one again', async () => {
    const small: Array<[string, number, number]> = [['a', 3, 1], ['b/c.txt', 0, 0]];
    const first = await write(small);
    await write(Array.from({ length: 3000 }, (_, i) => [`big/${'x'.repeat(60)}${i}`, 200, 0xff] as [string, number, number]));
    const again = await write(small);
    expect(again).toEqual(first);
    // And what it is: one stored member "a" with its 3 bytes right after the 31-byte header.
    expect(first.length).toBe(30 + 1 + 3 + 30 + 7 + 46 + 1 + 46 + 7 + 22);
    expect(Array.from(first.subarray(31, 34))).toEqual([1, 1, 1]);
  });
});
