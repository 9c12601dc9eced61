// `detnorm execlog` on real Bazel logs (Debian's bazel-bootstrap 4.2.3): one workspace built from
// two checkouts into two disk caches, each writing a JSON and a binary execution log. Three
// genrules are the causes: one zips its sources (whose mtimes differ between the checkouts:
// non-deterministic, fixable by normalizing), one writes `date` (non-deterministic, content),
// one writes $BUILD_USER, which --action_env sets to alice in A and bob in B (non-hermetic;
// every action's environment has it, only this one writes it). Five more depend on them
// (downstream), two do not differ at all.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExeclogJson } from '../src/execlog/report.js';
import { haveTool, tempDir } from './helpers.js';
import { CLI } from './worker-driver.js';

const HAVE = haveTool('bazel') && haveTool('zip') && haveTool('unzip');

const BUILD = `
genrule(name = "zipped", srcs = ["src/a.txt", "src/b.txt"], outs = ["zipped.zip"], cmd = "zip -q $@ $(SRCS)")
genrule(name = "stamp", outs = ["stamp.txt"], cmd = "date +%s%N > $@")
genrule(name = "user", outs = ["user.txt"], cmd = "echo \\"built by $$BUILD_USER\\" > $@")
genrule(name = "hello", outs = ["hello.txt"], cmd = "echo hello > $@")
genrule(name = "listing", srcs = [":zipped"], outs = ["listing.txt"], cmd = "unzip -l $< > $@")
genrule(name = "zcopy", srcs = [":zipped"], outs = ["zcopy.zip"], cmd = "cp $< $@")
genrule(name = "stamp2", srcs = [":stamp"], outs = ["stamp2.txt"], cmd = "cat $< $< > $@")
genrule(name = "shout", srcs = [":user"], outs = ["shout.txt"], cmd = "tr a-z A-Z < $< > $@")
genrule(name = "hello2", srcs = [":hello"], outs = ["hello2.txt"], cmd = "cat $< $< > $@")
genrule(name = "all", srcs = [":listing", ":stamp2", ":shout", ":hello2"], outs = ["all.txt"], cmd = "cat $(SRCS) > $@")
`;

const { dir, cleanup } = tempDir('detnorm-execlog-e2e-');
const P = (f: string) => join(dir, f);

function execlog(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, 'execlog', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
}
function json(args: string[]): ExeclogJson {
  const r = execlog(['--json', ...args]);
  expect(r.status, r.stderr).toBe(1);
  return JSON.parse(r.stdout) as ExeclogJson;
}
const summary = (j: ExeclogJson) => j.causes.map((c) => ({ class: c.class, target: c.target, verdicts: c.outputs.map((o) => o.verdict?.kind ?? null) }));

describe.skipIf(!HAVE)('detnorm execlog: two checkouts, two disk caches, real Bazel logs', () => {
  beforeAll(() => {
    for (const [v, user, mtime] of [['a', 'alice', 1_000_000_000], ['b', 'bob', 1_700_000_000]] as const) {
      const ws = P(`checkout-${v}`);
      mkdirSync(join(ws, 'src'), { recursive: true });
      writeFileSync(join(ws, 'WORKSPACE'), 'workspace(name = "repro")\n');
      writeFileSync(join(ws, 'BUILD.bazel'), BUILD);
      for (const [f, text] of [['a.txt', 'alpha\n'], ['b.txt', 'beta\n']]) {
        writeFileSync(join(ws, 'src', f!), text!);
        utimesSync(join(ws, 'src', f!), mtime, mtime);
      }
      const r = spawnSync(
        'bazel',
        [
          '--nohome_rc',
          `--output_user_root=${P(`root-${v}`)}`,
          'build',
          '//...',
          `--action_env=BUILD_USER=${user}`,
          `--disk_cache=${P(`cache-${v}`)}`,
          `--execution_log_json_file=${P(`${v}.json`)}`,
          `--execution_log_binary_file=${P(`${v}.bin`)}`,
        ],
        { cwd: ws, encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`bazel build in checkout ${v} failed:\n${r.stderr.slice(-3000)}`);
      spawnSync('bazel', ['--nohome_rc', `--output_user_root=${P(`root-${v}`)}`, 'shutdown'], { cwd: ws });
    }
  });
  afterAll(() => {
    spawnSync('chmod', ['-R', 'u+w', dir]);
    cleanup();
  });

  const caches = () => ['--disk-cache', P('cache-a'), '--disk-cache', P('cache-b')];

  describe('JSON logs with both disk caches: exactly the three causes, with their class and verdict', () => {
    let j: ExeclogJson;
    beforeAll(() => {
      j = json([...caches(), P('a.json'), P('b.json')]);
    });
    it('non-deterministic first (zipped: fixable; stamp: content), then non-hermetic (user), each in build order', () => {
      const got = summary(j);
      expect(got.map((c) => c.target).sort()).toEqual(['//:stamp', '//:user', '//:zipped']);
      expect(got.slice(0, 2).map((c) => c.class)).toEqual(['non-deterministic', 'non-deterministic']);
      expect(got[2]).toEqual({ class: 'non-hermetic', target: '//:user', verdicts: [null] });
      const byTarget = new Map(j.causes.map((c) => [c.target, c]));
      expect(byTarget.get('//:zipped')!.outputs[0]!.verdict).toMatchObject({ kind: 'normalized', text: expect.stringMatching(/^identical after normalization \(.*timestamps.*\): wrap this action's output with detnorm_normalize$/) });
      expect(byTarget.get('//:stamp')!.outputs[0]!.verdict).toEqual({ kind: 'content', text: 'content differs: the tool itself is non-deterministic' });
      expect(j.causes[0]!.order).toBeLessThan(j.causes[1]!.order);
    });
    it('the non-hermetic one names BUILD_USER, alice and bob, and that its value is in the output', () => {
      const user = j.causes.find((c) => c.target === '//:user')!;
      expect(user.environment).toEqual([{ name: 'BUILD_USER', a: 'alice', b: 'bob', buildWide: true, inOutput: true }]);
      expect(user.unconfirmed).toBe(false);
      expect(j.buildWide).toEqual([{ kind: 'environment', name: 'BUILD_USER', a: 'alice', b: 'bob' }]);
    });
    it('the five others that differ are downstream, counted under their causes; the two that do not differ are not named', () => {
      expect(j.paired).toBe(10);
      expect(j.differing).toBe(8);
      expect(j.downstream).toEqual({ count: 5, fromUnloggedActions: 0 });
      const under = Object.fromEntries(j.causes.map((c) => [c.target, c.downstream.map((d) => d.target).sort()]));
      expect(under).toEqual({ '//:zipped': ['//:all', '//:listing', '//:zcopy'], '//:stamp': ['//:all', '//:stamp2'], '//:user': ['//:all', '//:shout'] });
      expect(JSON.stringify(j)).not.toMatch(/\/\/:hello/);
      expect(j.onlyInA).toEqual([]);
      expect(j.onlyInB).toEqual([]);
    });
    it('the text report says the same, causes first', () => {
      const r = execlog([...caches(), P('a.json'), P('b.json')]);
      expect(r.status).toBe(1);
      const out = r.stdout;
      expect(out.indexOf('non-deterministic (')).toBeLessThan(out.indexOf('non-hermetic ('));
      expect(out).toMatch(/\/\/:zipped \(Genrule\)\n.*zipped\.zip\n\s+identical after normalization/);
      expect(out).toMatch(/\/\/:stamp \(Genrule\)\n.*stamp\.txt\n\s+content differs: the tool itself is non-deterministic/);
      expect(out).toMatch(/\/\/:user \(Genrule\)\n(.*\n)*\s+environment: BUILD_USER = "alice" in A, "bob" in B \(its value is in the output\)/);
      expect(out).toMatch(/detnorm execlog: 3 causes \(2 non-deterministic, 1 non-hermetic\), 5 downstream, 0 only in A, 0 only in B\n$/);
    });
  });

  it('binary logs, and a JSON log against a binary one, give the same answer', () => {
    const ref = json([...caches(), P('a.json'), P('b.json')]);
    const strip = (j: ExeclogJson) => ({ ...j, a: { ...j.a, path: '', form: '' }, b: { ...j.b, path: '', form: '' } });
    const bin = json([...caches(), P('a.bin'), P('b.bin')]);
    expect(bin.a.form).toBe('binary');
    expect(strip(bin)).toEqual(strip(ref));
    expect(strip(json([...caches(), P('a.json'), P('b.bin')]))).toEqual(strip(ref));
  });

  it('outputs found through the two workspaces (--output-base) instead of the caches: the same verdicts', () => {
    const j = json(['--output-base', P('checkout-a'), '--output-base', P('checkout-b'), P('a.bin'), P('b.bin')]);
    expect(summary(j)).toEqual(summary(json([...caches(), P('a.bin'), P('b.bin')])));
  });

  it('without the outputs, the three cannot be told apart from the build-wide BUILD_USER: named non-hermetic, unconfirmed', () => {
    const j = json([P('a.json'), P('b.json')]);
    expect(j.causes.map((c) => [c.target, c.class, c.unconfirmed]).sort()).toEqual([
      ['//:stamp', 'non-hermetic', true],
      ['//:user', 'non-hermetic', true],
      ['//:zipped', 'non-hermetic', true],
    ]);
    expect(j.downstream.count).toBe(5);
  });

  it('a log compared with itself: exit 0, nothing differs', () => {
    const r = execlog([P('a.bin'), P('a.json')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/10 actions paired, 0 with different outputs/);
  });

  describe('malformed or truncated logs: a clear error with the byte offset, exit 3', () => {
    it('a binary log cut in the middle of a SpawnExec', () => {
      const bin = readFileSync(P('a.bin'));
      writeFileSync(P('cut.bin'), bin.subarray(0, Math.floor(bin.length / 2)));
      const r = execlog([P('cut.bin'), P('b.bin')]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/^detnorm execlog: .*cut\.bin: SpawnExec #\d+: truncated message: \d+ bytes announced, \d+ present at byte \d+\n$/);
    });
    it('a JSON log cut in the middle of an object', () => {
      const text = readFileSync(P('b.json'));
      writeFileSync(P('cut.json'), text.subarray(0, Math.floor(text.length / 3)));
      const r = execlog([P('a.json'), P('cut.json')]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/cut\.json: truncated JSON object \(\d+ bytes, \d+ unclosed\) at byte \d+\n$/);
    });
    it('a JSON log with a broken value, and a binary log with a corrupted length', () => {
      const text = readFileSync(P('a.json'), 'utf8');
      const at = text.indexOf('"mnemonic"');
      writeFileSync(P('broken.json'), text.slice(0, at) + '"mnemonic": nope,' + text.slice(text.indexOf('\n', at)));
      const r = execlog([P('broken.json'), P('b.json')]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/broken\.json: invalid JSON.* at byte \d+\n$/);
      const bin = Buffer.from(readFileSync(P('a.bin')));
      bin[0] = 0xff; // the first length's varint now continues into the message
      writeFileSync(P('broken.bin'), bin);
      const s = execlog([P('broken.bin'), P('b.bin')]);
      expect(s.status).toBe(3);
      expect(s.stderr).toMatch(/broken\.bin: SpawnExec #1: .* at byte \d+\n$/);
    });
    it('a file that is no log: named, exit 3', () => {
      cpSync(CLI, P('not-a-log'));
      const r = execlog([P('not-a-log'), P('b.bin')]);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/not-a-log: .* at byte \d+/);
    });
  });
});
