// pyc marshal: the canonical form's rules one by one (hidden refcount state, ref placement,
// long ints, slices, mutable objects), hostile input (bombs, fuzzing), idempotence.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { pycHandler } from '../formats/pyc/index.js';
import { PEER, haveTool, tempDir } from './helpers.js';
import { python } from './pyc-python.js';

const opts = defaultOptions({ formats: ['pyc'] });
const norm = (b: Uint8Array, name = 'x.pyc') => normalizeBytes(b, name, opts, [pycHandler]);
/** A 3.11 header (timestamp 0, size 0) before a marshal body. */
const H311 = Buffer.from('a70d0d0a000000000000000000000000', 'hex');
const H314 = Buffer.from('180e0d0a000000000000000000000000', 'hex');
const pyc = (body: number[] | Uint8Array, header = H311) => Buffer.concat([header, Buffer.from(body)]);
const bodyOf = (b: Uint8Array) => Buffer.from(b.subarray(16));
const z = (s: string) => [0x7a, s.length, ...Buffer.from(s)];

describe('hidden state: FLAG_REF from reference counts does not survive', () => {
  it.skipIf(!haveTool('python3'))('marshal.dumps with an extra reference held normalizes to the same bytes', async () => {
    const tmp = tempDir('detnorm-pyc-hidden-');
    try {
      const prog = String.raw`
import marshal, importlib.util, sys
src = '''
def f(x, y=(1, 2, 3)):
    return [x * 2.5 for _ in range(3)], "a string with spaces", (4, 5, (6, 7)), 10**30
class C:
    def m(self): return f(1) + (8, 9)
'''
code = compile(src, '/src/hidden.py', 'exec')
a = marshal.dumps(code)
keep = []
def walk(c):
    for k in c.co_consts:
        keep.append(k)
        if hasattr(k, 'co_consts'): walk(k)
walk(code)
b = marshal.dumps(code)
assert a != b
hdr = importlib.util.MAGIC_NUMBER + bytes(12)
open(sys.argv[1] + '/a.pyc', 'wb').write(hdr + a)
open(sys.argv[1] + '/b.pyc', 'wb').write(hdr + b)
`;
      python(['-c', prog, tmp.dir]);
      const a = readFileSync(`${tmp.dir}/a.pyc`);
      const b = readFileSync(`${tmp.dir}/b.pyc`);
      expect(a.equals(b)).toBe(false);
      const na = await norm(a);
      const nb = await norm(b);
      expect(Buffer.from(na.output).equals(nb.output)).toBe(true);
      // And the result still loads to the same code.
      const check = `import marshal,sys\nA=open(sys.argv[1],'rb').read()[16:]\nB=bytes.fromhex(sys.stdin.read())[16:]\nassert marshal.loads(A)==marshal.loads(B)\nprint('same')`;
      expect(python(['-c', check, `${tmp.dir}/a.pyc`], { input: Buffer.from(na.output).toString('hex') }).trim()).toBe('same');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('canonical refs: FLAG_REF exactly on referenced objects, indices in order', () => {
  it('a repeated string becomes a ref to the first, which alone gets FLAG_REF', async () => {
    // (('ab', 'cd', 'ab'),) with no flags: the second 'ab' becomes r0, the first 'ab' flagged.
    const r = await norm(pyc([0x29, 3, ...z('ab'), ...z('cd'), ...z('ab')]));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x29, 3, 0xfa, 2, 0x61, 0x62, ...z('cd'), 0x72, 0, 0, 0, 0]));
  });
  it('input FLAG_REFs on unreferenced objects are dropped and existing refs resolved', async () => {
    // ( 'cd'[flag 0], 'ab'[flag 1], r1 ): 'cd' is never referenced -> no flag; 'ab' gets index 0.
    const r = await norm(pyc([0x29, 3, 0xfa, 2, 0x63, 0x64, 0xfa, 2, 0x61, 0x62, 0x72, 1, 0, 0, 0]));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x29, 3, ...z('cd'), 0xfa, 2, 0x61, 0x62, 0x72, 0, 0, 0, 0]));
  });
  it('equality is by type variant: z "ab" and Z "ab" stay separate objects', async () => {
    const input = pyc([0x29, 2, ...z('ab'), 0x5a, 2, 0x61, 0x62]);
    expect((await norm(input)).status).toBe('unchanged');
  });
  it('floats are equal by bit pattern: 0.0 and -0.0 are not merged, two NaNs with one pattern are', async () => {
    const f = (x: number) => { const b = Buffer.alloc(9); b[0] = 0x67; b.writeDoubleLE(x, 1); return [...b]; };
    expect((await norm(pyc([0x29, 2, ...f(0), ...f(-0)]))).status).toBe('unchanged');
    const r = await norm(pyc([0x29, 2, ...f(NaN), ...f(NaN)]));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x29, 2, 0xe7, ...f(NaN).slice(1), 0x72, 0, 0, 0, 0]));
  });
  it('singletons are never refs; equal tuples are; a tuple and its equal list are not', async () => {
    const r = await norm(pyc([0x29, 4, 0x4e, 0x4e, 0x29, 1, 0x4e, 0x29, 1, 0x4e]));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x29, 4, 0x4e, 0x4e, 0xa9, 1, 0x4e, 0x72, 0, 0, 0, 0]));
    expect((await norm(pyc([0x29, 2, 0x29, 1, 0x4e, 0x5b, 1, 0, 0, 0, 0x4e]))).status).toBe('unchanged');
  });
  it('mutable objects keep their identity: two equal lists stay two, one aliased list stays aliased', async () => {
    const list = [0x5b, 1, 0, 0, 0, 0x4e];
    expect((await norm(pyc([0x29, 2, ...list, ...list]))).status).toBe('unchanged');
    const aliased = pyc([0x29, 2, 0xdb, 1, 0, 0, 0, 0x4e, 0x72, 0, 0, 0, 0]);
    expect((await norm(aliased)).status).toBe('unchanged');
  });
  it('a TUPLE of fewer than 256 items becomes a SMALL_TUPLE', async () => {
    const r = await norm(pyc([0x28, 1, 0, 0, 0, 0x4e]));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x29, 1, 0x4e]));
  });
});

describe('numbers: TYPE_LONG in 32 bits becomes TYPE_INT, as CPython writes it', () => {
  it('small longs shrink; big ones stay; digits are validated', async () => {
    // 'l' n=1 digit 5 -> 'i' 5; 'l' n=-3 (2**31 needs 3 digits) stays.
    const r = await norm(pyc([0x29, 1, 0x6c, 1, 0, 0, 0, 5, 0]));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x29, 1, 0x69, 5, 0, 0, 0]));
    expect(r.changes.some((c) => c.what.includes('TYPE_INT'))).toBe(true);
    // 2**31 (digits 0, 0, 2) needs TYPE_LONG; -2**31 fits TYPE_INT.
    expect((await norm(pyc([0x6c, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0]))).status).toBe('unchanged');
    const neg = await norm(pyc([0x6c, 0xfd, 0xff, 0xff, 0xff, 0, 0, 0, 0, 2, 0]));
    expect(bodyOf(neg.output)).toEqual(Buffer.from([0x69, 0, 0, 0, 0x80]));
    expect((await norm(pyc([0x6c, 1, 0, 0, 0, 0, 0x80]))).reason).toContain('digit out of range');
    expect((await norm(pyc([0x6c, 2, 0, 0, 0, 1, 0, 0, 0]))).reason).toContain('unnormalized long');
  });
  it.skipIf(!haveTool('python3'))('CPython loads the result to the same values', async () => {
    const hex = python(['-c', 'import marshal; print(marshal.dumps((2**40, -2**40, 2**31, -2**31, 2**31-1, 5, 1.5, 2j, b"x", frozenset({1}))).hex())']).trim();
    const r = await norm(pyc(Buffer.from(hex, 'hex')));
    const back = python(['-c', 'import marshal,sys; print(marshal.loads(bytes.fromhex(sys.stdin.read())[16:]))'], { input: Buffer.from(r.output).toString('hex') }).trim();
    expect(back).toBe('(1099511627776, -1099511627776, 2147483648, -2147483648, 2147483647, 5, 1.5, 2j, b\'x\', frozenset({1}))');
  });
});

describe('3.14 slice objects and dicts are read and written', () => {
  it('a slice constant round-trips and is shared when repeated', async () => {
    const sl = [0x3a, 0x69, 1, 0, 0, 0, 0x4e, 0x4e];
    const r = await norm(pyc([0x29, 2, ...sl, ...sl], H314));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x29, 2, 0xba, 0x69, 1, 0, 0, 0, 0x4e, 0x4e, 0x72, 0, 0, 0, 0]));
  });
  it('a dict keeps its items and NULL terminator', async () => {
    const d = [0x7b, ...z('k'), 0x69, 1, 0, 0, 0, 0x30];
    expect((await norm(pyc(d))).status).toBe('unchanged');
  });
});

describe('set items before 3.11: sorted by serialization (3.11+ writes them sorted already)', () => {
  const H310 = Buffer.from('6f0d0d0a000000000000000000000000', 'hex');
  const fs = (...items: number[][]) => [0x3e, items.length, 0, 0, 0, ...items.flat()];
  const sorted = defaultOptions({ formats: ['pyc'], pycSortSets: true });
  const normSorted = (b: Uint8Array) => normalizeBytes(b, 'x.pyc', sorted, [pycHandler]);
  it('by default (add-determinism\'s form) a 3.10 frozenset keeps its order', async () => {
    expect((await norm(pyc(fs(z('b'), z('a'), [0x69, 1, 0, 0, 0]), H310))).status).toBe('unchanged');
  });
  it('--pyc-sort-sets: a 3.10 frozenset in hash order comes out sorted; the same bytes in a 3.11 pyc are kept', async () => {
    const r = await normSorted(pyc(fs(z('b'), z('a'), [0x69, 1, 0, 0, 0]), H310));
    expect(bodyOf(r.output)).toEqual(Buffer.from(fs([0x69, 1, 0, 0, 0], z('a'), z('b'))));
    expect((await normSorted(pyc(fs(z('b'), z('a'))))).status).toBe('unchanged');
  });
  it('--pyc-sort-sets: orders of one set from different hash seeds converge', async () => {
    const a = await normSorted(pyc(fs(z('x'), [0x29, 1, ...z('y')], z('w')), H310));
    const b = await normSorted(pyc(fs([0x29, 1, ...z('y')], z('w'), z('x')), H310));
    expect(Buffer.from(a.output).equals(b.output)).toBe(true);
  });
});

describe('hostile input: errors, never a crash or a hang', () => {
  it('a marshal bomb of 100,000 nested tuples is rejected without blowing the stack', async () => {
    const body: number[] = [];
    for (let i = 0; i < 100000; i++) body.push(0x29, 1);
    body.push(0x4e);
    const r = await norm(pyc(body));
    expect(r.status).toBe('error');
    expect(r.reason).toContain('nested deeper than 2000');
  });
  it('1,990 levels (which CPython still loads) normalize fine', async () => {
    const body: number[] = [];
    for (let i = 0; i < 1990; i++) body.push(0x29, 1);
    body.push(0x4e);
    expect((await norm(pyc(body))).status).toBe('unchanged');
  });
  it('a ref DAG that doubles at each of 60 levels stays linear', async () => {
    // t0 = (None, None); t(i+1) = (r t(i), r t(i)); every t flagged.
    const body: number[] = [];
    for (let i = 0; i < 60; i++) body.push(0xa9, 2);
    body.push(0xa9, 2, 0x4e, 0x4e); // t0 = flag 60... (inner-most) — refs below point at it
    // Close from the inside: each level's second item is a ref to the level inside it.
    for (let i = 60; i >= 1; i--) body.push(0x72, i, 0, 0, 0);
    const t0 = performance.now();
    const r = await norm(pyc(body));
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(['changed', 'unchanged']).toContain(r.status);
    expect(r.output.length).toBeLessThan(pyc(body).length + 64);
  });
  it('huge sizes are checked against the data before anything is allocated', async () => {
    for (const body of [
      [0x28, 0xff, 0xff, 0xff, 0x7f], // tuple of 2**31-1 items
      [0x73, 0xff, 0xff, 0xff, 0xff], // bytes of 4 GiB
      [0x6c, 0xff, 0xff, 0xff, 0x7f], // long of 2**31 digits
      [0x72, 0, 0, 0, 0], // ref to nothing
      [0xa9, 1, 0x72, 0, 0, 0, 0], // ref into the tuple being read
      [0x7b, 0x4e], // unterminated dict
      [0x51], // unknown type
    ]) {
      const r = await norm(pyc(body));
      expect(r.status, JSON.stringify(body)).toBe('error');
    }
  });
  it('trailing bytes after the top object are dropped and reported', async () => {
    const r = await norm(pyc([0x4e, 1, 2, 3]));
    expect(bodyOf(r.output)).toEqual(Buffer.from([0x4e]));
    expect(r.changes.map((c) => c.what)).toContain('3 trailing bytes after the marshal data dropped');
  });

  const seeds = ['3.6', '3.11', '3.13', '3.14'].map((v) => {
    const dir = `${PEER}add-determinism/python_stdlib/${v}/`;
    const f = readdirSync(dir).filter((n) => n.endsWith('.pyc')).map((n) => readFileSync(dir + n)).sort((a, b) => a.length - b.length)[0]!;
    return f;
  });
  it('fuzzed pycs (mutated, truncated, extended): error/untouched with input kept, or normalized idempotently', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.uint8Array({ maxLength: 16 }),
        async (which, edits, cut, extra) => {
          const buf = Buffer.from(seeds[which]!);
          for (const [at, v] of edits) buf[at % buf.length] = v;
          const input = Buffer.concat([cut === undefined ? buf : buf.subarray(0, cut % buf.length), extra]);
          const t0 = performance.now();
          const r = await norm(input);
          expect(performance.now() - t0).toBeLessThan(2000);
          if (r.status === 'error' || r.status === 'untouched' || r.status === 'ignored') {
            expect(Buffer.from(r.output).equals(input)).toBe(true);
            if (r.status === 'error') expect(r.reason).not.toMatch(/call stack|TypeError|undefined/);
          } else {
            const again = await norm(r.output);
            expect(again.status).toBe('unchanged');
          }
        },
      ),
      { numRuns: 400, seed: 552 },
    );
  });
});
