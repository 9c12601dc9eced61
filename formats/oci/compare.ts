// `detnorm diff` for container images (image archives and OCI layout directories): each image's
// config fields (created, history, the rest) compared as fields, and its layers handed back as
// member pairs by role ("layer 1", ...), so the core compares them as the tars they are. Blob
// digests and manifests are not compared: they follow from the layers and configs.
import type { Comparison, Context, DirectoryFiles, MemberInfo } from '../../src/types.js';
import { clockCause, compareMemberLists, type FieldSpec } from '../compare.js';
import type { ArchiveFiles } from './docker.js';

/** Times in a config's fields ('created', history's 'created'), in seconds. */
function configTimes(ms: readonly MemberInfo[]): number[] {
  const out: number[] = [];
  for (const m of ms) {
    for (const key of ['created', 'history created']) {
      const v = m.meta[key];
      if (typeof v !== 'string') continue;
      for (const t of v.split(', ')) {
        const s = Date.parse(t.replace(/^"|"$/g, ''));
        if (Number.isFinite(s)) out.push(Math.floor(s / 1000));
      }
    }
  }
  return out;
}

const short = (v: string | number | undefined) => {
  if (v === undefined) return '(none)';
  const t = String(v);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
};

/** A field per config key present on either side. */
function configFields(a: readonly MemberInfo[], b: readonly MemberInfo[]): FieldSpec[] {
  const keys = new Set<string>();
  for (const m of [...a, ...b]) if (m.name.endsWith('config')) for (const k of Object.keys(m.meta)) keys.add(k);
  return [...keys].sort().map((k): FieldSpec => {
    const time = k === 'created' || k === 'history created';
    return {
      kind: time ? 'timestamp' : 'metadata',
      label: k,
      value: (m) => m.meta[k],
      show: short,
      ...(time ? { cause: (_d, all) => clockCause(configTimes(all.a), configTimes(all.b)) } : {}),
    };
  });
}

/** Compare the images of two archives or layouts given as their files. */
export async function compareImages(a: ArchiveFiles, b: ArchiveFiles, ctx: Context, list: (x: ArchiveFiles, ctx: Context) => AsyncIterable<MemberInfo>): Promise<Comparison> {
  const parts = async (x: ArchiveFiles) => {
    const out: MemberInfo[] = [];
    for await (const m of list(x, ctx)) {
      // A config is compared by its fields; its bytes follow from them and from the layers.
      if (m.name.endsWith('config')) {
        const { data: _d, ...rest } = m;
        out.push(rest);
      } else out.push(m);
    }
    return out;
  };
  const [pa, pb] = [await parts(a), await parts(b)];
  return compareMemberLists(pa, pb, { fields: configFields(pa, pb), order: false });
}

export function compareLayouts(a: DirectoryFiles, b: DirectoryFiles, ctx: Context, list: (x: ArchiveFiles, ctx: Context) => AsyncIterable<MemberInfo>): Promise<Comparison> {
  return compareImages({ files: a, links: new Map() }, { files: b, links: new Map() }, ctx, list);
}
