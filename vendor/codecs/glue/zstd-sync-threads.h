/* detnorm: force-included into every zstd 1.5.4 source file by scripts/build-codecs.sh.
 * The zstd CLI compresses with nbWorkers=1 (ZSTDMT) by default, whose output differs from the
 * single-threaded ZSTD_compressStream2; it is the same for any worker count. WebAssembly has no
 * threads here, so the compressor is built with ZSTD_MULTITHREAD (ZSTDMT's job cutting and
 * overlap logic) while common/pool.c is built without it: POOL_add then runs each job at once,
 * in order, on the calling thread. Locks and condition waits become no-ops, as in zstd's own
 * single-threaded build (these lines are its threading.h fallback): a job is always complete
 * before anyone would wait for it. */
#ifndef THREADING_H_938743
#define THREADING_H_938743
typedef int ZSTD_pthread_mutex_t;
#define ZSTD_pthread_mutex_init(a, b)   ((void)(a), (void)(b), 0)
#define ZSTD_pthread_mutex_destroy(a)   ((void)(a))
#define ZSTD_pthread_mutex_lock(a)      ((void)(a))
#define ZSTD_pthread_mutex_unlock(a)    ((void)(a))
typedef int ZSTD_pthread_cond_t;
#define ZSTD_pthread_cond_init(a, b)    ((void)(a), (void)(b), 0)
#define ZSTD_pthread_cond_destroy(a)    ((void)(a))
#define ZSTD_pthread_cond_wait(a, b)    ((void)(a), (void)(b))
#define ZSTD_pthread_cond_signal(a)     ((void)(a))
#define ZSTD_pthread_cond_broadcast(a)  ((void)(a))
#endif
