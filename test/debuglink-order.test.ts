// .gnu_debuglink, the quick set (the whole matrix of layouts and orders is in
// test/slow/debuglink-order.slow.test.ts): for ELF and PE, a debug file whose name sorts before
// the binary's, normalized at -j1, at -j2 and alone first, gives the same bytes every way; the
// CRC is zlib.crc32 of the final debug file; twice = once; a debug file of another build is not
// the pair. See test/debuglink-helpers.ts.
import { ELF, HAVE_ELF, HAVE_PE, LAYOUTS, PE, suite } from './debuglink-helpers.js';

const QUICK = LAYOUTS.filter((l) => l.label === 'debug file sorts before the binary');
suite(ELF, HAVE_ELF, QUICK, ['j1', 'j2', 'debug first']);
suite(PE, HAVE_PE, QUICK, ['j1', 'j2', 'debug first']);
