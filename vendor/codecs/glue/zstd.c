// detnorm glue over zstd 1.5.4 (Debian 12), compiled to WebAssembly by scripts/build-codecs.sh.
// Streaming decode (one frame per session: the caller walks frames and skippable frames itself)
// and encode with the parameters the zstd CLI uses (level, checksum, content size when the size
// is known, one worker: see zstd-sync-threads.h). Results go to a small array the caller passes.
#include <stdlib.h>
#define ZSTD_STATIC_LINKING_ONLY
#include "zstd.h"

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("dn_malloc") void *dn_malloc(size_t n) { return malloc(n); }
EXPORT("dn_free") void dn_free(void *p) { free(p); }

// Error codes are returned negated (ZSTD_getErrorCode), 0 = more to do, 1 = frame complete.
static int err(size_t r) { return -(int)ZSTD_getErrorCode(r) - 1; }

EXPORT("zd_new") ZSTD_DCtx *zd_new(uint32_t window_log_max) {
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (d && ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, (int)window_log_max))) {
		ZSTD_freeDCtx(d);
		return NULL;
	}
	return d;
}

EXPORT("zd_step") int zd_step(ZSTD_DCtx *d, const void *in, size_t in_len, void *out, size_t out_cap, size_t *res) {
	ZSTD_inBuffer i = { in, in_len, 0 };
	ZSTD_outBuffer o = { out, out_cap, 0 };
	size_t r = ZSTD_decompressStream(d, &o, &i);
	res[0] = i.pos;
	res[1] = o.pos;
	if (ZSTD_isError(r)) return err(r);
	return r == 0 ? 1 : 0;
}

EXPORT("zd_end") void zd_end(ZSTD_DCtx *d) { ZSTD_freeDCtx(d); }

// size_known: pledge content_size (the CLI does for a regular file: the frame records it);
// otherwise the size is unknown, as for the CLI reading a pipe.
EXPORT("ze_new") ZSTD_CCtx *ze_new(int level, int checksum, int workers, int size_known, uint64_t content_size) {
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (!c) return NULL;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, workers)) ||
	    (size_known && ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(c, content_size)))) {
		ZSTD_freeCCtx(c);
		return NULL;
	}
	return c;
}

// end: 0 continue, 2 end (ZSTD_e_end). Returns 0 when everything is flushed at the end, 2 when
// more output is pending, or an error.
EXPORT("ze_step") int ze_step(ZSTD_CCtx *c, const void *in, size_t in_len, void *out, size_t out_cap, int end, size_t *res) {
	ZSTD_inBuffer i = { in, in_len, 0 };
	ZSTD_outBuffer o = { out, out_cap, 0 };
	size_t r = ZSTD_compressStream2(c, &o, &i, end ? ZSTD_e_end : ZSTD_e_continue);
	res[0] = i.pos;
	res[1] = o.pos;
	if (ZSTD_isError(r)) return err(r);
	return r == 0 ? 0 : 2;
}

EXPORT("ze_end") void ze_end(ZSTD_CCtx *c) { ZSTD_freeCCtx(c); }
