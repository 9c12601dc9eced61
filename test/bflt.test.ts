// bFLT: the peer fixture, hand-made headers for each rule, bad input. (No elf2flt in Debian
// to make real ones: the peer's hello.bflt is a real elf2flt output.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bfltHandler } from '../formats/bflt.js';
import { norm, PEER } from './helpers.js';
import { expectCleanOutcome } from './misc-formats-helpers.js';

const T = 1423159771;
const peer = () => readFileSync(join(PEER, 'strip-nondeterminism/bflt/hello.bflt.in'));

describe('peer fixture (strip-nondeterminism bflt/, T=1423159771)', () => {
  // Same rule as theirs (build_date -> T): byte-equal.
  it('hello.bflt: byte-equal to the peer output, idempotent', async () => {
    const r = await norm(peer(), 'hello.bflt', { timestamp: T });
    expect(r.status).toBe('changed');
    expect(Buffer.from(r.output).equals(readFileSync(join(PEER, 'strip-nondeterminism/bflt/hello.bflt.out')))).toBe(true);
    expect((await norm(r.output, 'hello.bflt', { timestamp: T })).status).toBe('unchanged');
  });
});

describe('build_date: T, clamp honoured, 0 without T; nothing else changes', () => {
  it('without T the date becomes 0', async () => {
    const r = await norm(peer(), 'hello', {});
    expect(Buffer.from(r.output).readUInt32BE(40)).toBe(0);
    expect(Buffer.from(r.output).subarray(44).equals(peer().subarray(44))).toBe(true);
    expect(Buffer.from(r.output).subarray(0, 40).equals(peer().subarray(0, 40))).toBe(true);
  });
  it('clamp: the earlier build date (2017) stays under a later T, and becomes an earlier T', async () => {
    expect((await norm(peer(), 'hello', { timestamp: 1600000000, clamp: true })).status).toBe('unchanged');
    const r = await norm(peer(), 'hello', { timestamp: T, clamp: true });
    expect(Buffer.from(r.output).readUInt32BE(40)).toBe(T);
  });
  it('two builds differing in their date converge', async () => {
    const b = Buffer.from(peer());
    b.writeUInt32BE(1234567890, 40);
    const x = await norm(peer(), 'a', { timestamp: T });
    const y = await norm(b, 'b', { timestamp: T });
    expect(Buffer.from(x.output).equals(y.output)).toBe(true);
  });
});

describe('revisions and plausibility', () => {
  it('revision 2 has no build date: untouched', async () => {
    const b = Buffer.from(peer());
    b.writeUInt32BE(2, 4);
    const r = await norm(b, 'x.bflt', { timestamp: T });
    expect(r.status).toBe('untouched');
    expect(r.reason).toContain('revision 2');
  });
  it('an implausible header is rejected: filler, reserved flags', async () => {
    const b = Buffer.from(peer());
    b.writeUInt32BE(1, 60);
    expect((await norm(b, 'x.bflt', { timestamp: T })).reason).toContain('filler at 60 is not zero');
    const c = Buffer.from(peer());
    c.writeUInt32BE(0x100, 36);
    expect((await norm(c, 'x.bflt', { timestamp: T })).reason).toContain('reserved flags');
  });
  it('truncated header; random cuts and flips', async () => {
    expect((await norm(peer().subarray(0, 63), 'x.bflt', { timestamp: T })).reason).toContain('truncated bFLT header');
    const g = peer();
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from(g.subarray(0, i % 3 === 0 ? (i * 37) % 100 : g.length));
      if (b.length > 8) b[4 + ((i * 13) % Math.min(60, b.length - 4))] ^= 1 + (i % 255);
      await expectCleanOutcome(bfltHandler, b, { timestamp: T });
    }
  });
});
