// The handler registry: every format family, in detection priority order. The core knows
// formats only through this list. Add a handler here when its module lands.
import type { Handler } from '../src/types.js';
import { pycHandler } from './pyc/index.js';
import { gzipHandler } from './gzip.js';
import { arHandler } from './ar.js';
import { debHandler } from './deb/index.js';
import { ociHandler } from './oci/index.js';
import { tarHandler } from './tar/index.js';
import { xzHandler } from './compressed/xz.js';
import { zstdHandler } from './compressed/zstd.js';
import { bzip2Handler } from './compressed/bzip2.js';
import { lz4Handler } from './compressed/lz4.js';
import { cpioHandler } from './cpio/index.js';
import { zipHandler } from './zip/index.js';
import { elfHandler } from './elf/index.js';
import { peHandler } from './pe/index.js';
import { pngHandler } from './png.js';
import { gettextMoHandler } from './gettext-mo.js';
import { uimageHandler } from './uimage.js';
import { bfltHandler } from './bflt.js';
import { javadocHandler } from './javadoc.js';
import { javaPropertiesHandler } from './javaproperties.js';
import { rpmHandler } from './rpm/index.js';

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
