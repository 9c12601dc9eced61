// Node's on-disk compile cache (module.enableCompileCache, Node >= 22.1): the second start of
// the CLI and of each worker thread reuses the code V8 compiled for the bundle instead of
// parsing it again. Where the running Node has no such function (Node 20) nothing happens; Node
// itself honours NODE_DISABLE_COMPILE_CACHE. The cache holds compiled code only: outputs cannot
// depend on it.
import nodeModule from 'node:module';

export function enableCompileCache(): void {
  const m = nodeModule as unknown as { enableCompileCache?: () => unknown };
  if (typeof m.enableCompileCache !== 'function') return;
  try {
    m.enableCompileCache();
  } catch {
    /* no cache: only slower */
  }
}
