// A handler whose code loads when a file of its format is met (issue 20, start-up). The registry
// (formats/index.ts) holds what detection and the format lists need (name, description,
// extensions, detect, detectDirectory), all light; normalize, members, compare and the directory
// methods import the handler's module on first use (the bundle puts it in its own chunk). The
// optional methods a stub has are those the real handler has (test/lazy-registry.test.ts checks
// that, and that detect and detectDirectory are the real handler's own functions), so the core,
// which tests for them (`h.compare`, `h.members`), sees no difference.
import type { Comparison, Context, DirectoryFiles, DirectoryResult, Handler, HandlerResult, MemberInfo, Probe, Sink, Source } from '../src/types.js';

/** What a stub holds without loading the handler's module. */
export interface Detection {
  readonly name: string;
  readonly description: string;
  readonly extensions: readonly string[];
  readonly detect: (probe: Probe) => boolean;
  readonly detectDirectory?: (names: readonly string[]) => boolean;
  /** Handler.wholeInput: the engine reads such an input once before the handler runs. */
  readonly wholeInput?: boolean;
}

/** The optional methods the real handler has. */
export type Optional = 'members' | 'compare' | 'normalizeDirectory' | 'compareDirectory';

/** A handler that loads `load()` (once) when a method other than detection is called. */
export function lazyHandler(d: Detection, optional: readonly Optional[], load: () => Promise<Handler>): Handler {
  let loading: Promise<Handler> | undefined;
  const real = (): Promise<Handler> => (loading ??= load());
  const has = new Set(optional);
  const h: {
    -readonly [K in keyof Handler]: Handler[K];
  } = {
    name: d.name,
    description: d.description,
    extensions: d.extensions,
    detect: d.detect,
    async normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
      return (await real()).normalize(input, output, ctx);
    },
  };
  if (d.detectDirectory) h.detectDirectory = d.detectDirectory;
  if (d.wholeInput) h.wholeInput = d.wholeInput;
  if (has.has('members')) {
    h.members = async function* (input: Source, ctx: Context): AsyncIterable<MemberInfo> {
      yield* (await real()).members!(input, ctx);
    };
  }
  if (has.has('compare')) h.compare = async (a: Source, b: Source, ctx: Context): Promise<Comparison> => (await real()).compare!(a, b, ctx);
  if (has.has('normalizeDirectory')) h.normalizeDirectory = async (files: DirectoryFiles, ctx: Context): Promise<DirectoryResult> => (await real()).normalizeDirectory!(files, ctx);
  loaders.set(h, real);
  if (has.has('compareDirectory')) h.compareDirectory = async (a: DirectoryFiles, b: DirectoryFiles, ctx: Context): Promise<Comparison> => (await real()).compareDirectory!(a, b, ctx);
  return h;
}

const loaders = new WeakMap<Handler, () => Promise<Handler>>();

/** The handler a registry entry stands for: a lazy stub's real handler (loaded), else the entry itself. */
export async function realHandler(h: Handler): Promise<Handler> {
  const load = loaders.get(h);
  return load ? load() : h;
}
