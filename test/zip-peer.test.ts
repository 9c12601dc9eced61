// The peers' zip-family fixtures as inputs (corpus/zip/README.md says why none is a byte-exact
// golden of ours): each output is valid for python zipfile and unzip -t, idempotent, keeps every
// member's bytes, type and exec bit, and the cases that must stay unchanged do.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PEER, haveTool, norm, run, tempDir } from './helpers.js';
import { contentOf, pyList } from './zip-py.js';

const SN = `${PEER}strip-nondeterminism/`;
const AD = `${PEER}add-determinism/jars/`;
const tmp = tempDir('detnorm-zip-peer-');
afterAll(() => tmp.cleanup());

interface Case {
  file: string;
  name: string;
  timestamp: number;
  expect: 'changed' | 'untouched' | 'error';
  reason?: RegExp;
}
const cases: Case[] = [
  { file: `${SN}zip/test.zip.in`, name: 'test.zip', timestamp: 1423159771, expect: 'changed' },
  { file: `${SN}zip/encrypted.zip.in`, name: 'encrypted.zip', timestamp: 1423159771, expect: 'untouched', reason: /encrypted/ },
  { file: `${SN}jar/jdependency.jar.in`, name: 'jdependency.jar', timestamp: 1423159771, expect: 'changed' },
  { file: `${SN}jar/android.apk.in`, name: 'android.apk', timestamp: 1423159771, expect: 'untouched', reason: /signed APK/ },
  { file: `${SN}jmod/test1.jmod.in`, name: 'test1.jmod', timestamp: 1423159771, expect: 'changed' },
  { file: `${SN}pyzip/pyzip.in`, name: 'pyzip', timestamp: 1423159771, expect: 'changed' },
  { file: `${SN}_historical/zip/bug_803503.zip.in`, name: 'bug_803503.zip', timestamp: 1423159771, expect: 'error', reason: /name differs/ },
  { file: `${AD}hello.jar`, name: 'hello.jar', timestamp: 1234563300, expect: 'changed' },
  { file: `${AD}clojure.jar`, name: 'clojure.jar', timestamp: 1234563300, expect: 'changed' },
];

describe('peer fixtures: valid, idempotent, content-preserved, unchanged where they must be', () => {
  for (const c of cases) {
    it(`${c.file.slice(PEER.length)} -> ${c.expect}`, async () => {
      const input = readFileSync(c.file);
      const r = await norm(input, c.name, { timestamp: c.timestamp });
      expect(r.status, r.reason).toBe(c.expect);
      if (c.reason) expect(r.reason).toMatch(c.reason);
      if (c.expect !== 'changed') {
        expect(Buffer.from(r.output).equals(input)).toBe(true);
        return;
      }
      const again = await norm(r.output, c.name, { timestamp: c.timestamp });
      expect(again.status).toBe('unchanged');
      const a = join(tmp.dir, `in-${c.name}`);
      const b = join(tmp.dir, `out-${c.name}`);
      writeFileSync(a, input);
      writeFileSync(b, r.output);
      if (haveTool('python3')) {
        const py = pyList([a, b]);
        expect(py[b]!.ok, py[b]!.error).toBe(true);
        // Java jars carry no Unix modes: compare types and bytes; exec bits must match where known.
        expect(contentOf(py[b]!)).toEqual(contentOf(py[a]!));
      }
      if (haveTool('unzip')) {
        const t = run('unzip', ['-t', b]).toString();
        expect(t).toMatch(/No errors detected/);
        expect(t).not.toMatch(/warning/i);
      }
    });
  }
  it.runIf(haveTool('python3'))('add-determinism: .clj members 2 s older than the classes, as in their .fixed', async () => {
    const r = await norm(readFileSync(`${AD}clojure.jar`), 'clojure.jar', { timestamp: 1234563300 });
    const p = join(tmp.dir, 'clj.jar');
    const f = join(tmp.dir, 'clj.fixed.jar');
    writeFileSync(p, r.output);
    writeFileSync(f, readFileSync(`${AD}clojure.jar.fixed`));
    const py = pyList([p, f]);
    const times = (x: string) => Object.fromEntries(py[x]!.members.map((m) => [m.name, m.time.join(',')]));
    expect(times(p)).toEqual(times(f));
  });
});
