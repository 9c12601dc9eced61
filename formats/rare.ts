// The handlers of the formats a typical run meets least (issue 20, start-up): one module, so
// the bundle loads them as one chunk (formats/index.ts imports it when a file of one of these
// formats is met) instead of a file each plus the chunks they share.
export { pycHandler } from './pyc/index.js';
export { rpmHandler } from './rpm/index.js';
export { debHandler } from './deb/index.js';
export { arHandler } from './ar.js';
export { ociHandler } from './oci/index.js';
export { cpioHandler } from './cpio/index.js';
export { elfHandler } from './elf/index.js';
export { peHandler } from './pe/index.js';
