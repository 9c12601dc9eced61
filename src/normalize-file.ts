// Normalize one file on disk: open, run the engine over a FileSource, and replace the file
// atomically only when its bytes change. This is what each worker runs.
import { closeSync, fstatSync, openSync, constants } from 'node:fs';
import { basename } from 'node:path';
import { Engine, describeError } from './engine.js';
import { FileSource } from './file-io.js';
import { SpillPool } from './file-io.js';
import type { FileReport } from './report.js';
import type { Handler, Options, Sink } from './types.js';
import { AtomicFile } from './write.js';

export interface FileJob {
  readonly path: string;
  readonly options: Options;
  /** Compute what would change, write nothing. */
  readonly check?: boolean;
  /** Write the result here instead of replacing the input (the input stays as it is). */
  readonly output?: string;
  readonly links?: readonly string[];
}

/** A sink that only counts (for --check). */
class NullSink implements Sink {
  length = 0;
  async write(chunk: Uint8Array): Promise<void> {
    this.length += chunk.length;
  }
}

export async function normalizeFileJob(job: FileJob, handlers: readonly Handler[]): Promise<FileReport> {
  const { path, options } = job;
  const links = job.links && job.links.length ? { links: job.links } : {};
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    return { path, status: 'error', changes: [], notices: [], reason: `cannot open: ${(e as Error).message}`, ...links };
  }
  const spills = new SpillPool(options.limits.memoryBytes);
  let atomic: AtomicFile | undefined;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { path, status: 'error', changes: [], notices: [], reason: 'not a regular file', ...links };
    const engine = new Engine({ options, handlers, spill: spills.make });
    const target = job.output ?? path;
    const open = async (): Promise<Sink> => {
      if (job.check) return new NullSink();
      atomic = new AtomicFile(target, job.output ? undefined : st);
      return atomic.sink;
    };
    const outcome = await engine.normalize(new FileSource(fd, st.size), basename(path), path, 0, open);
    if (outcome.status === 'changed') {
      if (atomic) atomic.commit();
    } else {
      atomic?.abort();
      if (job.output && !job.check) {
        // -o: the output file gets the input's bytes when nothing changed.
        const copy = new AtomicFile(target);
        const src = new FileSource(fd, st.size);
        for (let at = 0; at < st.size; at += 1 << 20) await copy.sink.write(await src.read(at, Math.min(1 << 20, st.size - at)));
        copy.commit();
      }
    }
    return {
      path,
      format: outcome.format,
      status: outcome.status,
      changes: outcome.changes,
      notices: outcome.notices,
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(job.check && outcome.status === 'changed' ? { checked: true } : {}),
      ...links,
    };
  } catch (e) {
    atomic?.abort();
    return { path, status: 'error', changes: [], notices: [], reason: describeError(e), ...links };
  } finally {
    spills.dispose();
    closeSync(fd);
  }
}
