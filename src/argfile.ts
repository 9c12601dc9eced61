// Argument files, as Bazel writes them (Args.use_param_file, format "multiline"): an argument
// `@FILE` or `--flagfile=FILE` stands for the lines of FILE, one argument a line. Bazel's
// persistent worker protocol requires that an action's arguments end with one; detnorm reads
// it the same way whether it runs once or as a worker, so both see the same command line.
import { readFileSync } from 'node:fs';

export class ArgFileError extends Error {
  override name = 'ArgFileError';
}

/** Nesting depth for argument files that name argument files (bounded: no cycles). */
const MAX_DEPTH = 4;

/** `@FILE` -> FILE, `--flagfile=FILE` -> FILE, anything else -> undefined. A lone "@" is an argument. */
export function argFileOf(arg: string): string | undefined {
  if (arg.startsWith('--flagfile=')) return arg.slice('--flagfile='.length) || undefined;
  if (arg.length > 1 && arg.startsWith('@')) return arg.slice(1);
  return undefined;
}

/** The lines of an argument file's text: one argument each (a final newline ends the last). */
export function splitArgFile(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Replace every argument file by its arguments. A path that starts with @ can be given as ./@name. */
export function expandArgFiles(args: readonly string[], read: (path: string) => string = (p) => readFileSync(p, 'utf8'), depth = 0): string[] {
  const out: string[] = [];
  for (const a of args) {
    const file = argFileOf(a);
    if (file === undefined) {
      out.push(a);
      continue;
    }
    if (depth >= MAX_DEPTH) throw new ArgFileError(`${file}: argument files nested more than ${MAX_DEPTH} deep`);
    let text: string;
    try {
      text = read(file);
    } catch (e) {
      throw new ArgFileError(`cannot read argument file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    out.push(...expandArgFiles(splitArgFile(text), read, depth + 1));
  }
  return out;
}
