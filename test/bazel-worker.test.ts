// The Bazel persistent worker (`detnorm --persistent_worker`), driven by our own client the way
// Bazel drives it (test/worker-driver.ts): the protobuf and JSON protocols, multiplex requests,
// one response per request, errors in WorkResponse.output, cancellation, argument files. Every
// output is compared with the one-shot command's bytes. Real Bazel builds: test/bazel-worker-e2e.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../src/bazel-worker/server.js';
import { decodeRequest, encodeRequest, requestFromJson } from '../src/bazel-worker/protocol.js';
import { expandArgFiles } from '../src/argfile.js';
import { delimited } from '../src/execlog/protobuf.js';
import { tempDir } from './helpers.js';
import { buildZip } from './zip-helpers.js';
import { CLI, WorkerDriver } from './worker-driver.js';

const { dir, cleanup } = tempDir('detnorm-worker-');
const HAVE_DIST = existsSync(CLI);

/** A zip whose DOS times and order depend on `seed`: detnorm changes it. */
function rawZip(seed: number, files = 4): Uint8Array {
  const names = Array.from({ length: files }, (_, i) => `pkg/f${(i * 7 + seed) % files}.txt`);
  return buildZip(names.map((name, i) => ({ name, data: `${name} ${'x'.repeat(50 + i)}\n`, method: 8 as const, date: 0x5821 + seed, time: 0x6000 + i * 33 })));
}

/** The one-shot command's output for the same arguments (`-o OUT IN` through @argsfile). */
function oneShot(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } {
  const file = join(dir, `args-${Math.random().toString(36).slice(2)}.params`);
  writeFileSync(file, args.join('\n') + '\n');
  const r = spawnSync(process.execPath, [CLI, `@${file}`], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stderr: r.stderr };
}

beforeAll(() => {
  mkdirSync(join(dir, 'in'));
  mkdirSync(join(dir, 'out'));
  mkdirSync(join(dir, 'ref'));
  for (let i = 0; i < 60; i++) writeFileSync(join(dir, `in/raw${i}.zip`), rawZip(i));
  writeFileSync(join(dir, 'in/broken.zip'), rawZip(1).subarray(0, 60));
  // A larger archive: long enough to be still running when a cancel arrives.
  writeFileSync(join(dir, 'in/big.zip'), buildZip(Array.from({ length: 3000 }, (_, i) => ({ name: `d/${i}.txt`, data: `${i}\n`.repeat(200), method: 8 as const, date: 0x5821, time: i }))));
});
afterAll(cleanup);

describe('wire format detection from the first bytes', () => {
  it('JSON starts with { and then " or }; protobuf with its length varint', () => {
    expect(detectFormat(Buffer.from('{"arguments":[]}'))).toBe('json');
    expect(detectFormat(Buffer.from('{\n  "arguments"'))).toBe('json');
    expect(detectFormat(Buffer.from('{}'))).toBe('json');
    expect(detectFormat(delimited(encodeRequest({ arguments: ['-q'], requestId: 1 })))).toBe('proto');
    expect(detectFormat(Buffer.from('{'))).toBeUndefined();
  });
  it('a 123-byte protobuf request (length byte 0x7b = "{") is still protobuf', () => {
    const q = encodeRequest({ arguments: ['x'.repeat(121)] });
    expect(q.length).toBe(123);
    expect(detectFormat(delimited(q))).toBe('proto');
  });
  it('requests decode from both forms alike (JSON names and proto names)', () => {
    const want = { arguments: ['-o', 'o', 'i'], inputs: [{ path: 'i', digest: new Uint8Array([1, 2]) }], requestId: 7, cancel: false, verbosity: 0, sandboxDir: '' };
    expect(decodeRequest(encodeRequest(want))).toEqual({ ...want, inputs: [{ path: 'i', digest: expect.anything() }] });
    expect(requestFromJson({ arguments: ['-o', 'o', 'i'], inputs: [{ path: 'i', digest: 'AQI=' }], request_id: 7 })).toEqual({ ...want, inputs: [{ path: 'i', digest: Buffer.from([1, 2]) }] });
  });
});

describe('argument files (@FILE, --flagfile=FILE): one argument a line', () => {
  it('expands in place, nested, keeps spaces; a missing file is an error', () => {
    const files: Record<string, string> = { a: '-q\n@b\n-o\nout file.zip\n', b: '-T\n1700000000\n' };
    expect(expandArgFiles(['x', '@a', '--flagfile=b', 'in.zip'], (p) => files[p]!)).toEqual(['x', '-q', '-T', '1700000000', '-o', 'out file.zip', '-T', '1700000000', 'in.zip']);
    expect(() => expandArgFiles(['@nope'], () => { throw Object.assign(new Error('x'), { code: 'ENOENT' }); })).toThrow(/cannot read argument file nope: ENOENT/);
    expect(() => expandArgFiles(['@self'], () => '@self\n')).toThrow(/nested more than 4 deep/);
  });
  it.skipIf(!HAVE_DIST)('the one-shot CLI reads them; a missing one is a usage error (exit 2)', () => {
    const r = oneShot(['-q', '-T', '1700000000', '-o', 'ref/argsfile.zip', 'in/raw0.zip']);
    expect(r.status).toBe(0);
    const direct = spawnSync(process.execPath, [CLI, '-q', '-T', '1700000000', '-'], { input: readFileSync(join(dir, 'in/raw0.zip')) });
    expect(readFileSync(join(dir, 'ref/argsfile.zip')).equals(direct.stdout)).toBe(true);
    const bad = spawnSync(process.execPath, [CLI, '@missing.params'], { cwd: dir, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/cannot read argument file missing.params/);
  });
});

describe.skipIf(!HAVE_DIST)('the worker writes exactly what the one-shot action writes', () => {
  for (const format of ['proto', 'json'] as const) {
    it(`${format}: 60 multiplexed requests sent at once, each answered once, outputs byte-identical`, async () => {
      const w = new WorkerDriver(format, { cwd: dir, startup: ['-j', '2'] });
      const ids = Array.from({ length: 60 }, (_, i) => i + 1);
      const pending = ids.map((id) => w.response(id));
      w.write(Buffer.concat(ids.map((id) => w.frame({ requestId: id, arguments: ['-q', '-T', '1700000000', '-o', `out/${format}${id}.zip`, `in/raw${id - 1}.zip`] }))));
      const got = await Promise.all(pending);
      expect(await w.close()).toBe(0);
      expect(got.map((r) => [r.requestId, r.exitCode, r.output, r.wasCancelled])).toEqual(ids.map((id) => [id, 0, '', false]));
      expect(w.responses).toHaveLength(60);
      for (const id of [1, 2, 30, 60]) {
        expect(oneShot(['-q', '-T', '1700000000', '-o', `ref/${id}.zip`, `in/raw${id - 1}.zip`]).status).toBe(0);
        const ref = readFileSync(join(dir, `ref/${id}.zip`));
        expect(readFileSync(join(dir, `out/${format}${id}.zip`)).equals(ref)).toBe(true);
        expect(ref.equals(readFileSync(join(dir, `in/raw${id - 1}.zip`)))).toBe(false);
      }
    });
  }
  it('singleplex (request_id 0): one request after the other', async () => {
    const w = new WorkerDriver('proto', { cwd: dir });
    for (const i of [3, 4]) {
      const r = await w.request({ arguments: ['-q', '-o', `out/single${i}.zip`, `in/raw${i}.zip`] });
      expect(r).toEqual({ exitCode: 0, output: '', requestId: 0, wasCancelled: false });
      expect(oneShot(['-q', '-o', `ref/single${i}.zip`, `in/raw${i}.zip`]).status).toBe(0);
      expect(readFileSync(join(dir, `out/single${i}.zip`)).equals(readFileSync(join(dir, `ref/single${i}.zip`)))).toBe(true);
    }
    expect(await w.close()).toBe(0);
  });
  it('the startup arguments apply to every request, and SOURCE_DATE_EPOCH comes from the worker\'s environment', async () => {
    const a = new WorkerDriver('proto', { cwd: dir, startup: ['-T', '1700000000'] });
    await a.request({ requestId: 1, arguments: ['-q', '-o', 'out/startup.zip', 'in/raw5.zip'] });
    await a.close();
    const b = new WorkerDriver('proto', { cwd: dir, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    await b.request({ requestId: 1, arguments: ['-q', '-o', 'out/sde.zip', 'in/raw5.zip'] });
    await b.close();
    oneShot(['-q', '-T', '1700000000', '-o', 'ref/startup.zip', 'in/raw5.zip']);
    const ref = readFileSync(join(dir, 'ref/startup.zip'));
    expect(readFileSync(join(dir, 'out/startup.zip')).equals(ref)).toBe(true);
    expect(readFileSync(join(dir, 'out/sde.zip')).equals(ref)).toBe(true);
  });
  it('a request whose sandbox_dir is given reads and writes under it (multiplex sandboxing)', async () => {
    const w = new WorkerDriver('proto', { cwd: '/' });
    const r = await w.request({ requestId: 9, sandboxDir: dir, arguments: ['-q', '-T', '1700000000', '-o', 'out/sandboxed.zip', 'in/raw6.zip'] });
    expect(r.exitCode).toBe(0);
    await w.close();
    oneShot(['-q', '-T', '1700000000', '-o', 'ref/sandboxed.zip', 'in/raw6.zip']);
    expect(readFileSync(join(dir, 'out/sandboxed.zip')).equals(readFileSync(join(dir, 'ref/sandboxed.zip')))).toBe(true);
  });
});

describe.skipIf(!HAVE_DIST)('errors go into WorkResponse.output with a non-zero exit code; the worker goes on', () => {
  it('an artifact detnorm cannot parse: exit 3 and the same reason the one-shot command prints', async () => {
    const w = new WorkerDriver('proto', { cwd: dir });
    const r = await w.request({ requestId: 1, arguments: ['-q', '-o', 'out/broken.zip', 'in/broken.zip'] });
    const ref = oneShot(['-q', '-o', 'ref/broken.zip', 'in/broken.zip']);
    expect(ref.status).toBe(3);
    expect(r.exitCode).toBe(3);
    expect(r.output).toBe(ref.stderr);
    expect(r.output).toMatch(/^detnorm: in\/broken\.zip: zip: .*end of central directory/);
    // The worker is still serving.
    expect((await w.request({ requestId: 2, arguments: ['-q', '-o', 'out/after.zip', 'in/raw7.zip'] })).exitCode).toBe(0);
    expect(await w.close()).toBe(0);
  });
  it('usage errors: exit 2 with the message (an unknown flag, no -o, a missing argument file)', async () => {
    const w = new WorkerDriver('json', { cwd: dir });
    const unknown = await w.request({ requestId: 1, arguments: ['--bogus', '-o', 'x', 'in/raw1.zip'] });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.output).toMatch(/unknown option '--bogus'/);
    const noOut = await w.request({ requestId: 2, arguments: ['in/raw1.zip'] });
    expect(noOut).toMatchObject({ exitCode: 2, output: expect.stringMatching(/-o OUT IN/) });
    const noFile = await w.request({ requestId: 3, arguments: ['@nope.params'] });
    expect(noFile).toMatchObject({ exitCode: 2, output: expect.stringMatching(/cannot read argument file nope.params/) });
    expect(await w.close()).toBe(0);
  });
  it('a malformed request stream: the worker logs the byte offset and exits 1', async () => {
    const w = new WorkerDriver('proto', { cwd: dir });
    // A valid request, then a message whose field 1 claims more bytes than the message has.
    w.write(Buffer.concat([w.frame({ requestId: 1, arguments: ['-q', '-o', 'out/m.zip', 'in/raw8.zip'] }), Buffer.from([0x03, 0x0a, 0x10, 0x41])]));
    expect((await w.response(1)).exitCode).toBe(0);
    expect(await w.close()).toBe(1);
    expect(w.stderr).toMatch(/malformed request: field of 16 bytes runs past the end of its message \(1 left\) at byte \d+/);
  });
  it('stdin ends inside a message: logged with its offset, exit 1', async () => {
    const w = new WorkerDriver('json', { cwd: dir });
    w.write(Buffer.from('{"requestId": 1, "arguments": ["-q"'));
    expect(await w.close()).toBe(1);
    expect(w.stderr).toMatch(/truncated JSON object .* at byte 0/);
  });
});

describe.skipIf(!HAVE_DIST)('cancel requests', () => {
  it('a queued request (-j 1, behind a long one) is answered was_cancelled at once and never runs', async () => {
    const w = new WorkerDriver('proto', { cwd: dir, startup: ['-j', '1'] });
    const first = w.response(1);
    const second = w.response(2);
    w.write(Buffer.concat([w.frame({ requestId: 1, arguments: ['-q', '-o', 'out/q1.zip', 'in/big.zip'] }), w.frame({ requestId: 2, arguments: ['-q', '-o', 'out/q2.zip', 'in/raw9.zip'] }), w.frame({ requestId: 2, cancel: true })]));
    expect(await second).toEqual({ exitCode: 0, output: '', requestId: 2, wasCancelled: true });
    expect((await first).wasCancelled).toBe(false);
    expect(w.responses.map((r) => r.requestId)).toEqual([2, 1]);
    expect(existsSync(join(dir, 'out/q2.zip'))).toBe(false);
    expect(await w.close()).toBe(0);
  });
  it('a running request is answered once, was_cancelled, and leaves no partial output', async () => {
    const w = new WorkerDriver('proto', { cwd: dir, startup: ['-j', '1'] });
    const r = w.response(5);
    w.write(Buffer.concat([w.frame({ requestId: 5, arguments: ['-q', '-o', 'out/running.zip', 'in/big.zip'] }), w.frame({ requestId: 5, cancel: true })]));
    expect(await r).toEqual({ exitCode: 0, output: '', requestId: 5, wasCancelled: true });
    expect(await w.close()).toBe(0);
    expect(w.responses).toHaveLength(1);
    oneShot(['-q', '-o', 'ref/running.zip', 'in/big.zip']);
    // Written atomically: absent, or complete and equal to the one-shot result.
    const out = join(dir, 'out/running.zip');
    if (existsSync(out)) expect(readFileSync(out).equals(readFileSync(join(dir, 'ref/running.zip')))).toBe(true);
  });
  it('a cancel for a request already answered is ignored (no second response)', async () => {
    const w = new WorkerDriver('json', { cwd: dir });
    await w.request({ requestId: 3, arguments: ['-q', '-o', 'out/c3.zip', 'in/raw10.zip'] });
    w.write(w.frame({ requestId: 3, cancel: true }));
    expect((await w.request({ requestId: 4, arguments: ['-q', '-o', 'out/c4.zip', 'in/raw11.zip'] })).exitCode).toBe(0);
    expect(await w.close()).toBe(0);
    expect(w.responses.map((r) => r.requestId)).toEqual([3, 4]);
  });
});
