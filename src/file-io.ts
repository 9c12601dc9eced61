// File-backed Source and Sink, and the spill sink that moves from memory to a temp file.
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { FileFailure, type FileGuard } from './errors.js';
import { BufferSink, BufferSource, checkRange, readInto } from './io.js';
import { SpillDir } from './spill-dir.js';
import type { Sink, Source, SpillSink } from './types.js';

/** A Source over an open file descriptor (positional reads; the fd stays owned by the caller). */
export class FileSource implements Source {
  constructor(
    private readonly fd: number,
    readonly size: number,
    /** Checked before every read (the per-file deadline); read errors are recorded there. */
    private readonly guard?: FileGuard,
  ) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const buf = Buffer.allocUnsafe(length);
    this.fill(offset, buf);
    return buf;
  }
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    checkRange(this.size, offset, target.length);
    this.fill(offset, target);
  }
  private fill(offset: number, target: Uint8Array): void {
    this.guard?.check();
    try {
      for (let done = 0; done < target.length; ) {
        const n = readSync(this.fd, target, done, target.length - done, offset + done);
        if (n === 0) throw new FileFailure('environment', `the file shrank while being read (${offset + done} of ${this.size} bytes): another process is writing it`);
        done += n;
      }
    } catch (e) {
      throw this.guard ? this.guard.record(e) : e;
    }
  }
}

/** Appends to an open file descriptor, gathering small writes into 256 KiB blocks. */
export class FileSink implements Sink {
  private pos = 0;
  private flushed = 0;
  private buf = Buffer.allocUnsafe(256 * 1024);
  private used = 0;
  constructor(readonly fd: number) {}
  get length(): number {
    return this.pos;
  }
  async write(chunk: Uint8Array): Promise<void> {
    if (this.used + chunk.length > this.buf.length) this.flush();
    if (chunk.length >= this.buf.length) {
      this.writeOut(chunk);
    } else {
      this.buf.set(chunk, this.used);
      this.used += chunk.length;
    }
    this.pos += chunk.length;
  }
  private writeOut(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, this.flushed + done);
    this.flushed += bytes.length;
  }
  /** Write out what is gathered; call before reading the file back or closing it. */
  flush(): void {
    if (this.used > 0) {
      this.writeOut(this.buf.subarray(0, this.used));
      this.used = 0;
    }
  }
}

/**
 * Holds data in memory up to `memoryBytes`, then moves it to a file in the artifact's spill
 * directory. `release` frees it as soon as its reader is done with it (a zip member written out),
 * `dispose` at the latest (the core calls it when the artifact is done). Every write checks the
 * file's guard (deadline), and an I/O failure (ENOSPC...) is recorded there: it fails the file.
 */
export class Spill implements SpillSink {
  private mem: BufferSink | undefined = new BufferSink();
  private file: { path: string; fd: number; sink: FileSink } | undefined;
  private released = false;
  constructor(
    private readonly memoryBytes: number,
    private readonly dir: SpillDir,
    private readonly guard?: FileGuard,
    private readonly onRelease?: (s: Spill) => void,
  ) {}
  get length(): number {
    return this.mem ? this.mem.length : (this.file?.sink.length ?? 0);
  }
  async write(chunk: Uint8Array): Promise<void> {
    this.guard?.check();
    if (this.released) throw new Error('spill written after release');
    try {
      if (this.mem && this.mem.length + chunk.length <= this.memoryBytes) return await this.mem.write(chunk);
      if (this.mem) {
        const path = this.dir.newFile();
        const fd = openSync(path, 'w+', 0o600);
        this.file = { path, fd, sink: new FileSink(fd) };
        await this.file.sink.write(this.mem.bytes());
        this.mem = undefined;
      }
      await this.file!.sink.write(chunk);
    } catch (e) {
      throw this.guard ? this.guard.record(e) : e;
    }
  }
  async close(): Promise<Source> {
    if (this.released) throw new Error('spill closed after release');
    if (this.mem) return new SpilledSource(new BufferSource(this.mem.bytes()), this);
    try {
      this.file!.sink.flush();
    } catch (e) {
      throw this.guard ? this.guard.record(e) : e;
    }
    return new SpilledSource(new FileSource(this.file!.fd, this.file!.sink.length, this.guard), this);
  }
  /** Free the memory or temp file now; the source `close` gave must not be read afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.mem = undefined;
    if (this.file) {
      const { fd, path } = this.file;
      this.file = undefined;
      try {
        closeSync(fd);
      } finally {
        rmSync(path, { force: true });
      }
    }
    this.onRelease?.(this);
  }
  dispose(): void {
    this.release();
  }
}

/** A spill's bytes, which the reader may give back early (`release`). */
class SpilledSource implements Source {
  readonly size: number;
  constructor(
    private readonly inner: Source,
    private readonly spill: Spill,
  ) {
    this.size = inner.size;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.inner.read(offset, length);
  }
  readInto(offset: number, target: Uint8Array): Promise<void> {
    return readInto(this.inner, offset, target);
  }
  release(): void {
    this.spill.release();
  }
}

/** Makes spills for one artifact, in one private directory, and disposes them all at the end. */
export class SpillPool {
  private spills = new Set<Spill>();
  private readonly dir = new SpillDir();
  constructor(
    private readonly memoryBytes: number,
    private readonly guard?: FileGuard,
  ) {}
  readonly make = (): SpillSink => {
    const s = new Spill(this.memoryBytes, this.dir, this.guard, (x) => this.spills.delete(x));
    this.spills.add(s);
    return s;
  };
  /** Spills alive now (for tests: released ones are gone). */
  get live(): number {
    return this.spills.size;
  }
  dispose(): void {
    for (const s of [...this.spills]) {
      try {
        s.dispose();
      } catch {
        /* the directory goes below */
      }
    }
    this.spills.clear();
    this.dir.remove();
  }
}
