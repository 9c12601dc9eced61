// Small builders for the safety tests: a ustar archive, a gzip member, a zip of stored or
// deflated members, made in memory so the tests read as the inputs they describe.
import pako from 'pako';
import { crc32 } from '../formats/crc32.js';
import { buildZip, type RawEntry } from './zip-helpers.js';

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar archive of regular files (mtime 1600000000, uid 1000: it needs normalizing). */
export function tarOf(files: ReadonlyArray<{ name: string; data: Uint8Array }> | Uint8Array): Uint8Array {
  const list = files instanceof Uint8Array ? [{ name: 'f', data: files }] : files;
  const parts: Uint8Array[] = [];
  for (const f of list) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    h.write(octal(0o644, 8), 100);
    h.write(octal(1000, 8), 108);
    h.write(octal(1000, 8), 116);
    h.write(octal(f.data.length, 12), 124);
    h.write(octal(1600000000, 12), 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(octal(sum, 7) + ' ', 148);
    parts.push(h, f.data, new Uint8Array((512 - (f.data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, new Uint8Array((10240 - (body.length % 10240)) % 10240)]);
}

/** A gzip member with a name and an mtime (so it always needs normalizing). */
export function gzipOf(payload: Uint8Array, level: 1 | 6 | 9 = 6, xfl = 0): Uint8Array {
  const head = Buffer.from([0x1f, 0x8b, 8, 8, 1, 2, 3, 4, xfl, 3, ...Buffer.from('x'), 0]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(payload) >>> 0, 0);
  trailer.writeUInt32LE(payload.length % 2 ** 32, 4);
  return Buffer.concat([head, pako.deflateRaw(payload, { level }), trailer]);
}

/** A zip whose members are deflated (method 8) unless `stored`. */
export function zipOf(members: ReadonlyArray<{ name: string; data: Uint8Array; stored?: boolean }>): Uint8Array {
  const entries: RawEntry[] = members.map((m) => ({ name: m.name, data: m.data, method: m.stored ? 0 : 8 }));
  return buildZip(entries);
}

/** A GNU ar archive of the given members (mtime 1600000000: it needs normalizing). */
export function arOf(members: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from('!<arch>\n')];
  for (const m of members) {
    const h = `${(m.name + '/').padEnd(16)}${'1600000000'.padEnd(12)}${'1000'.padEnd(6)}${'1000'.padEnd(6)}${'100644'.padEnd(8)}${String(m.data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(h, 'latin1'), m.data);
    if (m.data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** A minimal wheel holding `files` (WHEEL and RECORD included, RECORD last). */
export function wheelOf(files: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array {
  const di = 'pkg-1.0.dist-info';
  const wheel = Buffer.from('Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n');
  const record = Buffer.from([...files.map((f) => `${f.name},,`), `${di}/WHEEL,,`, `${di}/RECORD,,`].join('\n') + '\n');
  return zipOf([...files, { name: `${di}/WHEEL`, data: wheel }, { name: `${di}/RECORD`, data: record }]);
}
