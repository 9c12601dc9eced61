// The persistent worker loop (`detnorm --persistent_worker`): Bazel starts it once, with the
// action's arguments before its @argsfile, and sends one WorkRequest per action on stdin, the
// argsfile's lines as `arguments`. Replies go to stdout; stderr is the worker's log.
//
// - Wire format: protobuf (length-prefixed) or JSON, told from the first bytes (see
//   detectFormat); every message after that must use the same one.
// - Multiplex: requests with a request_id are served concurrently, at most `jobs` at a time
//   (the others wait in a queue of small request records), by the same pool the CLI uses.
//   Memory is bounded by `jobs` times one file's bounds, whatever the number of requests.
// - Singleplex: request_id 0; Bazel sends the next one after the reply.
// - Cancel: a queued request is dropped and answered with was_cancelled. A running one
//   finishes (each file is bounded by its deadline) and is answered with was_cancelled; its
//   output, written atomically, is exactly the bytes the action would give, so nothing
//   partial or different is left where Bazel may look.
// - End of stdin: finish what runs, then exit. A malformed message: log it and exit 1 (Bazel
//   then reports the worker's death with this log).
import type { Readable, Writable } from 'node:stream';
import { ProtoError, DelimitedSplitter } from '../execlog/protobuf.js';
import { JsonObjectSplitter } from '../execlog/json-stream.js';
import { decodeRequest, frameResponse, requestFromJson, type WireFormat, type WorkRequest, type WorkResponse } from './protocol.js';
import { RequestRunner } from './request.js';

export interface WorkerStreams {
  readonly input: Readable;
  readonly output: Writable;
  /** The worker log (stderr). */
  readonly log: (line: string) => void;
}

/**
 * The wire format from the first bytes of the stream, or undefined until enough have come.
 * JSON starts with '{' then (after any white space) '"' or '}'. A protobuf message of 123
 * bytes also starts with '{' (its length); its next byte is a field tag, and the only tag a
 * WorkRequest can start with that is also JSON white space is 0x0a (arguments), followed by a
 * string length and the string: read as JSON only if that string starts with white space and
 * then '"', which no argument Bazel sends does.
 */
export function detectFormat(head: Uint8Array): WireFormat | undefined {
  if (head.length === 0) return undefined;
  if (head[0] !== 0x7b) return 'proto';
  for (let i = 1; i < head.length; i++) {
    const c = head[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x22 || c === 0x7d ? 'json' : 'proto';
  }
  return head.length > 64 ? 'proto' : undefined;
}

export class PersistentWorker {
  private format: WireFormat | undefined;
  private head: Uint8Array = new Uint8Array(0);
  private proto = new DelimitedSplitter(64 << 20);
  private json = new JsonObjectSplitter(64 << 20);
  private readonly queue: WorkRequest[] = [];
  /** Requests in flight: id -> cancelled? */
  private readonly running = new Map<number, { cancelled: boolean }>();
  private readonly idle: Array<() => void> = [];
  private handled = 0;

  constructor(
    private readonly streams: WorkerStreams,
    private readonly runner: RequestRunner,
    /** Requests worked on at once. */
    private readonly jobs: number,
  ) {}

  /** Feed bytes from stdin: decode the complete requests, queue and start them. */
  push(chunk: Uint8Array): void {
    if (!this.format) {
      const head = new Uint8Array(this.head.length + chunk.length);
      head.set(this.head);
      head.set(chunk, this.head.length);
      this.format = detectFormat(head);
      if (!this.format) {
        this.head = head;
        return;
      }
      this.head = new Uint8Array(0);
      chunk = head;
      if (this.format === 'json') this.streams.log('detnorm worker: JSON protocol');
    }
    // One message at a time: the requests before a malformed one are served.
    if (this.format === 'proto') {
      for (const m of this.proto.push(chunk)) this.accept(decodeRequest(m.bytes, m.offset));
    } else {
      for (const m of this.json.push(chunk)) {
        let q: WorkRequest;
        try {
          q = requestFromJson(m.value);
        } catch (e) {
          throw new ProtoError(`bad WorkRequest: ${(e as Error).message}`, m.offset);
        }
        this.accept(q);
      }
    }
  }

  /** Stdin ended: throws if it ended inside a message. */
  end(): void {
    if (this.format === 'proto') this.proto.end();
    else if (this.format === 'json') this.json.end();
    else if (this.head.length) throw new ProtoError('stdin ended inside the first message', 0);
  }

  private accept(q: WorkRequest): void {
    if (q.cancel) {
      const i = this.queue.findIndex((x) => x.requestId === q.requestId);
      const r = this.running.get(q.requestId);
      if (i >= 0) {
        this.queue.splice(i, 1);
        this.reply({ exitCode: 0, output: '', requestId: q.requestId, wasCancelled: true });
      } else if (r) r.cancelled = true;
      // Otherwise it was answered already: nothing to do.
      this.streams.log(`detnorm worker: cancel request ${q.requestId}: ${i >= 0 ? 'dropped from the queue' : r ? 'running, answered when done' : 'already answered'}`);
      return;
    }
    this.queue.push(q);
    this.pump();
  }

  private pump(): void {
    while (this.queue.length && this.running.size < this.jobs) {
      const q = this.queue.shift()!;
      const state = { cancelled: false };
      this.running.set(q.requestId, state);
      this.runner.run(q).then(
        (r) => this.finish(q, state, r),
        (e) => this.finish(q, state, { exitCode: 3, output: `detnorm: internal error: ${(e as Error).stack ?? e}\n` }),
      );
    }
  }

  private finish(q: WorkRequest, state: { cancelled: boolean }, r: { exitCode: number; output: string }): void {
    this.running.delete(q.requestId);
    this.handled++;
    this.reply(state.cancelled ? { exitCode: 0, output: '', requestId: q.requestId, wasCancelled: true } : { ...r, requestId: q.requestId, wasCancelled: false });
    if (q.verbosity > 0) this.streams.log(`detnorm worker: request ${q.requestId} done (exit ${r.exitCode}), ${this.handled} so far, rss ${Math.round(process.memoryUsage.rss() / 1048576)} MiB`);
    this.pump();
    if (this.running.size === 0 && this.queue.length === 0) for (const f of this.idle.splice(0)) f();
  }

  private reply(p: WorkResponse): void {
    this.streams.output.write(frameResponse(p, this.format ?? 'proto'));
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (this.running.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((res) => this.idle.push(res));
  }
}

/** Serve requests from `streams` until its input ends. Returns the exit code. */
export async function serve(streams: WorkerStreams, runner: RequestRunner, jobs: number): Promise<number> {
  const w = new PersistentWorker(streams, runner, jobs);
  try {
    for await (const chunk of streams.input) w.push(chunk as Uint8Array);
    w.end();
  } catch (e) {
    streams.log(`detnorm worker: ${e instanceof ProtoError ? `malformed request: ${e.message}` : ((e as Error).stack ?? String(e))}`);
    await w.drained();
    return 1;
  }
  await w.drained();
  return 0;
}

/** `detnorm [startup args] --persistent_worker`: the CLI's entry. */
export async function runPersistentWorker(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const startup = args.filter((a) => a !== '--persistent_worker');
  const runner = new RequestRunner(startup, env);
  const log = (l: string) => process.stderr.write(l + '\n');
  // stdout is the protocol channel: nothing else may be written to it.
  const out = process.stdout;
  out.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  try {
    return await serve({ input: process.stdin, output: out, log }, runner, runner.jobs);
  } finally {
    await runner.close();
  }
}
