// pyc header policy (PEP 552) and --pyc-invalidation; SipHash against each CPython's
// importlib.util.source_hash; the source path a pyc belongs to (for the core's mtime step).
import { existsSync, readFileSync, readdirSync, writeFileSync, utimesSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { pycHandler, pycSourceFor, pycSourceRelative, sourceMtimeFor } from '../formats/pyc/index.js';
import { sourceHash } from '../formats/pyc/siphash.js';
import { classifyMagic } from '../formats/pyc/magic.js';
import { HANDLERS } from '../formats/index.js';
import { PEER, haveTool, tempDir } from './helpers.js';
import { fakeContext, python, runPyc } from './pyc-python.js';

const AD = `${PEER}add-determinism/`;
const run = (b: Uint8Array, o = {}) => normalizeBytes(b, 'm.cpython-311.pyc', defaultOptions({ formats: ['pyc'], ...o }), [pycHandler]);
const u32 = (b: Uint8Array, at: number) => Buffer.from(b).readUInt32LE(at);

describe('timestamp pycs: the source mtime becomes T', () => {
  const input = readFileSync(`${AD}adapters.cpython-311~mtime.pyc`); // mtime 1720707393
  it('T replaces it; without T it is 0; --clamp keeps earlier times', async () => {
    expect(u32((await run(input, { timestamp: 1800000000 })).output, 8)).toBe(1800000000);
    expect(u32((await run(input)).output, 8)).toBe(0);
    expect(u32((await run(input, { timestamp: 1800000000, clamp: true })).output, 8)).toBe(1720707393);
    expect(u32((await run(input, { timestamp: 1700000000, clamp: true })).output, 8)).toBe(1700000000);
  });
  it('the source size, flags and magic are kept; the change is reported', async () => {
    const r = await run(input, { timestamp: 5 });
    expect(Buffer.from(r.output.subarray(0, 8)).equals(input.subarray(0, 8))).toBe(true);
    expect(u32(r.output, 12)).toBe(u32(input, 12));
    expect(r.changes).toContainEqual({ kind: 'timestamp', what: 'source mtime 1720707393 -> 5' });
  });
  it('3.6 pycs have a 12-byte header: mtime at offset 4', async () => {
    const i36 = readFileSync(`${AD}adapters.cpython-36~mtime.pyc`);
    const r = await normalizeBytes(i36, 'a.pyc', defaultOptions({ formats: ['pyc'], timestamp: 7 }), [pycHandler]);
    expect(u32(r.output, 4)).toBe(7);
    expect(u32(r.output, 8)).toBe(u32(i36, 8));
  });
});

describe('hash-based pycs keep their header', () => {
  it('checked-hash pyc: header bytes unchanged with any T', async () => {
    const h = Buffer.from(readFileSync(`${AD}adapters.cpython-311~mtime.pyc`));
    h.writeUInt32LE(3, 4); // flags: hash-based, check_source; bytes 8..16 are now "the hash"
    const r = await run(h, { timestamp: 1 });
    expect(Buffer.from(r.output.subarray(0, 16)).equals(h.subarray(0, 16))).toBe(true);
  });
  it('unknown flag bits are rejected, like importlib does', async () => {
    const h = Buffer.from(readFileSync(`${AD}adapters.cpython-311~mtime.pyc`));
    h.writeUInt32LE(4, 4);
    const r = await run(h);
    expect(r.status).toBe('error');
    expect(r.reason).toContain('invalid pyc flags 0x4');
  });
});

describe('Python 2, unknown and non-pyc inputs', () => {
  it('a Python 2.7 pyc is untouched with a reason', async () => {
    const p2 = Buffer.concat([Buffer.from('03f30d0a00000000', 'hex'), Buffer.from('630000000000', 'hex')]);
    expect(pycHandler.detect({ name: 'x.pyc', size: p2.length, head: p2, tail: p2 })).toBe(true);
    const r = await normalizeBytes(p2, 'x.pyc', defaultOptions({ formats: ['pyc'] }), [pycHandler]);
    expect(r.status).toBe('untouched');
    expect(r.reason).toContain('Python 2 pyc');
  });
  it('a magic newer than 3.14 is untouched (claimed by the .pyc extension)', async () => {
    const p = Buffer.concat([Buffer.from('5a0e0d0a', 'hex'), Buffer.alloc(13)]);
    expect(classifyMagic(p).kind).toBe('unsupported');
    const r = await normalizeBytes(p, 'x.pyc', defaultOptions({ formats: ['pyc'] }), [pycHandler]);
    expect(r.status).toBe('untouched');
    expect(r.reason).toContain('newer than Python 3.14');
  });
  it('a .pyc that is not a pyc is an error; random text is not detected', async () => {
    const r = await normalizeBytes(Buffer.from('hello world\n'), 'x.pyc', defaultOptions({ formats: ['pyc'] }), [pycHandler]);
    expect(r.status).toBe('error');
    const txt = Buffer.from('ab\r\nsome text file');
    expect(pycHandler.detect({ name: 'x.txt', size: txt.length, head: txt, tail: txt })).toBe(false);
  });
  it('is registered in the handler list', () => {
    expect(HANDLERS.some((h) => h.name === 'pyc')).toBe(true);
  });
});

describe('where the source of a pyc is (for the core to set its mtime)', () => {
  it('maps PEP 3147 and legacy names', () => {
    expect(pycSourceFor('a/b/__pycache__/mod.cpython-311.pyc')).toBe('a/b/mod.py');
    expect(pycSourceFor('/x/__pycache__/mod.cpython-312.opt-2.pyc')).toBe('/x/mod.py');
    expect(pycSourceFor('__pycache__/__init__.cpython-36.pyc')).toBe('__init__.py');
    expect(pycSourceFor('a/mod.pyc')).toBe('a/mod.py');
    expect(pycSourceFor('mod.pyc')).toBe('mod.py');
    expect(pycSourceFor('a/__pycache__/mod.pyc')).toBeUndefined();
    expect(pycSourceFor('a/mod.cpython-311.pyc')).toBeUndefined();
    expect(pycSourceRelative('a/__pycache__/mod.cpython-311.pyc')).toBe('../mod.py');
    expect(pycSourceRelative('a/mod.pyc')).toBe('mod.py');
  });
  it('the handler asks the core to give the source the recorded mtime (timestamp pycs only)', async () => {
    const ts = readFileSync(`${AD}adapters.cpython-311~mtime.pyc`);
    const r = await runPyc(ts, fakeContext('/t/pkg/__pycache__/adapters.cpython-311.pyc', { timestamp: 42 }));
    expect(r.result).toMatchObject({ status: 'normalized', touch: [{ relativePath: '../adapters.py', mtime: 42, size: 21 }] });
    const hb = Buffer.from(ts);
    hb.writeUInt32LE(1, 4);
    const h = await runPyc(hb, fakeContext('/t/pkg/__pycache__/adapters.cpython-311.pyc', { timestamp: 42 }));
    expect('touch' in h.result).toBe(false);
    const legacy = await runPyc(ts, fakeContext('lib/adapters.pyc', {}));
    expect(legacy.result).toMatchObject({ touch: [{ relativePath: 'adapters.py', mtime: 0 }] });
  });
  it('sourceMtimeFor gives a timestamp pyc\'s mtime and size, nothing for hash-based ones', () => {
    const ts = readFileSync(`${AD}adapters.cpython-311~mtime.pyc`);
    expect(sourceMtimeFor(ts)).toEqual({ mtime: 1720707393, sourceSize: 21 });
    const hb = Buffer.from(ts);
    hb.writeUInt32LE(1, 4);
    expect(sourceMtimeFor(hb)).toBeUndefined();
    expect(sourceMtimeFor(Buffer.from('nope'))).toBeUndefined();
  });
});

const pyenv = `${process.env.HOME ?? '/root'}/.pyenv/versions`;
const interpreters = existsSync(pyenv)
  ? readdirSync(pyenv).filter((v) => /^3\.(\d+)\./.test(v) && Number(v.split('.')[1]) >= 7).map((v) => `${pyenv}/${v}/bin/python`)
  : [];

describe('source_hash: SipHash-1-3 (3.11+) / SipHash-2-4 (3.7-3.10) keyed by the magic', () => {
  it.skipIf(!haveTool('python3'))('equals importlib.util.source_hash of python3 and of every other CPython here', () => {
    const inputs = Array.from({ length: 20 }, (_, n) => Buffer.from(Array.from({ length: n * 3 }, (_, i) => (i * 37 + n) & 0xff)));
    const prog = 'import importlib.util,sys\nfor l in sys.stdin.read().split():\n  print(importlib.util.MAGIC_NUMBER.hex(), importlib.util.source_hash(bytes.fromhex(l[1:])).hex())';
    for (const exe of ['python3', ...interpreters]) {
      const out = python(['-c', prog], { exe, input: inputs.map((b) => 'x' + b.toString('hex')).join('\n') }).trim().split('\n');
      expect(out.length).toBe(inputs.length);
      out.forEach((line, i) => {
        const [magic, hash] = line.split(' ');
        const m = classifyMagic(Buffer.from(magic!, 'hex'));
        if (m.kind !== 'supported') throw new Error(`${exe}: magic ${magic}`);
        expect(Buffer.from(sourceHash(Buffer.from(magic!, 'hex'), m.version, inputs[i]!)).toString('hex'), `${exe} input ${i}`).toBe(hash);
      });
    }
  });
});

describe('--pyc-invalidation: a timestamp pyc whose source is present becomes hash-based, as py_compile makes it', () => {
  const SRC = 'import os\n\ndef f(x):\n    return [os.sep * i for i in range(x)], "caf\\u00e9", 1.5\n\nclass C:\n    def m(self):\n        return f(2)\n';
  for (const mode of ['checked-hash', 'unchecked-hash'] as const) {
    it.skipIf(!haveTool('python3'))(`${mode}: equals compileall --invalidation-mode ${mode} (normalized)`, async () => {
      const tmp = tempDir('detnorm-pyc-inval-');
      try {
        for (const d of ['ts', 'hash']) {
          mkdirSync(join(tmp.dir, d), { recursive: true });
          writeFileSync(join(tmp.dir, d, 'mod.py'), SRC);
        }
        python(['-m', 'compileall', '-q', '-d', '/build/pkg', join(tmp.dir, 'ts')]);
        python(['-m', 'compileall', '-q', '-d', '/build/pkg', '--invalidation-mode', mode, join(tmp.dir, 'hash')]);
        const rel = '__pycache__/mod.cpython-311.pyc';
        const ts = readFileSync(join(tmp.dir, 'ts', rel));
        const hashed = readFileSync(join(tmp.dir, 'hash', rel));
        expect(u32(ts, 4)).toBe(0);
        const asked: string[] = [];
        const ctx = fakeContext(`pkg/${rel}`, { pycInvalidation: mode, timestamp: 1 }, async (p) => {
          asked.push(p);
          return p === '../mod.py' ? readFileSync(join(tmp.dir, 'ts', 'mod.py')) : undefined;
        });
        const ours = await runPyc(ts, ctx);
        expect(asked).toEqual(['../mod.py']);
        expect(ours.result.status).toBe('normalized');
        // The header is py_compile's byte for byte; the body is the canonical form of its body.
        expect(Buffer.from(ours.output.subarray(0, 16)).equals(hashed.subarray(0, 16))).toBe(true);
        const theirs = await runPyc(hashed, fakeContext(`pkg/${rel}`, { timestamp: 1 }));
        expect(Buffer.from(ours.output).equals(theirs.output)).toBe(true);
        // And Python accepts it as valid for the source (checked-hash validates the hash).
        writeFileSync(join(tmp.dir, 'ts', rel), ours.output);
        utimesSync(join(tmp.dir, 'ts', 'mod.py'), 1, 1);
        const v = python(['-B', '-v', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(join(tmp.dir, 'ts'))}); import mod; print(mod.f(2)[1])`], { allowFail: true });
        expect(v).toContain('café');
        expect(v).toMatch(/# code object from '[^']*mod\.cpython-311\.pyc'/);
      } finally {
        tmp.cleanup();
      }
    });
  }
  it('keeps a timestamp pyc when the source size does not match the pyc (stale pyc), with a notice', async () => {
    const ts = readFileSync(`${AD}adapters.cpython-311~mtime.pyc`); // compiled from 21 bytes
    const ctx = fakeContext('x/__pycache__/adapters.cpython-311.pyc', { pycInvalidation: 'checked-hash', timestamp: 9 }, async () => Buffer.from('print("other source")\n'));
    const r = await runPyc(ts, ctx);
    expect(u32(r.output, 4)).toBe(0);
    expect(u32(r.output, 8)).toBe(9);
    expect(ctx.notices.join()).toContain('kept as a timestamp pyc');
  });
  it('without a source (or without the sibling hook) the pyc stays timestamp-based', async () => {
    const ts = readFileSync(`${AD}adapters.cpython-311~mtime.pyc`);
    for (const ctx of [
      fakeContext('x/__pycache__/adapters.cpython-311.pyc', { pycInvalidation: 'checked-hash' }, async () => undefined),
      fakeContext('x/__pycache__/adapters.cpython-311.pyc', { pycInvalidation: 'checked-hash' }),
    ]) {
      const r = await runPyc(ts, ctx);
      expect(u32(r.output, 4)).toBe(0);
    }
  });
});

