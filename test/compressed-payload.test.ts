// The shared payload mechanism (formats/compressed/payload.ts) for every codec: push encoders
// that give the reference CLI's bytes whatever sizes the payload is written in; temp disk
// bounded (an unclaimed payload is never spilled, a claimed large one is spilled once, not
// twice); `detnorm diff` through a compressed layer names the tar member and field.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bzip2Codec } from '../formats/compressed/bzip2.js';
import { lz4Codec } from '../formats/compressed/lz4.js';
import type { PayloadCodec } from '../formats/compressed/payload.js';
import { xzCodec } from '../formats/compressed/xz.js';
import { zstdCodec } from '../formats/compressed/zstd.js';
import { gzipCodec } from '../formats/gzip.js';
import { HANDLERS } from '../formats/index.js';
import { encodeLz4, type Lz4Settings } from '../src/codecs/lz4.js';
import { diffPair } from '../src/diff.js';
import { normalizeBytes } from '../src/engine.js';
import { BufferSink, BufferSource } from '../src/io.js';
import { defaultOptions } from '../src/options.js';
import { DEFAULT_LIMITS, type Sink, type Source, type SpillSink } from '../src/types.js';
import { haveTool, run, tempDir } from './helpers.js';
import { arOf, gzipOf, tarOf } from './safety-helpers.js';

/** Text lines that differ from each other (compressible about 10:1, no bomb, no format's magic). */
function text(n: number, seed = 1): Uint8Array {
  const words = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit', 'sed', 'do'];
  const parts: string[] = [];
  let len = 0;
  let x = seed;
  for (let i = 0; len < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const line = `${i} ${words[x % 10]} ${words[(x >>> 8) % 10]} ${(x >>> 4).toString(36)}\n`;
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, n);
}

/** Deterministic bytes from a 16-letter alphabet: compressible about 2:1, no format's magic. */
function letters(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = 0x61 + (x >>> 28);
  }
  return out;
}

const discard = (): Sink => {
  let length = 0;
  return {
    get length() {
      return length;
    },
    async write(c) {
      length += c.length;
    },
  };
};

/** Write `payload` into `sink` in pieces of irregular sizes (1 byte to over a MiB). */
async function writeIrregular(payload: Uint8Array, sink: Sink): Promise<void> {
  const sizes = [1, 7, 65539, 1 << 20, 333333, 4096, (1 << 20) + 17];
  for (let at = 0, i = 0; at < payload.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, payload.length - at);
    await sink.write(payload.subarray(at, at + n));
    at += n;
  }
}

/** The codec's push encoder on `payload` written irregularly, with the settings `compressed` records. */
async function pushEncode<S>(codec: PayloadCodec<S>, compressed: Uint8Array, payload: Uint8Array): Promise<Buffer> {
  const parsed = await codec.parse(new BufferSource(compressed), ctxOf(), discard());
  if ('untouched' in parsed) throw new Error(parsed.untouched);
  const out = new BufferSink();
  const enc = await codec.encoder(parsed.settings, payload.length, out);
  await writeIrregular(payload, enc);
  await enc.finish();
  return Buffer.from(out.bytes());
}

function ctxOf() {
  return {
    options: defaultOptions(),
    path: 'x',
    depth: 0,
    spill: () => {
      throw new Error('no spill expected');
    },
    notice: () => {},
    normalizeMember: async () => ({ changed: false as const }),
  };
}

describe('push encoders: the reference CLI bytes, whatever sizes the payload arrives in', () => {
  // 1.3 MB: more than the encoders' 1 MiB input piece, several xz Blocks, bzip2 and lz4 blocks.
  const payload = text(1_300_000);
  const cli: Array<[string, string, string[], PayloadCodec<unknown>]> = [
    ['xz -6 -T1 (one block)', 'xz', ['-6', '-T1', '-c'], xzCodec as PayloadCodec<unknown>],
    ['xz -6 -T2 --block-size (multi-threaded layout)', 'xz', ['-6', '-T2', '--block-size=100000', '-c'], xzCodec as PayloadCodec<unknown>],
    ['zstd -19', 'zstd', ['-19', '-q', '-c'], zstdCodec as PayloadCodec<unknown>],
    ['zstd -3 --no-check', 'zstd', ['-3', '-q', '--no-check', '-c'], zstdCodec as PayloadCodec<unknown>],
    ['bzip2 -9', 'bzip2', ['-9', '-c'], bzip2Codec as PayloadCodec<unknown>],
  ];
  for (const [name, tool, args, codec] of cli) {
    it.skipIf(!haveTool(tool))(name, async () => {
      // xz -6 and zstd -19 are slow in WebAssembly: a smaller payload (the 1 MiB input
      // regrouping is the one zstd -3 and bzip2 go through with the whole payload).
      const input = tool === 'xz' || args.includes('-19') ? payload.subarray(0, 400_000) : payload;
      const ref = run(tool, args, { input });
      expect((await pushEncode(codec, ref, input)).equals(ref)).toBe(true);
    }, 60_000);
  }
  it('bzip2 in pbzip2 layout: a new stream for each 100,000 x N bytes, as the pull encoder writes it', async () => {
    const settings = { level: 9, chunk: 300_000 };
    const pulled = new BufferSink();
    await (bzip2Codec.encoder(settings, payload.length, pulled).then(async (e) => {
      for (let at = 0; at < payload.length; at += 1 << 20) await e.write(payload.subarray(at, Math.min(payload.length, at + (1 << 20))));
      await e.finish();
    }));
    const pushed = new BufferSink();
    const e = await bzip2Codec.encoder(settings, payload.length, pushed);
    await writeIrregular(payload, e);
    await e.finish();
    expect(Buffer.from(pushed.bytes()).equals(Buffer.from(pulled.bytes()))).toBe(true);
    // Five streams (1.3 MB in 300,000-byte pieces), each a complete bzip2 stream.
    const parsed = await bzip2Codec.parse(new BufferSource(pushed.bytes()), ctxOf(), discard());
    expect('untouched' in parsed ? 0 : parsed.streams).toBe(5);
  }, 60_000);
  for (const settings of [
    { format: 'frame', blockSizeId: 4, independent: false, blockChecksum: true, contentChecksum: true, contentSize: true },
    { format: 'frame', blockSizeId: 7, independent: true, blockChecksum: false, contentChecksum: false, contentSize: false },
    { format: 'legacy' },
  ] as Lz4Settings[]) {
    it(`lz4 ${settings.format}${settings.format === 'frame' ? ` -B${settings.blockSizeId}` : ''}: irregular writes give the bytes of whole-block writes, and decode back`, async () => {
      const whole = new BufferSink();
      await encodeLz4(new BufferSource(payload), settings, whole);
      expect((await pushEncode(lz4Codec as PayloadCodec<unknown>, whole.bytes(), payload)).equals(Buffer.from(whole.bytes()))).toBe(true);
      const back = new BufferSink();
      await lz4Codec.parse(new BufferSource(whole.bytes()), ctxOf(), back);
      expect(Buffer.from(back.bytes()).equals(Buffer.from(payload))).toBe(true);
    }, 60_000);
  }
  it('an encoder that needs the size refuses a payload of another size', async () => {
    const ref = new BufferSink();
    const enc = await zstdCodec.encoder({ level: 3, checksum: true, contentSize: true }, 10, ref);
    await enc.write(new Uint8Array(9));
    await expect(enc.finish()).rejects.toThrow(/pledged to hold 10/);
  });
});

/** Spills that count what they hold (peak) and all that was written to them. */
class Ledger {
  live = 0;
  peak = 0;
  written = 0;
  make = (): SpillSink => {
    const mem = new BufferSink();
    let held = 0;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.live -= held;
    };
    return {
      get length() {
        return mem.length;
      },
      write: async (c: Uint8Array) => {
        await mem.write(c);
        held += c.length;
        this.written += c.length;
        this.live += c.length;
        this.peak = Math.max(this.peak, this.live);
      },
      close: async (): Promise<Source> => {
        const src = new BufferSource(mem.bytes());
        return { size: src.size, read: (o, l) => src.read(o, l), release };
      },
      release,
    };
  };
}

interface Compressor {
  readonly ext: string;
  readonly compress: (b: Uint8Array) => Promise<Uint8Array>;
  /** The reference tool that decompresses it, when one is installed. */
  readonly tool?: string;
}

const via = (tool: string, args: string[]) => async (b: Uint8Array) => run(tool, args, { input: b });
const COMPRESSORS: Compressor[] = [
  { ext: 'xz', compress: via('xz', ['-1', '-T1', '-c']), tool: 'xz' },
  { ext: 'zst', compress: via('zstd', ['-3', '-q', '-c']), tool: 'zstd' },
  { ext: 'bz2', compress: via('bzip2', ['-1', '-c']), tool: 'bzip2' },
  {
    ext: 'lz4',
    compress: async (b) => {
      const out = new BufferSink();
      await encodeLz4(new BufferSource(b), { format: 'frame', blockSizeId: 4, independent: true, blockChecksum: false, contentChecksum: true, contentSize: false }, out);
      return out.bytes();
    },
  },
  { ext: 'gz', compress: async (b) => gzipOf(b, 1), tool: 'gzip' },
];
const limits = { ...DEFAULT_LIMITS, spillBytes: 128 << 10 };

describe('temp disk: a payload no handler claims is verified and copied, never spilled', () => {
  for (const c of COMPRESSORS) {
    it.skipIf(c.tool !== undefined && !haveTool(c.tool))(`.${c.ext}: 1 MiB that is no artifact`, async () => {
      const input = await c.compress(letters(1 << 20, 3));
      const ledger = new Ledger();
      const r = await normalizeBytes(input, `data.${c.ext}`, defaultOptions({ limits }), HANDLERS, ledger.make);
      expect(r.status, r.reason).toBe(c.ext === 'gz' ? 'changed' : 'unchanged'); // gzip: only its header changes
      expect(ledger.written).toBe(0);
    }, 60_000);
    it.skipIf(c.tool !== undefined && !haveTool(c.tool))(`.${c.ext}: a corrupt stream is still refused (integrity is checked without spilling)`, async () => {
      const input = Buffer.from(await c.compress(letters(512 << 10, 5)));
      input[Math.floor(input.length / 2)]! ^= 0x55;
      const ledger = new Ledger();
      const r = await normalizeBytes(input, `data.${c.ext}`, defaultOptions({ limits }), HANDLERS, ledger.make);
      expect(r.status).toBe('error');
      expect(Buffer.from(r.output).equals(input)).toBe(true);
      expect(ledger.written).toBe(0);
    }, 60_000);
  }
});

describe('temp disk: a large claimed payload is spilled once, and its new form compressed straight into the output', () => {
  for (const c of COMPRESSORS) {
    it.skipIf(c.tool !== undefined && !haveTool(c.tool))(`.tar.${c.ext} with a 640 KiB member (limits.spillBytes 128 KiB)`, async () => {
      // Before: the decompressed tar and the normalized tar were both spilled (2x the payload).
      const tar = tarOf(text(640 << 10, 7));
      const input = await c.compress(tar);
      const ledger = new Ledger();
      const r = await normalizeBytes(input, `big.tar.${c.ext}`, defaultOptions({ limits }), HANDLERS, ledger.make);
      expect(r.status, r.reason).toBe('changed');
      expect(r.changes.some((ch) => ch.kind === 'owner')).toBe(true);
      expect(ledger.written).toBeGreaterThanOrEqual(tar.length);
      expect(ledger.written).toBeLessThan(1.25 * tar.length);
      expect(ledger.peak).toBeLessThan(1.25 * tar.length);
      expect(ledger.live).toBe(0);
      // The same bytes as with everything in memory (one pass, no streaming).
      const inMemory = await normalizeBytes(input, `big.tar.${c.ext}`, defaultOptions(), HANDLERS);
      expect(Buffer.from(r.output).equals(Buffer.from(inMemory.output))).toBe(true);
      if (c.tool && haveTool('tar')) {
        const listing = spawnSync('sh', ['-c', `${c.tool} -dc | tar tv --numeric-owner -f -`], { input: r.output, encoding: 'utf8' });
        expect(listing.status).toBe(0);
        expect(listing.stdout).toMatch(/^-rw-r--r-- 0\/0 +655360 1970-01-01 00:00 f$/m);
      }
      expect((await normalizeBytes(r.output, `big.tar.${c.ext}`, defaultOptions({ limits }), HANDLERS)).status).toBe('unchanged');
    }, 120_000);
  }
  it.skipIf(!haveTool('xz') || !haveTool('dpkg-deb'))('a .deb with a 640 KiB data.tar.xz: the decompressed tar and the new member, never the normalized tar too', async () => {
    const control = tarOf([{ name: './control', data: Buffer.from('Package: x\nVersion: 1\nArchitecture: all\nMaintainer: m <m@example.org>\nDescription: d\n') }]);
    const data = tarOf([{ name: './f', data: text(640 << 10, 9) }]);
    const deb = arOf([
      { name: 'debian-binary', data: Buffer.from('2.0\n') },
      { name: 'control.tar.xz', data: run('xz', ['-1', '-T1', '-c'], { input: control }) },
      { name: 'data.tar.xz', data: run('xz', ['-1', '-T1', '-c'], { input: data }) },
    ]);
    const ledger = new Ledger();
    const r = await normalizeBytes(deb, 'x.deb', defaultOptions({ limits }), HANDLERS, ledger.make);
    expect(r.status, r.reason).toBe('changed');
    expect(ledger.peak).toBeLessThan(1.5 * data.length);
    expect(ledger.live).toBe(0);
    const inMemory = await normalizeBytes(deb, 'x.deb', defaultOptions(), HANDLERS);
    expect(Buffer.from(r.output).equals(Buffer.from(inMemory.output))).toBe(true);
    const tmp = tempDir('detnorm-payload-deb-');
    try {
      writeFileSync(join(tmp.dir, 'x.deb'), r.output);
      const contents = spawnSync('dpkg-deb', ['--contents', join(tmp.dir, 'x.deb')], { encoding: 'utf8' });
      expect(contents.stdout).toMatch(/^-rw-r--r-- root\/root +655360 1970-01-01 00:00 \.\/f$/m);
    } finally {
      tmp.cleanup();
    }
  }, 120_000);
});

describe('detnorm diff through a compressed layer names the member and the field', () => {
  const tarA = tarOf([{ name: 'a.txt', data: Buffer.from('same\n') }]);
  const tarB = Buffer.from(tarA);
  // B: another mtime on a.txt (octal field at 136, checksum recomputed).
  tarB.write('13000000000\0', 136, 'latin1');
  tarB.write('        ', 148, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tarB[i]!;
  tarB.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  for (const c of COMPRESSORS) {
    it.skipIf(c.tool !== undefined && !haveTool(c.tool))(`.tar.${c.ext}: the tar member's mtime, not "bytes differ"`, async () => {
      const [a, b] = [await c.compress(tarA), await c.compress(tarB)];
      const r = await diffPair(a, b, `x.tar.${c.ext}`, `x.tar.${c.ext}`);
      expect(r.status).toBe('normalized');
      const d = r.differences.find((x) => x.member === 'x.tar!/a.txt');
      expect(d?.field).toBe('mtime');
      expect(r.differences.filter((x) => !x.normalized)).toEqual([]);
    }, 60_000);
  }
  it.skipIf(!haveTool('xz') || !haveTool('zstd'))('same payload, other settings: the header field and the stream are named, with the settings as the cause', async () => {
    const a = run('xz', ['-1', '-T1', '-c'], { input: tarA });
    const b = run('xz', ['-1', '-T1', '--check=sha256', '-c'], { input: tarA });
    const r = await diffPair(a, b, 'x.tar.xz', 'x.tar.xz');
    expect(r.differences.map((d) => d.field)).toEqual(expect.arrayContaining(['xz check', 'xz data']));
    expect(r.differences.find((d) => d.field === 'xz data')?.cause).toMatch(/check/);
  });
  it.skipIf(!haveTool('dpkg-deb') || !haveTool('xz') || !haveTool('zstd'))('.deb: the ar fields, the compressor, and the tar member inside data.tar', async () => {
    const control = tarOf([{ name: './control', data: Buffer.from('Package: x\nVersion: 1\nArchitecture: all\nMaintainer: m <m@example.org>\nDescription: d\n') }]);
    const mk = (tar: Uint8Array, tool: string, ext: string) =>
      arOf([
        { name: 'debian-binary', data: Buffer.from('2.0\n') },
        { name: `control.tar.${ext}`, data: run(tool, ['-q', '-c'], { input: control }) },
        { name: `data.tar.${ext}`, data: run(tool, ['-q', '-c'], { input: tar }) },
      ]);
    const r = await diffPair(mk(tarA, 'xz', 'xz'), mk(tarB, 'zstd', 'zst'), 'x.deb', 'x.deb');
    expect(r.status).toBe('differs');
    expect(r.differences.find((d) => d.field === 'compressor')).toMatchObject({ a: 'xz', b: 'zstd', normalized: false });
    expect(r.differences.find((d) => d.member === 'data.tar!/a.txt')?.field).toBe('mtime');
  }, 60_000);
});
