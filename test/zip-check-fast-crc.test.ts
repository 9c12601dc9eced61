// --check on a canonical archive whose only fault is a member CRC that does not match its data:
// the members --check inflates (a jar's manifest, a member a nested handler claims) still
// report the CRC mismatch, whatever shortcut the no-change path takes (issue 20).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { normalizeFile } from '../src/api.js';
import { norm, tempDir } from './helpers.js';
import { buildZip, type RawEntry } from './zip-helpers.js';

const T = 1423159771;
const enc = new TextEncoder();

/** Set member `name`'s CRC in its local and central headers (they agree, so the reader accepts the archive). */
function withCrc(z: Uint8Array, name: string, crc: number): Uint8Array {
  const b = Uint8Array.from(z);
  const v = new DataView(b.buffer);
  const n = enc.encode(name);
  let hits = 0;
  const nameAt = (at: number, len: number) => len === n.length && n.every((c, i) => b[at + i] === c);
  for (let p = 0; p + 46 <= b.length; p++) {
    const sig = v.getUint32(p, true);
    if (sig === 0x04034b50 && nameAt(p + 30, v.getUint16(p + 26, true))) {
      v.setUint32(p + 14, crc, true);
      hits++;
    } else if (sig === 0x02014b50 && nameAt(p + 46, v.getUint16(p + 28, true))) {
      v.setUint32(p + 16, crc, true);
      hits++;
    }
  }
  if (hits !== 2) throw new Error(`${name}: ${hits} headers found`);
  return b;
}

/** A canonical archive (detnorm's own output) of these entries. */
async function canonical(entries: RawEntry[], name: string): Promise<Uint8Array> {
  const r = await norm(buildZip(entries), name, { timestamp: T });
  expect(r.status).toBe('changed');
  expect((await norm(r.output, name, { timestamp: T })).status).toBe('unchanged');
  return r.output;
}

const classBytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

describe('zip --check: a member CRC that disagrees with its data is still found', () => {
  const cases: Array<{ what: string; file: string; member: string; entries: () => RawEntry[] }> = [
    {
      what: 'a deflated jar manifest',
      file: 'a.jar',
      member: 'META-INF/MANIFEST.MF',
      entries: () => [
        { name: 'META-INF/', data: '' },
        { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n', method: 8 },
        { name: 'a/B.class', data: classBytes(3000), method: 8 },
      ],
    },
    {
      what: 'a deflated nested gzip member',
      file: 'a.zip',
      member: 'x.gz',
      entries: () => [
        { name: 'a.txt', data: 'hello\n' },
        { name: 'x.gz', data: gzipSync(Buffer.from('nested\n'.repeat(100)), { level: 9 }), method: 8 },
      ],
    },
  ];
  for (const c of cases) {
    it(`${c.what}: canonical with its CRC unchanged, an error naming the CRC mismatch when it is wrong`, async () => {
      const good = await canonical(c.entries(), c.file);
      const bad = withCrc(good, c.member, 0x12345678);
      const r = await norm(bad, c.file, { timestamp: T });
      expect(r.status).toBe('error');
      expect(r.reason).toMatch(new RegExp(`${c.member.replace(/\./g, '\\.')}.*CRC mismatch`));
      // The file a --check run sees: reported as an error, and the file is not touched.
      const { dir, cleanup } = tempDir();
      try {
        const p = join(dir, c.file);
        writeFileSync(p, bad);
        const rep = await normalizeFile(p, { check: true, timestamp: T });
        expect(rep.status).toBe('error');
        expect(rep.reason).toMatch(/CRC mismatch/);
        writeFileSync(p, good);
        expect((await normalizeFile(p, { check: true, timestamp: T })).status).toBe('unchanged');
      } finally {
        cleanup();
      }
    });
  }
});
