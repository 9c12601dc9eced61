// .gnu_debuglink, the whole matrix (the quick set is test/debuglink-order.test.ts): for ELF and
// PE, the debug file beside the binary sorting after it and before it, and in .debug/, each
// normalized at -j1, at -j2, with the debug file alone first and with the binary alone first:
// the same bytes every way. See test/debuglink-helpers.ts.
import { ELF, HAVE_ELF, HAVE_PE, LAYOUTS, PE, suite } from '../debuglink-helpers.js';

suite(ELF, HAVE_ELF, LAYOUTS, ['j1', 'j2', 'debug first', 'exe first']);
suite(PE, HAVE_PE, LAYOUTS, ['j1', 'j2', 'debug first', 'exe first']);
