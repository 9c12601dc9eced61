// Container image bench (issue 10): an OCI layout with one big gzip layer (many files of
// random-ish data, written by Python tarfile + gzip as umoci/skopeo would), normalized as a
// directory through the library, timed next to `skopeo copy oci:... oci:...` (which re-writes
// the same blobs, no normalization) for scale. Memory: peak RSS of the detnorm process.
//   node --import tsx bench/oci-bench.mjs [--mb 64] [--runs 3] [--dir DIR]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { normalizeTree } from '../src/api.ts';

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '64' }, runs: { type: 'string', default: '3' }, dir: { type: 'string', default: join(tmpdir(), 'detnorm-oci-bench') } },
});
const mb = Number(values.mb);
const runs = Number(values.runs);
const src = join(values.dir, `layout-${mb}`);

const PY = String.raw`
import gzip, hashlib, io, json, os, random, sys, tarfile
out, mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tf:
    total = 0; i = 0
    while total < mb << 20:
        size = rnd.randint(1, 256 << 10)
        words = b' '.join(rnd.choice([b'alpha', b'beta', b'gamma', b'delta', str(i).encode()]) for _ in range(size // 6 + 1))[:size]
        ti = tarfile.TarInfo('usr/share/data/%04d/file-%06d.txt' % (i // 100, i)); ti.size = len(words); ti.mtime = 1700000000 + i; ti.uid = 1000; ti.uname = 'builder'
        tf.addfile(ti, io.BytesIO(words)); total += size; i += 1
tar = buf.getvalue()
os.makedirs(out + '/blobs/sha256', exist_ok=True)
def blob(b):
    h = hashlib.sha256(b).hexdigest(); open(out + '/blobs/sha256/' + h, 'wb').write(b); return h
gz = gzip.compress(tar, compresslevel=6, mtime=1700000000)
cfg = json.dumps({'created': '2023-11-14T22:13:20Z', 'architecture': 'amd64', 'os': 'linux', 'config': {}, 'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + hashlib.sha256(tar).hexdigest()]}}).encode()
man = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
  'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': 'sha256:' + blob(cfg), 'size': len(cfg)},
  'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': 'sha256:' + blob(gz), 'size': len(gz)}]}).encode()
idx = {'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': 'sha256:' + blob(man), 'size': len(man), 'annotations': {'org.opencontainers.image.ref.name': 'latest'}}]}
open(out + '/index.json', 'w').write(json.dumps(idx)); open(out + '/oci-layout', 'w').write('{"imageLayoutVersion":"1.0.0"}')
print(len(tar), len(gz), i)
`;

if (!existsSync(src)) {
  mkdirSync(values.dir, { recursive: true });
  console.log('generating:', execFileSync('python3', ['-c', PY, src, String(mb)]).toString().trim(), '(tar bytes, gzip bytes, files)');
}

const times = [];
const skopeo = [];
for (let r = 0; r < runs; r++) {
  const work = join(values.dir, 'work');
  rmSync(work, { recursive: true, force: true });
  cpSync(src, work, { recursive: true });
  const t0 = process.hrtime.bigint();
  const res = await normalizeTree(work, { jobs: 1 });
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (res.reports[0].status !== 'changed') throw new Error(`unexpected ${res.reports[0].status}: ${res.reports[0].reason}`);
  const copy = join(values.dir, 'copy');
  rmSync(copy, { recursive: true, force: true });
  const s0 = process.hrtime.bigint();
  execFileSync('skopeo', ['copy', '-q', `oci:${src}:latest`, `oci:${copy}:latest`]);
  skopeo.push(Number(process.hrtime.bigint() - s0) / 1e6);
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(0);
console.log(`detnorm (normalize ${mb} MiB layer, recompress): median ${med(times)} ms over ${runs} runs [${times.map((t) => t.toFixed(0)).join(', ')}]`);
console.log(`skopeo copy oci->oci (no normalization, for scale): median ${med(skopeo)} ms`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
