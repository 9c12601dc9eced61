// The handler registry: every format family, in detection priority order. The core knows
// formats only through this list. Add a handler here when its module lands.
//
// Start-up (issue 20): the heavy handlers are lazy (formats/lazy.ts). What detection and the
// format lists need (name, description, extensions, detect, detectDirectory) comes from each
// format's small detect.ts, which the handler itself spreads into its object; the rest of the
// handler is imported when a file of its format is met (the bundle puts it in its own chunks).
// The optional methods listed here must be the handler's: test/lazy-registry.test.ts checks it.
import type { Handler } from '../src/types.js';
import { lazyHandler } from './lazy.js';
import { pycDetection } from './pyc/detect.js';
import { gzipHandler } from './gzip.js';
import { arDetection } from './ar/detect.js';
import { debDetection } from './deb/detect.js';
import { ociDetection } from './oci/detect.js';
import { tarDetection } from './tar/detect.js';
import { xzHandler } from './compressed/xz.js';
import { zstdHandler } from './compressed/zstd.js';
import { bzip2Handler } from './compressed/bzip2.js';
import { lz4Handler } from './compressed/lz4.js';
import { cpioDetection } from './cpio/detect.js';
import { zipDetection } from './zip/detect.js';
import { elfDetection } from './elf/detect.js';
import { peDetection } from './pe/detect.js';
import { pngHandler } from './png.js';
import { gettextMoHandler } from './gettext-mo.js';
import { uimageHandler } from './uimage.js';
import { bfltHandler } from './bflt.js';
import { javadocHandler } from './javadoc.js';
import { javaPropertiesHandler } from './javaproperties.js';
import { rpmDetection } from './rpm/detect.js';

const pycHandler = lazyHandler(pycDetection, ['compare'], async () => (await import('./rare.js')).pycHandler);
const rpmHandler = lazyHandler(rpmDetection, ['members', 'compare'], async () => (await import('./rare.js')).rpmHandler);
const debHandler = lazyHandler(debDetection, ['members', 'compare'], async () => (await import('./rare.js')).debHandler);
const arHandler = lazyHandler(arDetection, ['members', 'compare'], async () => (await import('./rare.js')).arHandler);
const ociHandler = lazyHandler(
  ociDetection,
  ['members', 'compare', 'normalizeDirectory', 'compareDirectory'],
  async () => (await import('./rare.js')).ociHandler,
);
const tarHandler = lazyHandler(tarDetection, ['members', 'compare'], async () => (await import('./tar/index.js')).tarHandler);
const cpioHandler = lazyHandler(cpioDetection, ['compare'], async () => (await import('./rare.js')).cpioHandler);
const zipHandler = lazyHandler(zipDetection, ['members', 'compare'], async () => (await import('./zip/index.js')).zipHandler);
const elfHandler = lazyHandler(elfDetection, ['compare'], async () => (await import('./rare.js')).elfHandler);
const peHandler = lazyHandler(peDetection, ['compare'], async () => (await import('./rare.js')).peHandler);

export const HANDLERS: readonly Handler[] = [
  pycHandler,
  gzipHandler,
  xzHandler,
  zstdHandler,
  bzip2Handler,
  lz4Handler,
  rpmHandler, // RPM packages: a lead magic no other format claims
  debHandler, // Debian packages: before ar, which would take them as plain archives
  arHandler,
  ociHandler, // container image tars: before tar, which would take them as plain tars
  tarHandler,
  cpioHandler,
  zipHandler,
  elfHandler,
  peHandler,
  // Small formats (issue 8): magic-number ones first, text-ish ones (need a name match) last.
  pngHandler,
  gettextMoHandler,
  uimageHandler,
  bfltHandler,
  javadocHandler,
  javaPropertiesHandler,
];
