// `detnorm execlog` on hand-made logs (test/execlog-helpers.ts builds them from spawn.proto):
// the three forms read alike, the pairing, each class and its evidence, downstream roots,
// the verdicts detnorm diff gives, and errors with byte offsets. Real Bazel logs: execlog-e2e.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify, type Classification } from '../src/execlog/classify.js';
import { explain, verdictOf, type Explanation } from '../src/execlog/explain.js';
import { pairSpawns } from '../src/execlog/pair.js';
import { readExecLog } from '../src/execlog/read-log.js';
import { ExecLogError, targetFromProgress, type LoggedSpawn } from '../src/execlog/spawn.js';
import type { BlobStore } from '../src/execlog/blobs.js';
import { diffPair } from '../src/diff.js';
import { CompactLog, binaryLog, jsonLog, sha, type Spec } from './execlog-helpers.js';
import { haveTool, tempDir } from './helpers.js';
import { buildZip } from './zip-helpers.js';

const { dir, cleanup } = tempDir('detnorm-execlog-');
afterAll(cleanup);
let n = 0;
const file = (bytes: Uint8Array) => {
  const p = join(dir, `log-${n++}`);
  writeFileSync(p, bytes);
  return p;
};
const strip = (s: LoggedSpawn) => ({ ...s, offset: 0 });

const BIN = 'bazel-out/k8-fastbuild/bin';
const SPECS: Spec[] = [
  { args: ['/bin/bash', '-c', 'gen'], env: { PATH: '/bin' }, inputs: { 'src/in.txt': 'in' }, outputs: { [`${BIN}/gen.out`]: 'one' }, label: '//:gen', progress: 'Executing genrule //:gen' },
  { args: ['cc', '-o', `${BIN}/app`], inputs: { [`${BIN}/gen.out`]: 'one', 'src/app.c': 'int main;' }, outputs: { [`${BIN}/app`]: 'ELF' }, mnemonic: 'CppLink', label: '//:app' },
];

describe('the three forms of a log read the same spawns', () => {
  it('binary SpawnExec and JSON (pretty-printed, Bazel 4-6, or one a line) agree field by field', async () => {
    const bin = await readExecLog(file(binaryLog(SPECS)));
    const pretty = await readExecLog(file(jsonLog(SPECS)));
    const lines = await readExecLog(file(jsonLog(SPECS, false)));
    expect([bin.form, pretty.form, lines.form]).toEqual(['binary', 'json', 'json']);
    expect(bin.spawns.map(strip)).toEqual(pretty.spawns.map(strip));
    expect(lines.spawns.map(strip)).toEqual(pretty.spawns.map(strip));
    expect(bin.spawns[1]).toMatchObject({
      index: 1,
      args: ['cc', '-o', `${BIN}/app`],
      env: [],
      inputs: [{ path: `${BIN}/gen.out`, hash: sha('one'), size: 3 }, { path: 'src/app.c', hash: sha('int main;'), size: 9 }],
      outputs: [{ path: `${BIN}/app`, hash: sha('ELF'), size: 3 }],
      mnemonic: 'CppLink',
      target: '//:app',
      runner: 'linux-sandbox',
    });
  });
  it('a log without target labels (Bazel 4): the label comes from the progress message', async () => {
    const log = await readExecLog(file(binaryLog([{ ...SPECS[0]!, label: undefined }])));
    expect(log.spawns[0]!.target).toBe('//:gen');
    expect(targetFromProgress('Compiling src/x.c [for tool] //pkg:lib')).toBe('//pkg:lib');
    expect(targetFromProgress('Executing genrule @repo//a/b:c-d_e.f')).toBe('@repo//a/b:c-d_e.f');
    expect(targetFromProgress('Writing file x')).toBe('');
  });
  it('an empty log has no spawns', async () => {
    expect((await readExecLog(file(new Uint8Array(0)))).spawns).toEqual([]);
  });
});

describe('the compact form (ExecLogEntry stream, entries referring to each other by id)', () => {
  // Made by hand from spawn.proto: no Bazel here writes it.
  const compact = () =>
    new CompactLog()
      .invocation()
      .file(1, 'src/in.txt', 'in')
      .file(2, 'tools/gen.sh', 'echo')
      .directory(3, 'src/data', { 'a.txt': 'a', 'b/c.txt': 'c' })
      .symlink(4, 'src/link', '../elsewhere')
      .inputSet(5, [1, 3])
      .inputSet(6, [2], [5])
      .file(7, `${BIN}/gen.out`, 'one')
      .spawn({ args: ['/bin/bash', '-c', 'gen'], env: { PATH: '/bin' }, inputSet: 6, toolSet: 2, outputs: [7], label: '//:gen', mnemonic: 'Genrule' })
      .file(8, `${BIN}/app`, 'ELF')
      .file(9, 'src/app.c', 'int main;')
      // Bazel 7.0's fields: file_ids (InputSet 1), file_id (Output 1).
      .inputSet(10, [7, 9, 4], [], true)
      .file(11, `${BIN}/app.map`, 'map')
      .spawn({ args: ['cc', '-o', `${BIN}/app`], inputSet: 10, outputs: [8], legacyOutputs: [11], invalidOutput: `${BIN}/missing`, label: '//:app', mnemonic: 'CppLink' })
      .runfilesTree(12, `${BIN}/app.runfiles`, 10)
      .inputSet(13, [12])
      .file(14, `${BIN}/test.log`, 'ok')
      .spawn({ args: ['test'], inputSet: 13, outputs: [14], label: '//:test', mnemonic: 'TestRunner' })
      .symlinkAction(`${BIN}/app`, `${BIN}/app.link`, '//:link')
      .bytes();

  it('inputs rebuilt from nested sets (transitive sets first), directories, symlinks and runfiles trees', async () => {
    const log = await readExecLog(file(compact()));
    expect(log.form).toBe('compact');
    expect(log.spawns).toHaveLength(3);
    const [gen, app, test] = log.spawns;
    expect(gen!.inputs.map((f) => f.path)).toEqual(['src/in.txt', 'src/data/a.txt', 'src/data/b/c.txt', 'tools/gen.sh']);
    expect(gen!.inputs[2]!.hash).toBe(sha('c'));
    expect(gen).toMatchObject({ args: ['/bin/bash', '-c', 'gen'], env: [['PATH', '/bin']], outputs: [{ path: `${BIN}/gen.out`, hash: sha('one'), size: 3 }], target: '//:gen', mnemonic: 'Genrule' });
    expect(app!.inputs).toEqual([
      { path: `${BIN}/gen.out`, hash: sha('one'), size: 3 },
      { path: 'src/app.c', hash: sha('int main;'), size: 9 },
      { path: 'src/link', hash: '->../elsewhere', size: 0 },
    ]);
    expect(app!.outputs.map((f) => f.path)).toEqual([`${BIN}/app`, `${BIN}/app.map`]);
    expect(test!.inputs.map((f) => f.path)).toEqual([`${BIN}/gen.out`, 'src/app.c', 'src/link']);
    expect(log.symlinks).toEqual([{ input: `${BIN}/app`, output: `${BIN}/app.link`, target: '//:link', mnemonic: 'Symlink' }]);
  });
  it('the compact log reads as the same spawns as the binary log of the same build', async () => {
    const c = (await readExecLog(file(compact()))).spawns.slice(0, 1);
    const b = (await readExecLog(file(binaryLog([{ ...SPECS[0]!, inputs: { 'src/in.txt': 'in', 'src/data/a.txt': 'a', 'src/data/b/c.txt': 'c', 'tools/gen.sh': 'echo' } }])))).spawns;
    const keep = (s: LoggedSpawn) => ({ args: s.args, env: s.env, inputs: s.inputs, outputs: s.outputs, target: s.target, mnemonic: s.mnemonic });
    expect(c.map(keep)).toEqual(b.map(keep));
  });
  it('a reference to an id no earlier entry defines, and an id defined twice: errors with the offset', async () => {
    const dangling = new CompactLog().file(1, 'a', 'a').spawn({ args: ['x'], inputSet: 99, outputs: [1], label: '//:x', mnemonic: 'X' }).bytes();
    await expect(readExecLog(file(dangling))).rejects.toThrow(/ExecLogEntry #2 \(offsets in the decompressed stream\): reference to entry id 99, which no earlier entry defines at byte \d+$/);
    const twice = new CompactLog().file(1, 'a', 'a').file(1, 'b', 'b').bytes();
    const second = new CompactLog().file(1, 'a', 'a').bytes().length + 1; // after the first entry and the second's length byte
    await expect(readExecLog(file(twice))).rejects.toThrow(new RegExp(`ExecLogEntry #2 .*: entry id 1 defined twice at byte ${second}$`));
  });
  it.skipIf(!haveTool('zstd'))('zstd-compressed, as Bazel writes it: read through the zstd decoder', async () => {
    const raw = file(compact());
    spawnSync('zstd', ['-q', '-f', raw, '-o', `${raw}.zst`]);
    const log = await readExecLog(`${raw}.zst`);
    expect(log.form).toBe('compact');
    expect(log.spawns.map(strip)).toEqual((await readExecLog(raw)).spawns.map(strip));
  });
  it.skipIf(!haveTool('zstd'))('a truncated zstd-compressed log: a clear error, no crash', async () => {
    const raw = file(compact());
    spawnSync('zstd', ['-q', '-f', raw, '-o', `${raw}.zst`]);
    const whole = readFileSync(`${raw}.zst`);
    writeFileSync(`${raw}.cut.zst`, whole.subarray(0, whole.length - 7));
    await expect(readExecLog(`${raw}.cut.zst`)).rejects.toBeInstanceOf(ExecLogError);
  });
});

describe('pairing the two builds\' actions', () => {
  const s = (target: string, outputs: string[], mnemonic = 'Genrule'): Spec => ({ label: target, mnemonic, outputs: Object.fromEntries(outputs.map((o) => [o, 'x'])) });
  it('by output paths, then by output paths in another configuration, then by mnemonic and target', async () => {
    const a = (await readExecLog(file(binaryLog([s('//:a', [`${BIN}/a`]), s('//:b', ['bazel-out/k8-opt/bin/b']), s('//:c', [`${BIN}/c1`]), s('//:d', [`${BIN}/d`])])))).spawns;
    const b = (await readExecLog(file(binaryLog([s('//:d', [`${BIN}/d`]), s('//:c', [`${BIN}/c2`]), s('//:b', [`${BIN}/b`]), s('//:a', [`${BIN}/a`]), s('//:e', [`${BIN}/e`])])))).spawns;
    const p = pairSpawns(a, b);
    expect(p.pairs.map((x) => [x.a.target, x.b.target]).sort()).toEqual([['//:a', '//:a'], ['//:b', '//:b'], ['//:c', '//:c'], ['//:d', '//:d']]);
    expect(p.onlyInA).toEqual([]);
    expect(p.onlyInB.map((x) => x.target)).toEqual(['//:e']);
  });
  it('an action logged twice (re-run): the last run counts', async () => {
    const a = (await readExecLog(file(binaryLog([{ ...s('//:a', [`${BIN}/a`]), outputs: { [`${BIN}/a`]: 'first' } }, { ...s('//:a', [`${BIN}/a`]), outputs: { [`${BIN}/a`]: 'second' } }])))).spawns;
    const p = pairSpawns(a, a);
    expect(p.pairs).toHaveLength(1);
    expect(p.pairs[0]!.a.outputs[0]!.hash).toBe(sha('second'));
  });
});

// Two builds of one workspace, every class in it.
const BUILD = (v: 'a' | 'b'): Spec[] => {
  const x = (a: string, b: string) => (v === 'a' ? a : b);
  return [
    // The consumer first in the log: build order must still put producers before it.
    { label: '//:down2', args: ['cat'], inputs: { [`${BIN}/down1`]: x('d1a', 'd1b') }, outputs: { [`${BIN}/down2`]: x('d2a', 'd2b') } },
    { label: '//:gen', args: ['gen'], env: { BUILD_ID: x('1111', '2222') }, inputs: { 'src/in.txt': 'in' }, outputs: { [`${BIN}/gen`]: x('gen-a', 'gen-b') } },
    { label: '//:down1', args: ['cat'], env: { BUILD_ID: x('1111', '2222') }, inputs: { [`${BIN}/gen`]: x('gen-a', 'gen-b'), 'src/x': 'x' }, outputs: { [`${BIN}/down1`]: x('d1a', 'd1b') } },
    { label: '//:tool', args: ['run'], inputs: { 'tools/run.sh': x('v1', 'v2') }, outputs: { [`${BIN}/tool`]: x('t1', 't2') } },
    { label: '//:home', args: ['h'], env: { HOME: x('/home/ann', '/home/bob') }, outputs: { [`${BIN}/home`]: x('h1', 'h2') } },
    { label: '//:argv', args: ['cc', x('-I/ws/a', '-I/ws/b'), 'x.c'], outputs: { [`${BIN}/argv`]: x('o1', 'o2') } },
    { label: '//:same', args: ['same'], env: { BUILD_ID: x('1111', '2222') }, inputs: { 'src/in.txt': 'in' }, outputs: { [`${BIN}/same`]: 'same' } },
    { label: '//:stamped', args: ['stamp'], env: { BUILD_ID: x('1111', '2222') }, outputs: { [`${BIN}/stamped`]: x('id=1111\n', 'id=2222\n') } },
    { label: '//:orphan', args: ['o'], inputs: { [`${BIN}/unlogged`]: x('u1', 'u2') }, outputs: { [`${BIN}/orphan`]: x('r1', 'r2') } },
  ];
};
const CONTENTS = [...BUILD('a'), ...BUILD('b')].flatMap((s) => Object.values(s.outputs ?? {}));
/** An in-memory disk cache holding every output above. */
const STORE: BlobStore = { where: 'memory', find: (_p, hash) => CONTENTS.map((c) => Buffer.from(c)).find((c) => sha(c) === hash) };

describe('classes: non-deterministic, non-hermetic, downstream', () => {
  const run = async (stores: BlobStore[]): Promise<{ c: Classification; e: Explanation; by: (t: string) => Classification['pairs'][number] }> => {
    const c = classify((await readExecLog(file(binaryLog(BUILD('a'))))).spawns, (await readExecLog(file(jsonLog(BUILD('b'))))).spawns);
    const e = await explain(c, { a: stores, b: stores });
    return { c, e, by: (t) => c.pairs.find((p) => p.target === t)! };
  };
  it('same command line, environment and inputs, different outputs: non-deterministic', async () => {
    const { by } = await run([STORE]);
    expect(by('//:gen').klass).toBe('non-deterministic');
  });
  it('a source input (no action produced it) differs: non-hermetic, naming the input', async () => {
    const { by } = await run([STORE]);
    expect(by('//:tool')).toMatchObject({ klass: 'non-hermetic', sources: [{ path: 'tools/run.sh', a: sha('v1'), b: sha('v2') }] });
  });
  it('an environment variable or an argument of this action only differs: non-hermetic, naming them', async () => {
    const { by } = await run([STORE]);
    expect(by('//:home')).toMatchObject({ klass: 'non-hermetic', env: [{ name: 'HOME', a: '/home/ann', b: '/home/bob', buildWide: false }] });
    expect(by('//:argv')).toMatchObject({ klass: 'non-hermetic', args: [{ name: '1', a: '-I/ws/a', b: '-I/ws/b', buildWide: false }] });
  });
  it('a variable that differs in several actions (build-wide): the output decides; its value in the output makes it non-hermetic', async () => {
    const { c, e, by } = await run([STORE]);
    expect(c.buildWide).toEqual([{ name: 'BUILD_ID', a: '1111', b: '2222', buildWide: true }]);
    expect(by('//:stamped').klass).toBe('non-hermetic');
    expect(e.leaked.get(by('//:stamped').id)!.map((d) => d.name)).toEqual(['BUILD_ID']);
    // gen has BUILD_ID too, and its output does not hold it.
    expect(by('//:gen').klass).toBe('non-deterministic');
    expect(by('//:same').klass).toBe('identical');
  });
  it('without the outputs, a build-wide difference cannot be ruled out: non-hermetic, unconfirmed', async () => {
    const { e, by } = await run([]);
    expect(by('//:gen').klass).toBe('non-hermetic');
    expect(e.unconfirmed.has(by('//:gen').id)).toBe(true);
    expect(by('//:stamped').klass).toBe('non-hermetic');
  });
  it('downstream: through any number of steps, counted under the root cause; a bazel-out input no logged action made: root -1', async () => {
    const { by } = await run([STORE]);
    expect(by('//:down1')).toMatchObject({ klass: 'downstream', roots: [by('//:gen').id] });
    expect(by('//:down2')).toMatchObject({ klass: 'downstream', roots: [by('//:gen').id] });
    expect(by('//:orphan')).toMatchObject({ klass: 'downstream', roots: [-1] });
  });
  it('build order: producers before consumers, whatever the log order', async () => {
    const { by } = await run([STORE]);
    expect(by('//:gen').order).toBeLessThan(by('//:down1').order);
    expect(by('//:down1').order).toBeLessThan(by('//:down2').order);
  });
});

describe('verdicts: the artifact comparison of detnorm diff on the two outputs', () => {
  it('a zip that differs only in times: identical after normalization (timestamps), wrap it with detnorm_normalize', async () => {
    const mk = (time: number) => buildZip([{ name: 'a.txt', data: 'hello', time }, { name: 'b.txt', data: 'bye', time }]);
    const v = verdictOf(await diffPair(mk(0x6000), mk(0x7000), 'out.zip', 'out.zip', {}));
    expect(v).toMatchObject({ kind: 'normalized', text: expect.stringMatching(/^identical after normalization \(.*timestamps.*\): wrap this action's output with detnorm_normalize$/) });
    expect(v.normalizedAway).toContain('timestamp');
  });
  it('text with different content: the tool itself is non-deterministic', async () => {
    const v = verdictOf(await diffPair(Buffer.from('1700000000\n'), Buffer.from('1700000042\n'), 'stamp.txt', 'stamp.txt', {}));
    expect(v).toEqual({ kind: 'content', text: 'content differs: the tool itself is non-deterministic' });
  });
  it.skipIf(!haveTool('gcc'))('a shared library with the build path in .rodata (given by --map-path): unfixable after the fact', async () => {
    const mk = (name: string) => {
      const d = join(dir, name, 'src');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'lib.c'), '#include <assert.h>\nint f(int x) { assert(x > 0); return x * 2; }\n');
      spawnSync('gcc', ['-g', '-O2', '-shared', '-fPIC', '-o', join(dir, name, 'lib.so'), join(d, 'lib.c')]);
      return { so: readFileSync(join(dir, name, 'lib.so')), src: d };
    };
    const [a, b] = [mk('build-a'), mk('build-bb')];
    const v = verdictOf(await diffPair(a.so, b.so, 'lib.so', 'lib.so', { mapPaths: [`${a.src}=/build/src`, `${b.src}=/build/src`] }));
    expect(v).toEqual({ kind: 'unfixable', text: 'unfixable after the fact: build path in .rodata' });
  });
});

describe('malformed and truncated logs: ExecLogError with the file and the byte offset', () => {
  const err = async (bytes: Uint8Array): Promise<ExecLogError> => {
    try {
      await readExecLog(file(bytes));
    } catch (e) {
      expect(e).toBeInstanceOf(ExecLogError);
      return e as ExecLogError;
    }
    throw new Error('no error');
  };
  const log = binaryLog(SPECS);
  it('binary: cut anywhere inside, the error names the spawn and the offset where it starts', async () => {
    for (const cut of [1, 10, 100, log.length - 1]) {
      const e = await err(log.subarray(0, cut));
      expect(e.message).toMatch(/SpawnExec #\d: truncated message/);
      expect(e.offset).toBeLessThan(cut);
    }
  });
  it('binary: a field that runs past its message, a wrong wire type for a string', async () => {
    // command_args[0] claims 16 bytes, its message has 1 left.
    expect((await err(Buffer.concat([log, Buffer.from([0x03, 0x0a, 0x10, 0x41])]))).message).toMatch(new RegExp(`SpawnExec #3: field of 16 bytes runs past the end of its message \\(1 left\\) at byte ${log.length + 2}$`));
    // mnemonic (field 10) as a varint.
    expect((await err(Buffer.from([0x05, 0x0a, 0x01, 0x41, 0x50, 0x01]))).message).toMatch(/SpawnExec #1: length-delimited field: wire type 0, expected 2 at byte 5$/);
  });
  it('JSON: a spawn whose commandArgs is not a list, a truncated object, garbage after the objects', async () => {
    expect((await err(Buffer.from('{"commandArgs": "ls"}'))).message).toMatch(/spawn #1: commandArgs is not a list at byte 0$/);
    const j = jsonLog(SPECS);
    const e = await err(j.subarray(0, j.length - 20));
    expect(e.message).toMatch(/truncated JSON object/);
    expect(e.offset).toBe(j.indexOf('}{') + 1);
    expect((await err(Buffer.concat([j, Buffer.from('xyz')]))).message).toMatch(/expected a JSON object \('\{'\), found 'x' at byte \d+$/);
  });
});

describe('the command line: detnorm execlog', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [new URL('../dist/cli.mjs', import.meta.url).pathname, 'execlog', ...args], { encoding: 'utf8' });
  it('two hand-made logs of one build: the causes, --json for machines, exit 1', async () => {
    const a = file(binaryLog(BUILD('a')));
    const b = file(jsonLog(BUILD('b')));
    const r = cli(['--json', a, b]);
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.causes.map((c: { target: string; class: string }) => `${c.class} ${c.target}`).sort()).toEqual([
      'non-hermetic //:argv',
      'non-hermetic //:gen',
      'non-hermetic //:home',
      'non-hermetic //:stamped',
      'non-hermetic //:tool',
    ]);
    expect(cli([a, file(binaryLog(BUILD('a')))]).status).toBe(0);
  });
  it('usage errors exit 2 (one --disk-cache, not a disk cache, a missing argument); an unreadable log exits 3', () => {
    const a = file(binaryLog(BUILD('a')));
    expect(cli(['--disk-cache', dir, a, a])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--disk-cache takes two directories/) });
    expect(cli(['--disk-cache', dir, '--disk-cache', dir, a, a])).toMatchObject({ status: 2, stderr: expect.stringMatching(/not a Bazel disk cache/) });
    expect(cli([a]).status).toBe(2);
    expect(cli([a, join(dir, 'nope')])).toMatchObject({ status: 3, stderr: expect.stringMatching(/nope: no such file/) });
  });
});
