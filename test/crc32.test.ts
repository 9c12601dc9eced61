import { describe, expect, it } from 'vitest';
import { crc32 } from '../formats/crc32.js';
import { haveTool, run } from './helpers.js';

describe('crc32: ISO 3309 CRC-32', () => {
  it('matches the check value of "123456789"', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
  it('is incremental and agrees with python zlib.crc32', () => {
    const data = new Uint8Array(100_000);
    let x = 12345;
    for (let i = 0; i < data.length; i++) data[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const whole = crc32(data);
    expect(crc32(data.subarray(777), crc32(data.subarray(0, 777)))).toBe(whole);
    if (!haveTool('python3')) return;
    const py = run('python3', ['-c', 'import sys,zlib; print(zlib.crc32(sys.stdin.buffer.read()))'], { input: data });
    expect(Number(py.toString().trim())).toBe(whole);
  });
});

describe('native and table CRC-32 agree', () => {
  it('on random data of every small length and in pieces', async () => {
    const { crc32, crc32Tables } = await import('../formats/crc32.js');
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24);
    for (let n = 0; n < 300; n++) expect(crc32(data.subarray(0, n * 16))).toBe(crc32Tables(data.subarray(0, n * 16)));
    const whole = crc32Tables(data);
    expect(crc32(data.subarray(3000), crc32(data.subarray(0, 3000)))).toBe(whole);
  });
});
