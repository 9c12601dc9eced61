// `detnorm diff` for PE images and COFF objects: which of their metadata differ between two
// builds (link stamps, CodeView GUID, CheckSum, DWARF sections) and whether anything else does
// (code or data: not metadata). Works on the raw inputs; says nothing when a side does not parse.
import { latin1, type Section } from './coff.js';
import { findFields } from './fields.js';
import { OPT_CHECKSUM, parseImage, sectionBytes, type PeImage } from './image.js';
import { parseObject } from './object.js';

function zeroed(img: PeImage): Uint8Array {
  const b = Uint8Array.from(img.bytes);
  const f = findFields(img);
  for (const s of [f.coffStamp, ...f.debugStamps, ...f.otherStamps]) b.fill(0, s.at, s.at + 4);
  for (const cv of f.codeViews) if (cv.signature === 'RSDS') b.fill(0, cv.at + 4, cv.at + 24);
  b.fill(0, img.optAt + OPT_CHECKSUM, img.optAt + OPT_CHECKSUM + 4);
  return b;
}

function guids(img: PeImage): string {
  return findFields(img)
    .codeViews.filter((c) => c.signature === 'RSDS')
    .map((c) => Buffer.from(img.bytes.subarray(c.at + 4, c.at + 24)).toString('hex'))
    .join(',');
}

function sectionDiffs(a: { sections: readonly Section[]; data: (s: Section) => Uint8Array }, b: { sections: readonly Section[]; data: (s: Section) => Uint8Array }): { debug: string[]; other: string[] } {
  const debug: string[] = [];
  const other: string[] = [];
  const names = new Set([...a.sections.map((s) => s.name), ...b.sections.map((s) => s.name)]);
  for (const n of names) {
    const x = a.sections.find((s) => s.name === n);
    const y = b.sections.find((s) => s.name === n);
    const same = x && y && Buffer.from(a.data(x)).equals(Buffer.from(b.data(y)));
    if (same) continue;
    (n.startsWith('.debug_') ? debug : other).push(n);
  }
  return { debug, other };
}

/** Likely causes of the differences between two PE/COFF files. */
export function explainPe(a: Uint8Array, b: Uint8Array): string[] {
  try {
    return explainImages(parseImage(a), parseImage(b));
  } catch {
    try {
      return explainObjects(a, b);
    } catch {
      return [];
    }
  }
}

function explainImages(x: PeImage, y: PeImage): string[] {
  const out: string[] = [];
  const fx = findFields(x);
  const fy = findFields(y);
  const stamps = [fx.coffStamp, ...fx.debugStamps, ...fx.otherStamps].map((s) => s.value).join(',') !== [fy.coffStamp, ...fy.debugStamps, ...fy.otherStamps].map((s) => s.value).join(',');
  const guid = guids(x) !== guids(y);
  const zx = zeroed(x);
  const zy = zeroed(y);
  if (Buffer.from(zx).equals(Buffer.from(zy))) {
    const what = [stamps && 'link time stamps (COFF header, debug directory, export or resource tables)', guid && 'the CodeView GUID', x.checksum !== y.checksum && 'the CheckSum that covers them'].filter(Boolean);
    out.push(`PE: only ${what.join(', ')} differ: the link time (or a GUID from the PDB); normalization derives them from the content`);
    return out;
  }
  if (stamps) out.push('PE: link time stamps differ (the build time)');
  if (guid) out.push('PE: the CodeView GUID differs (a new PDB or build id per link)');
  const pdb = (f: ReturnType<typeof findFields>) => f.codeViews.map((c) => (c.path ? latin1(c.path) : '')).join(',');
  if (pdb(fx) !== pdb(fy)) out.push(`PE: the PDB paths differ (${pdb(fx)} vs ${pdb(fy)}): give --map-path for the build directories`);
  // Sections compared with the stamp and GUID fields zeroed: what is left is content.
  const view = (img: PeImage, z: Uint8Array) => (s: Section) => z.subarray(s.rawPtr, s.rawPtr + sectionBytes(img, s).length);
  const d = sectionDiffs({ sections: x.coff.sections, data: view(x, zx) }, { sections: y.coff.sections, data: view(y, zy) });
  if (d.debug.length > 0) out.push(`PE: DWARF sections differ (${d.debug.join(', ')}): build paths or string table order; --map-path maps the paths`);
  if (d.other.length > 0) out.push(`PE: loaded sections differ (${d.other.join(', ')}): code or data, not metadata (a build path in .rdata, e.g. from __FILE__, is not fixable after linking)`);
  return out;
}

function explainObjects(a: Uint8Array, b: Uint8Array): string[] {
  const x = parseObject(a);
  const y = parseObject(b);
  const out: string[] = [];
  if (x.header.timeDateStamp !== y.header.timeDateStamp) out.push('COFF: the object TimeDateStamps differ (the compile time; clang for MSVC targets writes it)');
  const data = (c: typeof x) => (s: Section) => (s.rawPtr === 0 ? new Uint8Array(0) : c.bytes.subarray(s.rawPtr, s.rawPtr + s.rawSize));
  const d = sectionDiffs({ sections: x.sections, data: data(x) }, { sections: y.sections, data: data(y) });
  if (d.debug.length > 0) out.push(`COFF: DWARF sections differ (${d.debug.join(', ')}): build paths or string table order; --map-path maps the paths`);
  if (d.other.length > 0) out.push(`COFF: sections differ (${d.other.join(', ')}): code or data, not metadata`);
  return out;
}
