// Property tests (fast-check) on random archives: idempotence, convergence (same logical
// content under random times, hosts, modes, extra fields, descriptors and member order gives
// the same bytes), and a round trip through Python's zipfile (one batched python3 call).
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTool, norm, tempDir } from './helpers.js';
import { buildZip, type RawEntry } from './zip-helpers.js';
import { pyList } from './zip-py.js';
import { createHash } from 'node:crypto';

interface Member {
  name: string;
  kind: 'file' | 'dir' | 'symlink';
  exec: boolean;
  data: Uint8Array;
  method: 0 | 8;
}

const segment = fc.constantFrom('a', 'b', 'B', 'é', 'x.txt', 'dir', 'Z-1', 'META-INF');
const memberArb: fc.Arbitrary<Member> = fc.record({
  name: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
  kind: fc.constantFrom('file', 'file', 'file', 'dir', 'symlink') as fc.Arbitrary<Member['kind']>,
  exec: fc.boolean(),
  data: fc.uint8Array({ maxLength: 300 }),
  method: fc.constantFrom(0, 8) as fc.Arbitrary<0 | 8>,
});
const contentArb = fc.uniqueArray(memberArb, { selector: (m) => m.name, minLength: 0, maxLength: 8 }).map((ms) =>
  ms.map((m) => (m.kind === 'dir' ? { ...m, name: `${m.name}/`, data: new Uint8Array(0), exec: false } : m.kind === 'symlink' ? { ...m, exec: false } : m)),
);

/** Random metadata for one member that keeps its logical content. */
const noiseArb = fc.record({
  date: fc.integer({ min: 0x0021, max: 0xff9f }),
  time: fc.integer({ min: 0, max: 0xbf7d }),
  unixHost: fc.constantFrom(3, 19),
  dosHost: fc.constantFrom(0, 11, 10),
  useDos: fc.boolean(),
  perm: fc.integer({ min: 0, max: 0o777 }),
  ut: fc.boolean(),
  descriptor: fc.constantFrom(undefined, 'signed', 'plain') as fc.Arbitrary<RawEntry['descriptor']>,
  level: fc.constantFrom(6),
});
type Noise = fc.infer<typeof noiseArb>;

function entryOf(m: Member, n: Noise): RawEntry {
  const utf8 = /[^\x00-\x7f]/.test(m.name) ? 0x800 : 0;
  let perm = n.perm;
  perm = m.exec ? perm | 0o100 : perm & ~0o111;
  const dos = n.useDos && m.kind !== 'symlink' && !(m.kind === 'file' && m.exec);
  const type = m.kind === 'dir' ? 0o040000 : m.kind === 'symlink' ? 0o120000 : 0o100000;
  return {
    name: m.name,
    data: m.data,
    method: m.method,
    date: n.date,
    time: n.time,
    flags: utf8,
    madeBy: ((dos ? n.dosHost : n.unixHost) << 8) | 20,
    external: dos ? (m.kind === 'dir' ? 0x10 : 0x20) : (((type | perm) << 16) | (m.kind === 'dir' ? 0x10 : 0)) >>> 0,
    localExtra: n.ut ? [{ id: 0x5455, data: new Uint8Array([1, n.date & 0xff, 2, 3, 4]) }] : [],
    centralExtra: n.ut ? [{ id: 0x5455, data: new Uint8Array([1, 9, 9, 9, 9]) }] : [],
    descriptor: n.descriptor,
    level: n.level,
  };
}

function variant(ms: Member[], noises: Noise[], perm: number[]): Uint8Array {
  const es = ms.map((m, i) => entryOf(m, noises[i % noises.length]!));
  const order = perm.length ? [...es.keys()].sort((a, b) => (perm[a % perm.length]! - perm[b % perm.length]!) || a - b) : [...es.keys()];
  return buildZip(order.map((i) => es[i]!));
}

const variantArb = fc.tuple(fc.array(noiseArb, { minLength: 1, maxLength: 8 }), fc.array(fc.integer(), { maxLength: 8 }));
const names = ['r.zip', 'r.jar', 'r.whl'];
const tmp = tempDir('detnorm-zip-prop-');
afterAll(() => tmp.cleanup());

describe('property: idempotence', () => {
  it('normalize(normalize(x)) == normalize(x)', async () => {
    await fc.assert(
      fc.asyncProperty(contentArb, variantArb, fc.constantFrom(...names), fc.option(fc.integer({ min: 0, max: 4e9 })), async (ms, [noise, perm], name, ts) => {
        const opts = ts === null ? {} : { timestamp: ts };
        const r = await norm(variant(ms, noise, perm), name, opts);
        expect(r.status, r.reason).toMatch(/changed|unchanged/);
        const again = await norm(r.output, name, opts);
        expect(again.status).toBe('unchanged');
      }),
      { numRuns: 80 },
    );
  });
});

describe('property: convergence', () => {
  it('two random metadata variants of one content give identical bytes', async () => {
    await fc.assert(
      fc.asyncProperty(contentArb, variantArb, variantArb, fc.constantFrom(...names), async (ms, [n1, p1], [n2, p2], name) => {
        const a = await norm(variant(ms, n1, p1), name, { timestamp: 1423159771 });
        const b = await norm(variant(ms, n2, p2), name, { timestamp: 1423159771 });
        expect(Buffer.from(a.output).equals(Buffer.from(b.output))).toBe(true);
      }),
      { numRuns: 80 },
    );
  });
});

describe('property: round trip through Python zipfile', () => {
  it('names, types, exec bits and bytes survive', async () => {
    if (!haveTool('python3')) return;
    const samples = fc.sample(fc.tuple(contentArb, variantArb), { numRuns: 40, seed: 4242 });
    const files: string[] = [];
    const expected: string[][] = [];
    for (const [i, [ms, [noise, perm]]] of samples.entries()) {
      const r = await norm(variant(ms, noise, perm), 'r.zip');
      const f = join(tmp.dir, `s${i}.zip`);
      writeFileSync(f, r.output);
      files.push(f);
      expected.push(ms.map((m) => `${m.name} ${m.kind} ${m.kind === 'file' && m.exec} ${createHash('sha256').update(m.data).digest('hex')}`).sort());
    }
    const py = pyList(files);
    files.forEach((f, i) => {
      expect(py[f]!.ok, py[f]!.error).toBe(true);
      expect(py[f]!.members.map((m) => `${m.name} ${m.kind} ${m.exec} ${m.sha}`).sort()).toEqual(expected[i]);
    });
  });
});
