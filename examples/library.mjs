// The library API on the demo's first build (a copy; the corpus is not touched):
//   node examples/library.mjs        (after `npm ci`, from this checkout; or with detnorm installed)
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeBuffer, normalizeFile, normalizeTree } from 'detnorm';

const demo = new URL('../corpus/demo/build-a/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'detnorm-example-'));
cpSync(demo, work, { recursive: true });
const T = 1700000000; // what SOURCE_DATE_EPOCH would give; the library reads no environment

try {
  // 1. Bytes in, bytes out: nothing touches the disk.
  const gz = readFileSync(join(work, 'README.gz'));
  const one = await normalizeBuffer(gz, { name: 'README.gz', timestamp: T });
  console.log(`buffer: ${one.format} ${one.status}: ${one.changes.map((c) => c.what).join('; ')}`);

  // 2. One file, checked first (writes nothing), then normalized in place (atomically).
  const check = await normalizeFile(join(work, 'release.zip'), { timestamp: T, check: true });
  console.log(`check: release.zip would ${check.status === 'changed' ? '' : 'not '}change (${[...new Set(check.changes.map((c) => c.kind))].join(', ')})`);
  await normalizeFile(join(work, 'release.zip'), { timestamp: T });

  // 3. A whole tree with a worker pool; reports arrive in sorted path order.
  const { summary } = await normalizeTree(work, {
    timestamp: T,
    mapPaths: { '/tmp/detnorm-demo/build-a/src': '/build/src' },
    jobs: 2,
    onReport: (r) => console.log(`tree: ${r.path.slice(work.length + 1)}: ${r.format ?? '-'} ${r.status}`),
  });
  console.log(`summary: ${JSON.stringify(summary)}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
