// A progress bar on stderr for long runs on a terminal (never on a non-TTY: the CLI decides).
// It appears only when a run lasts more than half a second, and log lines print above it.
import cliProgress from 'cli-progress';
import type { FileReport } from './report.js';

export class Progress {
  private multi: cliProgress.MultiBar | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = 0;
  private total = 0;
  private changed = 0;

  start(files: number): void {
    this.total = files;
    this.timer = setTimeout(() => this.show(), 500);
    this.timer.unref();
  }

  private show(): void {
    if (this.done >= this.total) return;
    this.multi = new cliProgress.MultiBar(
      {
        stream: process.stderr,
        format: 'detnorm [{bar}] {value}/{total} files | {changed} changed | {eta_formatted} left',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 200,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar = this.multi.create(this.total, this.done, { changed: this.changed });
  }

  tick(r: FileReport): void {
    this.done++;
    if (r.status === 'changed') this.changed++;
    this.bar?.update(this.done, { changed: this.changed });
  }

  log(line: string): void {
    if (this.multi) this.multi.log(line + '\n');
    else process.stdout.write(line + '\n');
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.multi?.stop();
  }
}
