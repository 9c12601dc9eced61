// detnorm glue over liblzma 5.4.1 (Debian 12), compiled to WebAssembly by scripts/build-codecs.sh.
// Streaming .xz decode (one stream per session) and encode in the two layouts xz writes:
//  - single-threaded (`xz -T1`, lzma_stream_encoder): one Block, no sizes in its header;
//  - multi-threaded (`xz -T0`, dpkg-deb, lzma_stream_encoder_mt): the input cut into Blocks of
//    block_size bytes, each encoded alone with its sizes in the Block Header. Threads do not
//    change that output (xz's guarantee), so one thread here reproduces it: xz_mt_block() below
//    follows worker_encode() of liblzma's stream_encoder_mt.c step by step.
// Every call reports through a small result array the caller passes: [in used, out written].
#include <lzma.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

// liblzma-internal (common/filter_encoder.c): the multi-threaded encoder's default Block size.
extern uint64_t lzma_mt_block_size(const lzma_filter *filters);
// liblzma-internal (common/block_buffer_encoder.c): the largest Block a given input can make.
extern uint64_t lzma_block_buffer_bound64(uint64_t uncompressed_size);

EXPORT("dn_malloc") void *dn_malloc(size_t n) { return malloc(n); }
EXPORT("dn_free") void dn_free(void *p) { free(p); }

typedef struct {
	lzma_stream s;
} xz_dec;

// Decode one .xz stream (not concatenated ones: the caller walks streams and padding itself, so
// it knows where each ends). memlimit in MiB.
EXPORT("xzd_new") xz_dec *xzd_new(uint32_t memlimit_mib) {
	xz_dec *d = calloc(1, sizeof *d);
	if (!d) return NULL;
	lzma_stream init = LZMA_STREAM_INIT;
	d->s = init;
	if (lzma_stream_decoder(&d->s, (uint64_t)memlimit_mib << 20, 0) != LZMA_OK) {
		free(d);
		return NULL;
	}
	return d;
}

// Returns 0 (more), 1 (stream end) or -lzma_ret.
static int step(lzma_stream *s, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, int finish, size_t *res) {
	s->next_in = in;
	s->avail_in = in_len;
	s->next_out = out;
	s->avail_out = out_cap;
	lzma_ret r = lzma_code(s, finish ? LZMA_FINISH : LZMA_RUN);
	res[0] = in_len - s->avail_in;
	res[1] = out_cap - s->avail_out;
	if (r == LZMA_OK || r == LZMA_BUF_ERROR) return 0;
	if (r == LZMA_STREAM_END) return 1;
	return -(int)r;
}

EXPORT("xzd_step") int xzd_step(xz_dec *d, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, int finish, size_t *res) {
	return step(&d->s, in, in_len, out, out_cap, finish, res);
}

EXPORT("xzd_end") void xzd_end(xz_dec *d) {
	lzma_end(&d->s);
	free(d);
}

// ---- encoding ----

typedef struct {
	lzma_stream s;          // single-threaded layout
	lzma_filter filters[LZMA_FILTERS_MAX + 1];
	lzma_options_lzma lzma2;
	lzma_check check;
	int mt;
	lzma_index *index;      // multi-threaded layout
	uint64_t block_size;
	uint64_t outbuf_max;
} xz_enc;

static void free_filter_options(xz_enc *e) {
	for (size_t i = 0; e->filters[i].id != LZMA_VLI_UNKNOWN; i++)
		if (e->filters[i].options != &e->lzma2) free(e->filters[i].options);
}

// The filter chain: the input's filter flags (raw bytes of its first Block Header), with the
// LZMA2 filter replaced by preset `preset` at the input's dictionary size capped at dict_cap.
// block_size 0 means the default of the multi-threaded encoder (3 x dict, at least 1 MiB).
// Returns NULL on unsupported filters or options.
EXPORT("xze_new") xz_enc *xze_new(uint32_t check, const uint8_t *flags, size_t flags_len, uint32_t nfilters, uint32_t preset, uint32_t dict_cap, int mt, uint32_t block_size) {
	xz_enc *e = calloc(1, sizeof *e);
	if (!e) return NULL;
	lzma_stream init = LZMA_STREAM_INIT;
	e->s = init;
	e->check = (lzma_check)check;
	e->mt = mt;
	for (size_t i = 0; i <= LZMA_FILTERS_MAX; i++) e->filters[i].id = LZMA_VLI_UNKNOWN;
	if (nfilters < 1 || nfilters > LZMA_FILTERS_MAX || lzma_lzma_preset(&e->lzma2, preset)) goto fail;
	size_t pos = 0;
	for (uint32_t i = 0; i < nfilters; i++) {
		if (lzma_filter_flags_decode(&e->filters[i], NULL, flags, &pos, flags_len) != LZMA_OK) goto fail;
		if (e->filters[i].id == LZMA_FILTER_LZMA2) {
			lzma_options_lzma *o = e->filters[i].options;
			uint32_t dict = o->dict_size;
			free(o);
			e->lzma2.dict_size = dict > dict_cap ? dict_cap : dict;
			e->filters[i].options = &e->lzma2;
		}
	}
	if (e->filters[nfilters - 1].id != LZMA_FILTER_LZMA2) goto fail;
	if (!mt) {
		if (lzma_stream_encoder(&e->s, e->filters, e->check) != LZMA_OK) goto fail;
		return e;
	}
	e->block_size = block_size ? block_size : lzma_mt_block_size(e->filters);
	e->outbuf_max = lzma_block_buffer_bound64(e->block_size);
	if (e->block_size == 0 || e->outbuf_max == 0) goto fail;
	e->index = lzma_index_init(NULL);
	if (!e->index) goto fail;
	return e;
fail:
	free_filter_options(e);
	free(e);
	return NULL;
}

// The multi-threaded layout's parameters: [block size, output buffer a Block needs].
EXPORT("xze_mt_sizes") void xze_mt_sizes(xz_enc *e, uint64_t *res) {
	res[0] = e->block_size;
	res[1] = e->outbuf_max;
}

EXPORT("xze_step") int xze_step(xz_enc *e, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, int finish, size_t *res) {
	return step(&e->s, in, in_len, out, out_cap, finish, res);
}

// Stream Header (12 bytes) of the multi-threaded layout.
EXPORT("xze_mt_header") int xze_mt_header(xz_enc *e, uint8_t *out) {
	lzma_stream_flags f = { .version = 0, .check = e->check };
	return lzma_stream_header_encode(&f, out) == LZMA_OK ? 12 : -1;
}

// One Block of the multi-threaded layout from in[0..in_len) (in_len <= block size), as
// worker_encode() makes it; out must hold outbuf_max bytes. Returns the Block's size or -1.
EXPORT("xze_mt_block") long xze_mt_block(xz_enc *e, const uint8_t *in, size_t in_len, uint8_t *out) {
	const size_t out_size = (size_t)e->outbuf_max;
	lzma_block b = {
		.version = 0,
		.check = e->check,
		.compressed_size = e->outbuf_max,
		.uncompressed_size = e->block_size,
		.filters = e->filters,
	};
	if (lzma_block_header_size(&b) != LZMA_OK) return -1;
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_block_encoder(&s, &b) != LZMA_OK) return -1;
	size_t out_pos = b.header_size;
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = out + out_pos;
	s.avail_out = out_size - out_pos;
	lzma_ret r;
	do r = lzma_code(&s, LZMA_FINISH);
	while (r == LZMA_OK && s.avail_out > 0);
	out_pos = out_size - s.avail_out;
	lzma_end(&s);
	if (r == LZMA_STREAM_END) {
		if (lzma_block_header_encode(&b, out) != LZMA_OK) return -1;
	} else if (r == LZMA_OK) {
		// Incompressible: uncompressed LZMA2 chunks (the Block options as the encoder left them).
		out_pos = 0;
		if (lzma_block_uncomp_encode(&b, in, in_len, out, &out_pos, out_size) != LZMA_OK) return -1;
	} else {
		return -1;
	}
	if (lzma_index_append(e->index, NULL, lzma_block_unpadded_size(&b), b.uncompressed_size) != LZMA_OK) return -1;
	return (long)out_pos;
}

// Index and Stream Footer of the multi-threaded layout; returns their size or -1.
EXPORT("xze_mt_tail_size") long xze_mt_tail_size(xz_enc *e) {
	return (long)lzma_index_size(e->index) + 12;
}

EXPORT("xze_mt_tail") long xze_mt_tail(xz_enc *e, uint8_t *out, size_t cap) {
	size_t pos = 0;
	if (lzma_index_buffer_encode(e->index, out, &pos, cap) != LZMA_OK) return -1;
	lzma_stream_flags f = { .version = 0, .check = e->check, .backward_size = lzma_index_size(e->index) };
	if (pos + 12 > cap || lzma_stream_footer_encode(&f, out + pos) != LZMA_OK) return -1;
	return (long)(pos + 12);
}

EXPORT("xze_end") void xze_end(xz_enc *e) {
	lzma_end(&e->s);
	if (e->index) lzma_index_end(e->index, NULL);
	free_filter_options(e);
	free(e);
}
