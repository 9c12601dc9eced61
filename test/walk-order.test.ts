// The walk's path order is the order of the paths' UTF-8 bytes; byteCompare gets it without
// making buffers for most comparisons, and must agree with Buffer.compare on every string.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteCompare } from '../src/walk.js';

const bytes = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
// Units around every boundary where UTF-16 and UTF-8 orders could part: ASCII, 2- and 3-byte
// forms, the surrogates (paired and lone) and the units above them.
const UNITS = ['/', '.', '-', 'a', 'z', '\u00e9', '\u07ff', '\u0800', '\ud7ff', '\ud83d', '\ude00', '\ue000', '\uffff', '\ud83d\ude00'];
const str = fc.array(fc.constantFrom(...UNITS), { maxLength: 6 }).map((u) => u.join(''));

describe('byteCompare: the order of the UTF-8 bytes', () => {
  it('agrees with Buffer.compare on strings around every UTF-16/UTF-8 boundary, lone surrogates too', () => {
    fc.assert(fc.property(str, str, (a, b) => Math.sign(byteCompare(a, b)) === bytes(a, b)), { numRuns: 20000 });
  });
  it('agrees with Buffer.compare on any full-unicode strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => Math.sign(byteCompare(a, b)) === bytes(a, b)), { numRuns: 3000 });
  });
  it('puts "a.txt" before "a/b" (0x2e < 0x2f) and a prefix first', () => {
    expect(['a/b', 'a.txt', 'a', 'a\u00e9', 'a\uffff', 'a\ud83d\ude00'].sort(byteCompare)).toEqual(['a', 'a.txt', 'a/b', 'a\u00e9', 'a\uffff', 'a\ud83d\ude00']);
  });
});
