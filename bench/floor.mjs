// The floor of rewriting files with Node on this machine, for the benches to print next to
// `cp -a`: what "one read and one write of every byte" costs before any format work.
//   node bench/floor.mjs inplace DIR    every file of DIR read whole, written to a temp file
//                                       beside it, renamed over it (what an in-place rewrite
//                                       must do at least; cp -a neither reads in user space nor
//                                       frees the old blocks)
//   node bench/floor.mjs copy IN OUT    IN copied to OUT through a 1 MiB buffer
import { closeSync, fstatSync, openSync, readSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const [mode, a, b] = process.argv.slice(2);
if (mode === 'inplace') {
  for (const f of readdirSync(a)) {
    const p = join(a, f);
    const fd = openSync(p, 'r');
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    for (let at = 0; at < size; ) at += readSync(fd, buf, at, size - at, at);
    const tmp = join(a, `.${f}.floor-tmp`);
    const out = openSync(tmp, 'wx', 0o644);
    for (let at = 0; at < size; ) at += writeSync(out, buf, at, size - at);
    closeSync(out);
    renameSync(tmp, p);
    closeSync(fd);
  }
} else if (mode === 'copy') {
  const i = openSync(a, 'r');
  const o = openSync(b, 'w');
  const size = fstatSync(i).size;
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let at = 0; at < size; ) {
    const n = readSync(i, buf, 0, buf.length, at);
    for (let w = 0; w < n; ) w += writeSync(o, buf, w, n - w);
    at += n;
  }
  closeSync(i);
  closeSync(o);
} else {
  throw new Error('usage: floor.mjs inplace DIR | copy IN OUT');
}
