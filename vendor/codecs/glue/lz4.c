// detnorm glue over liblz4 1.9.4 (Debian 12), compiled to WebAssembly by scripts/build-codecs.sh.
// Frame format: streaming decode of one frame per session, and encode as the lz4 CLI does
// (lz4io.c: autoFlush, one LZ4F_compressFrame call for an input smaller than one block, else
// LZ4F_compressBegin, one LZ4F_compressUpdate per block-sized read, LZ4F_compressEnd).
// Legacy format (`lz4 -l`): one block at a time, 8 MiB of input each.
#include <stdlib.h>
#include <string.h>
#include "lz4.h"
#include "lz4hc.h"
#define LZ4F_STATIC_LINKING_ONLY
#include "lz4frame.h"

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("dn_malloc") void *dn_malloc(size_t n) { return malloc(n); }
EXPORT("dn_free") void dn_free(void *p) { free(p); }

static int err(size_t r) { return -(int)LZ4F_getErrorCode(r) - 1; }

EXPORT("lfd_new") LZ4F_dctx *lfd_new(void) {
	LZ4F_dctx *d = NULL;
	if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION))) return NULL;
	return d;
}

// Returns 0 (more), 1 (frame complete) or an error.
EXPORT("lfd_step") int lfd_step(LZ4F_dctx *d, const void *in, size_t in_len, void *out, size_t out_cap, size_t *res) {
	size_t o = out_cap, i = in_len;
	size_t r = LZ4F_decompress(d, out, &o, in, &i, NULL);
	res[0] = i;
	res[1] = o;
	if (LZ4F_isError(r)) return err(r);
	return r == 0 ? 1 : 0;
}

EXPORT("lfd_end") void lfd_end(LZ4F_dctx *d) { LZ4F_freeDecompressionContext(d); }

typedef struct {
	LZ4F_cctx *c;
	LZ4F_preferences_t prefs;
} lz4_enc;

EXPORT("lfe_new") lz4_enc *lfe_new(int level, int block_size_id, int independent, int content_checksum, int block_checksum, int size_known, uint64_t content_size) {
	lz4_enc *e = calloc(1, sizeof *e);
	if (!e) return NULL;
	if (LZ4F_isError(LZ4F_createCompressionContext(&e->c, LZ4F_VERSION))) {
		free(e);
		return NULL;
	}
	memset(&e->prefs, 0, sizeof e->prefs);
	e->prefs.autoFlush = 1;
	e->prefs.compressionLevel = level;
	e->prefs.frameInfo.blockMode = independent ? LZ4F_blockIndependent : LZ4F_blockLinked;
	e->prefs.frameInfo.blockSizeID = (LZ4F_blockSizeID_t)block_size_id;
	e->prefs.frameInfo.blockChecksumFlag = block_checksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
	e->prefs.frameInfo.contentChecksumFlag = content_checksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
	if (size_known) e->prefs.frameInfo.contentSize = content_size;
	return e;
}

// Worst-case output of one call with `in_len` bytes (including a frame header and end).
EXPORT("lfe_bound") size_t lfe_bound(lz4_enc *e, size_t in_len) { return LZ4F_compressFrameBound(in_len, &e->prefs); }

// A whole frame in one call (the CLI's path for an input smaller than one block).
EXPORT("lfe_frame") long lfe_frame(lz4_enc *e, const void *in, size_t in_len, void *out, size_t cap) {
	size_t r = LZ4F_compressFrame_usingCDict(e->c, out, cap, in, in_len, NULL, &e->prefs);
	return LZ4F_isError(r) ? err(r) : (long)r;
}

EXPORT("lfe_begin") long lfe_begin(lz4_enc *e, void *out, size_t cap) {
	size_t r = LZ4F_compressBegin_usingCDict(e->c, out, cap, NULL, &e->prefs);
	return LZ4F_isError(r) ? err(r) : (long)r;
}

EXPORT("lfe_update") long lfe_update(lz4_enc *e, const void *in, size_t in_len, void *out, size_t cap) {
	size_t r = LZ4F_compressUpdate(e->c, out, cap, in, in_len, NULL);
	return LZ4F_isError(r) ? err(r) : (long)r;
}

EXPORT("lfe_finish") long lfe_finish(lz4_enc *e, void *out, size_t cap) {
	size_t r = LZ4F_compressEnd(e->c, out, cap, NULL);
	return LZ4F_isError(r) ? err(r) : (long)r;
}

EXPORT("lfe_end") void lfe_end(lz4_enc *e) {
	LZ4F_freeCompressionContext(e->c);
	free(e);
}

// Legacy format: one block. Returns the decoded size or a negative number.
EXPORT("ll_decode") int ll_decode(const char *in, int in_len, char *out, int out_cap) { return LZ4_decompress_safe(in, out, in_len, out_cap); }

EXPORT("ll_bound") int ll_bound(int n) { return LZ4_compressBound(n); }

// Legacy format: one block as lz4io.c compresses it (LZ4_compress_fast below level 3, else HC).
EXPORT("ll_encode") int ll_encode(const char *in, int in_len, char *out, int out_cap, int level) {
	return level < 3 ? LZ4_compress_fast(in, out, in_len, out_cap, 1) : LZ4_compress_HC(in, out, in_len, out_cap, level);
}
