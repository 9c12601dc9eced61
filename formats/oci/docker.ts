// `docker save` / `podman save` archives (Docker image spec v1.2, "combined image JSON +
// filesystem changeset format"): manifest.json lists each image's config and layer paths,
// `repositories` maps tags to the top legacy layer id, and legacy `<id>/{VERSION,json,layer.tar}`
// directories describe the layer chain for old loaders. Newer writers (Docker 25+) put an OCI
// layout in the same tar; then the layout is normalized by layout.ts and manifest.json only
// follows the renamed blobs (updateDockerManifest).
// For the classic archive (normalizeDockerArchive): every config (named `<sha256>.json`) and
// every layer (tar, or gzip'd tar) is verified (the config's name is its digest, each layer's
// uncompressed digest is the config's diff_id), layers normalized (layer.ts), configs get T
// (config.ts) and the new diff_ids, files named after a digest are renamed after the new one,
// and the legacy layer ids are recomputed as containers/image computes them (v1 json = parent,
// the top layer's architecture/config/container/container_config/created/docker_version/os;
// id = sha256 of that JSON with "layer_id" = the chain id), so `repositories`, the legacy
// directories and their layer.tar links all follow. manifest.json and repositories are not
// content-addressed: when a path or id in them changes they are written compact in their own
// key order (Go's struct order, as docker and containers/image write them).
import { posix } from 'node:path';
import { BufferSource } from '../../src/io.js';
import { FormatError, type Change, type Context, type Source } from '../../src/types.js';
import { Tally } from '../tally.js';
import { fixImageConfig } from './config.js';
import { hashBytes, hashSource } from './digest.js';
import { JsonObject, asObject, parseJson, serialize, serializeCanonical, type JsonValue } from './json.js';
import { normalizeLayerBlob, type LayerOutcome } from './layer.js';
import { layoutOptions, type ImageMap } from './layout.js';

export interface ArchiveFiles {
  /** Regular files by path ('./' prefixes removed). */
  readonly files: ReadonlyMap<string, Source>;
  /** Symbolic links by path -> target. */
  readonly links: ReadonlyMap<string, string>;
}

export interface ArchiveResult {
  readonly writes: Map<string, Source>;
  readonly linkWrites: Map<string, string>;
  /** Paths (files, links, and directory prefixes ending in '/') that no longer exist. */
  readonly deletes: Set<string>;
  /** Directory renames (old 'x/' -> new 'y/'). */
  readonly dirRenames: Map<string, string>;
  readonly changes: Change[];
  /** The images in manifest.json order, with what their parts are called before and after. */
  readonly images: DockerImage[];
}

export interface DockerImage {
  readonly name: string;
  readonly config: { readonly old: string; readonly new: string };
  readonly layers: ReadonlyArray<{ readonly old: string; readonly new: string }>;
}

const HEX_NAME = /^(?:sha256:)?([0-9a-f]{64})(?:\.json)?$/;

function parseManifestJson(bytes: Uint8Array): JsonObject[] {
  const v = parseJson(bytes, 'manifest.json');
  if (!Array.isArray(v)) throw new FormatError('manifest.json: not a JSON array');
  return v.map((item, i) => {
    const o = asObject(item, `manifest.json[${i}]`);
    if (typeof o.get('Config') !== 'string' || !Array.isArray(o.get('Layers'))) throw new FormatError(`manifest.json[${i}]: no Config or Layers`);
    return o;
  });
}

/** True when manifest.json has the docker-save shape. */
export function isDockerManifest(bytes: Uint8Array): boolean {
  try {
    parseManifestJson(bytes);
    return true;
  } catch {
    return false;
  }
}

function clean(p: string): string {
  let s = posix.normalize(p);
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

/** Follow symlinks inside the archive (at most 16 hops). */
function resolve(a: ArchiveFiles, path: string): string {
  let p = clean(path);
  for (let i = 0; i < 16; i++) {
    const t = a.links.get(p);
    if (t === undefined) return p;
    if (t.startsWith('/')) throw new FormatError(`${p}: absolute symlink target ${t}`);
    p = clean(posix.join(posix.dirname(p), t));
    if (p.startsWith('../')) throw new FormatError(`${path}: symlink leads outside the archive`);
  }
  throw new FormatError(`${path}: too many levels of symbolic links`);
}

/** Replace `oldHex` by `newHex` in a path's last component. */
function renamed(path: string, oldHex: string, newHex: string): string {
  if (oldHex === newHex) return path;
  const base = posix.basename(path);
  if (!base.includes(oldHex)) return path;
  const dir = posix.dirname(path);
  const nb = base.split(oldHex).join(newHex);
  return dir === '.' ? nb : `${dir}/${nb}`;
}

/** Go's json.Marshal of a map[string]any whose values are RawMessages: sorted top level, compact values. */
function goMapBytes(entries: ReadonlyArray<[string, JsonValue]>): Uint8Array {
  const o = new JsonObject();
  for (const [k, v] of [...entries].sort((x, y) => Buffer.compare(Buffer.from(x[0]), Buffer.from(y[0])))) o.entries.push([k, v]);
  return serialize(o, false);
}

const LEGACY_TOP_ATTRS = ['architecture', 'config', 'container', 'container_config', 'created', 'docker_version', 'os'];

export async function normalizeDockerArchive(a: ArchiveFiles, ctx: Context): Promise<ArchiveResult> {
  const tally = new Tally();
  const opts = layoutOptions(ctx);
  const mf = a.files.get('manifest.json');
  if (!mf) throw new FormatError('manifest.json is missing');
  const mfBytes = await mf.read(0, mf.size);
  const items = parseManifestJson(mfBytes);
  let mfChanged = false;
  const writes = new Map<string, Source>();
  const deletes = new Set<string>();
  const pathRename = new Map<string, string>();
  const layerMemo = new Map<string, Promise<LayerOutcome>>();
  const configMemo = new Map<string, { path: string; bytes: Uint8Array }>();
  const images: DockerImage[] = [];
  const chains: Array<{ item: number; diffIds: string[]; oldPaths: string[]; configBytes: Uint8Array; configTop: JsonObject }> = [];

  for (let n = 0; n < items.length; n++) {
    const item = items[n]!;
    const where = `manifest.json[${n}]`;
    const cfgPath = resolve(a, item.getString('Config')!);
    const cfgSrc = a.files.get(cfgPath);
    if (!cfgSrc) throw new FormatError(`${where}: config ${cfgPath} is missing`);
    if (cfgSrc.size > 64 * 1024 * 1024) throw new FormatError(`${where}: config ${cfgPath} is too large`);
    const cfgBytes = await cfgSrc.read(0, cfgSrc.size);
    const named = HEX_NAME.exec(posix.basename(cfgPath));
    const cfgHex = hashBytes(cfgBytes);
    if (named && named[1] !== cfgHex) throw new FormatError(`config ${cfgPath}: content digest sha256:${cfgHex} does not match its name`);
    const layerPaths = (item.getArray('Layers') ?? []).map((l, i) => {
      if (typeof l !== 'string') throw new FormatError(`${where}.Layers[${i}] is not a string`);
      return l;
    });
    const cdoc = asObject(parseJson(cfgBytes, `config ${cfgPath}`), `config ${cfgPath}`);
    const ids = cdoc.getObject('rootfs')?.getArray('diff_ids');
    if (!ids || ids.length !== layerPaths.length) throw new FormatError(`config ${cfgPath}: ${ids?.length ?? 0} diff_ids for ${layerPaths.length} layers`);
    const newDiffIds: string[] = [];
    const layerMaps: Array<{ old: string; new: string }> = [];
    const physical: string[] = [];
    for (let i = 0; i < layerPaths.length; i++) {
      const p = resolve(a, layerPaths[i]!);
      physical.push(p);
      const src = a.files.get(p);
      if (!src) throw new FormatError(`${where}: layer ${layerPaths[i]} is missing`);
      const blobHex = /(?:^|\/)([0-9a-f]{64})(?:\.tar)?$/.exec(p)?.[1];
      const keep = i < opts.keepLayers || opts.keepDigests.has(String(ids[i]).replace(/^sha256:/, '')) || (blobHex !== undefined && opts.keepDigests.has(blobHex));
      const key = `${p}:${keep}`;
      let memo = layerMemo.get(key);
      if (!memo) layerMemo.set(key, (memo = normalizeLayerBlob(src, ctx, opts.owners, keep, `layer ${p}`)));
      const out = await memo;
      if (out.kept) ctx.notice(`layer ${p}: ${out.kept}`);
      if (out.oldDiffId && ids[i] !== `sha256:${out.oldDiffId}`) {
        throw new FormatError(`config ${cfgPath}: rootfs.diff_ids[${i}] is ${JSON.stringify(ids[i])} but layer ${p} uncompressed is sha256:${out.oldDiffId}`);
      }
      const oldDiff = out.oldDiffId || String(ids[i]).replace(/^sha256:/, '');
      const newDiff = out.newDiffId || oldDiff;
      newDiffIds.push(`sha256:${newDiff}`);
      let np = p;
      if (out.changed) {
        const oldBlobHex = out.blob === src ? '' : await hashSource(src);
        const newBlobHex = await hashSource(out.blob);
        np = renamed(renamed(p, oldDiff, newDiff), oldBlobHex, newBlobHex);
        if (!writes.has(np)) {
          for (const c of out.changes) tally.add(c.kind, `layers: ${c.what}`, `layers: ${c.what}`, c.count ?? 1);
        }
        writes.set(np, out.blob);
        if (np !== p) deletes.add(p);
        pathRename.set(p, np);
      }
      layerMaps.push({ old: p, new: np });
    }
    // Config.
    let cfgOut = configMemo.get(`${cfgPath}:${newDiffIds.join(',')}`);
    if (!cfgOut) {
      const changed = fixImageConfig(cdoc, ctx.options, tally, newDiffIds);
      const bytes = changed ? serializeCanonical(cdoc) : cfgBytes;
      let np = cfgPath;
      if (changed) {
        np = renamed(cfgPath, cfgHex, hashBytes(bytes));
        writes.set(np, new BufferSource(bytes));
        if (np !== cfgPath) deletes.add(cfgPath);
        pathRename.set(cfgPath, np);
      }
      cfgOut = { path: np, bytes };
      configMemo.set(`${cfgPath}:${newDiffIds.join(',')}`, cfgOut);
    }
    images.push({ name: (item.getArray('RepoTags')?.[0] as string | undefined) ?? `image ${n + 1}`, config: { old: cfgPath, new: cfgOut.path }, layers: layerMaps });
    chains.push({ item: n, diffIds: newDiffIds, oldPaths: physical, configBytes: cfgOut.bytes, configTop: asObject(parseJson(cfgOut.bytes, 'config'), 'config') });
  }

  // Legacy layer directories: find each image's chain of <id>/ directories, recompute ids.
  const dirs = new Map<string, { json?: JsonObject; layer?: string }>();
  for (const p of [...a.files.keys(), ...a.links.keys()]) {
    const m = /^([0-9a-f]{64})\/(json|layer\.tar)$/.exec(p);
    if (!m) continue;
    const d = dirs.get(m[1]!) ?? {};
    if (m[2] === 'json') {
      const src = a.files.get(p);
      if (src && src.size < 64 * 1024 * 1024) {
        try {
          d.json = asObject(parseJson(await src.read(0, src.size), p), p);
        } catch {
          /* not ours to judge: the directory is left alone */
        }
      }
    } else d.layer = resolve(a, p);
    dirs.set(m[1]!, d);
  }
  const idRename = new Map<string, string>();
  const linkWrites = new Map<string, string>();
  const dirRenames = new Map<string, string>();
  const done = new Set<string>();
  for (const c of chains) {
    let oldParent = '';
    let newParent = '';
    let chainId = '';
    for (let i = 0; i < c.oldPaths.length; i++) {
      const phys = c.oldPaths[i]!;
      const id = [...dirs.keys()].sort().find((k) => {
        const d = dirs.get(k)!;
        const parent = d.json?.getString('parent') ?? '';
        return d.layer === phys && d.json && parent === oldParent;
      });
      if (!id) break;
      chainId = chainId === '' ? c.diffIds[i]! : `sha256:${hashBytes(Buffer.from(`${chainId} ${c.diffIds[i]}`))}`;
      const entries: Array<[string, JsonValue]> = [];
      if (newParent) entries.push(['parent', newParent]);
      if (i === c.oldPaths.length - 1) for (const k of LEGACY_TOP_ATTRS) entries.push([k, c.configTop.get(k) ?? null]);
      const newId = hashBytes(goMapBytes([...entries, ['layer_id', chainId]]));
      const json = goMapBytes([...entries, ['id', newId]]);
      if (!done.has(id)) {
        done.add(id);
        const old = a.files.get(`${id}/json`)!;
        const same = newId === id && Buffer.from(await old.read(0, old.size)).equals(Buffer.from(json));
        if (!same) {
          idRename.set(id, newId);
          if (newId !== id) {
            dirRenames.set(`${id}/`, `${newId}/`);
            deletes.add(`${id}/`);
          }
          writes.set(`${newId}/json`, new BufferSource(json));
          tally.add('metadata', 'legacy layer ids and json recomputed (as containers/image writes them)');
          for (const name of ['VERSION', 'layer.tar']) {
            const op = `${id}/${name}`;
            const np = `${newId}/${name}`;
            const target = a.links.get(op);
            if (target !== undefined) {
              const resolved = resolve(a, op);
              const nt = pathRename.get(resolved) ?? resolved;
              linkWrites.set(np, posix.relative(newId, nt));
            } else if (a.files.has(op) && !writes.has(np)) {
              writes.set(np, writes.get(pathRename.get(op) ?? op) ?? a.files.get(op)!);
            }
          }
        }
      }
      oldParent = id;
      newParent = newId;
    }
  }
  // Links elsewhere whose targets were renamed.
  for (const [p, t] of a.links) {
    if (linkWrites.has(p) || [...dirRenames.keys()].some((d) => p.startsWith(d))) continue;
    const resolved = resolve(a, p);
    const nt = pathRename.get(resolved);
    if (nt) linkWrites.set(p, posix.relative(posix.dirname(p), nt));
    void t;
  }

  // manifest.json paths follow renamed files and renamed legacy directories.
  const finalPath = (p: string): string => {
    let q = pathRename.get(p) ?? p;
    for (const [from, to] of dirRenames) if (q.startsWith(from)) q = to + q.slice(from.length);
    return q;
  };
  for (const item of items) {
    const cfg = clean(item.getString('Config')!);
    const nc = finalPath(cfg);
    if (nc !== cfg) {
      item.set('Config', nc);
      mfChanged = true;
    }
    const layers = item.getArray('Layers')!;
    layers.forEach((l, i) => {
      const p = clean(l as string);
      // A link keeps its name (its target follows) unless its directory was renamed: link
      // paths are never keys of pathRename, which holds resolved paths.
      const np = finalPath(p);
      if (np !== p) {
        layers[i] = np;
        mfChanged = true;
      }
    });
  }
  // Writes under a renamed directory's old name are superseded by the renamed copies.
  for (const w of [...writes.keys()]) if ([...dirRenames.keys()].some((d) => w.startsWith(d))) writes.delete(w);

  // repositories: tag -> top legacy id.
  const repo = a.files.get('repositories');
  if (repo && idRename.size) {
    const bytes = await repo.read(0, repo.size);
    const doc = asObject(parseJson(bytes, 'repositories'), 'repositories');
    let changed = false;
    for (const [, tags] of doc.entries) {
      if (!(tags instanceof JsonObject)) continue;
      for (const e of tags.entries) {
        const n = typeof e[1] === 'string' ? idRename.get(e[1]) : undefined;
        if (n && n !== e[1]) {
          e[1] = n;
          changed = true;
        }
      }
    }
    if (changed) writes.set('repositories', new BufferSource(serialize(doc, false)));
  }
  if (mfChanged) writes.set('manifest.json', new BufferSource(serialize(items, false)));
  return { writes, linkWrites, deletes, dirRenames, changes: tally.changes(), images };
}

/**
 * manifest.json beside an OCI layout (Docker 25+): Config and Layers paths that name blobs
 * follow the layout's renames (matched by the image's old config digest, layers by position).
 */
export function updateDockerManifest(bytes: Uint8Array, images: readonly ImageMap[]): Uint8Array | undefined {
  const items = parseManifestJson(bytes);
  let changed = false;
  const blob = /^(?:\.\/)?blobs\/sha256\/([0-9a-f]{64})$/;
  for (const item of items) {
    const m = blob.exec(item.getString('Config')!);
    if (!m) continue;
    const img = images.find((x) => x.config.old === m[1]);
    if (!img) continue;
    if (img.config.new !== img.config.old) {
      item.set('Config', `blobs/sha256/${img.config.new}`);
      changed = true;
    }
    const layers = item.getArray('Layers')!;
    layers.forEach((l, i) => {
      const lm = typeof l === 'string' ? blob.exec(l) : null;
      const map = img.layers[i];
      if (lm && map && lm[1] === map.old && map.new !== map.old) {
        layers[i] = `blobs/sha256/${map.new}`;
        changed = true;
      }
    });
  }
  return changed ? serialize(items, false) : undefined;
}

/**
 * `repositories` beside an OCI layout: tag values naming a renamed blob (by its hex digest)
 * follow the rename. Returns the new bytes, or undefined when nothing changed.
 */
export function updateRepositories(bytes: Uint8Array, images: readonly ImageMap[]): Uint8Array | undefined {
  const remap = new Map<string, string>();
  for (const img of images) {
    for (const x of [img.manifest, img.config, ...img.layers]) if (x.old !== x.new) remap.set(x.old, x.new);
    for (const l of img.layers) if (l.oldDiffId && l.newDiffId && l.oldDiffId !== l.newDiffId) remap.set(l.oldDiffId, l.newDiffId);
  }
  const doc = parseJson(bytes, 'repositories');
  if (!(doc instanceof JsonObject)) return undefined;
  let changed = false;
  for (const [, tags] of doc.entries) {
    if (!(tags instanceof JsonObject)) continue;
    for (const e of tags.entries) {
      if (typeof e[1] !== 'string') continue;
      const m = /^(sha256:)?([0-9a-f]{64})$/.exec(e[1]);
      const n = m ? remap.get(m[2]!) : undefined;
      if (m && n) {
        e[1] = `${m[1] ?? ''}${n}`;
        changed = true;
      }
    }
  }
  return changed ? serialize(doc, false) : undefined;
}
