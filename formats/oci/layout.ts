// The OCI image layout (image-spec image-layout.md: `oci-layout`, `index.json`,
// `blobs/sha256/<hex>`) as a set of files, normalized as one artifact by a pure function:
// files in, files to write and to delete out. The graph is followed from index.json through
// image indexes (and Docker manifest lists) to image manifests (OCI and Docker v2 schema 2),
// their config and their layers. Every blob reached is verified (present, size and sha256 as
// the descriptor says) before anything is decided: a mismatch, a missing blob or a manifest
// pointing at a missing config is a FormatError and the layout is left as it is.
// Then, bottom up: layers normalized (layer.ts; the first `keepLayers` of each image kept
// byte for byte), the config's build times set to T (config.ts) and its rootfs.diff_ids set
// to the new layers' uncompressed digests, manifests' layer/config descriptors (digest, size,
// embedded data) and build-time annotations updated, and so on up to index.json. A changed
// JSON document is written in canonical form (json.ts); an unchanged one keeps its bytes.
// Changed blobs get their new digest as their name; the old ones are deleted once nothing in
// the new graph refers to them. Blobs the input did not reference are kept and reported.
import { BufferSource } from '../../src/io.js';
import { FormatError, type Change, type Context, type Source } from '../../src/types.js';
import { Tally } from '../tally.js';
import { fixCreatedAnnotations, fixImageConfig } from './config.js';
import { blobPath, hashBytes, hashSource, sha256Hex } from './digest.js';
import { JsonNumber, JsonObject, asObject, parseJson, serializeCanonical, type JsonValue } from './json.js';
import { normalizeLayerBlob, type LayerOutcome, type OwnerPolicy } from './layer.js';

export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const INDEX_TYPES = new Set<string>([MT.ociIndex, MT.dockerList]);
const MANIFEST_TYPES = new Set<string>([MT.ociManifest, MT.dockerManifest]);
const CONFIG_TYPES = new Set<string>([MT.ociConfig, MT.dockerConfig]);
/** Layers we normalize. */
const LAYER_TYPES = new Set<string>([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar',
]);
/** Layers that must keep their digest (fetched from `urls`; may be absent from the layout). */
const FOREIGN_TYPES = new Set<string>([
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

export interface LayoutOptions {
  readonly owners: OwnerPolicy;
  /** The first N layers of each image are kept byte-identical. */
  readonly keepLayers: number;
  /** Layers kept byte-identical by digest (sha256 hex): the blob's, or a docker archive's diff_id. */
  readonly keepDigests: ReadonlySet<string>;
}

export function layoutOptions(ctx: Context): LayoutOptions {
  const o = ctx.options;
  return { owners: o.ociOwners ?? 'keep', keepLayers: o.keepLayers ?? 0, keepDigests: new Set(o.keepLayerDigests ?? []) };
}

/** One image manifest's blobs before and after (hex digests), for docker-save's manifest.json. */
export interface ImageMap {
  readonly manifest: { readonly old: string; readonly new: string };
  readonly config: { readonly old: string; readonly new: string };
  readonly layers: ReadonlyArray<{ readonly old: string; readonly new: string; readonly oldDiffId: string; readonly newDiffId: string }>;
}

export interface LayoutResult {
  /** Files to create or replace (new blobs first in this map's order, index.json last). */
  readonly writes: Map<string, Source>;
  /** Files to remove once the writes are done (blobs nothing refers to any more). */
  readonly deletes: string[];
  readonly changes: Change[];
  readonly images: ImageMap[];
}

interface Doc {
  readonly root: JsonValue;
  changed: boolean;
}

function parseDoc(bytes: Uint8Array, what: string): Doc {
  return { root: parseJson(bytes, what), changed: false };
}

function docBytes(doc: Doc, original: Uint8Array): Uint8Array {
  return doc.changed ? serializeCanonical(doc.root) : original;
}

function short(hex: string): string {
  return `sha256:${hex.slice(0, 12)}`;
}

/** Blob descriptors: the fields of descriptor.md we read and rewrite. */
function descriptorOf(v: JsonValue | undefined, where: string): { obj: JsonObject; mediaType: string | undefined; hex: string; size: number } {
  if (!(v instanceof JsonObject)) throw new FormatError(`${where}: descriptor is not a JSON object`);
  const digest = v.getString('digest');
  if (digest === undefined) throw new FormatError(`${where}: descriptor has no digest`);
  const hex = sha256Hex(digest, where);
  const sizeV = v.get('size');
  const size = sizeV instanceof JsonNumber ? sizeV.uint : undefined;
  if (size === undefined) throw new FormatError(`${where}: descriptor size is missing or not a non-negative integer`);
  return { obj: v, mediaType: v.getString('mediaType'), hex, size };
}

function setDescriptor(obj: JsonObject, hex: string, content: Uint8Array | undefined, size: number): void {
  obj.set('digest', `sha256:${hex}`);
  obj.set('size', new JsonNumber(String(size)));
  if (obj.has('data')) {
    if (content) obj.set('data', Buffer.from(content).toString('base64'));
    else obj.delete('data');
  }
}

export class LayoutNormalizer {
  private readonly tally = new Tally();
  private readonly verified = new Map<string, Promise<Source>>();
  private readonly oldReached = new Set<string>();
  private readonly newReached = new Map<string, Source>();
  private readonly layerMemo = new Map<string, Promise<LayerOutcome>>();
  private readonly docMemo = new Map<string, Promise<{ hex: string; bytes?: Uint8Array; size: number }>>();
  readonly images: ImageMap[] = [];
  private readonly opts: LayoutOptions;

  constructor(
    private readonly files: ReadonlyMap<string, Source>,
    private readonly ctx: Context,
  ) {
    this.opts = layoutOptions(ctx);
  }

  /** The verified blob for a descriptor (memoized; a mismatch is a FormatError). */
  private blob(hex: string, size: number, where: string): Promise<Source> {
    const key = `${hex}:${size}`;
    let p = this.verified.get(key);
    if (!p) {
      p = (async () => {
        const src = this.files.get(blobPath(hex));
        if (!src) throw new FormatError(`${where}: blob ${short(hex)} is missing (no ${blobPath(hex)})`);
        if (src.size !== size) throw new FormatError(`${where}: blob ${short(hex)} is ${src.size} bytes, its descriptor says ${size}`);
        const actual = await hashSource(src);
        if (actual !== hex) throw new FormatError(`blob ${blobPath(hex)}: content digest sha256:${actual} does not match its name`);
        return src;
      })();
      this.verified.set(key, p);
    }
    this.oldReached.add(hex);
    return p;
  }

  private async json(hex: string, size: number, where: string): Promise<Uint8Array> {
    const src = await this.blob(hex, size, where);
    if (src.size > 64 * 1024 * 1024) throw new FormatError(`${where}: JSON blob of ${src.size} bytes is too large`);
    return src.read(0, src.size);
  }

  private reach(hex: string, src: Source): void {
    this.newReached.set(hex, src);
  }

  /** Record a document blob's new content; returns its new hex and size. */
  private emit(original: Uint8Array, oldHex: string, doc: Doc): { hex: string; bytes?: Uint8Array; size: number } {
    const bytes = docBytes(doc, original);
    if (!doc.changed) {
      this.reach(oldHex, new BufferSource(original));
      return { hex: oldHex, size: original.length };
    }
    const hex = hashBytes(bytes);
    this.reach(hex, new BufferSource(bytes));
    return { hex, bytes, size: bytes.length };
  }

  /** Follow a descriptor of a manifest or index; update it in place. True when it changed. */
  private async child(v: JsonValue | undefined, where: string): Promise<boolean> {
    const d = descriptorOf(v, where);
    let changed = fixCreatedAnnotations(d.obj.get('annotations'), this.ctx.options, this.tally, 'descriptor annotation');
    const bytes = await this.json(d.hex, d.size, where);
    let mt = d.mediaType;
    let memo = this.docMemo.get(d.hex);
    if (!memo) {
      if (!mt || (!INDEX_TYPES.has(mt) && !MANIFEST_TYPES.has(mt))) {
        // Not an image manifest or index we know: keep it and everything it refers to.
        if (mt === undefined) {
          const probe = asObject(parseJson(bytes, `${where} (${short(d.hex)})`), where);
          mt = probe.getString('mediaType') ?? (probe.has('manifests') ? MT.ociIndex : probe.has('layers') ? MT.ociManifest : undefined);
        }
      }
      const kind = mt && INDEX_TYPES.has(mt) ? 'index' : mt && MANIFEST_TYPES.has(mt) ? 'manifest' : 'other';
      memo =
        kind === 'index'
          ? this.index(bytes, d.hex, `${where} -> index ${short(d.hex)}`)
          : kind === 'manifest'
            ? this.manifest(bytes, d.hex, `${where} -> manifest ${short(d.hex)}`)
            : (async () => {
                this.ctx.notice(`${where}: ${mt ?? 'untyped'} blob ${short(d.hex)} is not an image manifest or index: kept as it is, with what it refers to`);
                this.keepReferences(bytes, d.hex);
                return { hex: d.hex, size: bytes.length };
              })();
      this.docMemo.set(d.hex, memo);
    }
    const r = await memo;
    if (r.hex !== d.hex) {
      setDescriptor(d.obj, r.hex, r.bytes, r.size);
      changed = true;
    }
    return changed;
  }

  /** A blob kept as it is: everything it names by digest stays too (artifacts, signatures). */
  private keepReferences(bytes: Uint8Array, hex: string): void {
    this.reach(hex, new BufferSource(bytes));
    const text = Buffer.from(bytes).toString('latin1');
    for (const m of text.matchAll(/sha256:([0-9a-f]{64})/g)) {
      const src = this.files.get(blobPath(m[1]!));
      if (src) {
        this.oldReached.add(m[1]!);
        this.reach(m[1]!, src);
      }
    }
  }

  async index(bytes: Uint8Array, hex: string, where: string): Promise<{ hex: string; bytes?: Uint8Array; size: number }> {
    const doc = parseDoc(bytes, where);
    await this.indexDoc(doc, where);
    return this.emit(bytes, hex, doc);
  }

  /** An image index (index.json too): children first, then its own annotations. */
  async indexDoc(doc: Doc, where: string): Promise<void> {
    const root = asObject(doc.root, where);
    const list = root.get('manifests');
    if (!Array.isArray(list)) throw new FormatError(`${where}: "manifests" is not an array`);
    for (let i = 0; i < list.length; i++) {
      if (await this.child(list[i], `${where} manifests[${i}]`)) doc.changed = true;
    }
    if (fixCreatedAnnotations(root.get('annotations'), this.ctx.options, this.tally, 'index annotation')) doc.changed = true;
  }

  private layer(hex: string, src: Source, keep: boolean, where: string): Promise<LayerOutcome> {
    const key = `${hex}:${keep}`;
    let p = this.layerMemo.get(key);
    if (!p) {
      p = normalizeLayerBlob(src, this.ctx, this.opts.owners, keep, `layer ${short(hex)}`);
      this.layerMemo.set(key, p);
      void where;
    }
    return p;
  }

  async manifest(bytes: Uint8Array, hex: string, where: string): Promise<{ hex: string; bytes?: Uint8Array; size: number }> {
    const doc = parseDoc(bytes, where);
    const root = asObject(doc.root, where);
    const layers = root.get('layers');
    if (!Array.isArray(layers)) throw new FormatError(`${where}: "layers" is not an array`);
    const cfg = descriptorOf(root.get('config'), `${where} config`);
    const isImage = cfg.mediaType !== undefined && CONFIG_TYPES.has(cfg.mediaType);
    // Verify the config first: a manifest pointing at a missing config is reported as such.
    const cfgBytes = await this.json(cfg.hex, cfg.size, `${where} config`);
    const layerMaps: Array<{ old: string; new: string; oldDiffId: string; newDiffId: string }> = [];
    const newDiffIds: (string | undefined)[] = [];
    const oldDiffIds: string[] = [];
    for (let i = 0; i < layers.length; i++) {
      const lw = `${where} layers[${i}]`;
      const d = descriptorOf(layers[i], lw);
      if (fixCreatedAnnotations(d.obj.get('annotations'), this.ctx.options, this.tally, 'layer annotation')) doc.changed = true;
      const mt = d.mediaType ?? '';
      if (FOREIGN_TYPES.has(mt) && !this.files.has(blobPath(d.hex))) {
        // Non-distributable: fetched from its urls; absent here by design.
        layerMaps.push({ old: d.hex, new: d.hex, oldDiffId: '', newDiffId: '' });
        oldDiffIds.push('');
        newDiffIds.push(undefined);
        continue;
      }
      const src = await this.blob(d.hex, d.size, lw);
      if (!isImage || !LAYER_TYPES.has(mt)) {
        if (isImage && !FOREIGN_TYPES.has(mt)) this.ctx.notice(`${lw}: media type ${JSON.stringify(mt)} is not a layer type detnorm knows: kept as it is`);
        this.reach(d.hex, src);
        layerMaps.push({ old: d.hex, new: d.hex, oldDiffId: '', newDiffId: '' });
        oldDiffIds.push('');
        newDiffIds.push(undefined);
        continue;
      }
      const keep = i < this.opts.keepLayers || this.opts.keepDigests.has(d.hex);
      const out = await this.layer(d.hex, src, keep, lw);
      if (out.kept) this.ctx.notice(`${lw} (${short(d.hex)}): ${out.kept}`);
      oldDiffIds.push(out.oldDiffId);
      newDiffIds.push(out.newDiffId ? `sha256:${out.newDiffId}` : undefined);
      let newHex = d.hex;
      if (out.changed) {
        newHex = await hashSource(out.blob);
        setDescriptor(d.obj, newHex, undefined, out.blob.size);
        doc.changed = true;
        for (const c of out.changes) this.tally.add(c.kind, `layers: ${c.what}`, `layers: ${c.what}`, c.count ?? 1);
      }
      this.reach(newHex, out.blob);
      layerMaps.push({ old: d.hex, new: newHex, oldDiffId: out.oldDiffId, newDiffId: out.newDiffId });
    }
    // The config.
    let cfgNew = { hex: cfg.hex, size: cfg.size } as { hex: string; bytes?: Uint8Array; size: number };
    if (isImage) {
      const key = `config:${cfg.hex}:${newDiffIds.join(',')}`;
      let memo = this.docMemo.get(key);
      if (!memo) {
        memo = (async () => {
          const cw = `${where} config ${short(cfg.hex)}`;
          const cdoc = parseDoc(cfgBytes, cw);
          const croot = asObject(cdoc.root, cw);
          const ids = croot.getObject('rootfs')?.getArray('diff_ids');
          if (!ids) throw new FormatError(`${cw}: no rootfs.diff_ids`);
          if (ids.length !== layers.length) throw new FormatError(`${cw}: ${ids.length} diff_ids for ${layers.length} layers`);
          oldDiffIds.forEach((d, i) => {
            if (d && ids[i] !== `sha256:${d}`) {
              throw new FormatError(`${cw}: rootfs.diff_ids[${i}] is ${JSON.stringify(ids[i])} but layer ${i} uncompressed is sha256:${d}`);
            }
          });
          if (fixImageConfig(croot, this.ctx.options, this.tally, newDiffIds)) cdoc.changed = true;
          return this.emit(cfgBytes, cfg.hex, cdoc);
        })();
        this.docMemo.set(key, memo);
      }
      cfgNew = await memo;
    } else {
      this.reach(cfg.hex, new BufferSource(cfgBytes));
    }
    if (cfgNew.hex !== cfg.hex) {
      setDescriptor(cfg.obj, cfgNew.hex, cfgNew.bytes, cfgNew.size);
      doc.changed = true;
    }
    if (fixCreatedAnnotations(root.get('annotations'), this.ctx.options, this.tally, 'manifest annotation')) doc.changed = true;
    const subject = root.get('subject');
    if (subject !== undefined) {
      const s = descriptorOf(subject, `${where} subject`);
      if (this.files.has(blobPath(s.hex))) this.ctx.notice(`${where}: refers to a subject manifest ${short(s.hex)}; the reference is kept as it is`);
    }
    const r = this.emit(bytes, hex, doc);
    this.images.push({ manifest: { old: hex, new: r.hex }, config: { old: cfg.hex, new: cfgNew.hex }, layers: layerMaps });
    return r;
  }

  /** Run over the whole layout. */
  async run(): Promise<LayoutResult> {
    const layoutFile = this.files.get('oci-layout');
    const indexFile = this.files.get('index.json');
    if (!layoutFile || !indexFile) throw new FormatError('not an OCI image layout: oci-layout or index.json missing');
    if (layoutFile.size > 1 << 20 || indexFile.size > 64 * 1024 * 1024) throw new FormatError('oci-layout or index.json is too large');
    const layout = asObject(parseJson(await layoutFile.read(0, layoutFile.size), 'oci-layout'), 'oci-layout');
    const version = layout.getString('imageLayoutVersion');
    if (!version || !/^1\.\d+\.\d+$/.test(version)) throw new FormatError(`oci-layout: imageLayoutVersion ${JSON.stringify(version ?? null)} is not supported`);
    for (const p of this.files.keys()) {
      if (p.startsWith('blobs/') && !/^blobs\/sha256\/[0-9a-f]{64}$/.test(p)) {
        if (/^blobs\/[^/]+\//.test(p) && !p.startsWith('blobs/sha256/')) throw new FormatError(`${p}: blobs of digest algorithms other than sha256 are not supported`);
        throw new FormatError(`${p}: not a blob name (blobs/sha256/<64 lower-case hex digits>)`);
      }
    }
    const indexBytes = await indexFile.read(0, indexFile.size);
    const doc = parseDoc(indexBytes, 'index.json');
    await this.indexDoc(doc, 'index.json');

    // Blobs the input did not reference: verified and kept.
    const orphans: string[] = [];
    for (const p of [...this.files.keys()].sort()) {
      if (!p.startsWith('blobs/sha256/')) continue;
      const hex = p.slice(13);
      if (this.oldReached.has(hex) || this.newReached.has(hex)) continue;
      const src = this.files.get(p)!;
      const actual = await hashSource(src);
      if (actual !== hex) throw new FormatError(`blob ${p}: content digest sha256:${actual} does not match its name`);
      orphans.push(p);
      this.newReached.set(hex, src);
    }
    if (orphans.length) this.ctx.notice(`${orphans.length} blob${orphans.length === 1 ? '' : 's'} not referenced from index.json kept as they are (${orphans.slice(0, 3).join(', ')}${orphans.length > 3 ? ', ...' : ''})`);

    const writes = new Map<string, Source>();
    for (const [hex, src] of [...this.newReached].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (!this.files.has(blobPath(hex))) writes.set(blobPath(hex), src);
    }
    if (doc.changed) writes.set('index.json', new BufferSource(serializeCanonical(doc.root)));
    const deletes = [...this.oldReached].filter((h) => !this.newReached.has(h)).sort().map(blobPath);
    if (writes.size || deletes.length) {
      const n = [...writes.keys()].filter((p) => p.startsWith('blobs/')).length;
      if (n) this.tally.add('content', 'blobs re-hashed and renamed, references updated', `${n} blob${n === 1 ? '' : 's'} re-hashed and renamed, references updated`);
    }
    return { writes, deletes, changes: this.tally.changes(), images: this.images };
  }
}

/** Normalize an OCI image layout given as its files (paths relative to the layout's root). */
export function normalizeOciLayout(files: ReadonlyMap<string, Source>, ctx: Context): Promise<LayoutResult> {
  return new LayoutNormalizer(files, ctx).run();
}

/** True when a list of relative paths is an OCI image layout's. */
export function isOciLayout(paths: Iterable<string>): boolean {
  let layout = false;
  let index = false;
  for (const p of paths) {
    if (p === 'oci-layout') layout = true;
    else if (p === 'index.json') index = true;
  }
  return layout && index;
}
