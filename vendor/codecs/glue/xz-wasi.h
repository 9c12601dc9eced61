/* detnorm: force-included into every liblzma 5.4.1 source file by scripts/build-codecs.sh.
 * wasi-libc has no signal masks; xz's mythread.h declares a helper over sigprocmask() that the
 * library never calls. These declarations let it compile; nothing refers to them. */
#include <signal.h>
typedef unsigned long sigset_t;
int sigprocmask(int how, const sigset_t *restrict set, sigset_t *restrict oset);
