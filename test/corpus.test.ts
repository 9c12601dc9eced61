// Golden harness: every case in corpus/<family>/ is an input; `<case>.out` is its expected
// output (absent: it must come back unchanged), `<case>.json` its options, `<case>.error`
// (optional) a substring of the reason when the case must be rejected and left untouched.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { optionsFromJson } from '../src/options.js';
import { HANDLERS } from '../formats/index.js';

const ROOT = new URL('../corpus/', import.meta.url).pathname;
const SIDE = /\.(out|json|error|md)$/;

function cases(): Array<{ family: string; file: string }> {
  const out: Array<{ family: string; file: string }> = [];
  for (const family of readdirSync(ROOT).sort()) {
    const dir = join(ROOT, family);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir).sort()) {
      const p = join(dir, f);
      if (statSync(p).isFile() && !SIDE.test(f)) out.push({ family, file: p });
    }
  }
  return out;
}

const all = cases();

describe('golden corpus: byte equality, idempotence, second run unchanged', () => {
  it('has cases', () => expect(all.length).toBeGreaterThan(0));
  for (const { family, file } of all) {
    const name = file.slice(ROOT.length);
    it(`${name}`, async () => {
      const input = readFileSync(file);
      const options = optionsFromJson(existsSync(`${file}.json`) ? JSON.parse(readFileSync(`${file}.json`, 'utf8')) : {});
      const base = file.slice(file.lastIndexOf('/') + 1);
      const r = await normalizeBytes(input, base, options, HANDLERS);
      if (existsSync(`${file}.error`)) {
        const want = readFileSync(`${file}.error`, 'utf8').trim();
        expect(['error', 'untouched']).toContain(r.status);
        expect(r.reason ?? '').toContain(want);
        expect(Buffer.compare(r.output, input)).toBe(0);
        return;
      }
      expect(r.status, `${family}: ${r.reason ?? ''}`).not.toBe('error');
      const expected = existsSync(`${file}.out`) ? readFileSync(`${file}.out`) : input;
      expect(Buffer.from(r.output).equals(expected), `${name}: output differs from golden`).toBe(true);
      const again = await normalizeBytes(r.output, base, options, HANDLERS);
      expect(again.status, 'second run must report unchanged').toMatch(/unchanged|untouched|ignored/);
      expect(Buffer.from(again.output).equals(expected)).toBe(true);
    });
  }
});
