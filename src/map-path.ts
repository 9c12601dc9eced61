// The --map-path rule (DESIGN.md section 3, Paths), shared by every handler that stores paths:
// the longest OLD that equals the path or is a prefix of it ending at a component boundary
// ('/') is replaced by NEW. Handlers that work on byte strings pass maps encoded the same way.
import type { PathMap } from './types.js';

/** The mapped path, or undefined when no OLD applies. */
export function mapPath(path: string, maps: readonly PathMap[]): string | undefined {
  let best: PathMap | undefined;
  for (const m of maps) {
    if (!m.from || !path.startsWith(m.from)) continue;
    const boundary = path.length === m.from.length || m.from.endsWith('/') || path[m.from.length] === '/';
    if (boundary && (!best || m.from.length > best.from.length)) best = m;
  }
  return best ? best.to + path.slice(best.from.length) : undefined;
}
