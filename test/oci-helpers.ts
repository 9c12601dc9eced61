// Test helpers for container images: an OCI image layout assembled with Python (tarfile +
// gzip + json, laid out as umoci and skopeo write it), varied in build time, owners, member
// order, gzip header and JSON style; and a checker that re-hashes every blob and follows every
// reference of a layout.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { run } from './helpers.js';

export interface ImageVariant {
  /** Build time (seconds): file mtimes, gzip MTIME, config and annotation times. */
  time: number;
  uid: number;
  uname: string;
  /** Members of each layer written in reverse order. */
  reverse: boolean;
  /** JSON written with sorted keys and indentation instead of Go's compact struct order. */
  prettyJson: boolean;
  /** Layer compression. */
  compression: 'gzip' | 'none';
  /** Extra pax records on each file (e.g. atime/ctime as GNU tar --posix writes them). */
  paxTimes?: boolean;
  /** Add a third layer with this content (a variant with different content). */
  extraFile?: string;
}

export const VARIANT_A: ImageVariant = { time: 1700000000, uid: 1000, uname: 'alice', reverse: false, prettyJson: false, compression: 'gzip', paxTimes: true };
export const VARIANT_B: ImageVariant = { time: 1710003600, uid: 1000, uname: 'bob', reverse: true, prettyJson: true, compression: 'gzip' };

const SCRIPT = String.raw`
import datetime, gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
v = json.loads(sys.argv[2])
t = v['time']
def sha(b): return hashlib.sha256(b).hexdigest()
def layer(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tf:
        order = members
        if v['reverse']:
            # Reverse, but a hard link still after its target (else no tar could extract it).
            order = [m for m in reversed(members) if m[1] != 'hard'] + [m for m in members if m[1] == 'hard']
        for name, kind, data, mode in order:
            ti = tarfile.TarInfo(name)
            ti.mtime = t; ti.uid = v['uid']; ti.gid = v['uid']; ti.uname = v['uname']; ti.gname = v['uname']; ti.mode = mode
            if v.get('paxTimes'):
                ti.pax_headers = {'atime': str(t + 5), 'ctime': str(t + 7)}
            if kind == 'dir': ti.type = tarfile.DIRTYPE; tf.addfile(ti)
            elif kind == 'sym': ti.type = tarfile.SYMTYPE; ti.linkname = data; tf.addfile(ti)
            elif kind == 'hard': ti.type = tarfile.LNKTYPE; ti.linkname = data; tf.addfile(ti)
            else: ti.size = len(data); tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()
layers = [
  layer([('etc/', 'dir', None, 0o755), ('etc/os-release', 'file', b'ID=demo\n', 0o644), ('tmp/', 'dir', None, 0o1777),
         ('usr/', 'dir', None, 0o755), ('usr/bin/', 'dir', None, 0o755), ('usr/bin/tool', 'file', b'#!/bin/sh\necho hi\n', 0o4755),
         ('usr/bin/t2', 'sym', 'tool', 0o777), ('usr/bin/t3', 'hard', 'usr/bin/tool', 0o4755)]),
  layer([('etc/', 'dir', None, 0o755), ('etc/.wh..wh..opq', 'file', b'', 0o644), ('etc/app.conf', 'file', b'x=1\n', 0o600),
         ('usr/bin/.wh.t2', 'file', b'', 0o644), ('usr/bin/a-file', 'file', b'a\n', 0o644)]),
]
if v.get('extraFile'):
    layers.append(layer([('srv/', 'dir', None, 0o755), ('srv/data', 'file', v['extraFile'].encode(), 0o644)]))
os.makedirs(out + '/blobs/sha256', exist_ok=True)
def dumps(o):
    return (json.dumps(o, sort_keys=True, indent=2) if v['prettyJson'] else json.dumps(o, separators=(',', ':'))).encode()
def blob(b):
    h = sha(b)
    with open(out + '/blobs/sha256/' + h, 'wb') as f: f.write(b)
    return h
descs = []
for l in layers:
    if v['compression'] == 'gzip':
        b = gzip.compress(l, compresslevel=6, mtime=t)
        mt = 'application/vnd.oci.image.layer.v1.tar+gzip'
    else:
        b = l
        mt = 'application/vnd.oci.image.layer.v1.tar'
    descs.append(({'mediaType': mt, 'digest': 'sha256:' + blob(b), 'size': len(b)}, 'sha256:' + sha(l)))
ts = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.123456789Z')
cfg = {'created': ts, 'architecture': 'amd64', 'os': 'linux',
       'config': {'User': '1000', 'Env': ['PATH=/usr/bin'], 'Cmd': ['/usr/bin/tool'], 'Labels': {'org.opencontainers.image.created': ts}},
       'rootfs': {'type': 'layers', 'diff_ids': [d for _, d in descs]},
       'history': [{'created': ts, 'created_by': 'ADD base'}, {'created': ts, 'created_by': 'ADD app'}]}
cb = dumps(cfg)
man = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
       'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': 'sha256:' + blob(cb), 'size': len(cb)},
       'layers': [d for d, _ in descs], 'annotations': {'org.opencontainers.image.created': ts}}
mb = dumps(man)
idx = {'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': 'sha256:' + blob(mb), 'size': len(mb),
       'annotations': {'org.opencontainers.image.ref.name': 'latest'}}]}
with open(out + '/index.json', 'wb') as f: f.write(dumps(idx))
with open(out + '/oci-layout', 'w') as f: f.write('{"imageLayoutVersion": "1.0.0"}')
`;

/** Write an OCI image layout to `dir` with Python. */
export function makeLayout(dir: string, v: ImageVariant): void {
  run('python3', ['-c', SCRIPT, dir, JSON.stringify(v)]);
}

/** Every file of a directory tree: relative path -> bytes. */
export function readTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const visit = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) visit(join(dir, e.name), r);
      else out.set(r, readFileSync(join(dir, e.name)));
    }
  };
  visit(root, '');
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Re-hash every blob and follow every reference from index.json: each blob's name is its
 * digest, each descriptor's size and digest match, each config diff_id is the digest of its
 * uncompressed layer, and no blob is unreferenced. Returns what was checked, throws otherwise.
 */
export function verifyLayout(files: Map<string, Buffer>): { blobs: number; layers: number } {
  for (const [p, b] of files) if (p.startsWith('blobs/sha256/') && sha(b) !== p.slice(13)) throw new Error(`${p}: content does not match its name`);
  const reached = new Set<string>();
  let layers = 0;
  const get = (d: { digest: string; size: number }, where: string): Buffer => {
    const hex = d.digest.replace(/^sha256:/, '');
    const b = files.get(`blobs/sha256/${hex}`);
    if (!b) throw new Error(`${where}: dangling reference ${d.digest}`);
    if (b.length !== d.size) throw new Error(`${where}: size ${d.size} but blob is ${b.length}`);
    reached.add(hex);
    return b;
  };
  const visit = (d: { digest: string; size: number; mediaType: string }, where: string) => {
    const doc = JSON.parse(get(d, where).toString());
    if (doc.manifests) doc.manifests.forEach((m: typeof d, i: number) => visit(m, `${where}.manifests[${i}]`));
    if (doc.config) {
      const cfg = JSON.parse(get(doc.config, `${where}.config`).toString());
      doc.layers.forEach((l: typeof d, i: number) => {
        const b = get(l, `${where}.layers[${i}]`);
        const tar = b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
        if (cfg.rootfs.diff_ids[i] !== `sha256:${sha(tar)}`) throw new Error(`${where}.layers[${i}]: diff_id mismatch`);
        layers++;
      });
    }
  };
  const index = JSON.parse(files.get('index.json')!.toString());
  index.manifests.forEach((m: { digest: string; size: number; mediaType: string }, i: number) => visit(m, `index.json manifests[${i}]`));
  for (const p of files.keys()) if (p.startsWith('blobs/sha256/') && !reached.has(p.slice(13))) throw new Error(`${p}: orphan blob`);
  return { blobs: reached.size, layers };
}
