// The few WebAssembly JS API types src/codecs/wasm.ts uses (Node has the API; tsconfig's
// "lib": ["ES2022"] without the DOM library does not declare it).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
