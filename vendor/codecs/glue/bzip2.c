// detnorm glue over libbz2 1.0.8 (Debian 12), compiled to WebAssembly by scripts/build-codecs.sh.
// Streaming decode of one bzip2 stream per session (the caller walks concatenated streams, as
// pbzip2 writes them) and encode as `bzip2 -N` does (block size N x 100k, work factor 30).
// Results go to a small array the caller passes: [in used, out written].
#include <stdlib.h>
#include "bzlib.h"

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("dn_malloc") void *dn_malloc(size_t n) { return malloc(n); }
EXPORT("dn_free") void dn_free(void *p) { free(p); }

// Built with BZ_NO_STDIO: libbz2 calls this on an internal consistency failure.
void bz_internal_error(int errcode) { __builtin_trap(); }

static bz_stream *make(void) { return calloc(1, sizeof(bz_stream)); }

// Returns 0 (more), 1 (stream end) or a negative BZ_ error code.
static int step(bz_stream *s, int decode, const char *in, unsigned in_len, char *out, unsigned out_cap, int finish, size_t *res) {
	s->next_in = (char *)in;
	s->avail_in = in_len;
	s->next_out = out;
	s->avail_out = out_cap;
	int r = decode ? BZ2_bzDecompress(s) : BZ2_bzCompress(s, finish ? BZ_FINISH : BZ_RUN);
	res[0] = in_len - s->avail_in;
	res[1] = out_cap - s->avail_out;
	if (r == BZ_STREAM_END) return 1;
	if (r == BZ_OK || r == BZ_RUN_OK || r == BZ_FINISH_OK) return 0;
	return r < 0 ? r : -100;
}

EXPORT("bzd_new") bz_stream *bzd_new(void) {
	bz_stream *s = make();
	if (s && BZ2_bzDecompressInit(s, 0, 0) != BZ_OK) {
		free(s);
		return NULL;
	}
	return s;
}

EXPORT("bzd_step") int bzd_step(bz_stream *s, const char *in, unsigned in_len, char *out, unsigned out_cap, size_t *res) {
	return step(s, 1, in, in_len, out, out_cap, 0, res);
}

EXPORT("bzd_end") void bzd_end(bz_stream *s) {
	BZ2_bzDecompressEnd(s);
	free(s);
}

EXPORT("bze_new") bz_stream *bze_new(int block100k) {
	bz_stream *s = make();
	if (s && BZ2_bzCompressInit(s, block100k, 0, 30) != BZ_OK) {
		free(s);
		return NULL;
	}
	return s;
}

EXPORT("bze_step") int bze_step(bz_stream *s, const char *in, unsigned in_len, char *out, unsigned out_cap, int finish, size_t *res) {
	return step(s, 0, in, in_len, out, out_cap, finish, res);
}

EXPORT("bze_end") void bze_end(bz_stream *s) {
	BZ2_bzCompressEnd(s);
	free(s);
}
