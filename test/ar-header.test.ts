// The 60-byte ar member header, field by field (formats/ar/header.ts).
import { describe, expect, it } from 'vitest';
import { FIELDS, HEADER_SIZE, decodeHeader, encodeHeader } from '../formats/ar/header.js';
import { FormatError } from '../src/types.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
// A header as GNU `ar rcU` writes it for a 1234-byte member.
const GNU_U = 'a.o/            1600000000  1000  1000  100644  1234      `\n';

describe('ar header layout: name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\\n"', () => {
  it('field offsets add up to 60 bytes', () => {
    let at = 0;
    for (const [start, len] of Object.values(FIELDS)) {
      expect(start).toBe(at);
      at += len;
    }
    expect(at).toBe(HEADER_SIZE);
  });
});

describe('decodeHeader', () => {
  const h = decodeHeader(Buffer.from(GNU_U, 'latin1'), 8);
  it('keeps the raw 16-byte name field', () => expect(h.rawName).toBe('a.o/            '));
  it('reads mtime as decimal', () => expect(h.mtime).toBe(1600000000));
  it('reads uid and gid as decimal', () => {
    expect(h.uid).toBe(1000);
    expect(h.gid).toBe(1000);
  });
  it('reads mode as octal', () => expect(h.mode).toBe(0o100644));
  it('reads size as decimal', () => expect(h.size).toBe(1234));
  it('blank numeric fields are undefined (GNU // long-name table header)', () => {
    const b = decodeHeader(Buffer.from(`${'//'.padEnd(48)}${'28'.padEnd(10)}\`\n`, 'latin1'), 8);
    expect([b.mtime, b.uid, b.gid, b.mode]).toEqual([undefined, undefined, undefined, undefined]);
    expect(b.size).toBe(28);
  });
  it('non-numeric mtime/uid/gid/mode are NaN, not errors (they are overwritten anyway)', () => {
    const b = decodeHeader(Buffer.from('x/              abc         -1    zz    999     4         `\n', 'latin1'), 8);
    expect(b.mtime).toBeNaN();
    expect(b.uid).toBeNaN();
    expect(b.gid).toBeNaN();
    expect(b.mode).toBeNaN(); // 9 is not octal
  });
  it('rejects a negative size (strip-nondeterminism _failures/ar/857975.a)', () => {
    expect(() => decodeHeader(Buffer.from(`${'/'.padEnd(48)}${'-60'.padEnd(10)}\`\n`, 'latin1'), 8)).toThrow(/size field "-60"/);
  });
  it('rejects a blank size', () => {
    expect(() => decodeHeader(Buffer.from(`${'a/'.padEnd(58)}\`\n`, 'latin1'), 8)).toThrow(FormatError);
  });
  it('rejects a missing terminator, naming the offset', () => {
    expect(() => decodeHeader(Buffer.from(GNU_U.slice(0, 58) + 'xx', 'latin1'), 1234)).toThrow(/offset 1234/);
  });
  it('rejects a short header', () => {
    expect(() => decodeHeader(Buffer.from(GNU_U.slice(0, 40), 'latin1'), 8)).toThrow(/truncated ar member header at offset 8/);
  });
});

describe('encodeHeader', () => {
  it('writes what GNU ar D writes for a member', () => {
    expect(text(encodeHeader({ name: 'a.o/', mtime: 0, uid: 0, gid: 0, mode: 0o644, size: 1234 }))).toBe(
      'a.o/            0           0     0     644     1234      `\n',
    );
  });
  it('writes what GNU ar D writes for the / symbol table', () => {
    expect(text(encodeHeader({ name: '/', mtime: 0, uid: 0, gid: 0, mode: 0, size: 16 }))).toBe(
      '/               0           0     0     0       16        `\n',
    );
  });
  it('leaves undefined fields blank (GNU // table)', () => {
    expect(text(encodeHeader({ name: '//', size: 28 }))).toBe(`${'//'.padEnd(48)}${'28'.padEnd(10)}\`\n`);
  });
  it('writes mode in octal and mtime in decimal', () => {
    const t = text(encodeHeader({ name: 'x', mtime: 1423159771, uid: 1, gid: 2, mode: 0o100755, size: 0 }));
    expect(t.slice(16, 28)).toBe('1423159771  ');
    expect(t.slice(40, 48)).toBe('100755  ');
  });
  it('round-trips through decodeHeader', () => {
    const f = { name: '#1/20', mtime: 999999999999, uid: 999999, gid: 65534, mode: 0o7777, size: 9999999999 };
    const d = decodeHeader(encodeHeader(f), 0);
    expect(d.rawName.trimEnd()).toBe(f.name);
    expect([d.mtime, d.uid, d.gid, d.mode, d.size]).toEqual([f.mtime, f.uid, f.gid, f.mode, f.size]);
  });
  it('refuses values that do not fit their field', () => {
    expect(() => encodeHeader({ name: 'x', size: 10_000_000_000 })).toThrow(RangeError);
    expect(() => encodeHeader({ name: 'a'.repeat(17), size: 0 })).toThrow(RangeError);
    expect(() => encodeHeader({ name: 'x', uid: 1_000_000, size: 0 })).toThrow(RangeError);
  });
});
