// uImage: the peer fixture, real images made by mkimage at two SOURCE_DATE_EPOCHs (which
// mkimage honours), checked with `mkimage -l`; header CRC rules; bad input.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headerCrc, uimageHandler } from '../formats/uimage.js';
import { haveTool, norm, PEER, run, tempDir } from './helpers.js';
import { expectCleanOutcome } from './misc-formats-helpers.js';
import { crc32 } from '../formats/crc32.js';

const T = 1423159771;

describe('peer fixture (strip-nondeterminism uimage/, T=1423159771)', () => {
  // Same rule as theirs (ih_time -> T, header CRC recomputed): byte-equal.
  it('Linux-1001.uImage: byte-equal to the peer output, idempotent', async () => {
    const dir = join(PEER, 'strip-nondeterminism/uimage');
    const r = await norm(readFileSync(join(dir, 'Linux-1001.uImage.in')), 'Linux-1001.uImage', { timestamp: T });
    expect(r.status).toBe('changed');
    expect(Buffer.from(r.output).equals(readFileSync(join(dir, 'Linux-1001.uImage.out')))).toBe(true);
    expect((await norm(r.output, 'Linux-1001.uImage', { timestamp: T })).status).toBe('unchanged');
  });
});

const hasMkimage = haveTool('mkimage');

function mkimage(dir: string, sde: number, name: string): Buffer {
  const payload = Buffer.alloc(20000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
  writeFileSync(join(dir, 'payload.bin'), payload);
  run('mkimage', ['-A', 'arm', '-O', 'linux', '-T', 'kernel', '-C', 'none', '-a', '0x8000', '-e', '0x8000', '-n', 'detnorm test', '-d', join(dir, 'payload.bin'), join(dir, name)], {
    env: { SOURCE_DATE_EPOCH: String(sde) },
  });
  return readFileSync(join(dir, name));
}
function list(dir: string, bytes: Uint8Array): string {
  writeFileSync(join(dir, 'x.img'), bytes);
  return run('mkimage', ['-l', join(dir, 'x.img')]).toString();
}

describe.runIf(hasMkimage)('real images from mkimage: ih_time -> T, header CRC recomputed, data untouched', () => {
  it('two images made at different dates converge; mkimage -l accepts the result', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const a = mkimage(dir, 1500000000, 'a.img');
      const b = mkimage(dir, 1600000000, 'b.img');
      expect(a.equals(b)).toBe(false);
      expect(list(dir, a)).toContain('Created:      Fri Jul 14 02:40:00 2017');
      const ra = await norm(a, 'a.img', { timestamp: T });
      const rb = await norm(b, 'b.img', { timestamp: T });
      expect(Buffer.from(ra.output).equals(rb.output)).toBe(true);
      const l = list(dir, ra.output);
      expect(l).toContain('Image Name:   detnorm test');
      expect(l).toContain('Created:      Thu Feb  5 18:09:31 2015');
      // Only ih_hcrc and ih_time changed; the data and its CRC are the same bytes.
      const out = Buffer.from(ra.output);
      expect(out.subarray(12).equals(a.subarray(12))).toBe(true);
      expect(crc32(out.subarray(64))).toBe(out.readUInt32BE(24));
      expect(headerCrc(out)).toBe(out.readUInt32BE(4));
      // Without T: "no time" (0), still a valid header.
      const none = await norm(a, 'a.img');
      expect(list(dir, none.output)).toContain('Created:      Thu Jan  1 00:00:00 1970');
      // Clamp: an earlier time stays.
      expect((await norm(a, 'a.img', { timestamp: 1700000000, clamp: true })).status).toBe('unchanged');
    } finally {
      cleanup();
    }
  });
  it('a header whose CRC was already wrong is left untouched and reported', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const a = Buffer.from(mkimage(dir, 1500000000, 'a.img'));
      a[7] ^= 0xff;
      const r = await norm(a, 'a.img', { timestamp: T });
      expect(r.status).toBe('untouched');
      expect(r.reason).toContain('header CRC does not match');
      expect(Buffer.from(r.output).equals(a)).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe('bad input: FormatError, never a crash', () => {
  const peer = () => readFileSync(join(PEER, 'strip-nondeterminism/uimage/Linux-1001.uImage.in'));
  it('truncated header or data', async () => {
    expect((await norm(peer().subarray(0, 40), 'x.uimage', { timestamp: T })).reason).toContain('truncated uImage header');
    expect((await norm(peer().subarray(0, 1000), 'x.uimage', { timestamp: T })).reason).toContain('runs past the end of the file');
  });
  it('random cuts and flips of the header', async () => {
    const g = peer();
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from(g.subarray(0, i % 3 === 0 ? (i * 37) % 200 : g.length));
      if (b.length > 8) b[4 + ((i * 13) % Math.min(60, b.length - 4))] ^= 1 + (i % 255);
      await expectCleanOutcome(uimageHandler, b, { timestamp: T });
    }
  });
});
