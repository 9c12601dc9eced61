// File-backed Source and Sink, and the spill sink that moves from memory to a temp file.
import { closeSync, openSync, readSync, unlinkSync, writeSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferSink, BufferSource, checkRange } from './io.js';
import type { Sink, Source, SpillSink } from './types.js';

/** A Source over an open file descriptor (positional reads; the fd stays owned by the caller). */
export class FileSource implements Source {
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new RangeError(`file shrank while reading: ${offset + done} of ${this.size}`);
      done += n;
    }
    return buf;
  }
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    checkRange(this.size, offset, target.length);
    for (let done = 0; done < target.length; ) {
      const n = readSync(this.fd, target, done, target.length - done, offset + done);
      if (n === 0) throw new RangeError(`file shrank while reading: ${offset + done} of ${this.size}`);
      done += n;
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
 * Holds data in memory up to `memoryBytes`, then moves it to a private temp file. Temp files
 * are removed by `dispose` (the core calls it when the artifact is done).
 */
export class Spill implements SpillSink {
  private mem: BufferSink | undefined = new BufferSink();
  private file: { dir: string; path: string; fd: number; sink: FileSink } | undefined;
  constructor(private readonly memoryBytes: number) {}
  get length(): number {
    return this.mem ? this.mem.length : this.file!.sink.length;
  }
  async write(chunk: Uint8Array): Promise<void> {
    if (this.mem && this.mem.length + chunk.length <= this.memoryBytes) return this.mem.write(chunk);
    if (this.mem) {
      const dir = mkdtempSync(join(tmpdir(), 'detnorm-spill-'));
      const path = join(dir, 'data');
      const fd = openSync(path, 'w+', 0o600);
      this.file = { dir, path, fd, sink: new FileSink(fd) };
      await this.file.sink.write(this.mem.bytes());
      this.mem = undefined;
    }
    await this.file!.sink.write(chunk);
  }
  async close(): Promise<Source> {
    if (this.mem) return new BufferSource(this.mem.bytes());
    this.file!.sink.flush();
    return new FileSource(this.file!.fd, this.file!.sink.length);
  }
  dispose(): void {
    if (this.file) {
      closeSync(this.file.fd);
      unlinkSync(this.file.path);
      rmdirSync(this.file.dir);
      this.file = undefined;
    }
    this.mem = undefined;
  }
}

/** Makes spills for one artifact and disposes them all at the end. */
export class SpillPool {
  private spills: Spill[] = [];
  constructor(private readonly memoryBytes: number) {}
  readonly make = (): SpillSink => {
    const s = new Spill(this.memoryBytes);
    this.spills.push(s);
    return s;
  };
  dispose(): void {
    for (const s of this.spills) s.dispose();
    this.spills = [];
  }
}
