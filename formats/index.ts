// The handler registry: every format family, in detection priority order. The core knows
// formats only through this list. Add a handler here when its module lands.
import type { Handler } from '../src/types.js';
import { pycHandler } from './pyc/index.js';
import { gzipHandler } from './gzip.js';
import { arHandler } from './ar.js';
import { ociHandler } from './oci/index.js';
import { compressedTarHandler, tarHandler } from './tar/index.js';
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

export const HANDLERS: readonly Handler[] = [
  pycHandler,
  gzipHandler,
  arHandler,
  ociHandler, // container image tars: before tar, which would take them as plain tars
  tarHandler,
  compressedTarHandler,
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
