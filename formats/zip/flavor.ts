// Which zip-based format an archive is, and the member order each one wants (DESIGN.md
// section 3). The flavour is told from the content; the file name only breaks a tie the bytes
// leave open (a filter `detnorm - < x.jar` has no name, a misnamed file has a wrong one):
// - jmod: the "JM\x01\x00" prefix before the zip;
// - apk: a top-level `AndroidManifest.xml` with an APK Signing Block or a `classes.dex`;
// - wheel: a top-level `NAME.dist-info/WHEEL` and `NAME.dist-info/RECORD` pair (PEP 427);
// - jar: a `META-INF/MANIFEST.MF`;
// - none of these: the name's extension (.jmod, .apk, .whl, .jar/.war/.ear/.aar/.xpi), else zip.
// The orders:
// - every flavor: bytewise order of the raw name bytes, duplicates in central-directory order;
//   a `mimetype` member that comes first in the input stays first (EPUB and ODF need it first
//   and stored);
// - jar-like (jar, war, ear, aar, xpi, jmod, apk): `META-INF/`, then `META-INF/MANIFEST.MF`
//   (JarInputStream looks for the manifest there); in a signed jar the other `META-INF/*`
//   entries follow right after, so a streaming verifier sees the signature files before the
//   entries they sign;
// - wheel (PEP 427): `*.dist-info/` entries last, `*.dist-info/RECORD` the very last.
import type { Entry } from './reader.js';

export type Flavor = 'zip' | 'jar' | 'apk' | 'jmod' | 'wheel';

const JAR_EXT = new Set(['.jar', '.war', '.ear', '.aar', '.xpi']);

/** True when s holds only ASCII from index `from` on. */
function asciiFrom(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

export function extensionOf(name: string): string {
  // Per member (issue 20): only the extension is lowered when it is ASCII (ASCII lowering needs
  // no context); otherwise the whole base name, as Unicode lowering may (a final sigma).
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  if (dot <= slash + 1) return '';
  if (asciiFrom(name, dot + 1)) return name.slice(dot).toLowerCase();
  const base = name.slice(slash + 1).toLowerCase();
  const d = base.lastIndexOf('.');
  return d <= 0 ? '' : base.slice(d);
}

/** The flavour the name alone gives (the tie-break when the content tells nothing). */
export function flavorOfName(name: string): Flavor {
  const ext = extensionOf(name);
  if (ext === '.jmod') return 'jmod';
  if (ext === '.apk') return 'apk';
  if (ext === '.whl') return 'wheel';
  if (JAR_EXT.has(ext)) return 'jar';
  return 'zip';
}

/** What the archive's own bytes say it is, or undefined when they leave it open. */
export function contentFlavor(entries: readonly Pick<Entry, 'name' | 'displayName'>[], prefix: Uint8Array, signingBlock: boolean): Flavor | undefined {
  if (prefix.length === 4 && prefix[0] === 0x4a && prefix[1] === 0x4d && prefix[2] === 0x01 && prefix[3] === 0x00) return 'jmod';
  // One pass over the names giving the same answers as a Set of every name and a regex run on
  // each (issue 20, --check: that Set and one regex per member were the largest self time of
  // a canonical check after the reads): only names ending in "/WHEEL" or "/RECORD" are kept
  // for the wheel rule, and the regex runs on those alone.
  let androidManifest = false;
  let classesDex = false;
  let manifest = false;
  let wheels: string[] | undefined;
  let records: Set<string> | undefined;
  for (const e of entries) {
    const n = e.displayName;
    if (n === 'AndroidManifest.xml') androidManifest = true;
    else if (n === 'classes.dex') classesDex = true;
    else if (n.endsWith('/WHEEL')) (wheels ??= []).push(n);
    else if (n.endsWith('/RECORD')) (records ??= new Set()).add(n);
    if (!manifest && isManifest(e.name)) manifest = true;
  }
  if (androidManifest && (signingBlock || classesDex)) return 'apk';
  if (wheels && records) {
    for (const n of wheels) {
      const m = /^([^/]+\.dist-info)\/WHEEL$/.exec(n);
      if (m && records.has(`${m[1]}/RECORD`)) return 'wheel';
    }
  }
  if (manifest) return 'jar';
  return undefined;
}

/** The archive's flavour: by content first, by name when the content leaves it open. */
export function flavorOf(name: string, prefix: Uint8Array, entries: readonly Pick<Entry, 'name' | 'displayName'>[], signingBlock: boolean): Flavor {
  return contentFlavor(entries, prefix, signingBlock) ?? flavorOfName(name);
}

export function isJarLike(f: Flavor): boolean {
  return f === 'jar' || f === 'apk' || f === 'jmod';
}

const enc = new TextEncoder();
const META_INF = enc.encode('META-INF/');
const MANIFEST = 'META-INF/MANIFEST.MF';
const MIMETYPE = enc.encode('mimetype');

function equalsAscii(name: Uint8Array, s: string, ignoreCase: boolean): boolean {
  if (name.length !== s.length) return false;
  for (let i = 0; i < name.length; i++) {
    let a = name[i]!;
    let b = s.charCodeAt(i);
    if (ignoreCase) {
      if (a >= 0x61 && a <= 0x7a) a -= 0x20;
      if (b >= 0x61 && b <= 0x7a) b -= 0x20;
    }
    if (a !== b) return false;
  }
  return true;
}

function startsWith(name: Uint8Array, prefix: Uint8Array): boolean {
  if (name.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (name[i] !== prefix[i]) return false;
  return true;
}

export function isManifest(name: Uint8Array): boolean {
  return equalsAscii(name, MANIFEST, true);
}

/** `<dir>.dist-info/RECORD` at the top level. */
export function isWheelRecord(name: string): boolean {
  return /^[^/]+\.dist-info\/RECORD$/.test(name);
}

function isDistInfo(name: string): boolean {
  return /^[^/]+\.dist-info(\/|$)/.test(name);
}

/** A v1 JAR signature file (`META-INF/*.SF`): the jar (or APK) is signed. */
export function isSignatureFile(name: string): boolean {
  // The regex only for names that can match (first letter m/M, at least "META-INF/x.SF"): it runs per member.
  return name.length >= 13 && (name.charCodeAt(0) | 0x20) === 0x6d && /^META-INF\/[^/]+\.SF$/i.test(name);
}

// The flavor tests are booleans computed once per archive by orderEntries, not string compares
// per member: a compare first reached after TurboFan compiled this (a worker that met only jars,
// then a zip) has no type feedback and deoptimized orderEntries (issue 20).
function rank(e: Entry, jarLike: boolean, wheel: boolean, signed: boolean, mimetypeFirst: boolean): number {
  if (mimetypeFirst && e.name.length === MIMETYPE.length && startsWith(e.name, MIMETYPE)) return -1;
  if (jarLike) {
    if (equalsAscii(e.name, 'META-INF/', true)) return 0;
    if (isManifest(e.name)) return 1;
    if (signed && startsWith(e.name, META_INF)) return 2;
    return 3;
  }
  if (wheel) {
    if (isWheelRecord(e.displayName)) return 2;
    if (isDistInfo(e.displayName)) return 1;
  }
  return 0;
}

/**
 * The name as a latin1 string (one char per byte). An ASCII name's display name (UTF-8 decoded)
 * is that very string: no conversion (issue 20).
 */
function sortKey(e: Entry): string {
  const d = e.displayName;
  return d.length === e.name.length && asciiFrom(d, 0) ? d : latin1(e.name);
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** Bytewise order of two names (negative, 0, positive). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The entries in canonical order (a new array). */
export function orderEntries(entries: readonly Entry[], flavor: Flavor, signed: boolean): Entry[] {
  let first: Entry | undefined;
  for (const e of entries) if (!first || e.localOffset < first.localOffset) first = e;
  const mimetypeFirst = !!first && first.name.length === MIMETYPE.length && startsWith(first.name, MIMETYPE);
  // Already in order (every archive detnorm wrote, so every --check of a canonical tree): one
  // pass comparing neighbours' bytes in place gives the same order as the sort below without
  // a string per name (issue 20: those strings were most of this function's cost). The order
  // is the sort's total order (rank, name bytes, central directory index), so "each entry is
  // after its predecessor" means the sort would return this same sequence.
  const ranks = new Int8Array(entries.length);
  const jarLike = isJarLike(flavor);
  const wheel = flavor === 'wheel';
  let sorted = true;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const r = (ranks[i] = rank(e, jarLike, wheel, signed, mimetypeFirst));
    if (sorted && i > 0) {
      const p = entries[i - 1]!;
      const d = ranks[i - 1]! - r || compareBytes(p.name, e.name) || p.index - e.index;
      if (d > 0) sorted = false;
    }
  }
  if (sorted) return entries.slice();
  // Names as latin1 strings (one char per byte): string order is then bytewise order, and
  // comparing strings is much cheaper than Buffer.compare for thousands of names.
  const keyed = entries.map((e, i) => ({ e, r: ranks[i]!, k: sortKey(e) }));
  keyed.sort((a, b) => a.r - b.r || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) || a.e.index - b.e.index);
  return keyed.map((k) => k.e);
}
