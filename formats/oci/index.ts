// Container image archives: `docker save` / `podman save` tars (manifest.json + repositories +
// legacy layer directories, docker.ts), OCI-archive tars (an OCI image layout in a tar,
// layout.ts) and Docker 25+ archives (both). Detected by content: a tar whose first or last
// members (the probe's head and tail) include manifest.json with repositories or with
// digest-named configs/layers, or oci-layout with index.json.
// The image inside is normalized (layers, configs, manifests, digests: see layout.ts and
// docker.ts); the outer tar is then written as the tar family writes any tar: members in GNU
// tar --sort=name order, mtime T (or 0), owners 0 without names, modes a=rX,u+w, GNU tar's
// headers in the input's format family. An OCI image layout directory is one artifact too
// (detectDirectory, normalizeDirectory: the core's src/directory.ts reads and writes its files).
import { BufferSource, SliceSource } from '../../src/io.js';
import { canonicalTime } from '../../src/time.js';
import { FormatError, type Change, type Comparison, type Context, type DirectoryFiles, type DirectoryResult, type Handler, type HandlerResult, type MemberInfo, type Probe, type Sink, type Source } from '../../src/types.js';
import { compareImages, compareLayouts } from './compare.js';
import { Tally } from '../tally.js';
import { decodeHeader as gzipHeader, isGzipMagic } from '../gzip/header.js';
import { inflateRaw } from '../gzip/stream.js';
import { BLOCK, checksumOk, cString, F, parseNumeric, type TarFormat } from '../tar/header.js';
import { canonicalMode, looksLikeTar, normalizeTar } from '../tar/index.js';
import { compareNames } from '../tar/order.js';
import { readTar, type TarEntry } from '../tar/reader.js';
import { TarWriter, type OutEntry } from '../tar/writer.js';
import { isDockerManifest, normalizeDockerArchive, updateDockerManifest, updateRepositories, type ArchiveFiles } from './docker.js';
import { JsonObject, parseJson, serializeCanonical } from './json.js';
import { normalizeOciLayout } from './layout.js';
import { looksLikeImageArchive, ociDetection, stripDot } from './detect.js';

export { looksLikeImageArchive };

interface Indexed {
  entries: TarEntry[];
  format: TarFormat;
  archive: ArchiveFiles;
}

async function indexTar(input: Source): Promise<Indexed | { untouched: string }> {
  const entries: TarEntry[] = [];
  let sawPax = false;
  let sawGnu = false;
  for await (const item of readTar(input)) {
    if (item.kind === 'global') return { untouched: 'pax global header in an image archive: not supported' };
    const e = item.entry;
    if (e.magic === 'v7') return { untouched: `pre-POSIX (v7) tar header at offset ${e.headerOffset}` };
    if (e.paxKeys.length) sawPax = true;
    if (e.magic === 'gnu' || e.gnuLong) sawGnu = true;
    entries.push(e);
  }
  const files = new Map<string, Source>();
  const links = new Map<string, string>();
  for (const e of entries) {
    const name = stripDot(e.name);
    // An old-style entry (typeflag NUL) is a directory when its name ends in '/' ("./" too).
    const t = e.typeflag === '\0' ? (e.name.endsWith('/') ? '5' : '0') : e.typeflag;
    if ((name === '' || name === '.') && t !== '5') throw new FormatError(`member "${e.name}" at offset ${e.headerOffset} names the archive's root but is not a directory`);
    if (t === '0' || t === '7') {
      if (files.has(name)) throw new FormatError(`member ${name} appears twice in the image archive`);
      files.set(name, new SliceSource(input, e.dataOffset, e.size));
    } else if (t === '2') links.set(name, e.linkname);
    else if (t === '1') return { untouched: `hard link ${name} in an image archive: not supported` };
  }
  return { entries, format: sawPax ? 'posix' : sawGnu ? 'gnu' : 'ustar', archive: { files, links } };
}

interface Plan {
  files: Map<string, Source>;
  links: Map<string, string>;
  dirs: Set<string>;
  changes: Change[];
}

/** The image inside: normalized files, links and directories of the output archive. */
async function plan(ix: Indexed, ctx: Context): Promise<Plan | undefined> {
  const { files, links } = ix.archive;
  const outFiles = new Map(files);
  const outLinks = new Map(links);
  const dirs = new Set<string>();
  for (const e of ix.entries) {
    const n = stripDot(e.name);
    // The archive's root ("./", "."): a directory entry that names nothing; dropped.
    if (n === '' || n === '.' || n === './') continue;
    if (e.typeflag === '5' || (e.typeflag === '\0' && n.endsWith('/'))) dirs.add(n.endsWith('/') ? n : `${n}/`);
  }
  const changes: Change[] = [];
  const hasLayout = files.has('oci-layout') && files.has('index.json');
  const mf = files.get('manifest.json');
  const mfBytes = mf && mf.size < 64 * 1024 * 1024 ? await mf.read(0, mf.size) : undefined;
  const docker = mfBytes !== undefined && isDockerManifest(mfBytes);
  if (!hasLayout && !docker) return undefined;
  if (hasLayout) {
    const layoutFiles = new Map([...files].filter(([p]) => p === 'oci-layout' || p === 'index.json' || p.startsWith('blobs/')));
    const r = await normalizeOciLayout(layoutFiles, ctx);
    for (const p of r.deletes) outFiles.delete(p);
    for (const [p, s] of r.writes) outFiles.set(p, s);
    changes.push(...r.changes);
    if (docker) {
      const nb = updateDockerManifest(mfBytes!, r.images);
      if (nb) outFiles.set('manifest.json', new BufferSource(nb));
      const repo = files.get('repositories');
      const rb = repo && repo.size < 1 << 24 ? updateRepositories(await repo.read(0, repo.size), r.images) : undefined;
      if (rb) outFiles.set('repositories', new BufferSource(rb));
    }
  } else {
    const r = await normalizeDockerArchive(ix.archive, ctx);
    for (const d of r.deletes) {
      if (d.endsWith('/')) {
        for (const p of [...outFiles.keys()]) if (p.startsWith(d)) outFiles.delete(p);
        for (const p of [...outLinks.keys()]) if (p.startsWith(d)) outLinks.delete(p);
        if (dirs.delete(d)) dirs.add(r.dirRenames.get(d) ?? d);
      } else {
        outFiles.delete(d);
        outLinks.delete(d);
      }
    }
    for (const [p, s] of r.writes) outFiles.set(p, s);
    for (const [p, t] of r.linkWrites) outLinks.set(p, t);
    changes.push(...r.changes);
  }
  return { files: outFiles, links: outLinks, dirs, changes };
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const ix = await indexTar(input);
  if ('untouched' in ix) return { status: 'untouched', reason: ix.untouched };
  const p = await plan(ix, ctx);
  // A tar that only looked like an image (a manifest.json of another kind): a plain tar.
  if (!p) return normalizeTar(input, output, ctx);
  const tally = new Tally();
  for (const c of p.changes) tally.add(c.kind, c.what, c.what, c.count ?? 1);
  const mtime = canonicalTime(ctx.options, undefined, 0);
  for (const e of ix.entries) {
    if (e.mtime !== canonicalTime(ctx.options, e.mtime, 0)) tally.add('timestamp', `archive member mtime -> ${mtime}`);
    if (e.uid || e.gid || e.uname || e.gname) tally.add('owner', 'archive member owners -> 0');
  }
  const members: Array<{ out: OutEntry; data?: Source }> = [];
  const origOf = new Map(ix.entries.map((e) => [stripDot(e.name), e]));
  const timeOf = (name: string) => canonicalTime(ctx.options, origOf.get(name)?.mtime, 0);
  const base = { linkname: '', devmajor: 0, devminor: 0, records: [] };
  for (const d of p.dirs) members.push({ out: { ...base, name: d, typeflag: '5', mode: canonicalMode('5', origOf.get(d)?.mode ?? 0o755), mtime: timeOf(d), size: 0 } });
  for (const [name, src] of p.files) {
    members.push({ out: { ...base, name, typeflag: '0', mode: canonicalMode('0', origOf.get(name)?.mode ?? 0o644), mtime: timeOf(name), size: src.size }, data: src });
  }
  for (const [name, target] of p.links) members.push({ out: { ...base, name, linkname: target, typeflag: '2', mode: 0o755, mtime: timeOf(name), size: 0 } });
  members.sort((a, b) => compareNames(a.out.name, b.out.name));
  const writer = new TarWriter(output, ix.format, ctx.options.timestamp ?? 0);
  for (const m of members) {
    await writer.header(m.out);
    if (m.data && m.data.size) await writer.copyFrom(m.data, 0, m.data.size);
  }
  await writer.finish();
  return { status: 'normalized', changes: tally.changes() };
}

/** The image's parts by role (config, layer N), for `detnorm diff`. */
async function* members(input: Source, ctx: Context): AsyncIterable<MemberInfo> {
  const ix = await indexTar(input);
  if ('untouched' in ix) throw new FormatError(ix.untouched);
  yield* imageMembers(ix.archive, ctx);
}

/**
 * The parts of an image given as its files (an archive's members, or an OCI layout
 * directory's files with no links): per image its config (fields as meta) and its layers
 * (uncompressed tar as data), named "config", "layer 1", ... ("<ref>: layer 1" when there are
 * several images). For `detnorm diff` on archives and layout directories.
 */
export async function* imageMembers(archive: ArchiveFiles, ctx: Context): AsyncIterable<MemberInfo> {
  const files = archive.files;
  const ix = { archive };
  const read = async (p: string) => {
    const s = files.get(p);
    if (!s) throw new FormatError(`${p} is missing`);
    return s.read(0, s.size);
  };
  const images: Array<{ name: string; config: string; layers: string[] }> = [];
  if (files.has('index.json')) {
    const idx = parseJson(await read('index.json'), 'index.json');
    const queue = idx instanceof JsonObject ? [...(idx.getArray('manifests') ?? [])] : [];
    while (queue.length && images.length < 1000) {
      const d = queue.shift();
      if (!(d instanceof JsonObject)) continue;
      const hex = /^sha256:([0-9a-f]{64})$/.exec(d.getString('digest') ?? '')?.[1];
      if (!hex || !files.has(`blobs/sha256/${hex}`)) continue;
      const doc = parseJson(await read(`blobs/sha256/${hex}`), hex);
      if (!(doc instanceof JsonObject)) continue;
      if (doc.has('manifests')) queue.push(...(doc.getArray('manifests') ?? []));
      const cfg = doc.getObject('config');
      if (!cfg) continue;
      const ref = d.getObject('annotations')?.getString('org.opencontainers.image.ref.name');
      const layerPaths = (doc.getArray('layers') ?? []).map((l) => `blobs/sha256/${(l instanceof JsonObject ? l.getString('digest') ?? '' : '').replace(/^sha256:/, '')}`);
      images.push({ name: ref ?? `image ${images.length + 1}`, config: `blobs/sha256/${(cfg.getString('digest') ?? '').replace(/^sha256:/, '')}`, layers: layerPaths });
    }
  } else if (files.has('manifest.json')) {
    const arch = ix.archive;
    const items = parseJson(await read('manifest.json'), 'manifest.json');
    if (Array.isArray(items)) {
      items.forEach((it, n) => {
        if (!(it instanceof JsonObject)) return;
        const follow = (p: string) => {
          let q = stripDot(p);
          for (let i = 0; i < 16 && arch.links.has(q); i++) {
            const t = arch.links.get(q)!;
            const dir = q.includes('/') ? q.slice(0, q.lastIndexOf('/') + 1) : '';
            q = stripDot((dir + t).replace(/[^/]+\/\.\.\//g, ''));
          }
          return q;
        };
        const tag = it.getArray('RepoTags')?.[0];
        images.push({
          name: typeof tag === 'string' ? tag : `image ${n + 1}`,
          config: follow(it.getString('Config') ?? ''),
          layers: (it.getArray('Layers') ?? []).map((l) => follow(String(l))),
        });
      });
    }
  }
  const prefix = (img: { name: string }) => (images.length > 1 ? `${img.name}: ` : '');
  for (const img of images) {
    if (files.has(img.config)) {
      const meta: Record<string, string | number> = {};
      try {
        const cfg = parseJson(await read(img.config), 'config');
        if (cfg instanceof JsonObject) {
          for (const [k, v] of cfg.entries) {
            if (k === 'rootfs') continue;
            if (k === 'history' && v instanceof Array) {
              // Build times apart from the steps themselves (each is its own field for detnorm diff).
              const created = v.map((h) => (h instanceof JsonObject ? h.getString('created') : undefined)).filter((t): t is string => t !== undefined);
              if (created.length) meta['history created'] = created.join(', ');
              const steps = v.map((h) => {
                if (!(h instanceof JsonObject)) return h;
                const c = new JsonObject();
                for (const [hk, hv] of h.entries) if (hk !== 'created') c.entries.push([hk, hv]);
                return c;
              });
              meta.history = new TextDecoder().decode(serializeCanonical(steps));
              continue;
            }
            if (v instanceof JsonObject && k === 'config') {
              for (const [ck, cv] of v.entries) meta[`config.${ck}`] = new TextDecoder().decode(serializeCanonical(cv));
            } else meta[k] = new TextDecoder().decode(serializeCanonical(v));
          }
        }
      } catch {
        /* listed without fields */
      }
      yield { name: `${prefix(img)}config`, type: 'file', data: files.get(img.config)!, meta };
    }
    for (let i = 0; i < img.layers.length; i++) {
      const src = files.get(img.layers[i]!);
      if (!src) continue;
      const head = await src.read(0, Math.min(3, src.size));
      let data: Source = src;
      if (isGzipMagic(head)) {
        const spill = ctx.spill();
        const h = gzipHeader(await src.read(0, Math.min(src.size, 64 * 1024)), 0, true);
        if (h !== 'short') {
          await inflateRaw(src, h.length, spill, ctx.options.limits, `layer ${i + 1}`);
          data = await spill.close();
        }
      }
      yield { name: `${prefix(img)}layer ${i + 1}`, type: 'file', data, meta: { compressed: isGzipMagic(head) ? 'gzip' : 'none' } };
    }
  }
}


/** For `detnorm diff` on image archives: the images' configs and layers. */
async function compare(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const [ia, ib] = [await indexTar(a), await indexTar(b)];
  if ('untouched' in ia || 'untouched' in ib) throw new FormatError(('untouched' in ia ? ia : (ib as { untouched: string })).untouched);
  return compareImages(ia.archive, ib.archive, ctx, imageMembers);
}

/** An OCI image layout directory, normalized as one artifact: new blobs first, index.json last. */
async function normalizeDirectory(files: DirectoryFiles, ctx: Context): Promise<DirectoryResult> {
  const r = await normalizeOciLayout(files, ctx);
  const order = [...r.writes.keys()].sort((x, y) => Number(x === 'index.json') - Number(y === 'index.json') || (x < y ? -1 : x > y ? 1 : 0));
  return { writes: new Map(order.map((k) => [k, r.writes.get(k)!])), deletes: r.deletes, changes: r.changes };
}

export const ociHandler: Handler = {
  ...ociDetection,
  normalize,
  members,
  compare,
  normalizeDirectory,
  compareDirectory: (a, b, ctx) => compareLayouts(a, b, ctx, imageMembers),
};

export default ociHandler;
