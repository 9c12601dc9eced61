// pyc: add-determinism's corpus (v0.7.3 fixtures) as a byte-exact oracle for the canonical
// marshal form. add-determinism leaves pyc headers alone, so the marshal body (bytes after the
// 12/16-byte header) is compared; a file without a `.fixed` must keep its body unchanged.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { classifyMagic, pycHandler } from '../formats/pyc/index.js';
import { PEER } from './helpers.js';

const AD = `${PEER}add-determinism/`;
const STDLIB = `${AD}python_stdlib/`;
const SDE = 1717842014;
const opts = (o = {}) => defaultOptions({ timestamp: SDE, formats: ['pyc'], ...o });
const hsize = (b: Uint8Array): number => {
  const m = classifyMagic(b);
  if (m.kind !== 'supported') throw new Error('not a supported pyc');
  return m.headerSize;
};

function stdlibCases(): Array<{ name: string; path: string; fixed?: string }> {
  const out: Array<{ name: string; path: string; fixed?: string }> = [];
  for (const v of readdirSync(STDLIB).sort()) {
    for (const f of readdirSync(`${STDLIB}${v}`).sort()) {
      if (!f.endsWith('.pyc')) continue;
      const path = `${STDLIB}${v}/${f}`;
      out.push({ name: `${v}/${f}`, path, fixed: existsSync(`${path}.fixed`) ? `${path}.fixed` : undefined });
    }
  }
  return out;
}

const body = (b: Uint8Array) => Buffer.from(b.subarray(hsize(b)));

describe('add-determinism python_stdlib corpus: marshal body byte-equal to .fixed', () => {
  const cases = stdlibCases();
  it('has the 810 files (804 with .fixed)', () => {
    expect(cases.length).toBe(810);
    expect(cases.filter((c) => c.fixed).length).toBe(804);
  });
  it('the default form is add-determinism\'s: every body equals .fixed or stays unchanged; idempotent; magic kept', async () => {
    const bad: string[] = [];
    for (const c of cases) {
      const input = readFileSync(c.path);
      const want = c.fixed ? readFileSync(c.fixed) : input;
      const r = await normalizeBytes(input, c.name, opts(), [pycHandler]);
      if (r.status === 'error' || r.status === 'untouched') bad.push(`${c.name}: ${r.status} ${r.reason}`);
      else if (!body(r.output).equals(body(want))) bad.push(`${c.name}: body differs`);
      if (!Buffer.from(r.output.subarray(0, 4)).equals(input.subarray(0, 4))) bad.push(`${c.name}: magic changed`);
      const again = await normalizeBytes(r.output, c.name, opts(), [pycHandler]);
      if (again.status !== 'unchanged') bad.push(`${c.name}: not idempotent (${again.status})`);
    }
    expect(bad).toEqual([]);
  });
  it('--pyc-sort-sets: equal to .fixed except set item order in < 3.11 pycs; idempotent', async () => {
    const bad: string[] = [];
    const setOrderOnly: string[] = [];
    for (const c of cases) {
      const input = readFileSync(c.path);
      const want = c.fixed ? readFileSync(c.fixed) : input;
      const r = await normalizeBytes(input, c.name, opts({ pycSortSets: true }), [pycHandler]);
      if (r.status === 'error' || r.status === 'untouched') {
        bad.push(`${c.name}: ${r.status} ${r.reason}`);
        continue;
      }
      if (!body(r.output).equals(body(want))) {
        // The only allowed difference: hash-ordered set items, sorted. Then add-determinism's
        // output, normalized by us, is our output, and the version is below 3.11.
        const theirs = await normalizeBytes(want, c.name, opts({ pycSortSets: true }), [pycHandler]);
        const minor = (classifyMagic(input) as { version: { minor: number } }).version.minor;
        if (minor < 11 && body(theirs.output).equals(body(r.output))) setOrderOnly.push(c.name);
        else bad.push(`${c.name}: body differs`);
      }
      if (!Buffer.from(r.output.subarray(0, 4)).equals(input.subarray(0, 4))) bad.push(`${c.name}: magic changed`);
      const again = await normalizeBytes(r.output, c.name, opts({ pycSortSets: true }), [pycHandler]);
      if (again.status !== 'unchanged') bad.push(`${c.name}: not idempotent (${again.status})`);
    }
    expect(bad).toEqual([]);
    // 15 pycs of 3.6-3.10 hold multi-item frozensets in hash order (measured with each CPython:
    // 26 of 35 such sets are not in marshal.dumps order).
    expect(setOrderOnly.length).toBe(15);
  });
});

describe('add-determinism pyc cases: dicto, listo, adapters', () => {
  const run = async (f: string, o = {}) => normalizeBytes(readFileSync(AD + f), f, opts(o), [pycHandler]);
  it('dicto (a dict display) and listo (aliased lists): body unchanged', async () => {
    for (const f of ['dicto.cpython-313.pyc', 'listo.cpython-313.pyc']) {
      const r = await run(f);
      expect(r.status).not.toBe('error');
      expect(body(r.output).equals(body(readFileSync(AD + f)))).toBe(true);
    }
  });
  it('adapters 3.12: equals adapters~fixed (trailing bytes dropped and reported), header kept but mtime', async () => {
    const r = await run('adapters.cpython-312.pyc', { timestamp: undefined });
    const fixed = readFileSync(`${AD}adapters.cpython-312~fixed.pyc`);
    expect(r.status).toBe('changed');
    expect(body(r.output).equals(body(fixed))).toBe(true);
    expect(r.changes.map((c) => c.what).join('\n')).toContain('4 trailing bytes after the marshal data dropped');
    // Without T the source mtime becomes 0; the rest of the header is the input's.
    const want = Buffer.from(fixed);
    want.writeUInt32LE(0, 8);
    expect(Buffer.from(r.output).equals(want)).toBe(true);
  });
  it('adapters~fixed is canonical already (only the header mtime changes)', async () => {
    const r = await run('adapters.cpython-312~fixed.pyc', { timestamp: 1710422792 });
    expect(r.status).toBe('unchanged');
  });
  it('adapters 3.11 ~mtime: equals its .fixed (mtime 0, as pyc-zero-mtime writes it) without T', async () => {
    const r = await run('adapters.cpython-311~mtime.pyc', { timestamp: undefined });
    expect(Buffer.from(r.output).equals(readFileSync(`${AD}adapters.cpython-311~mtime.pyc.fixed`))).toBe(true);
  });
  it('adapters 3.12 opt-1 changes (add-determinism rewrites it too) and is idempotent', async () => {
    const r = await run('adapters.cpython-312.opt-1.pyc');
    expect(r.status).toBe('changed');
    const again = await normalizeBytes(r.output, 'x.pyc', opts(), [pycHandler]);
    expect(again.status).toBe('unchanged');
  });
});
