// PNG handler: the peer fixtures, real PNGs written by Python (zlib + struct), the date
// rules, streaming of large chunks, and hostile input.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pngHandler } from '../formats/png.js';
import { BufferSource, CHUNK } from '../src/io.js';
import { haveTool, norm, PEER, run, tempDir } from './helpers.js';
import { CountingSource, direct, expectCleanOutcome } from './misc-formats-helpers.js';

const T = 1423159771; // 2015-02-05T18:09:31Z, the peers' canonical time

/** Write a PNG with Python: spec = { time?: [y,mo,d,h,mi,s], text?: [[type, keyword, value]], big?: true }. */
const MAKE_PNG = String.raw`
import sys, zlib, struct, json, random
spec = json.loads(sys.argv[1])
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
w, h = (1000, 1000) if spec.get('big') else (4, 3)
rnd = random.Random(7)
raw = b''.join(b'\x00' + (rnd.randbytes(w * 3) if spec.get('big') else bytes((x * 40 + y * 7) % 256 for x in range(w * 3))) for y in range(h))
out = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
if 'time' in spec: out += chunk(b'tIME', struct.pack('>HBBBBB', *spec['time']))
for kind, kw, val in spec.get('text', []):
    if kind == 'tEXt': d = kw.encode('latin1') + b'\0' + val.encode('latin1')
    elif kind == 'zTXt': d = kw.encode('latin1') + b'\0\0' + zlib.compress(val.encode('latin1'), 9)
    else: d = kw.encode('latin1') + b'\0\x01\x00en\0Erstellt\0' + zlib.compress(val.encode(), 9)
    out += chunk(kind.encode(), d)
out += chunk(b'IDAT', zlib.compress(raw, 1)) + chunk(b'IEND', b'')
sys.stdout.buffer.write(out)
`;

/** Read a PNG back with Python: every chunk's CRC checked, text chunks decoded. */
const READ_PNG = String.raw`
import sys, zlib, struct, json
b = sys.stdin.buffer.read(); assert b[:8] == b'\x89PNG\r\n\x1a\n'; p = 8; out = []
while p < len(b):
    n, t = struct.unpack('>I4s', b[p:p+8]); d = b[p+8:p+8+n]
    assert struct.unpack('>I', b[p+8+n:p+12+n])[0] == zlib.crc32(t + d), t
    e = {'type': t.decode()}
    if t == b'tIME': e['time'] = list(struct.unpack('>HBBBBB', d))
    if t in (b'tEXt', b'zTXt', b'iTXt'):
        k, r = d.split(b'\0', 1); e['keyword'] = k.decode('latin1')
        if t == b'tEXt': e['value'] = r.decode('latin1')
        elif t == b'zTXt': e['value'] = zlib.decompress(r[1:]).decode('latin1')
        else:
            flag = r[0]; lang, tr, txt = r[2:].split(b'\0', 2); e['lang'] = lang.decode(); e['translated'] = tr.decode()
            e['value'] = (zlib.decompress(txt) if flag else txt).decode(); e['compressed'] = flag
    if t in (b'IHDR', b'IDAT'): e['crc'] = zlib.crc32(d)
    out.append(e); p += 12 + n
    if t == b'IEND': break
print(json.dumps({'chunks': out, 'after': len(b) - p}))
`;

type Chunk = { type: string; time?: number[]; keyword?: string; value?: string; lang?: string; translated?: string; compressed?: number; crc?: number };

function makePng(spec: object): Buffer {
  return run('python3', ['-c', MAKE_PNG, JSON.stringify(spec)]);
}
function readPng(bytes: Uint8Array): { chunks: Chunk[]; after: number } {
  return JSON.parse(run('python3', ['-c', READ_PNG], { input: bytes }).toString());
}
function pngcheck(bytes: Uint8Array): string {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'x.png'), bytes);
    return run('pngcheck', ['-v', join(dir, 'x.png')]).toString();
  } finally {
    cleanup();
  }
}
const hasPython = haveTool('python3');
const hasPngcheck = haveTool('pngcheck');

describe('peer fixtures (strip-nondeterminism png/, T=1423159771)', () => {
  const dir = join(PEER, 'strip-nondeterminism/png');
  // Our rules agree with strip-nondeterminism on every one of these, so each must be byte-equal
  // to its .out: tIME -> T, date:create/date:modify -> T as `...-00:00`, trailing data after IEND
  // kept, and huge-chunk-size.png (a tEXt chunk of length 0xFFFFFFFF) left untouched: they
  // keep it because the read runs out, we reject it with a FormatError (length > 2^31-1).
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.in')).sort()) {
    it(`${f}: byte-equal to the peer's output, idempotent`, async () => {
      const input = readFileSync(join(dir, f));
      const expected = readFileSync(join(dir, f.replace(/\.in$/, '.out')));
      const r = await norm(input, f.replace(/\.in$/, ''), { timestamp: T });
      if (f === 'huge-chunk-size.png.in') {
        expect(r.status).toBe('error');
        expect(r.reason).toContain('exceeds 2^31-1');
      } else {
        expect(r.status).not.toBe('error');
      }
      expect(Buffer.from(r.output).equals(expected)).toBe(true);
      const again = await norm(r.output, 'x.png', { timestamp: T });
      expect(Buffer.from(again.output).equals(r.output)).toBe(true);
      if (hasPngcheck && r.status === 'changed') expect(pngcheck(r.output)).toContain('No errors detected');
    });
  }
});

describe.runIf(hasPython)('tIME: set to T, clamp honoured, removed without T', () => {
  it('two PNGs written at different times normalize to identical bytes that pngcheck accepts', async () => {
    const a = makePng({ time: [2021, 3, 4, 5, 6, 7] });
    const b = makePng({ time: [2024, 12, 31, 23, 59, 59] });
    expect(a.equals(b)).toBe(false);
    const ra = await norm(a, 'a.png', { timestamp: T });
    const rb = await norm(b, 'b.png', { timestamp: T });
    expect(ra.status).toBe('changed');
    expect(Buffer.from(ra.output).equals(rb.output)).toBe(true);
    const back = readPng(ra.output);
    expect(back.chunks.find((c) => c.type === 'tIME')!.time).toEqual([2015, 2, 5, 18, 9, 31]);
    // Content preserved: the image chunks are the same bytes.
    const orig = readPng(a);
    expect(back.chunks.filter((c) => c.type !== 'tIME')).toEqual(orig.chunks.filter((c) => c.type !== 'tIME'));
    if (hasPngcheck) expect(pngcheck(ra.output)).toMatch(/tIME.*5 Feb 2015 18:09:31 UTC[\s\S]*No errors detected/);
  });
  it('without T the chunk is removed', async () => {
    const r = await norm(makePng({ time: [2021, 3, 4, 5, 6, 7] }), 'a.png');
    expect(r.changes.map((c) => c.what)).toEqual(['tIME removed']);
    expect(readPng(r.output).chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    if (hasPngcheck) expect(pngcheck(r.output)).toContain('No errors detected');
  });
  it('with --clamp an earlier time stays and a later one becomes T', async () => {
    const early = makePng({ time: [2010, 1, 2, 3, 4, 5] });
    expect((await norm(early, 'a.png', { timestamp: T, clamp: true })).status).toBe('unchanged');
    const late = await norm(makePng({ time: [2020, 1, 2, 3, 4, 5] }), 'a.png', { timestamp: T, clamp: true });
    expect(readPng(late.output).chunks.find((c) => c.type === 'tIME')!.time).toEqual([2015, 2, 5, 18, 9, 31]);
  });
  it('an invalid tIME (month 13) becomes T, even with --clamp', async () => {
    const r = await norm(makePng({ time: [2010, 13, 2, 3, 4, 5] }), 'a.png', { timestamp: T, clamp: true });
    expect(readPng(r.output).chunks.find((c) => c.type === 'tIME')!.time).toEqual([2015, 2, 5, 18, 9, 31]);
  });
});

describe.runIf(hasPython)('date text chunks: T in the same format family and chunk type, removed without T', () => {
  const text = [
    ['tEXt', 'date:create', '2016-07-24T11:19:04+01:00'],
    ['zTXt', 'date:modify', '2013-10-07T00:54:25+01:00'],
    ['iTXt', 'date:timestamp', '2013-10-07T00:54:25Z'],
    ['tEXt', 'Creation Time', 'Sun, 24 Jul 2016 11:19:04 GMT'],
    ['tEXt', 'Creation Time', '2016-07-24 11:19:04'],
    ['tEXt', 'Comment', 'Created on 2016-07-24 with GIMP'],
  ];
  it('rewrites each date chunk to T and leaves the others alone', async () => {
    const r = await norm(makePng({ text }), 'a.png', { timestamp: T });
    const got = readPng(r.output).chunks.filter((c) => c.keyword);
    expect(got).toEqual([
      { type: 'tEXt', keyword: 'date:create', value: '2015-02-05T18:09:31-00:00' },
      { type: 'zTXt', keyword: 'date:modify', value: '2015-02-05T18:09:31-00:00' },
      { type: 'iTXt', keyword: 'date:timestamp', value: '2015-02-05T18:09:31-00:00', lang: 'en', translated: 'Erstellt', compressed: 1 },
      { type: 'tEXt', keyword: 'Creation Time', value: 'Thu, 05 Feb 2015 18:09:31 +0000' },
      { type: 'tEXt', keyword: 'Creation Time', value: '2015-02-05T18:09:31-00:00' },
      { type: 'tEXt', keyword: 'Comment', value: 'Created on 2016-07-24 with GIMP' },
    ]);
    expect(r.changes).toHaveLength(5);
    if (hasPngcheck) expect(pngcheck(r.output)).toContain('No errors detected');
    expect((await norm(r.output, 'a.png', { timestamp: T })).status).toBe('unchanged');
  });
  it('two files differing only in their dates converge', async () => {
    const other = text.map(([k, kw, v]) => [k, kw, kw === 'Comment' ? v : (v as string).replace('2016', '2019').replace('2013', '2012')]);
    const a = await norm(makePng({ text, time: [2016, 7, 24, 11, 19, 4] }), 'a.png', { timestamp: T });
    const b = await norm(makePng({ text: other, time: [2019, 1, 1, 0, 0, 0] }), 'b.png', { timestamp: T });
    expect(Buffer.from(a.output).equals(b.output)).toBe(true);
  });
  it('without T every date chunk is removed, the comment stays', async () => {
    const r = await norm(makePng({ text }), 'a.png');
    expect(readPng(r.output).chunks.filter((c) => c.keyword).map((c) => c.keyword)).toEqual(['Comment']);
  });
  it('with --clamp an earlier date keeps its exact text, a later one becomes T', async () => {
    const r = await norm(makePng({ text }), 'a.png', { timestamp: 1400000000, clamp: true });
    const got = readPng(r.output).chunks.filter((c) => c.keyword).map((c) => c.value);
    expect(got).toEqual([
      '2014-05-13T16:53:20-00:00',
      '2013-10-07T00:54:25+01:00',
      '2013-10-07T00:54:25Z',
      'Tue, 13 May 2014 16:53:20 +0000',
      '2014-05-13T16:53:20-00:00',
      'Created on 2016-07-24 with GIMP',
    ]);
  });
});

describe.runIf(hasPython)('large chunks are streamed, never held whole', () => {
  it('a PNG with a 3 MB IDAT is copied in bounded reads, byte for byte', async () => {
    const big = makePng({ big: true, time: [2020, 1, 1, 0, 0, 0] });
    expect(big.length).toBeGreaterThan(2 * CHUNK);
    const src = new CountingSource(new BufferSource(big));
    const r = await direct(pngHandler, big, { timestamp: T }, src);
    expect(r.result.status).toBe('normalized');
    expect(src.maxRead).toBeLessThanOrEqual(CHUNK);
    expect(r.output.length).toBe(big.length);
    expect(r.output.subarray(60).equals(big.subarray(60))).toBe(true);
  });
});

describe.runIf(hasPython)('bad input: FormatError, file untouched, never a crash', () => {
  const good = () => makePng({ time: [2021, 3, 4, 5, 6, 7], text: [['zTXt', 'date:create', '2016-07-24T11:19:04+01:00']] });
  it('truncated chunk', async () => {
    const r = await norm(good().subarray(0, 60), 'a.png', { timestamp: T });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/runs past the end|truncated chunk header/);
  });
  it('no IEND', async () => {
    const g = good();
    const r = await norm(g.subarray(0, g.length - 12), 'a.png', { timestamp: T });
    expect(r.reason).toContain('no IEND chunk');
  });
  it('bad CRC in a chunk we rewrite (tIME); other chunks are not our business', async () => {
    const g = Buffer.from(good());
    g[33 + 8 + 7 - 1] ^= 1; // last CRC byte of tIME (IHDR is 25 bytes after the 8-byte signature)
    const r = await norm(g, 'a.png', { timestamp: T });
    expect(r.reason).toContain('bad CRC in tIME chunk at offset 33');
    expect(Buffer.from(r.output).equals(g)).toBe(true);
  });
  it('a .png that is not a PNG is reported', async () => {
    const r = await norm(Buffer.from('GIF89a...'), 'a.png', { timestamp: T });
    expect(r.status).toBe('error');
    expect(r.reason).toContain('not a PNG signature');
  });
  it('random truncations and byte flips give a result or a FormatError', async () => {
    const g = good();
    await fc.assert(
      fc.asyncProperty(fc.nat(g.length), fc.array(fc.tuple(fc.nat(g.length - 1), fc.nat(255)), { maxLength: 4 }), async (cut, flips) => {
        const b = Buffer.from(g.subarray(0, Math.max(8, cut)));
        for (const [at, v] of flips) if (at >= 8 && at < b.length) b[at] = v;
        await expectCleanOutcome(pngHandler, b, { timestamp: T });
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
