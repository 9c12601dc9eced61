// npm run fuzz -- [--format NAME[,NAME]] [--seconds N] [--seed S] [--slow-ms MS] [--ci] [--no-save]
// Structure-aware mutation fuzzing of every handler (scripts/fuzz-core.ts): for each format in
// turn, a worker thread mutates that format's seeds (corpus files and the members met inside
// them) with fast-check from a fixed seed and checks each input. The main thread is the
// watchdog: an input not done within the hang limit (a synchronous loop the per-file deadline
// cannot stop) terminates the worker, is recorded as a hang, and a fresh worker goes on.
// The worker's RSS is checked after every input. Each new finding (one per signature) is written
// as a regression case under corpus/<format>/fuzz/ (unless --no-save); the property test
// replays them. --ci: exit 1 on any finding. Prints executions and findings per format.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { applyMutations, check, loadSeeds, mutationsArb, saveFinding, signature, type FindingKind, type Seed, type Verdict } from './fuzz-core.js';

interface Job {
  readonly format: string;
  readonly seconds: number;
  readonly seed: number;
  readonly slowMs: number;
  /** Executions already done for this format (a restarted worker goes on from there). */
  readonly start: number;
  /** This format's seeds (loaded once, by the main thread). */
  readonly seeds: readonly Seed[];
}

type FromWorker =
  | { type: 'ready'; seeds: number }
  | { type: 'begin'; exec: number; bytes: Uint8Array; name: string; options: Record<string, unknown>; origin: string }
  /** rss: how much the process's RSS grew during the input. */
  | { type: 'end'; exec: number; verdict: Verdict; rss: number }
  | { type: 'done'; execs: number };

/** An input after which the process's RSS grew by more than this is a finding (memory not bounded by the limits). */
const RSS_GROWTH_LIMIT = 512 * 1024 * 1024;
/** A worker runs this file through tsx (loader hooks are not inherited by worker threads). */
const BOOT = `const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); register(); await import(${JSON.stringify(import.meta.url)});`;

async function workerMain(job: Job): Promise<void> {
  const port = parentPort!;
  const seeds = job.seeds;
  port.postMessage({ type: 'ready', seeds: seeds.length } satisfies FromWorker);
  if (seeds.length === 0) {
    port.postMessage({ type: 'done', execs: 0 } satisfies FromWorker);
    return;
  }
  const until = performance.now() + job.seconds * 1000;
  let exec = job.start;
  const BATCH = 50;
  while (performance.now() < until) {
    // One batch of samples per (seed, batch index): the sequence of inputs depends on the seed only.
    const batch = Math.floor(exec / BATCH);
    const arb = fc.integer({ min: 0, max: seeds.length - 1 }).chain((i) => fc.tuple(fc.constant(i), mutationsArb(seeds[i]!.bytes.length)));
    const samples = fc.sample(arb, { seed: (job.seed * 7919 + batch * 104729 + hash(job.format)) | 0, numRuns: BATCH });
    for (let k = exec % BATCH; k < samples.length && performance.now() < until; k++, exec++) {
      const [i, muts] = samples[k]!;
      const seed: Seed = seeds[i]!;
      const bytes = applyMutations(seed.bytes, muts);
      const origin = `${seed.id} ${JSON.stringify(muts)}`;
      port.postMessage({ type: 'begin', exec, bytes, name: seed.name, options: seed.optionsJson, origin } satisfies FromWorker);
      const before = process.memoryUsage().rss;
      const verdict = await check(bytes, seed.name, seed.optionsJson, { slowMs: job.slowMs, deadlineMs: 10_000 });
      port.postMessage({ type: 'end', exec, verdict, rss: process.memoryUsage().rss - before } satisfies FromWorker);
    }
  }
  port.postMessage({ type: 'done', execs: exec } satisfies FromWorker);
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

interface Stats {
  format: string;
  seeds: number;
  execs: number;
  statuses: Record<string, number>;
  findings: Map<string, { kind: FindingKind; detail: string; count: number; saved?: string }>;
}

function parseArgs(argv: string[]) {
  const a = { formats: [] as string[], seconds: 60, seed: 1, slowMs: 2000, hangMs: 15_000, ci: false, save: true };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    const next = () => argv[++i] ?? '';
    if (v === '--format') a.formats.push(...next().split(',').filter(Boolean));
    else if (v === '--seconds') a.seconds = Number(next());
    else if (v === '--seed') a.seed = Number(next());
    else if (v === '--slow-ms') a.slowMs = Number(next());
    else if (v === '--hang-ms') a.hangMs = Number(next());
    else if (v === '--ci') a.ci = true;
    else if (v === '--no-save') a.save = false;
    else throw new Error(`unknown argument ${v}`);
  }
  if (!(a.seconds > 0) || !Number.isFinite(a.seed)) throw new Error('--seconds and --seed take numbers');
  return a;
}

/** Fuzz one format for `seconds`, restarting the worker after a hang or a crash. */
async function fuzzFormat(format: string, args: ReturnType<typeof parseArgs>, seeds: readonly Seed[]): Promise<Stats> {
  const stats: Stats = { format, seeds: 0, execs: 0, statuses: {}, findings: new Map() };
  const deadline = performance.now() + args.seconds * 1000;
  const record = (kind: FindingKind, verdict: Verdict, cur: Extract<FromWorker, { type: 'begin' }>) => {
    const sig = signature(format, verdict);
    const f = stats.findings.get(sig);
    if (f) {
      f.count++;
      return;
    }
    const entry: { kind: FindingKind; detail: string; count: number; saved?: string } = { kind, detail: verdict.detail ?? '', count: 1 };
    if (args.save) entry.saved = saveFinding(format, cur.bytes, cur.name, cur.options, kind, verdict.detail ?? '', cur.origin);
    stats.findings.set(sig, entry);
    process.stderr.write(`  ${format}: ${kind}: ${verdict.detail}${entry.saved ? ` -> ${entry.saved.replace(/.*\/corpus\//, 'corpus/')}` : ''}\n`);
  };
  while (performance.now() < deadline) {
    const seconds = Math.max(1, (deadline - performance.now()) / 1000);
    const job: Job = { format, seconds, seed: args.seed, slowMs: args.slowMs, start: stats.execs, seeds };
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(BOOT)}`), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    let cur: Extract<FromWorker, { type: 'begin' }> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const ended = await new Promise<'done' | 'hang' | 'crash'>((resolve) => {
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => resolve('hang'), args.hangMs + (cur ? 0 : 120_000));
      };
      arm();
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') stats.seeds = m.seeds;
        else if (m.type === 'begin') {
          cur = m;
          arm();
        } else if (m.type === 'end') {
          stats.execs = m.exec + 1;
          stats.statuses[m.verdict.status] = (stats.statuses[m.verdict.status] ?? 0) + 1;
          if (!m.verdict.ok) record(m.verdict.kind!, m.verdict, cur!);
          else if (m.rss > RSS_GROWTH_LIMIT) record('memory', { ...m.verdict, ok: false, kind: 'memory', detail: `RSS grew by ${Math.round(m.rss / 2 ** 20)} MiB on this input` }, cur!);
          cur = undefined;
          arm();
        } else if (m.type === 'done') resolve('done');
      });
      w.on('error', (e) => {
        process.stderr.write(`  ${format}: worker error: ${e instanceof Error ? e.stack : String(e)}\n`);
        resolve('crash');
      });
      w.on('exit', () => resolve('crash'));
    });
    clearTimeout(timer);
    await w.terminate();
    if (ended === 'done') break;
    if (!cur) {
      if (stats.seeds === 0) break;
      process.stderr.write(`  ${format}: worker ${ended} outside an input\n`);
      break;
    }
    const kind: FindingKind = ended === 'hang' ? 'slow' : 'memory';
    record(kind, { ok: false, kind, status: ended, ms: args.hangMs, detail: ended === 'hang' ? `no result within ${args.hangMs} ms (a hang)` : 'the worker died (out of memory?)' }, cur);
    stats.execs = cur.exec + 1;
  }
  return stats;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { HANDLERS } = await import('../formats/index.js');
  const formats = args.formats.length > 0 ? args.formats : HANDLERS.map((h) => h.name);
  for (const f of formats) if (!HANDLERS.some((h) => h.name === f)) throw new Error(`unknown format ${f}`);
  console.log(`fuzz: ${formats.length} format(s), ${args.seconds} s each, seed ${args.seed}, slow after ${args.slowMs} ms, hang after ${args.hangMs} ms`);
  const seeds = await loadSeeds();
  const all: Stats[] = [];
  for (const f of formats) {
    const t = performance.now();
    const s = await fuzzFormat(f, args, seeds.filter((x) => x.format === f));
    all.push(s);
    const found = [...s.findings.values()].reduce((n, x) => n + x.count, 0);
    console.log(`${f.padEnd(16)} seeds ${String(s.seeds).padStart(4)}  execs ${String(s.execs).padStart(7)}  (${Math.round(s.execs / ((performance.now() - t) / 1000))}/s)  findings ${found} (${s.findings.size} distinct)  ${Object.entries(s.statuses).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const distinct = all.reduce((n, s) => n + s.findings.size, 0);
  console.log(`fuzz: ${all.reduce((n, s) => n + s.execs, 0)} executions, ${distinct} distinct finding(s)`);
  for (const s of all) for (const f of s.findings.values()) console.log(`  ${s.format}: ${f.kind} x${f.count}: ${f.detail}${f.saved ? ` (${f.saved.replace(/.*\/corpus\//, 'corpus/')})` : ''}`);
  if (args.ci && distinct > 0) process.exitCode = 1;
}

if (isMainThread) {
  main().catch((e) => {
    console.error(`fuzz: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  });
} else {
  workerMain(workerData as Job).catch((e) => {
    throw e;
  });
}
