// zip records, DOS time, CRC-32, and the text rules (MANIFEST.MF, .properties, wheel RECORD),
// field by field.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../formats/crc32.js';
import { DOS_MAX, ZIP_NO_TIME, fromDos, toDos } from '../formats/zip/dostime.js';
import { cleanManifest } from '../formats/zip/manifest.js';
import { removeDateComment } from '../formats/zip/properties.js';
import { rewriteRecord } from '../formats/zip/record.js';
import {
  decodeCentral,
  decodeDescriptor,
  decodeEocd,
  decodeExtra,
  decodeLocal,
  decodeZip64Eocd,
  decodeZip64Extra,
  decodeZip64Locator,
  encodeCentral,
  encodeEocd,
  encodeExtra,
  encodeLocal,
  encodeZip64Eocd,
  encodeZip64Extra,
  encodeZip64Locator,
} from '../formats/zip/records.js';
import { FormatError } from '../src/types.js';
import { PEER } from './helpers.js';

const CORPUS = new URL('../corpus/zip/', import.meta.url).pathname;

describe('local file header (APPNOTE 4.3.7)', () => {
  it('decodes every field of a real Info-ZIP header', () => {
    const b = readFileSync(`${CORPUS}infozip.zip`);
    const h = decodeLocal(b.subarray(0, 30));
    expect(h.versionNeeded).toBe(10);
    expect(h.flags).toBe(0);
    expect(h.method).toBe(0);
    // 05:06:07 UTC written as New York local time, rounded up to even seconds by Info-ZIP
    expect(fromDos(h.date, h.time)).toBe(Date.UTC(2021, 2, 4, 0, 6, 8) / 1000);
    expect(h.compressedSize).toBe(0);
    expect(h.nameLength).toBe(4); // "pkg/"
    expect(h.extraLength).toBe(28); // UT (9+4) + ux (11+4)
    expect(Buffer.from(b.subarray(30, 34)).toString()).toBe('pkg/');
  });
  it('round-trips each field at its offset', () => {
    const h = { versionNeeded: 0x2d, flags: 0x0808, method: 8, time: 0x1234, date: 0x5678, crc: 0xdeadbeef, compressedSize: 0x01020304, uncompressedSize: 0x05060708, nameLength: 0x0a0b, extraLength: 0x0c0d };
    const b = encodeLocal(h);
    expect(b.length).toBe(30);
    expect([...b.subarray(0, 4)]).toEqual([0x50, 0x4b, 3, 4]);
    expect([...b.subarray(4, 6)]).toEqual([0x2d, 0]);
    expect([...b.subarray(6, 8)]).toEqual([0x08, 0x08]);
    expect([...b.subarray(14, 18)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect([...b.subarray(18, 22)]).toEqual([4, 3, 2, 1]);
    expect([...b.subarray(22, 26)]).toEqual([8, 7, 6, 5]);
    expect([...b.subarray(26, 30)]).toEqual([0x0b, 0x0a, 0x0d, 0x0c]);
    expect(decodeLocal(b)).toEqual(h);
  });
  it('rejects a wrong signature and a short buffer with FormatError', () => {
    expect(() => decodeLocal(new Uint8Array(30))).toThrow(FormatError);
    expect(() => decodeLocal(new Uint8Array(10))).toThrow(/truncated/);
  });
});

describe('central directory header (APPNOTE 4.3.12)', () => {
  it('round-trips each field at its offset', () => {
    const h = {
      versionMadeBy: 0x031e, versionNeeded: 20, flags: 0x800, method: 8, time: 1, date: 2, crc: 3, compressedSize: 4, uncompressedSize: 5,
      nameLength: 6, extraLength: 7, commentLength: 8, diskStart: 9, internalAttributes: 10, externalAttributes: 0x81ed0000, localOffset: 0xfffffffe,
    };
    const b = encodeCentral(h);
    expect(b.length).toBe(46);
    expect([...b.subarray(0, 4)]).toEqual([0x50, 0x4b, 1, 2]);
    expect([...b.subarray(4, 6)]).toEqual([0x1e, 3]);
    expect([...b.subarray(32, 34)]).toEqual([8, 0]);
    expect([...b.subarray(38, 42)]).toEqual([0, 0, 0xed, 0x81]);
    expect([...b.subarray(42, 46)]).toEqual([0xfe, 0xff, 0xff, 0xff]);
    expect(decodeCentral(b)).toEqual(h);
  });
});

describe('end records (APPNOTE 4.3.14-4.3.16)', () => {
  it('EOCD round-trips', () => {
    const e = { disk: 0, cdDisk: 0, entriesOnDisk: 3, entries: 3, cdSize: 100, cdOffset: 200, commentLength: 5 };
    const b = encodeEocd(e);
    expect(b.length).toBe(22);
    expect([...b.subarray(16, 20)]).toEqual([200, 0, 0, 0]);
    expect(decodeEocd(b)).toEqual(e);
  });
  it('zip64 EOCD and locator round-trip with values over 32 bits', () => {
    const z = { recordSize: 44, versionMadeBy: 0x031e, versionNeeded: 45, disk: 0, cdDisk: 0, entriesOnDisk: 70000, entries: 70000, cdSize: 5e9, cdOffset: 6e9 };
    const b = encodeZip64Eocd(z);
    expect(b.length).toBe(56);
    expect(decodeZip64Eocd(b)).toEqual(z);
    const l = { cdDisk: 0, eocdOffset: 2 ** 40, disks: 1 };
    expect(decodeZip64Locator(encodeZip64Locator(l))).toEqual(l);
  });
});

describe('extra fields (APPNOTE 4.5)', () => {
  it('splits and joins fields', () => {
    const f = [{ id: 0x5455, data: new Uint8Array([1, 2, 3, 4, 5]) }, { id: 0x7875, data: new Uint8Array(0) }];
    const b = encodeExtra(f);
    expect(b.length).toBe(13);
    expect(decodeExtra(b).map((x) => ({ id: x.id, data: x.data }))).toEqual(f);
  });
  it('accepts zero padding (old zipalign) and rejects an overrun', () => {
    expect(decodeExtra(new Uint8Array([0, 0, 0]))).toEqual([]);
    expect(() => decodeExtra(new Uint8Array([1, 0, 9, 0, 1]))).toThrow(/overruns/);
  });
  it('zip64 extra holds only the maxed fields, in order', () => {
    const f = encodeZip64Extra({ uncompressedSize: 2 ** 33, localOffset: 2 ** 34 });
    expect(f.data.length).toBe(16);
    expect(decodeZip64Extra(f.data, { uncompressedSize: true, compressedSize: false, localOffset: true, diskStart: false })).toEqual({
      uncompressedSize: 2 ** 33,
      localOffset: 2 ** 34,
    });
    expect(() => decodeZip64Extra(f.data, { uncompressedSize: true, compressedSize: true, localOffset: true, diskStart: false })).toThrow(/too short/);
  });
});

describe('data descriptor (APPNOTE 4.3.9)', () => {
  const want = { crc: 0x11223344, compressedSize: 10, uncompressedSize: 20 };
  it('finds the signed and unsigned, 32- and 64-bit layouts', () => {
    const signed = new Uint8Array([0x50, 0x4b, 7, 8, 0x44, 0x33, 0x22, 0x11, 10, 0, 0, 0, 20, 0, 0, 0]);
    expect(decodeDescriptor(signed, want)?.length).toBe(16);
    expect(decodeDescriptor(signed.subarray(4), want)?.length).toBe(12);
    const wide = new Uint8Array(24);
    wide.set([0x50, 0x4b, 7, 8, 0x44, 0x33, 0x22, 0x11, 10, 0, 0, 0, 0, 0, 0, 0, 20]);
    expect(decodeDescriptor(wide, want)?.length).toBe(24);
    expect(decodeDescriptor(signed, { ...want, crc: 1 })).toBeUndefined();
  });
});

describe('DOS date/time as UTC (DESIGN.md 3)', () => {
  it('no time is 1980-01-01 12:01:00 UTC', () => {
    expect(toDos(ZIP_NO_TIME)).toEqual({ date: (0 << 9) | (1 << 5) | 1, time: (12 << 11) | (1 << 5) });
  });
  it('floors odd seconds, clamps below the floor and above 2107', () => {
    expect(fromDos(...(Object.values(toDos(1423159771)) as [number, number]))).toBe(1423159770);
    expect(toDos(0)).toEqual(toDos(ZIP_NO_TIME));
    expect(fromDos(toDos(2 ** 40).date, toDos(2 ** 40).time)).toBe(DOS_MAX);
  });
  it('round-trips every 2-second instant it can hold', () => {
    for (const t of [ZIP_NO_TIME, 1e9, 1234563300, 1700000000, DOS_MAX]) {
      const d = toDos(t);
      expect(fromDos(d.date, d.time)).toBe(t);
    }
  });
});

describe('CRC-32', () => {
  it('matches the check value and continues across chunks', () => {
    const b = new TextEncoder().encode('123456789');
    expect(crc32(b)).toBe(0xcbf43926);
    expect(crc32(b.subarray(5), crc32(b.subarray(0, 5)))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('MANIFEST.MF: build time, host and user headers removed with their continuation lines', () => {
  it('keeps wrapping and line ends of everything else', () => {
    const m =
      'Manifest-Version: 1.0\r\nBuilt-By: me\r\nBuild-Time: 2024-01-02T03:04:05Z and a very long value that has to be wr\r\n apped at 72\r\nMain-Class: a.B\r\nClass-Path: x.jar y\r\n .jar\r\n\r\nName: a/B.class\r\nBnd-LastModified: 1\r\nSHA-256-Digest: abc\r\n\r\n';
    const r = cleanManifest(m);
    expect(r.removed).toEqual(['Built-By', 'Build-Time', 'Bnd-LastModified']);
    expect(r.text).toBe('Manifest-Version: 1.0\r\nMain-Class: a.B\r\nClass-Path: x.jar y\r\n .jar\r\n\r\nName: a/B.class\r\nSHA-256-Digest: abc\r\n\r\n');
  });
  it('leaves a manifest without such headers byte for byte', () => {
    const m = 'Manifest-Version: 1.0\nBuild-Jdk: 17\nCreated-By: Maven\n';
    expect(cleanManifest(m)).toEqual({ text: m, removed: [] });
  });
});

describe('.properties: the Properties.store date comment', () => {
  it('removes the date line, keeps the other comment', () => {
    expect(removeDateComment('#Generated by Maven\n#Mon Oct 27 09:12:51 UTC 2014                  \nversion=2.4\n')).toBe('#Generated by Maven\nversion=2.4\n');
    expect(removeDateComment('#Tue May 22 16:35:53 CEST 2012\r\na=b\r\n')).toBe('a=b\r\n');
  });
  it('leaves other comments and values alone', () => {
    expect(removeDateComment('#just a comment\na=#Mon Oct 27 09:12:51 UTC 2014\n')).toBeUndefined();
  });
  it('agrees with strip-nondeterminism on its javaproperties cases', () => {
    const dir = `${PEER}strip-nondeterminism/_historical/javaproperties/`;
    for (const n of ['configuration', 'pom', 'version']) {
      const input = readFileSync(`${dir}${n}.properties.in`, 'latin1');
      expect(removeDateComment(input)).toBe(readFileSync(`${dir}${n}.properties.out`, 'latin1'));
    }
  });
});

describe('wheel RECORD rows', () => {
  it('rewrites changed rows and follows archive order, RECORD last', () => {
    const rec = 'b.py,sha256=B,2\n"we,ird.py",sha256=W,3\npkg-1.dist-info/RECORD,,\na.py,sha256=A,1\n';
    const out = rewriteRecord(rec, new Map([['we,ird.py', { hash: 'NEW', size: 9 }]]), ['a.py', 'b.py', 'we,ird.py', 'pkg-1.dist-info/RECORD']);
    expect(out).toBe('a.py,sha256=A,1\nb.py,sha256=B,2\n"we,ird.py",sha256=NEW,9\npkg-1.dist-info/RECORD,,\n');
  });
  it('is a no-op on a canonical RECORD', () => {
    const rec = 'a.py,sha256=A,1\r\npkg-1.dist-info/RECORD,,\r\n';
    expect(rewriteRecord(rec, new Map(), ['a.py', 'pkg-1.dist-info/RECORD'])).toBe(rec);
  });
});
