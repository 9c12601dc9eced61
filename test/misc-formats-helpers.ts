// Test helpers for the small formats (png, javadoc, gettext .mo, .properties, bflt, uImage):
// run one handler directly (so a crash is not hidden by the engine's error mapping), and a
// source that records how much it is asked for at once.
import { expect } from 'vitest';
import { BufferSink, BufferSource } from '../src/io.js';
import { defaultOptions } from '../src/options.js';
import { FormatError, type Context, type Handler, type HandlerResult, type Options, type Source } from '../src/types.js';
import { MemorySpill } from '../src/engine.js';

export async function direct(
  handler: Handler,
  bytes: Uint8Array,
  opts: Partial<Options> = {},
  src: Source = new BufferSource(bytes),
): Promise<{ result: HandlerResult; output: Buffer; notices: string[] }> {
  const notices: string[] = [];
  const ctx: Context = {
    options: defaultOptions(opts),
    path: 'test',
    depth: 0,
    normalizeMember: async () => ({ changed: false }),
    spill: () => new MemorySpill(),
    notice: (m) => notices.push(m),
  };
  const sink = new BufferSink();
  const result = await handler.normalize(src, sink, ctx);
  return { result, output: Buffer.from(sink.bytes()), notices };
}

/** Run the handler on hostile bytes: it may succeed or throw FormatError, nothing else. */
export async function expectCleanOutcome(handler: Handler, bytes: Uint8Array, opts: Partial<Options> = {}): Promise<string> {
  try {
    const r = await direct(handler, bytes, opts);
    return r.result.status;
  } catch (e) {
    if (!(e instanceof FormatError)) expect.fail(`${handler.name}: threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return 'error';
  }
}

/** A source that remembers the largest single read. */
export class CountingSource implements Source {
  maxRead = 0;
  readonly size: number;
  constructor(private readonly inner: Source) {
    this.size = inner.size;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    this.maxRead = Math.max(this.maxRead, length);
    return this.inner.read(offset, length);
  }
}

/** A deterministic pseudo-random byte generator for test data. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x & 0xff;
  };
}
