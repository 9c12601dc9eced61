// The outputs' own bytes, where they can be found (blobs.ts), say what the logs cannot:
// - for a non-deterministic action, whether normalizing would fix it: `detnorm diff`'s artifact
//   comparison of the two outputs gives the verdict;
// - for an action whose only differences are build-wide (the same variable differs in every
//   action), whether the differing value got into its output (non-hermetic) or not
//   (non-deterministic).
import { basename } from 'node:path';
import type { NormalizeOptions } from '../api.js';
import { diffPair, type PairReport } from '../diff.js';
import { settleRoots, type ActionPair, type Classification, type OutputDiff, type ValueDiff } from './classify.js';
import type { BlobStore } from './blobs.js';

export type VerdictKind = 'normalized' | 'content' | 'unfixable' | 'missing' | 'error';

export interface Verdict {
  readonly kind: VerdictKind;
  /** One line for people. */
  readonly text: string;
  /** What normalization removed (timestamp, order, ...), for 'normalized'. */
  readonly normalizedAway?: readonly string[];
}

export interface OutputVerdict {
  readonly path: string;
  readonly verdict: Verdict;
}

export interface Explanation {
  /** Verdicts for the differing outputs of non-deterministic actions, by pair id. */
  readonly verdicts: ReadonlyMap<number, readonly OutputVerdict[]>;
  /** Build-wide values found written into an action's output, by pair id. */
  readonly leaked: ReadonlyMap<number, readonly ValueDiff[]>;
  /** Undecided pairs whose outputs could not be found: classed non-hermetic, unconfirmed. */
  readonly unconfirmed: ReadonlySet<number>;
}

const WORDS: Record<string, string> = {
  timestamp: 'timestamps',
  owner: 'owners',
  mode: 'modes',
  path: 'build paths',
  'extra-field': 'extra fields',
  marshal: 'marshal flags',
  header: 'headers',
};

export const MISSING = 'outputs not found: give the two builds\' --disk-cache DIR_A --disk-cache DIR_B (or --output-base) to compare them';

/** The verdict `detnorm diff` gives on two outputs of one action. */
export function verdictOf(r: PairReport): Verdict {
  if (r.status === 'identical' || r.status === 'normalized') {
    const words = r.normalizedAway.map((k) => WORDS[k] ?? k);
    return {
      kind: 'normalized',
      text: `identical after normalization (${words.join(', ') || 'metadata'}): wrap this action's output with detnorm_normalize`,
      normalizedAway: r.normalizedAway,
    };
  }
  const error = r.differences.find((d) => d.kind === 'error');
  if (r.status === 'error' || error) return { kind: 'error', text: `could not compare: ${error?.detail ?? 'error'}` };
  // What the format says normalization cannot remove (a build path compiled into a loaded
  // section: "build path in loaded section .rodata").
  const unfixable = r.differences.find((d) => d.unfixable);
  if (unfixable) {
    const section = /^build path in (?:loaded|allocated) section (.+)$/.exec(unfixable.field);
    return { kind: 'unfixable', text: `unfixable after the fact: ${section ? `build path in ${section[1]}` : unfixable.field}` };
  }
  return { kind: 'content', text: 'content differs: the tool itself is non-deterministic' };
}

interface Blobs {
  readonly a: readonly BlobStore[];
  readonly b: readonly BlobStore[];
}

function fetch(stores: readonly BlobStore[], f: OutputDiff['a']): Uint8Array | undefined {
  if (!f) return undefined;
  for (const s of stores) {
    const got = s.find(f.path, f.hash, f.size);
    if (got) return got;
  }
  return undefined;
}

/** A build-wide value written into the outputs: A's value in A's bytes, B's in B's, not A's in B's. */
function leakedValues(p: ActionPair, blobs: Blobs): ValueDiff[] | undefined {
  const found: ValueDiff[] = [];
  let seen = false;
  for (const o of p.outputs) {
    const a = fetch(blobs.a, o.a);
    const b = fetch(blobs.b, o.b);
    if (!a || !b) continue;
    seen = true;
    const ba = Buffer.from(a.buffer, a.byteOffset, a.length);
    const bb = Buffer.from(b.buffer, b.byteOffset, b.length);
    for (const d of [...p.env, ...p.args]) {
      if (!d.a || !d.b || d.a.length < 3 || d.b.length < 3) continue;
      if (ba.includes(d.a) && bb.includes(d.b) && !bb.includes(d.a) && !found.includes(d)) found.push(d);
    }
  }
  return seen ? found : undefined;
}

/** Decide the undecided pairs, give verdicts for non-deterministic outputs, then settle the roots. */
export async function explain(c: Classification, blobs: Blobs, lib: NormalizeOptions = {}): Promise<Explanation> {
  const verdicts = new Map<number, OutputVerdict[]>();
  const leaked = new Map<number, ValueDiff[]>();
  const unconfirmed = new Set<number>();
  for (const p of c.pairs) {
    if (p.klass === 'undecided') {
      const values = leakedValues(p, blobs);
      if (values === undefined) {
        p.klass = 'non-hermetic';
        unconfirmed.add(p.id);
      } else if (values.length) {
        p.klass = 'non-hermetic';
        leaked.set(p.id, values);
      } else p.klass = 'non-deterministic';
    }
    if (p.klass !== 'non-deterministic') continue;
    const out: OutputVerdict[] = [];
    for (const o of p.outputs) {
      const a = fetch(blobs.a, o.a);
      const b = fetch(blobs.b, o.b);
      if (!o.a || !o.b) out.push({ path: o.path, verdict: { kind: 'content', text: `output only in ${o.a ? 'A' : 'B'}` } });
      else if (!a || !b) out.push({ path: o.path, verdict: { kind: 'missing', text: MISSING } });
      else {
        let report: PairReport;
        try {
          report = await diffPair(a, b, o.path, basename(o.path), lib);
        } catch (e) {
          out.push({ path: o.path, verdict: { kind: 'error', text: `could not compare: ${(e as Error).message}` } });
          continue;
        }
        out.push({ path: o.path, verdict: verdictOf(report) });
      }
    }
    verdicts.set(p.id, out);
  }
  settleRoots(c);
  return { verdicts, leaked, unconfirmed };
}
