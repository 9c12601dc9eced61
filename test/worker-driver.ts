// Drives `detnorm --persistent_worker` the way Bazel does: start it once, send WorkRequests
// on its stdin (protobuf or JSON), match WorkResponses by request_id. Used by the worker tests
// and bench/bazel-worker-bench.mjs.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DelimitedSplitter } from '../src/execlog/protobuf.js';
import { JsonObjectSplitter } from '../src/execlog/json-stream.js';
import { decodeResponse, frameRequest, responseFromJson, type WireFormat, type WorkRequest, type WorkResponse } from '../src/bazel-worker/protocol.js';

export const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;

export class WorkerDriver {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly responses: WorkResponse[] = [];
  private waiting = new Map<number, Array<(r: WorkResponse) => void>>();
  private unclaimed = new Map<number, WorkResponse[]>();
  private log: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly format: WireFormat = 'proto',
    opts: { startup?: string[]; cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.proc = spawn(process.execPath, [CLI, ...(opts.startup ?? []), '--persistent_worker'], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const proto = new DelimitedSplitter();
    const json = new JsonObjectSplitter();
    this.proc.stdout.on('data', (c: Buffer) => {
      const got = format === 'proto' ? proto.push(c).map((m) => decodeResponse(m.bytes, m.offset)) : json.push(c).map((m) => responseFromJson(m.value));
      for (const r of got) {
        this.responses.push(r);
        const f = this.waiting.get(r.requestId)?.shift();
        if (f) f(r);
        else this.unclaimed.set(r.requestId, [...(this.unclaimed.get(r.requestId) ?? []), r]);
      }
    });
    this.proc.stderr.on('data', (c: Buffer) => this.log.push(c.toString()));
    this.exited = new Promise((res) => this.proc.on('exit', (code) => res(code)));
  }

  /** The worker's log so far (its stderr). */
  get stderr(): string {
    return this.log.join('');
  }

  /** Send raw bytes (several frames at once, or broken ones). */
  write(bytes: Uint8Array): void {
    this.proc.stdin.write(bytes);
  }

  frame(q: Partial<WorkRequest>): Uint8Array {
    return frameRequest(q, this.format);
  }

  /** The next response for `id` (registered before sending, so none is missed). */
  response(id: number): Promise<WorkResponse> {
    const early = this.unclaimed.get(id)?.shift();
    if (early) return Promise.resolve(early);
    return new Promise((res) => this.waiting.set(id, [...(this.waiting.get(id) ?? []), res]));
  }

  /** Send one request and wait for its response. */
  async request(q: Partial<WorkRequest>): Promise<WorkResponse> {
    const p = this.response(q.requestId ?? 0);
    this.write(this.frame(q));
    return p;
  }

  /** Close stdin and wait for the exit code. */
  async close(): Promise<number | null> {
    this.proc.stdin.end();
    return this.exited;
  }

  /** Resident set size of the worker process, in KiB (Linux /proc). */
  rssKiB(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  }
}
