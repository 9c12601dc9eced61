"""detnorm_normalize: make one build artifact bit-identical with detnorm, as a hermetic action.

Load it with `load("//:detnorm.bzl", "detnorm_normalize")` (copy this file and
detnorm.BUILD.bazel into your repository; see README.md for where the bundle comes from).

The action runs `node cli.mjs @ARGS`, ARGS holding `-q [-T T] [--map-path OLD=NEW]... -o OUT SRC`,
as a Bazel persistent worker by default (mnemonic Detnorm; `worker = False` or
--strategy=Detnorm=sandboxed runs one process per action, with the same output bytes):
  - its inputs are SRC, the detnorm bundle (four plain .mjs/.js files) and, when the `node`
    attribute names one, the Node.js binary: nothing else is read;
  - its output depends only on those input bytes and the attributes (detnorm is a pure
    function: no clock, time zone, locale, umask, user, cwd or absolute path goes into it),
    so it runs the same under the sandbox, under --incompatible_strict_action_env, and on a
    remote executor, and its result can be cached remotely;
  - it fails (detnorm exit 3) when SRC is an artifact detnorm cannot parse, rather than
    pass unknown bytes through silently; a file of a format detnorm does not handle is
    copied unchanged.
"""

def _node(ctx):
    """The Node.js interpreter: (executable, tools) from the `node` attribute, else node on PATH."""
    target = ctx.attr.node
    if target == None:
        # The host's node, looked up on the action's PATH (with --incompatible_strict_action_env:
        # /bin:/usr/bin:/usr/local/bin) by the bundle's node-on-path.sh (`exec node "$@"`).
        # detnorm's output does not depend on the Node version, so this stays correct under
        # caching; set `node` for a fully hermetic or remote build.
        for f in ctx.files.detnorm:
            if f.basename == "node-on-path.sh":
                return f, []
        return "node", []
    info = target[DefaultInfo]
    run = info.files_to_run
    if run != None and run.executable != None:
        # A binary target: passing its FilesToRunProvider as a tool brings its runfiles along.
        return run.executable, [run]
    files = info.files.to_list()
    if len(files) == 1:
        # e.g. @nodejs_toolchains//:resolved_toolchain (rules_nodejs / rules_js): its
        # DefaultInfo holds exactly the node binary.
        return files[0], files
    if len(files) == 0 and platform_common.TemplateVariableInfo in target:
        # A toolchain declared with node_path (a non-hermetic, pre-installed node).
        path = target[platform_common.TemplateVariableInfo].variables.get("NODE_PATH", "")
        if path:
            return path, []
    fail("node = %s: want an executable target or one that provides exactly one file (the node binary)" % target.label)

def _cli(ctx):
    for f in ctx.files.detnorm:
        if f.basename == "cli.mjs":
            return f
    fail("detnorm = %s: no cli.mjs among %s" % (ctx.attr.detnorm.label, [f.basename for f in ctx.files.detnorm]))

def _detnorm_normalize_impl(ctx):
    node, node_files = _node(ctx)
    cli = _cli(ctx)
    src = ctx.file.src
    out = ctx.outputs.out

    # The job: `-q [-T T] [--map-path OLD=NEW]... [flags] -o OUT SRC`, always through an
    # argument file (@FILE, one argument a line). A persistent worker gets the file's lines as
    # one WorkRequest; a one-shot run reads the file itself: the same command line either way.
    args = ctx.actions.args()
    args.add("-q")
    if ctx.attr.timestamp >= 0:
        args.add("-T", str(ctx.attr.timestamp))
    for old in sorted(ctx.attr.map_path.keys()):
        if not old or "=" in old:
            fail("map_path: bad key %r (want a path prefix without '=')" % old)
        args.add("--map-path", "%s=%s" % (old, ctx.attr.map_path[old]))
    args.add_all(ctx.attr.flags)
    args.add("-o", out)
    args.add(src)
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")

    # What starts detnorm: these arguments come before the argument file, and a persistent
    # worker is started with them (plus --persistent_worker). A `node` given as a path (a
    # toolchain's NODE_PATH, or a bundle BUILD file without node-on-path.sh) is started by
    # /bin/bash; such an action cannot run as a worker (Bazel wants an executable file).
    if type(node) == "string":
        executable = "/bin/bash"
        startup = ["-c", 'exec %s "$@"' % node, "detnorm", cli.path]
    else:
        executable = node
        startup = [cli.path]

    requirements = {}
    if ctx.attr.worker:
        requirements = {
            "supports-workers": "1",
            "requires-worker-protocol": ctx.attr.worker_protocol,
            "supports-worker-cancellation": "1",
        }
        if ctx.attr.multiplex:
            requirements["supports-multiplex-workers"] = "1"
            requirements["supports-multiplex-sandboxing"] = "1"

    ctx.actions.run(
        executable = executable,
        arguments = startup + [args],
        inputs = [src],
        # Tools, not plain inputs: a persistent worker is keyed by its tools' digests (a new
        # bundle or node starts a new worker), and Bazel runs as workers only actions with tools.
        tools = ctx.files.detnorm + node_files,
        outputs = [out],
        mnemonic = "Detnorm",
        progress_message = "Normalizing %s with detnorm" % out.short_path,
        execution_requirements = requirements,
        # PATH only (for a `node` found on it) plus whatever --action_env passes, e.g.
        # SOURCE_DATE_EPOCH when `timestamp` is not set; every such value is part of the action key.
        use_default_shell_env = True,
    )
    return [DefaultInfo(files = depset([out]))]

detnorm_normalize = rule(
    implementation = _detnorm_normalize_impl,
    doc = "Writes `out`: `src` with its timestamps, member order, owners, modes and mapped build paths set to canonical values by detnorm.",
    attrs = {
        "src": attr.label(
            mandatory = True,
            allow_single_file = True,
            doc = "The artifact to normalize (zip, jar, wheel, tar, tar.gz, gzip, ar, pyc, ...). Its format is told from its bytes (and its name for jar/wheel/apk).",
        ),
        "out": attr.output(
            mandatory = True,
            doc = "The normalized artifact.",
        ),
        "timestamp": attr.int(
            default = -1,
            doc = "The canonical time T (seconds since the epoch) for every timestamp detnorm rewrites. -1 (default): $SOURCE_DATE_EPOCH if --action_env passes it, else each format's 'no time' value.",
        ),
        "map_path": attr.string_dict(
            doc = "Build path prefixes to rewrite, OLD -> NEW (detnorm --map-path): DWARF strings, pyc co_filename. Longest prefix wins.",
        ),
        "flags": attr.string_list(
            doc = "More detnorm flags, e.g. [\"--clamp\"] or [\"--sort-ar-members\"].",
        ),
        "detnorm": attr.label(
            default = Label("@detnorm//:detnorm"),
            allow_files = True,
            cfg = "exec",
            doc = "The detnorm bundle: a target whose files include cli.mjs and the worker files beside it.",
        ),
        "worker": attr.bool(
            default = True,
            doc = "Run as a Bazel persistent worker where the strategy allows (mnemonic Detnorm: --strategy=Detnorm=worker, the default when workers are allowed, or =sandboxed / =local to run each action as its own process). The bytes written are the same either way.",
        ),
        "multiplex": attr.bool(
            default = True,
            doc = "With `worker`: one worker process serves several actions at once (supports-multiplex-workers). False: Bazel starts one worker process per concurrent action.",
        ),
        "worker_protocol": attr.string(
            default = "proto",
            values = ["proto", "json"],
            doc = "The worker protocol: proto (every Bazel with workers) or json (Bazel 4 needs --experimental_worker_allow_json_protocol).",
        ),
        "node": attr.label(
            default = None,
            allow_files = True,
            cfg = "exec",
            doc = "The Node.js (>= 20) binary: an executable, or a target providing exactly one file, such as @nodejs_toolchains//:resolved_toolchain. Default: node on the action's PATH.",
        ),
    },
)
