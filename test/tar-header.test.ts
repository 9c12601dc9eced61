// header.ts and pax.ts, field by field against blocks GNU tar 1.34 writes at test time.
import { execFileSync } from 'node:child_process';
import { writeFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  F,
  base256Field,
  checksumOk,
  decodeHeader,
  encodeHeader,
  numericField,
  octalField,
  parseNumeric,
  splitUstarName,
  type HeaderFields,
  type TarFormat,
} from '../formats/tar/header.js';
import { parsePax, paxRecord, serializePax } from '../formats/tar/pax.js';
import { compareNames, mapPath, sortByName } from '../formats/tar/order.js';
import { paxHeaderName } from '../formats/tar/writer.js';
import { FormatError } from '../src/types.js';
import { haveTool, tempDir } from './helpers.js';

const ok = haveTool('tar');
const tmp = tempDir('detnorm-tar-header-');
afterAll(() => tmp.cleanup());

/** GNU tar's header block for one member made with the given flags. */
function gnuBlock(format: TarFormat, make: (dir: string) => string, flags: string[]): { block: Uint8Array; all: Buffer } {
  const dir = join(tmp.dir, `h${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  const name = make(dir);
  const all = execFileSync('tar', ['-C', dir, `--format=${format}`, '--numeric-owner', ...flags, '-cf', '-', name]);
  return { block: all.subarray(0, 512), all };
}

describe.skipIf(!ok)('numeric fields: octal width-1 digits + NUL, GNU base-256 when out of range', () => {
  it('mode, uid, gid, size, mtime of a GNU-tar ustar header decode and re-encode byte for byte', () => {
    for (const format of ['ustar', 'gnu', 'posix'] as const) {
      const { block } = gnuBlock(
        format,
        (d) => {
          writeFileSync(join(d, 'f'), 'x'.repeat(1234));
          execFileSync('touch', ['-d', '@1423159771', join(d, 'f')]);
          return 'f';
        },
        ['--owner=7', '--group=8', '--mode=0640', ...(format === 'posix' ? ['--pax-option=delete=atime,delete=ctime'] : [])],
      );
      const h = decodeHeader(block, 0);
      expect([h.mode, h.uid, h.gid, h.size, h.mtime, h.typeflag]).toEqual([0o640, 7, 8, 1234, 1423159771, '0']);
      expect(Buffer.from(block.subarray(100, 108)).toString('latin1')).toBe('0000640\0');
      const fields: HeaderFields = { name: 'f', mode: 0o640, uid: 7, gid: 8, size: 1234, mtime: 1423159771, typeflag: '0', linkname: '', uname: '', gname: '' };
      if (format !== 'gnu') fields.devmajor = fields.devminor = 0;
      expect(Buffer.from(encodeHeader(fields, format)).equals(Buffer.from(block))).toBe(true);
    }
  });

  it('uid 3000000 (> 2^21) and a negative mtime in GNU format are base-256, and round-trip', () => {
    const { block } = gnuBlock(
      'gnu',
      (d) => {
        writeFileSync(join(d, 'old'), '');
        execFileSync('touch', ['-d', '1960-05-01 UTC', join(d, 'old')]);
        return 'old';
      },
      ['--owner=3000000', '--group=2097152'],
    );
    expect(block[F.uid[0]]).toBe(0x80);
    expect(block[F.mtime[0]]).toBe(0xff);
    const h = decodeHeader(block, 0);
    expect(h.uid).toBe(3000000);
    expect(h.gid).toBe(2097152);
    expect(h.mtime).toBe(-305164800);
    expect(Buffer.from(base256Field(3000000, 8)!).equals(Buffer.from(block.subarray(108, 116)))).toBe(true);
    expect(Buffer.from(base256Field(-305164800, 12)!).equals(Buffer.from(block.subarray(136, 148)))).toBe(true);
    const fields: HeaderFields = { name: 'old', mode: 0o644, uid: 3000000, gid: 2097152, size: 0, mtime: -305164800, typeflag: '0', linkname: '', uname: '', gname: '' };
    expect(Buffer.from(encodeHeader(fields, 'gnu')).equals(Buffer.from(block))).toBe(true);
  });

  it('octal fills width-1 digits; out-of-range is undefined outside GNU', () => {
    expect(Buffer.from(octalField(0o644, 8)!).toString('latin1')).toBe('0000644\0');
    expect(octalField(8 ** 11, 12)).toBeUndefined();
    expect(numericField(8 ** 11, 12, 'ustar')).toBeUndefined();
    expect(numericField(-1, 12, 'posix')).toBeUndefined();
    expect(numericField(8 ** 11, 12, 'gnu')![0]).toBe(0x80);
  });

  it('parses leading spaces and space/NUL terminators; rejects junk and overflow', () => {
    const b = new Uint8Array(512);
    b.set(Buffer.from('  644 \0\0'), 100);
    expect(parseNumeric(b, F.mode, 'mode', 0)).toBe(0o644);
    b.set(Buffer.from('12x4\0\0\0\0'), 100);
    expect(() => parseNumeric(b, F.mode, 'mode', 0)).toThrow(FormatError);
    b.set([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 124);
    expect(() => parseNumeric(b, F.size, 'size', 0)).toThrow(/out of range/);
  });
});

describe.skipIf(!ok)('checksum "%06o\\0 ", magic, devmajor/devminor as GNU tar writes them', () => {
  it('GNU format: magic "ustar  \\0", no device fields on regular members', () => {
    const { block } = gnuBlock('gnu', (d) => (writeFileSync(join(d, 'f'), ''), 'f'), []);
    expect(Buffer.from(block.subarray(257, 265)).toString('latin1')).toBe('ustar  \0');
    expect([...block.subarray(329, 345)].every((x) => x === 0)).toBe(true);
    expect(block[154]).toBe(0);
    expect(block[155]).toBe(0x20);
    expect(checksumOk(block)).toBe(true);
  });
  it('ustar: "ustar\\0" "00", devmajor/devminor "0000000\\0"', () => {
    const { block } = gnuBlock('ustar', (d) => (writeFileSync(join(d, 'f'), ''), 'f'), []);
    expect(Buffer.from(block.subarray(257, 265)).toString('latin1')).toBe('ustar\x0000');
    expect(Buffer.from(block.subarray(329, 337)).toString('latin1')).toBe('0000000\0');
  });
  it('a corrupted byte fails the checksum', () => {
    const { block } = gnuBlock('ustar', (d) => (writeFileSync(join(d, 'f'), ''), 'f'), []);
    const bad = Uint8Array.from(block);
    bad[0] ^= 1;
    expect(checksumOk(bad)).toBe(false);
    expect(() => decodeHeader(bad, 1024)).toThrow(/bad header checksum at offset 1024/);
  });
});

describe.skipIf(!ok)('ustar prefix split as GNU split_long_name', () => {
  it('matches GNU tar on a 125-byte path and a 124-byte directory', () => {
    const d60 = 'd'.repeat(60);
    const e60 = 'e'.repeat(60);
    const { all } = gnuBlock(
      'ustar',
      (d) => {
        mkdirSync(join(d, d60, e60), { recursive: true });
        writeFileSync(join(d, d60, e60, 'f'), '');
        return d60;
      },
      ['--sort=name'],
    );
    const blocks = [0, 512, 1024].map((o) => all.subarray(o, o + 512));
    const dir = splitUstarName(`${d60}/${e60}/`)!;
    expect(dir).toEqual({ prefix: d60, name: `${e60}/` });
    expect(Buffer.from(blocks[1]!.subarray(345, 345 + d60.length)).toString()).toBe(d60);
    expect(splitUstarName(`${d60}/${e60}/f`)).toEqual({ prefix: `${d60}/${e60}`, name: 'f' });
    expect(decodeHeader(blocks[2]!, 0).name).toBe('f');
    expect(splitUstarName('x'.repeat(101))).toBeUndefined();
  });
});

describe.skipIf(!ok)('pax records: "%d %s=%s\\n" with a self-including length, as GNU xheader', () => {
  it('serializes like GNU tar (path and linkpath records of a posix archive)', () => {
    const target = 'T'.repeat(105);
    const name = 'N'.repeat(110);
    const { all } = gnuBlock(
      'posix',
      (d) => {
        symlinkSync(target, join(d, name));
        execFileSync('touch', ['-h', '-d', '@1423159771', join(d, name)]);
        return name;
      },
      ['--pax-option=delete=atime,delete=ctime'],
    );
    const size = parseInt(Buffer.from(all.subarray(124, 135)).toString(), 8);
    const data = all.subarray(512, 512 + size);
    expect(Buffer.from(serializePax([{ key: 'linkpath', value: target }, { key: 'path', value: name }])).equals(data)).toBe(true);
    expect(parsePax(data, 0)).toEqual([
      { key: 'linkpath', value: target },
      { key: 'path', value: name },
    ]);
  });
  it('length digits roll over correctly (9 -> 10, 99 -> 100)', () => {
    for (let n = 0; n < 200; n++) {
      const r = paxRecord('k', 'v'.repeat(n));
      expect(Number(r.split(' ')[0])).toBe(Buffer.byteLength(r));
    }
  });
  it('bad lengths are FormatErrors', () => {
    for (const bad of ['5 a=b\n', '99 path=x\n', 'x path=y\n', '9 pathy\n', '10 path=xy', '0 =\n']) {
      expect(() => parsePax(Buffer.from(bad), 0), bad).toThrow(FormatError);
    }
  });
});

describe('GNU --sort=name order and --map-path', () => {
  it('sorts per directory, a directory before its contents', () => {
    const names = ['./d1-x.txt', './d1/x', './d1/', './', './a', './d1/x/y'];
    expect(sortByName(names.map((name) => ({ name }))).map((x) => x.name)).toEqual(['./', './a', './d1/', './d1/x', './d1/x/y', './d1-x.txt']);
    expect(compareNames('a/b', 'a-b')).toBeLessThan(0);
    expect(compareNames('\xc3\xa9', 'z')).toBeGreaterThan(0); // bytewise, not locale
  });
  it('maps the longest prefix at a component boundary', () => {
    const maps = [
      { from: '/build/x', to: '/src' },
      { from: '/build/x/out', to: '/out' },
    ];
    expect(mapPath('/build/x/out/a', maps)).toBe('/out/a');
    expect(mapPath('/build/x/b', maps)).toBe('/src/b');
    expect(mapPath('/build/xy/b', maps)).toBe('/build/xy/b');
    expect(mapPath('/build/x', maps)).toBe('/src');
  });
  it('names extended headers %d/PaxHeaders/%f', () => {
    expect(paxHeaderName('./a/b')).toBe('./a/PaxHeaders/b');
    expect(paxHeaderName('./a/dir/')).toBe('./a/PaxHeaders/dir');
    expect(paxHeaderName('top')).toBe('./PaxHeaders/top');
  });
});
