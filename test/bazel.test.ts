// Bazel end to end (issue 9): the example workspace (examples/bazel) built for real, from two
// checkouts whose sources differ in mtime, owner and mode, with hermetic settings (sandbox,
// --incompatible_strict_action_env, no disk or remote cache, a fresh output_user_root each).
// The raw genrule outputs (zip, tar, tar.gz, pyc) differ; what detnorm_normalize and the
// `detnorm - < in > out` genrule filter write is byte-identical, and the detnorm actions are
// hermetic: sandboxed, PATH as the only environment, no absolute path on the command line,
// declared inputs only.
// Caching: checkout a fills a fresh disk cache, checkout b reads it but runs every genrule for
// real (no-cache), and the execution logs prove that nothing compared here came from the cache;
// the one action downstream of a normalized output is then a cache hit in b, which is what a
// shared remote cache gains from detnorm.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTool, run, tempDir } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'examples/bazel');
const DIST = join(ROOT, 'dist');
const HAVE = haveTool('bazel') && haveTool('zip') && haveTool('tar') && haveTool('python3') && haveTool('node');
// The directory of the node that runs these tests. Under --incompatible_strict_action_env the
// actions' PATH is /bin:/usr/bin:/usr/local/bin; a node elsewhere (nvm, a CI's setup-node) is
// put first with --action_env=PATH=..., which Bazel makes part of every action key.
const NODE_DIR = HAVE ? dirname(realpathSync(run('sh', ['-c', 'command -v node']).toString().trim())) : '';
const STRICT_PATH = ['/bin', '/usr/bin', '/usr/local/bin'];
const PATH_FLAGS = STRICT_PATH.includes(NODE_DIR) ? [] : [`--action_env=PATH=${[NODE_DIR, ...STRICT_PATH].join(':')}`];

/** One spawn from Bazel's --execution_log_json_file (a stream of JSON objects). */
interface Spawn {
  commandArgs: string[];
  environmentVariables?: { name: string; value: string }[];
  inputs?: { path: string }[];
  actualOutputs?: { path: string; digest: { hash: string } }[];
  runner: string;
  mnemonic: string;
  remotable: boolean;
  cacheable: boolean;
}

function parseExecLog(text: string): Spawn[] {
  const out: Spawn[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as Spawn);
  }
  return out;
}

// The two checkouts: same commit, different file system metadata and client environment.
// Checkout a runs its genrules in the sandbox (where linux-sandbox shows every source as owned
// by 65534, nobody), checkout b runs them unsandboxed, as a developer's laptop may (they see the
// owner the checkout has): so the raw artifacts differ in owners too. detnorm's own actions run
// sandboxed in both.
const VARIANTS = {
  a: { mtime: 1_000_000_000, uid: 1000, gid: 1000, file: 0o644, exe: 0o755, env: { TZ: 'UTC', SOURCE_DATE_EPOCH: '1', LC_ALL: 'C' }, flags: [] },
  b: {
    mtime: 1_714_567_890,
    uid: 4242,
    gid: 4343,
    file: 0o664,
    exe: 0o775,
    env: { TZ: 'Asia/Kolkata', SOURCE_DATE_EPOCH: '2000000000', LC_ALL: 'C.UTF-8' },
    flags: ['--strategy=Genrule=local', '--modify_execution_info=Genrule=+no-cache'],
  },
} as const;
type Variant = keyof typeof VARIANTS;

const RAW = ['app-raw.zip', 'app-raw.tar', 'app-raw.tar.gz', 'greet-raw.pyc'];
const NORMALIZED = ['app.zip', 'app-filtered.zip', 'app.tar', 'app.tar.gz', 'greet.pyc', 'app-node-toolchain.zip', 'app-node-executable.zip', 'app-node-wrapper.zip', 'app-node-genrule.zip'];

// A test-only package added to each copy: the `node` attribute fed like rules_nodejs's
// @nodejs_toolchains//:resolved_toolchain (a target whose files are exactly the node binary)
// and as a plain executable file; and a truncated zip the rule must refuse.
const E2E_DEFS = `
def _resolved_node_impl(ctx):
    return [
        DefaultInfo(files = depset([ctx.file.node])),
        platform_common.TemplateVariableInfo({"NODE_PATH": ctx.file.node.path}),
    ]

# Shaped like @nodejs_toolchains//:resolved_toolchain: DefaultInfo holds just the node binary.
resolved_node = rule(implementation = _resolved_node_impl, attrs = {"node": attr.label(allow_single_file = True)})

def _node_wrapper_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(out, '#!/bin/sh\\nexec "$0.runfiles/%s" "$@"\\n' % ctx.file.node.short_path.replace("../", "", 1), is_executable = True)
    return [DefaultInfo(executable = out, runfiles = ctx.runfiles(files = [ctx.file.node]))]

# A binary target that finds node in its runfiles (as a js_binary-style launcher would).
node_wrapper = rule(implementation = _node_wrapper_impl, executable = True, attrs = {"node": attr.label(allow_single_file = True)})
`;
const E2E_BUILD = `
load("//:detnorm.bzl", "detnorm_normalize")
load(":defs.bzl", "node_wrapper", "resolved_node")

resolved_node(name = "node_toolchain", node = "@host_node//:node")

detnorm_normalize(name = "zip_toolchain_node", src = "//app:app_zip_raw", out = "app-node-toolchain.zip", timestamp = 1700000000, node = ":node_toolchain")

node_wrapper(name = "node_wrapper", node = "@host_node//:node")

detnorm_normalize(name = "zip_wrapper_node", src = "//app:app_zip_raw", out = "app-node-wrapper.zip", timestamp = 1700000000, node = ":node_wrapper")

detnorm_normalize(name = "zip_executable_node", src = "//app:app_zip_raw", out = "app-node-executable.zip", timestamp = 1700000000, node = "@host_node//:node")

genrule(
    name = "zip_genrule_node",
    srcs = ["//app:app_zip_raw"],
    outs = ["app-node-genrule.zip"],
    cmd = "$(NODE_PATH) $(execpath @detnorm//:cli.mjs) -q -T 1700000000 - < $< > $@",
    toolchains = [":node_toolchain"],
    tools = [":node_toolchain", "@detnorm//:cli.mjs", "@detnorm//:detnorm"],
)

# Downstream of a normalized output (idempotent: same T): its input is the same in both
# checkouts, so checkout b gets it from the cache that checkout a filled.
detnorm_normalize(name = "again", src = "//app:app_zip", out = "app-again.zip", timestamp = 1700000000)

genrule(name = "truncated_raw", srcs = ["//app:app_zip_raw"], outs = ["truncated-raw.zip"], cmd = "head -c 100 $< > $@", tags = ["manual"])

detnorm_normalize(name = "truncated", src = ":truncated_raw", out = "truncated.zip", tags = ["manual"])
`;

const { dir: TMP, cleanup } = tempDir('detnorm-bazel-');
const state: Record<Variant, { ws: string; outRoot: string; spawns: Spawn[]; bin: string }> = {} as never;
const timings: string[] = [];

function bazel(v: Variant, args: string[]) {
  const { ws, outRoot } = state[v];
  return spawnSync('bazel', ['--batch', '--nohome_rc', `--output_user_root=${outRoot}`, ...args], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, ...VARIANTS[v].env },
    maxBuffer: 1 << 26,
  });
}

/** Copy examples/bazel and dist/ into DIR as a checkout would lay them out, with V's metadata on the sources. */
function makeCheckout(v: Variant): void {
  const co = join(TMP, `checkout-${v}`);
  const ws = join(co, 'examples/bazel');
  cpSync(EXAMPLE, ws, { recursive: true, filter: (s) => !relative(EXAMPLE, s).startsWith('bazel-') });
  cpSync(DIST, join(co, 'dist'), { recursive: true });
  mkdirSync(join(ws, 'e2e'));
  writeFileSync(join(ws, 'e2e/defs.bzl'), E2E_DEFS);
  writeFileSync(join(ws, 'e2e/BUILD.bazel'), E2E_BUILD);
  appendFileSync(
    join(ws, 'WORKSPACE'),
    `\nnew_local_repository(name = "host_node", path = ${JSON.stringify(NODE_DIR)}, build_file_content = 'exports_files(["node"])')\n`,
  );
  const m = VARIANTS[v];
  const src = join(ws, 'app/src');
  for (const rel of ['config.json', 'hello.txt', 'lib/greet.py', 'run.sh']) {
    const f = join(src, rel);
    chmodSync(f, rel.endsWith('.sh') ? m.exe : m.file);
    if (process.getuid?.() === 0) chownSync(f, m.uid, m.gid);
    utimesSync(f, m.mtime, m.mtime);
  }
  state[v] = { ws, outRoot: join(TMP, `output-user-root-${v}`), spawns: [], bin: join(ws, 'bazel-bin') };
}

const read = (v: Variant, pkg: string, f: string) => readFileSync(join(state[v].bin, pkg, f));
const pkgOf = (f: string) => (f.startsWith('app-node-') || f === 'app-again.zip' ? 'e2e' : 'app');
const AGAIN = /\/e2e\/app-again\.zip$/;
const outputOf = (s: Spawn) => (s.actualOutputs ?? [])[0]?.path ?? '';

describe.skipIf(!HAVE)('bazel: the example workspace, built from two checkouts', () => {
  beforeAll(() => {
    if (!existsSync(join(DIST, 'cli.mjs'))) throw new Error('dist/ is missing: run `npm run build` first');
    for (const v of ['a', 'b'] as const) {
      makeCheckout(v);
      const log = join(TMP, `exec-${v}.json`);
      const t0 = Date.now();
      const r = bazel(v, [
        'build',
        '//...',
        '--incompatible_strict_action_env',
        '--spawn_strategy=sandboxed',
        '--nosandbox_debug',
        `--disk_cache=${join(TMP, 'disk-cache')}`,
        '--remote_cache=',
        `--execution_log_json_file=${log}`,
        ...PATH_FLAGS,
        ...VARIANTS[v].flags,
      ]);
      timings.push(`${v}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (r.status !== 0) throw new Error(`bazel build in checkout ${v} failed (${r.status}):\n${r.stderr.slice(-4000)}`);
      state[v].spawns = parseExecLog(readFileSync(log, 'utf8'));
    }
  });
  afterAll(() => {
    // Bazel leaves read-only directories behind; --batch left no server running.
    spawnSync('chmod', ['-R', 'u+w', TMP]);
    cleanup();
    if (timings.length) console.log(`bazel e2e builds: ${timings.join(', ')}`);
  });

  describe('raw genrule outputs pick up the checkout (mtimes, owners, modes)', () => {
    it.each(RAW)('%s differs between the two checkouts', (f) => {
      expect(read('a', 'app', f).equals(read('b', 'app', f))).toBe(false);
    });
    it('the raw tars record each checkout\'s owners, times and modes', () => {
      const list = (v: Variant) =>
        run('tar', ['--numeric-owner', '--full-time', '-tvf', join(state[v].bin, 'app/app-raw.tar')], { env: { TZ: 'UTC' } })
          .toString()
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/));
      const [a, b] = [list('a'), list('b')];
      expect(a.map((f) => f[3])).toEqual(Array(4).fill('2001-09-09'));
      expect(b.map((f) => f[3])).toEqual(Array(4).fill('2024-05-01'));
      expect(b.map((f) => f[0])).toEqual(['-rw-rw-r--', '-rw-rw-r--', '-rw-rw-r--', '-rwxrwxr-x']);
      if (process.getuid?.() === 0) {
        expect(b.map((f) => f[1])).toEqual(Array(4).fill('4242/4343'));
        expect(a[0]![1]).not.toBe('4242/4343'); // 65534/65534 under linux-sandbox, 1000/1000 under processwrapper-sandbox
      }
    });
  });

  describe('normalized outputs are byte-identical', () => {
    it.each(NORMALIZED)('%s is the same in both checkouts', (f) => {
      const a = read('a', pkgOf(f), f);
      expect(a.length).toBeGreaterThan(0);
      expect(a.equals(read('b', pkgOf(f), f))).toBe(true);
    });
    it('the rule and the genrule filter agree, and so do all the ways to give node', () => {
      const zip = read('a', 'app', 'app.zip');
      for (const f of ['app-filtered.zip', 'app-node-toolchain.zip', 'app-node-executable.zip', 'app-node-wrapper.zip', 'app-node-genrule.zip']) expect(read('a', pkgOf(f), f).equals(zip), f).toBe(true);
    });
  });

  describe('normalized outputs are canonical and still valid', () => {
    it('zip: unzip -t passes, every time is T (2023-11-14 22:13 UTC), no extra fields', () => {
      const zip = join(state.a.bin, 'app/app.zip');
      expect(run('unzip', ['-t', zip]).toString()).toContain('No errors detected');
      const info = run('zipinfo', ['-v', zip]).toString();
      const dates = [...info.matchAll(/file last modified on \(DOS date\/time\):\s+(.*)/g)].map((m) => m[1]);
      expect(dates).toHaveLength(4);
      for (const d of dates) expect(d).toBe('2023 Nov 14 22:13:20');
      expect(info).not.toMatch(/length of extra field:\s+[1-9]/);
    });
    it('tar and tar.gz: owners 0/0, times 0, modes 0644/0755, names in order', () => {
      for (const f of ['app.tar', 'app.tar.gz']) {
        const list = run('tar', ['--numeric-owner', '--full-time', '-tvf', join(state.b.bin, 'app', f)]).toString().trim().split('\n');
        expect(list.map((l) => l.split(/\s+/).pop())).toEqual(['app/src/config.json', 'app/src/hello.txt', 'app/src/lib/greet.py', 'app/src/run.sh']);
        for (const l of list) {
          expect(l).toMatch(/^-rw(-r--r--|xr-xr-x) 0\/0 +\d+ 1970-01-01 00:00:00 /);
          expect(l.startsWith('-rwx')).toBe(l.endsWith('run.sh'));
        }
      }
    });
    it('pyc: source mtime is T and co_filename went through map_path', () => {
      const pyc = read('b', 'app', 'greet.pyc');
      expect(pyc.readUInt32LE(8)).toBe(1700000000);
      expect(pyc.includes('/src/app/src/lib/greet.py')).toBe(true);
      expect(pyc.includes('/home/builder')).toBe(false);
      expect(read('b', 'app', 'greet-raw.pyc').includes('/home/builder/app/app/src/lib/greet.py')).toBe(true);
    });
  });

  describe('the detnorm actions are hermetic', () => {
    const detnormSpawns = (v: Variant) => state[v].spawns.filter((s) => s.mnemonic === 'Detnorm' && !AGAIN.test(outputOf(s)));
    it('one sandboxed worker, remotable, cacheable action per rule target, PATH its only environment', () => {
      for (const v of ['a', 'b'] as const) {
        const spawns = detnormSpawns(v);
        expect(spawns).toHaveLength(6);
        for (const s of spawns) {
          // The example's .bazelrc: --strategy=Detnorm=worker,sandboxed --worker_sandboxing.
          expect(s.runner).toMatch(/worker/);
          expect(s.remotable && s.cacheable).toBe(true);
          expect((s.environmentVariables ?? []).map((e) => e.name)).toEqual(['PATH']);
        }
      }
    });
    it('no absolute path on a command line but the map_path the BUILD file gives', () => {
      for (const s of detnormSpawns('a')) {
        const [first, ...rest] = s.commandArgs;
        // A node target, or node-on-path.sh (`exec node "$@"`): an execroot path either way.
        expect(first).toMatch(/host_node\/node$|\/e2e\/node_wrapper$|\/external\/detnorm\/node-on-path\.sh$/);
        for (const a of rest) if (a !== '/home/builder/app=/src') expect(a.startsWith('/'), a).toBe(false);
        expect(s.commandArgs.join(' ')).not.toContain(TMP);
      }
    });
    it('declared inputs only: the artifact, the bundle files (entry points and chunks), the argument file and node (a target, or node-on-path.sh)', () => {
      for (const s of detnormSpawns('a')) {
        const inputs = (s.inputs ?? []).map((i) => i.path).sort();
        const bundle = ['external/detnorm/api.mjs', 'external/detnorm/cli.mjs', 'external/detnorm/detnorm-worker.mjs'];
        const params = inputs.filter((p) => p.endsWith('.params'));
        expect(params).toHaveLength(1);
        expect(s.commandArgs.at(-1)).toBe(`@${params[0]}`);
        // What runs: a node target, or the bundle's node-on-path.sh (a tool either way).
        expect(inputs).toContain(s.commandArgs[0]);
        expect(inputs.filter((p) => /\/external\/detnorm\/node-on-path\.sh$/.test(p))).toHaveLength(1);
        // The bundle's chunks (NAME-HASH.mjs) are inputs too.
        const own = inputs.filter((p) => !/^external\/detnorm\/[^/]+\.mjs$/.test(p) && !params.includes(p) && !/host_node\/node$|\/e2e\/node_wrapper$|\/node-on-path\.sh$/.test(p));
        expect(own).toHaveLength(1);
        expect(own[0]).toMatch(/^bazel-out\/[^/]+\/bin\/app\/(app-raw\.(zip|tar\.gz)|greet-raw\.pyc)$/);
        for (const b of bundle) expect(inputs).toContain(b);
      }
    });
    it('same outputs from different inputs: the action results match across checkouts', () => {
      const outs = (v: Variant) =>
        Object.fromEntries(detnormSpawns(v).flatMap((s) => (s.actualOutputs ?? []).map((o) => [o.path, o.digest.hash])));
      expect(Object.keys(outs('a'))).toHaveLength(6);
      expect(outs('b')).toEqual(outs('a'));
    });
  });

  describe('caching: what was compared was built, and normalized outputs make cache hits downstream', () => {
    it('checkout a executed every action (its cache was empty)', () => {
      expect(state.a.spawns.length).toBeGreaterThanOrEqual(13);
      for (const s of state.a.spawns) expect(s.runner, outputOf(s)).not.toMatch(/cache hit/);
    });
    it('checkout b executed every genrule and every detnorm action on a raw artifact', () => {
      const built = state.b.spawns.filter((s) => !AGAIN.test(outputOf(s)));
      expect(built.length).toBe(state.a.spawns.length - 1);
      for (const s of built) expect(s.runner, outputOf(s)).not.toMatch(/cache hit/);
    });
    it('checkout b got the action downstream of the normalized zip from the cache', () => {
      const again = state.b.spawns.filter((s) => AGAIN.test(outputOf(s)));
      expect(again).toHaveLength(1);
      expect(again[0]!.runner).toMatch(/cache hit/);
      expect(read('b', 'e2e', 'app-again.zip').equals(read('b', 'app', 'app.zip'))).toBe(true);
    });
  });

  describe('a broken artifact fails the build', () => {
    it('detnorm_normalize on a truncated zip fails with detnorm\'s reason', () => {
      const r = bazel('a', ['build', '//e2e:truncated', '--incompatible_strict_action_env', '--disk_cache=', '--remote_cache=', ...PATH_FLAGS]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('no end of central directory record');
      expect(r.stderr).toMatch(/ERROR: .*\/e2e\/BUILD.bazel:\d+:\d+: Normalizing e2e\/truncated.zip with detnorm failed/);
    });
  });
});
