// The floor of rewriting (or reading) files with Node on this machine, for the benches to print
// next to detnorm: what "one read and one write of every byte" costs before any format work, from
// N threads at once as detnorm -jN works.
//   node bench/floor.mjs inplace DIR [-j N]  every regular file under DIR read whole, written to a
//                                       temp file beside it, renamed over it (what an in-place
//                                       rewrite must do at least; cp -a neither reads in user space
//                                       nor frees the old blocks)
//   node bench/floor.mjs read DIR [-j N]     every regular file under DIR read once, whole (what
//                                       --check on a canonical tree must do at least)
//   node bench/floor.mjs heads DIR [-j N]    every regular file under DIR opened and its first
//                                       4 KiB and last 4 KiB read (what detection needs)
//   node bench/floor.mjs copy IN OUT         IN copied to OUT through a 1 MiB buffer
// With -j N (default 1) the files are shared out by N worker threads: each takes the largest file
// not yet taken (an atomic counter over the files sorted by size), so the threads' parts are
// disjoint and finish together, as detnorm's scheduler aims to. The walk (main thread) is part of
// the time, as detnorm's is. Prints nothing; time it from outside.
import { closeSync, fstatSync, lstatSync, openSync, readSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const HEAD = 4096;

function readWhole(fd, size, buf) {
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, at, size - at, at);
    if (n === 0) break;
    at += n;
  }
}

function rewrite(p, size) {
  const fd = openSync(p, 'r');
  const buf = Buffer.allocUnsafe(size);
  readWhole(fd, size, buf);
  const tmp = join(dirname(p), `.${basename(p)}.floor-tmp`);
  const out = openSync(tmp, 'wx', 0o644);
  for (let at = 0; at < size; ) at += writeSync(out, buf, at, size - at);
  closeSync(out);
  renameSync(tmp, p);
  closeSync(fd);
}

let readBuf = Buffer.allocUnsafe(1 << 20);
function readOnce(p) {
  const fd = openSync(p, 'r');
  const size = fstatSync(fd).size;
  if (size > readBuf.length) readBuf = Buffer.allocUnsafe(size);
  readWhole(fd, size, readBuf);
  closeSync(fd);
}

const headBuf = Buffer.allocUnsafe(HEAD);
function heads(p, size) {
  const fd = openSync(p, 'r');
  readSync(fd, headBuf, 0, Math.min(HEAD, size), 0);
  if (size > HEAD) readSync(fd, headBuf, 0, Math.min(HEAD, size - HEAD), Math.max(HEAD, size - HEAD));
  closeSync(fd);
}

const WORK = { inplace: rewrite, read: readOnce, heads };

/** Regular files under dir (symlinks not followed), with their sizes. */
function listFiles(dir) {
  const paths = [];
  const sizes = [];
  const visit = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) {
        paths.push(p);
        sizes.push(lstatSync(p).size);
      }
    }
  };
  visit(dir);
  return { paths, sizes };
}

if (!isMainThread) {
  const { mode, paths, sizes, counter } = workerData;
  const next = new Int32Array(counter);
  const work = WORK[mode];
  for (let i = Atomics.add(next, 0, 1); i < paths.length; i = Atomics.add(next, 0, 1)) work(paths[i], sizes[i]);
} else {
  const args = process.argv.slice(2);
  const jAt = args.indexOf('-j');
  const threads = jAt >= 0 ? Number(args.splice(jAt, 2)[1]) : 1;
  const [mode, a, b] = args;
  if (WORK[mode] && a) {
    const { paths, sizes } = listFiles(a);
    const order = paths.map((_, i) => i).sort((x, y) => sizes[y] - sizes[x] || x - y);
    const data = { mode, paths: order.map((i) => paths[i]), sizes: order.map((i) => sizes[i]), counter: new SharedArrayBuffer(4) };
    const self = fileURLToPath(import.meta.url);
    await Promise.all(
      Array.from({ length: Math.max(1, threads) }, () => new Promise((res, rej) => {
        const w = new Worker(self, { workerData: data });
        w.on('error', rej);
        w.on('exit', (code) => (code === 0 ? res() : rej(new Error(`floor worker exited ${code}`))));
      })),
    );
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
    throw new Error('usage: floor.mjs inplace|read|heads DIR [-j N] | copy IN OUT');
  }
}
