// SPDX-License-Identifier: BSD-2-Clause
/*
 * base/: CRC32C, varints, interning, arena, number parsing, JSON writer.
 * Every test checks exact values; loops check with plain ifs and fail with
 * the offending input (Criterion reports every passing assertion, which is
 * slow in tight loops).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/unit/tutil.h"
#include "base/gs_crc32c.h"
#include "base/gs_err.h"
#include "base/gs_intern.h"
#include "base/gs_json.h"
#include "base/gs_mem.h"
#include "base/gs_parse.h"
#include "base/gs_varint.h"

/* ------------------------------------------------------------ crc32c */

/* Bit-at-a-time reference, independent of both implementations. */
static uint32_t crc32c_ref(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
	}
	return ~crc;
}

Test(base, crc32c_known_vectors)
{
	uint8_t buf[32];

	cr_assert_eq(gs_crc32c(0, "123456789", 9), 0xe3069283u);
	cr_assert_eq(gs_crc32c_sw(0, "123456789", 9), 0xe3069283u);
	cr_assert_eq(gs_crc32c(0, "", 0), 0u);
	cr_assert_eq(gs_crc32c_sw(0, "", 0), 0u);
	cr_assert_eq(gs_crc32c(0, "a", 1), 0xc1d04330u);
	/* RFC 3720 (iSCSI) B.4 test vectors */
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(gs_crc32c(0, buf, 32), 0x8a9136aau);
	cr_assert_eq(gs_crc32c_sw(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(gs_crc32c(0, buf, 32), 0x62a8ab43u);
	cr_assert_eq(gs_crc32c_sw(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(gs_crc32c(0, buf, 32), 0x46dd794eu);
	cr_assert_eq(gs_crc32c_sw(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	cr_assert_eq(gs_crc32c(0, buf, 32), 0x113fdb5cu);
	cr_assert_eq(gs_crc32c_sw(0, buf, 32), 0x113fdb5cu);
	/* continuing a crc equals one pass over the concatenation */
	cr_assert_eq(gs_crc32c(gs_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
	cr_assert_eq(gs_crc32c_sw(gs_crc32c_sw(0, "12345", 5), "6789", 4),
		     0xe3069283u);
}

Test(base, crc32c_hw_equals_sw_all_lengths_unaligned)
{
	struct rng r = { 42 };
	uint8_t *mem = malloc(300 + 16);

	cr_assert_not_null(mem);
	for (size_t i = 0; i < 316; i++)
		mem[i] = (uint8_t)rnd(&r);
	for (size_t len = 0; len <= 300; len++) {
		for (size_t start = 0; start < 16; start++) {
			uint32_t seed = start & 1 ? (uint32_t)rnd(&r) : 0;
			uint32_t ref = crc32c_ref(seed, mem + start, len);
			uint32_t hw = gs_crc32c(seed, mem + start, len);
			uint32_t sw = gs_crc32c_sw(seed, mem + start, len);

			REQ(hw == ref && sw == ref,
			    "len %zu start %zu seed %08x: hw %08x sw %08x ref %08x",
			    len, start, seed, hw, sw, ref);
			/* split at every 37th byte: incremental == one pass */
			if (len > 37) {
				uint32_t a = gs_crc32c(seed, mem + start, 37);

				a = gs_crc32c(a, mem + start + 37, len - 37);
				REQ(a == ref, "split hw len %zu start %zu", len, start);
				a = gs_crc32c_sw(seed, mem + start, 37);
				a = gs_crc32c_sw(a, mem + start + 37, len - 37);
				REQ(a == ref, "split sw len %zu start %zu", len, start);
			}
		}
	}
	/* a bigger random buffer, every start in the first 8 bytes */
	{
		size_t n = 100000;
		uint8_t *big = malloc(n);

		cr_assert_not_null(big);
		for (size_t i = 0; i < n; i++)
			big[i] = (uint8_t)rnd(&r);
		for (size_t s = 0; s < 8; s++)
			cr_assert_eq(gs_crc32c(0, big + s, n - s),
				     gs_crc32c_sw(0, big + s, n - s), "start %zu", s);
		cr_assert_eq(gs_crc32c(0, big, n), crc32c_ref(0, big, n));
		free(big);
	}
	free(mem);
}

/* ------------------------------------------------------------ varint */

/* Decode from an exact-size heap copy, so ASan sees any over-read. */
static const uint8_t *dec_exact(const uint8_t *src, size_t len, uint64_t *v,
				size_t *used, bool slow)
{
	uint8_t *copy = malloc(len ? len : 1);
	const uint8_t *end;

	memcpy(copy, src, len);
	end = slow ? gs_varint_get_slow(copy, copy + len, v)
		   : gs_varint_get(copy, copy + len, v);
	*used = end ? (size_t)(end - copy) : 0;
	free(copy);
	return end ? src + *used : NULL;
}

static void varint_roundtrip(uint64_t v)
{
	uint8_t buf[2 * GS_VARINT_MAX + 4];
	size_t n, used;
	uint64_t got;

	memset(buf, 0xee, sizeof(buf));
	n = (size_t)(gs_varint_put(buf, v) - buf);
	REQ(n == gs_varint_size(v), "size of %llu: put %zu size %zu", (ull)v, n,
	    gs_varint_size(v));
	REQ(n >= 1 && n <= GS_VARINT_MAX, "len %zu", n);
	REQ(buf[n] == 0xee, "put wrote past its end for %llu", (ull)v);
	for (int slow = 0; slow < 2; slow++) {
		got = ~v;
		REQ(dec_exact(buf, n, &got, &used, slow) && used == n && got == v,
		    "roundtrip %llu (slow %d): used %zu/%zu got %llu", (ull)v,
		    slow, used, n, (ull)got);
		/* trailing bytes are not consumed (short and long tails) */
		got = ~v;
		REQ(dec_exact(buf, n + 2, &got, &used, slow) && used == n && got == v,
		    "roundtrip %llu with trailing bytes", (ull)v);
		got = ~v;
		REQ(dec_exact(buf, n + GS_VARINT_MAX, &got, &used, slow) && used == n &&
		    got == v, "roundtrip %llu with 10 trailing bytes", (ull)v);
		/* every strict prefix is truncated */
		for (size_t k = 0; k < n; k++)
			REQ(!dec_exact(buf, k, &got, &used, slow),
			    "prefix %zu of %llu decoded", k, (ull)v);
	}
}

Test(base, varint_exact_encodings)
{
	uint8_t buf[GS_VARINT_MAX];
	static const uint8_t v300[] = { 0xac, 0x02 };
	static const uint8_t vmax[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0x01 };
	static const uint8_t v2_63[] = { 0x80, 0x80, 0x80, 0x80, 0x80,
					 0x80, 0x80, 0x80, 0x80, 0x01 };

	cr_assert_eq(gs_varint_put(buf, 0) - buf, 1);
	cr_assert_eq(buf[0], 0);
	cr_assert_eq(gs_varint_put(buf, 127) - buf, 1);
	cr_assert_eq(buf[0], 127);
	cr_assert_eq(gs_varint_put(buf, 128) - buf, 2);
	cr_assert_eq(buf[0], 0x80);
	cr_assert_eq(buf[1], 0x01);
	cr_assert_eq(gs_varint_put(buf, 300) - buf, 2);
	cr_assert_arr_eq(buf, v300, 2);
	cr_assert_eq(gs_varint_put(buf, UINT64_MAX) - buf, 10);
	cr_assert_arr_eq(buf, vmax, 10);
	cr_assert_eq(gs_varint_put(buf, 1ull << 63) - buf, 10);
	cr_assert_arr_eq(buf, v2_63, 10);
	cr_assert_eq(gs_varint_size(0), 1);
	cr_assert_eq(gs_varint_size(16383), 2);
	cr_assert_eq(gs_varint_size(16384), 3);
	cr_assert_eq(gs_varint_size((1ull << 63) - 1), 9);
	cr_assert_eq(gs_varint_size(UINT64_MAX), 10);
}

Test(base, varint_roundtrip)
{
	struct rng r = { 7 };

	varint_roundtrip(0);
	varint_roundtrip(UINT64_MAX);
	varint_roundtrip((uint64_t)INT64_MAX);
	varint_roundtrip((uint64_t)INT64_MIN);
	for (int b = 0; b < 64; b++) {
		uint64_t p = 1ull << b;

		varint_roundtrip(p);
		varint_roundtrip(p - 1);
		varint_roundtrip(p + 1);
	}
	for (int i = 0; i < 5000; i++)
		varint_roundtrip(rnd(&r) >> (rnd(&r) % 64));
}

Test(base, varint_malformed)
{
	uint8_t b11[11], b10[10];
	uint64_t v = 12345;
	size_t used;

	/* 11 bytes: ten with the continuation bit, then a terminator */
	memset(b11, 0x80, 10);
	b11[10] = 0x01;
	cr_assert_null(dec_exact(b11, 11, &v, &used, false));
	cr_assert_null(dec_exact(b11, 11, &v, &used, true));
	memset(b11, 0xff, 11);
	b11[10] = 0x00;
	cr_assert_null(dec_exact(b11, 11, &v, &used, false));
	/* ten continuation bytes and nothing else */
	memset(b10, 0x80, 10);
	cr_assert_null(dec_exact(b10, 10, &v, &used, false));
	cr_assert_null(dec_exact(b10, 10, &v, &used, true));
	/* empty input, and a lone continuation byte (both fast-path lengths) */
	cr_assert_null(dec_exact(b10, 0, &v, &used, false));
	cr_assert_null(dec_exact(b10, 1, &v, &used, false));
	cr_assert_null(dec_exact(b10, 2, &v, &used, false));
	cr_assert_eq(v, 12345, "a failed decode must not store a value");
	/* a 10th byte above 1 would set bits past 63: both decoders refuse */
	memset(b10, 0xff, 9);
	b10[9] = 0x02;
	cr_assert_null(dec_exact(b10, 10, &v, &used, false));
	cr_assert_null(dec_exact(b10, 10, &v, &used, true));
	b10[9] = 0x7f;
	cr_assert_null(dec_exact(b10, 10, &v, &used, false));
	cr_assert_null(dec_exact(b10, 10, &v, &used, true));
	memset(b11, 0, sizeof(b11));
	memset(b11, 0x80, 9);
	b11[9] = 0x03; /* with a byte after it (other code path) */
	cr_assert_null(dec_exact(b11, 11, &v, &used, false));
	cr_assert_eq(v, 12345);
	/* the largest legal 10-byte encoding still decodes */
	memset(b10, 0xff, 9);
	b10[9] = 0x01;
	cr_assert_not_null(dec_exact(b10, 10, &v, &used, false));
	cr_assert_eq(used, 10);
	cr_assert_eq(v, UINT64_MAX);
}

Test(base, zigzag)
{
	static const struct {
		int64_t s;
		uint64_t u;
	} cases[] = {
		{ 0, 0 }, { -1, 1 }, { 1, 2 }, { -2, 3 }, { 2, 4 },
		{ 2147483647, 4294967294u }, { -2147483648ll, 4294967295u },
		{ INT64_MAX, UINT64_MAX - 1 }, { INT64_MIN, UINT64_MAX },
		{ INT64_MIN + 1, UINT64_MAX - 2 },
	};
	struct rng r = { 99 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(gs_zigzag_enc(cases[i].s), cases[i].u, "enc %lld",
			     (long long)cases[i].s);
		cr_assert_eq(gs_zigzag_dec(cases[i].u), cases[i].s, "dec %llu",
			     (ull)cases[i].u);
	}
	for (int i = 0; i < 100000; i++) {
		int64_t s = (int64_t)(rnd(&r) >> (rnd(&r) % 64));
		uint8_t buf[GS_VARINT_MAX];
		uint64_t u;

		if (i & 1)
			s = (int64_t)(0 - (uint64_t)s);
		REQ(gs_zigzag_dec(gs_zigzag_enc(s)) == s, "zigzag %lld", (long long)s);
		gs_varint_put(buf, gs_zigzag_enc(s));
		REQ(gs_varint_get(buf, buf + sizeof(buf), &u) &&
		    gs_zigzag_dec(u) == s, "varint zigzag %lld", (long long)s);
	}
	/* zigzag keeps small magnitudes small */
	cr_assert_eq(gs_varint_size(gs_zigzag_enc(-64)), 1);
	cr_assert_eq(gs_varint_size(gs_zigzag_enc(-65)), 2);
	cr_assert_eq(gs_varint_size(gs_zigzag_enc(INT64_MIN)), 10);
}

/* ------------------------------------------------------------ intern */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * gs_hash() on long keys (the four-lane path) and short ones: every
 * single-bit change of a 300-byte key and every length gives a distinct
 * hash, and the low 10 bits (a table's slot) spread 65536 keys evenly.
 */
Test(base, hash_single_bits_and_spread)
{
	enum { KEY = 300, NK = 65536 };
	static uint8_t key[KEY];
	uint64_t *h = calloc(NK, sizeof(*h));
	unsigned int buckets[1024] = { 0 }, lo = NK, hi = 0;
	size_t n = 0;

	cr_assert_not_null(h);
	for (size_t bit = 0; bit < KEY * 8; bit++) {
		key[bit / 8] ^= (uint8_t)(1u << bit % 8);
		h[n++] = gs_hash(key, KEY);
		key[bit / 8] ^= (uint8_t)(1u << bit % 8);
	}
	for (size_t len = 0; len <= KEY; len++)
		h[n++] = gs_hash(key, len);
	qsort(h, n, sizeof(*h), cmp_u64);
	for (size_t i = 1; i < n; i++)
		cr_assert_neq(h[i], h[i - 1], "collision among %zu keys", n);
	/* counters in the middle of a long key: 64 keys per bucket expected */
	for (uint32_t i = 0; i < NK; i++) {
		memcpy(key + 100, &i, sizeof(i));
		buckets[gs_hash(key, 200 + i % 64) & 1023]++;
	}
	for (int i = 0; i < 1024; i++) {
		lo = buckets[i] < lo ? buckets[i] : lo;
		hi = buckets[i] > hi ? buckets[i] : hi;
	}
	cr_assert(lo >= 30 && hi <= 105, "bucket counts from %u to %u", lo, hi);
	free(h);
}

Test(base, intern_dense_first_seen_find_key)
{
	struct gs_intern t = GS_INTERN_INIT;
	static const char bin[] = { 'a', 0, 'b', 0 };
	uint64_t id;
	bool added;
	size_t len;
	const void *k;
	char key[32];

	cr_assert_eq(gs_intern__find(&t, "x", 1), 0);
	cr_assert_null(gs_intern__key(&t, 1, &len));
	cr_assert_eq(gs_intern__get(&t, "beta", 4, &id, &added), 0);
	cr_assert_eq(id, 1);
	cr_assert(added);
	cr_assert_eq(gs_intern__get(&t, "alpha", 5, &id, &added), 0);
	cr_assert_eq(id, 2);
	cr_assert(added);
	cr_assert_eq(gs_intern__get(&t, "beta", 4, &id, &added), 0);
	cr_assert_eq(id, 1);
	cr_assert_not(added);
	/* prefixes, empty and binary keys are distinct keys */
	cr_assert_eq(gs_intern__get(&t, "bet", 3, &id, NULL), 0);
	cr_assert_eq(id, 3);
	cr_assert_eq(gs_intern__get(&t, "", 0, &id, &added), 0);
	cr_assert_eq(id, 4);
	cr_assert(added);
	cr_assert_eq(gs_intern__get(&t, bin, 4, &id, NULL), 0);
	cr_assert_eq(id, 5);
	cr_assert_eq(gs_intern__get(&t, bin, 3, &id, NULL), 0);
	cr_assert_eq(id, 6);
	cr_assert_eq(gs_intern__count(&t), 6);
	cr_assert_eq(gs_intern__find(&t, "alpha", 5), 2);
	cr_assert_eq(gs_intern__find(&t, "", 0), 4);
	cr_assert_eq(gs_intern__find(&t, bin, 4), 5);
	cr_assert_eq(gs_intern__find(&t, "gamma", 5), 0);
	k = gs_intern__key(&t, 2, &len);
	cr_assert_eq(len, 5);
	cr_assert_arr_eq(k, "alpha", 5);
	k = gs_intern__key(&t, 5, &len);
	cr_assert_eq(len, 4);
	cr_assert_arr_eq(k, bin, 4);
	cr_assert_not_null(gs_intern__key(&t, 4, &len));
	cr_assert_eq(len, 0);
	cr_assert_null(gs_intern__key(&t, 0, &len));
	cr_assert_null(gs_intern__key(&t, 7, &len));

	/* many keys: ids stay dense through rehashing; keys stay intact */
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);

		REQ(gs_intern__get(&t, key, (size_t)n, &id, &added) == 0 &&
		    id == 7 + (uint64_t)i && added, "key %d got id %llu", i, (ull)id);
	}
	cr_assert_eq(gs_intern__count(&t), 20006);
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);

		REQ(gs_intern__find(&t, key, (size_t)n) == 7 + (uint64_t)i,
		    "find key %d", i);
		k = gs_intern__key(&t, 7 + (uint64_t)i, &len);
		REQ(k && len == (size_t)n && !memcmp(k, key, len), "key of %d", i);
		REQ(gs_intern__get(&t, key, (size_t)n, &id, &added) == 0 &&
		    id == 7 + (uint64_t)i && !added, "re-get key %d", i);
	}
	cr_assert_eq(gs_intern__find(&t, "beta", 4), 1);
	gs_intern__release(&t);
}

Test(base, intern_clear_restarts_at_one)
{
	struct gs_intern t = GS_INTERN_INIT;
	uint64_t id;
	bool added;
	size_t len;

	for (int i = 0; i < 100; i++)
		cr_assert_eq(gs_intern__get(&t, &i, sizeof(i), &id, NULL), 0);
	cr_assert_eq(id, 100);
	gs_intern__clear(&t);
	cr_assert_eq(gs_intern__count(&t), 0);
	cr_assert_null(gs_intern__key(&t, 1, &len));
	for (int i = 0; i < 100; i++)
		REQ(gs_intern__find(&t, &i, sizeof(i)) == 0, "found %d after clear", i);
	cr_assert_eq(gs_intern__get(&t, "new", 3, &id, &added), 0);
	cr_assert_eq(id, 1);
	cr_assert(added);
	{
		int i = 5;

		cr_assert_eq(gs_intern__get(&t, &i, sizeof(i), &id, &added), 0);
		cr_assert_eq(id, 2);
		cr_assert(added);
	}
	cr_assert_eq(gs_intern__find(&t, "new", 3), 1);
	cr_assert_eq(gs_intern__count(&t), 2);
	/* clearing an empty or never-used table is fine */
	gs_intern__clear(&t);
	gs_intern__clear(&t);
	cr_assert_eq(gs_intern__get(&t, "x", 1, &id, NULL), 0);
	cr_assert_eq(id, 1);
	gs_intern__release(&t);
	{
		struct gs_intern u = GS_INTERN_INIT;

		gs_intern__clear(&u);
		cr_assert_eq(gs_intern__get(&u, "y", 1, &id, NULL), 0);
		cr_assert_eq(id, 1);
		gs_intern__release(&u);
	}
}

Test(base, intern_max_limit)
{
	struct gs_intern t = GS_INTERN_INIT;
	uint64_t id = 0;
	bool added = true;

	t.max = 3;
	cr_assert_eq(gs_intern__get(&t, "a", 1, &id, NULL), 0);
	cr_assert_eq(gs_intern__get(&t, "b", 1, &id, NULL), 0);
	cr_assert_eq(gs_intern__get(&t, "c", 1, &id, NULL), 0);
	cr_assert_eq(id, 3);
	id = 77;
	cr_assert_eq(gs_intern__get(&t, "d", 1, &id, &added), -E2BIG);
	cr_assert_eq(gs_intern__count(&t), 3);
	cr_assert_eq(gs_intern__find(&t, "d", 1), 0);
	/* existing keys still resolve at the limit */
	cr_assert_eq(gs_intern__get(&t, "b", 1, &id, &added), 0);
	cr_assert_eq(id, 2);
	cr_assert_not(added);
	/* after clear the limit applies afresh */
	gs_intern__clear(&t);
	cr_assert_eq(gs_intern__get(&t, "d", 1, &id, NULL), 0);
	cr_assert_eq(id, 1);
	gs_intern__release(&t);
}

/* ------------------------------------------------------------ arena */

Test(base, arena_alignment_and_contents)
{
	struct gs_arena a = GS_ARENA_INIT;
	struct rng r = { 3 };
	uint8_t *ptrs[2000];
	size_t sizes[2000], used = 0;

	a.block_size = 4096;
	for (int i = 0; i < 2000; i++) {
		size_t n = i % 100 == 99 ? 5000 + rnd(&r) % 3000 : rnd(&r) % 200;

		ptrs[i] = gs_arena__alloc(&a, n);
		REQ(ptrs[i] != NULL, "alloc %zu", n);
		REQ(((uintptr_t)ptrs[i] & 15) == 0, "alloc %d of %zu at %p not 16-aligned",
		    i, n, (void *)ptrs[i]);
		sizes[i] = n;
		used += n ? (n + 15) & ~(size_t)15 : 16;
		memset(ptrs[i], i & 0xff, n);
	}
	cr_assert_eq(a.used, used);
	/* nothing overlapped: every allocation still holds its pattern */
	for (int i = 0; i < 2000; i++)
		for (size_t k = 0; k < sizes[i]; k++)
			REQ(ptrs[i][k] == (uint8_t)(i & 0xff), "alloc %d byte %zu", i, k);
	{
		char *s = gs_arena__strndup(&a, "hello world", 5);

		cr_assert_str_eq(s, "hello");
		cr_assert_eq((uintptr_t)s & 15, 0);
		s = gs_arena__strndup(&a, "", 0);
		cr_assert_str_eq(s, "");
	}
	/* a zero-byte allocation is a distinct, aligned pointer */
	{
		void *p = gs_arena__alloc(&a, 0), *q = gs_arena__alloc(&a, 0);

		cr_assert_not_null(p);
		cr_assert_neq(p, q);
		cr_assert_eq((uintptr_t)p & 15, 0);
	}
	gs_arena__release(&a);
	cr_assert_null(a.head);
	cr_assert_eq(a.used, 0);
}

Test(base, arena_reset_reuses_newest_block)
{
	struct gs_arena a = GS_ARENA_INIT;
	uint8_t *p, *prev = NULL, *newest = NULL;
	size_t prev_n = 0;

	a.block_size = 1024;
	/* 64-byte allocations: a new block starts every 16 */
	for (int i = 0; i < 100; i++) {
		p = gs_arena__alloc(&a, 64);
		cr_assert_not_null(p);
		if (!prev || p != prev + prev_n)
			newest = p; /* first allocation of a new block */
		prev = p;
		prev_n = 64;
	}
	cr_assert_eq(a.used, 6400);
	gs_arena__reset(&a);
	cr_assert_eq(a.used, 0);
	p = gs_arena__alloc(&a, 10);
	cr_assert_eq(p, newest, "reset must hand out the kept block from its start");
	cr_assert_eq(a.used, 16);
	p = gs_arena__alloc(&a, 1);
	cr_assert_eq(p, newest + 16);
	/* the kept block is reused whole: 1024 bytes, then a new block */
	for (int i = 2; i < 64; i++)
		REQ(gs_arena__alloc(&a, 16) == newest + 16 * i, "slot %d", i);
	p = gs_arena__alloc(&a, 16);
	cr_assert(p < newest || p >= newest + 1024, "block overflowed");
	/* resetting an empty arena is fine */
	gs_arena__release(&a);
	gs_arena__reset(&a);
	cr_assert_null(a.head);
	p = gs_arena__alloc(&a, 1);
	cr_assert_not_null(p);
	gs_arena__release(&a);
}

Test(base, arena_huge_request_fails)
{
	struct gs_arena a = GS_ARENA_INIT;

	/* sizes whose rounding or block header would overflow size_t */
	cr_assert_null(gs_arena__alloc(&a, SIZE_MAX));
	cr_assert_null(gs_arena__alloc(&a, SIZE_MAX - 15));
	cr_assert_null(gs_arena__alloc(&a, SIZE_MAX - 16));
	cr_assert_eq(a.used, 0);
	gs_arena__release(&a);
}

/* ------------------------------------------------------------ parse */

Test(base, parse_u64)
{
	uint64_t v;

	cr_assert_eq(gs_parse_u64("0", 0, 10, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(gs_parse_u64("42", 0, 100, &v), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(gs_parse_u64("0x10", 0, 100, &v), 0);
	cr_assert_eq(v, 16);
	cr_assert_eq(gs_parse_u64("0XfF", 0, 1000, &v), 0);
	cr_assert_eq(v, 255);
	/* decimal, not octal: leading zeros do not change the base */
	cr_assert_eq(gs_parse_u64("010", 0, 100, &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(gs_parse_u64("08", 0, 100, &v), 0);
	cr_assert_eq(v, 8);
	cr_assert_eq(gs_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(gs_parse_u64("0xffffffffffffffff", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(gs_parse_u64("10", 10, 10, &v), 0);
	cr_assert_eq(v, 10);

	v = 777;
	cr_assert_eq(gs_parse_u64("", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64(NULL, 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("12x", 0, 100, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("-1", 0, UINT64_MAX, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("+1", 0, UINT64_MAX, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64(" 5", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("\t5", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("\n5", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("5 ", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("0x", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("0x-1", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("1.5", 0, 10, &v), -EINVAL);
	cr_assert_eq(gs_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	cr_assert_eq(gs_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v),
		     -ERANGE);
	cr_assert_eq(gs_parse_u64("0x10000000000000000", 0, UINT64_MAX, &v), -ERANGE);
	cr_assert_eq(gs_parse_u64("9", 10, 20, &v), -ERANGE);
	cr_assert_eq(gs_parse_u64("21", 10, 20, &v), -ERANGE);
	cr_assert_eq(v, 777, "a rejected value must not be stored");
}

Test(base, parse_duration)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "500ms", 500000000ull },
		{ "2s", 2000000000ull },
		{ "1.5m", 90000000000ull },
		{ "100us", 100000ull },
		{ "30", 30000000000ull },
		{ "0", 0 },
		{ "7ns", 7 },
		{ "1h", 3600000000000ull },
		{ "0.25s", 250000000ull },
		{ "1.001us", 1001 },
		{ "1.003ms", 1003000 },
		{ "2.3us", 2300 },
		{ "0.1s", 100000000ull },
		{ "1.000000001s", 1000000001ull },
		{ "4000000h", 14400000000000000000ull },
	};
	static const char *const bad[] = {
		"", "12x", "-1", "+1", " 5", "\t5", "5 ", "ms", "s", "1 s", "1S",
		"1sec", "nan", "inf", "1e400", "1..2s",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 0;
		cr_assert_eq(gs_parse_duration_ns(ok[i].s, &v), 0, "%s", ok[i].s);
		cr_assert_eq(v, ok[i].ns, "%s: got %llu want %llu", ok[i].s, (ull)v,
			     (ull)ok[i].ns);
	}
	/* every 3-decimal value of every unit is exact */
	{
		static const char *const units[] = { "us", "ms", "s", "m" };
		static const uint64_t mult[] = { 1000, 1000000, 1000000000ull,
						 60000000000ull };

		for (int u = 0; u < 4; u++)
			for (int ip = 0; ip < 3; ip++)
				for (int f = 0; f < 1000; f++) {
					char s[32];
					uint64_t want = (uint64_t)ip * mult[u] +
							(uint64_t)f * (mult[u] / 1000);

					snprintf(s, sizeof(s), "%d.%03d%s", ip, f, units[u]);
					REQ(gs_parse_duration_ns(s, &v) == 0 && v == want,
					    "%s: got %llu want %llu", s, (ull)v, (ull)want);
				}
	}
	v = 777;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(gs_parse_duration_ns(bad[i], &v), -EINVAL, "'%s'", bad[i]);
	cr_assert_eq(gs_parse_duration_ns(NULL, &v), -EINVAL);
	/* over UINT64_MAX ns (~584 years) */
	cr_assert_eq(gs_parse_duration_ns("18446744074s", &v), -ERANGE);
	cr_assert_eq(gs_parse_duration_ns("6000000h", &v), -ERANGE);
	cr_assert_eq(gs_parse_duration_ns("1e30", &v), -ERANGE);
	cr_assert_eq(gs_parse_duration_ns("99999999999999999999999ns", &v), -ERANGE);
	cr_assert_eq(v, 777);
}

Test(base, parse_size)
{
	uint64_t v;

	cr_assert_eq(gs_parse_size("4096", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(gs_parse_size("512K", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 524288);
	cr_assert_eq(gs_parse_size("512KiB", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 524288);
	cr_assert_eq(gs_parse_size("1M", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 1048576);
	cr_assert_eq(gs_parse_size("2GiB", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 2147483648ull);
	cr_assert_eq(gs_parse_size("1.5K", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 1536);
	cr_assert_eq(gs_parse_size("16777216G", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 1ull << 54);
	cr_assert_eq(gs_parse_size("64K", 65536, 65536, &v), 0);
	cr_assert_eq(v, 65536);

	v = 777;
	cr_assert_eq(gs_parse_size("", 0, 100, &v), -EINVAL);
	cr_assert_eq(gs_parse_size("12x", 0, 100, &v), -EINVAL);
	cr_assert_eq(gs_parse_size("-1", 0, 100, &v), -EINVAL);
	cr_assert_eq(gs_parse_size(" 5", 0, 100, &v), -EINVAL);
	cr_assert_eq(gs_parse_size("\t5", 0, 100, &v), -EINVAL);
	cr_assert_eq(gs_parse_size("5k", 0, 100000, &v), -EINVAL);
	cr_assert_eq(gs_parse_size("5 K", 0, 100000, &v), -EINVAL);
	cr_assert_eq(gs_parse_size("K", 0, 100000, &v), -EINVAL);
	cr_assert_eq(gs_parse_size("0.3K", 0, 100000, &v), -ERANGE); /* 307.2 B */
	cr_assert_eq(gs_parse_size("1K", 0, 1023, &v), -ERANGE);
	cr_assert_eq(gs_parse_size("1023", 1024, 4096, &v), -ERANGE);
	/* 2^64 and beyond must not wrap to small numbers */
	cr_assert_eq(gs_parse_size("17179869184G", 0, UINT64_MAX, &v), -ERANGE);
	cr_assert_eq(gs_parse_size("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	cr_assert_eq(gs_parse_size("99999999999999G", 0, UINT64_MAX, &v), -ERANGE);
	cr_assert_eq(gs_parse_size("1e300", 0, UINT64_MAX, &v), -ERANGE);
	cr_assert_eq(v, 777);
}

/* ------------------------------------------------------------ json */

struct memout {
	char *buf;
	size_t len;
	FILE *f;
};

static void mo_open(struct memout *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	cr_assert_not_null(m->f);
}

/* Close the stream and return its contents (caller frees). */
static char *mo_close(struct memout *m)
{
	fclose(m->f);
	return m->buf;
}

static void write_nested(struct gs_json *j)
{
	gs_json__begin_object(j);
	gs_json__kv_string(j, "name", "gscope");
	gs_json__kv_uint(j, "max", UINT64_MAX);
	gs_json__kv_int(j, "min", INT64_MIN);
	gs_json__kv_double(j, "ratio", 0.5);
	gs_json__kv_double(j, "nan", NAN);
	gs_json__kv_bool(j, "ok", true);
	gs_json__key(j, "none");
	gs_json__null(j);
	gs_json__kv_string(j, "nullstr", NULL);
	gs_json__key(j, "list");
	gs_json__begin_array(j);
	gs_json__uint(j, 1);
	gs_json__int(j, -2);
	gs_json__begin_object(j);
	gs_json__kv_bool(j, "deep", false);
	gs_json__key(j, "arr");
	gs_json__begin_array(j);
	gs_json__begin_array(j);
	gs_json__end_array(j);
	gs_json__string(j, "x");
	gs_json__end_array(j);
	gs_json__end_object(j);
	gs_json__begin_object(j);
	gs_json__end_object(j);
	gs_json__end_array(j);
	gs_json__key(j, "empty");
	gs_json__begin_array(j);
	gs_json__end_array(j);
	gs_json__end_object(j);
}

Test(base, json_nested_compact)
{
	struct memout m;
	struct gs_json j;
	char *out;

	mo_open(&m);
	gs_json__init(&j, m.f, false);
	write_nested(&j);
	out = mo_close(&m);
	cr_assert_str_eq(out,
		"{\"name\":\"gscope\",\"max\":18446744073709551615,"
		"\"min\":-9223372036854775808,\"ratio\":0.5,\"nan\":null,"
		"\"ok\":true,\"none\":null,\"nullstr\":null,"
		"\"list\":[1,-2,{\"deep\":false,\"arr\":[[],\"x\"]},{}],"
		"\"empty\":[]}");
	free(out);
}

Test(base, json_nested_pretty)
{
	struct memout m;
	struct gs_json j;
	char *out;

	mo_open(&m);
	gs_json__init(&j, m.f, true);
	write_nested(&j);
	out = mo_close(&m);
	cr_assert_str_eq(out,
		"{\n"
		"  \"name\": \"gscope\",\n"
		"  \"max\": 18446744073709551615,\n"
		"  \"min\": -9223372036854775808,\n"
		"  \"ratio\": 0.5,\n"
		"  \"nan\": null,\n"
		"  \"ok\": true,\n"
		"  \"none\": null,\n"
		"  \"nullstr\": null,\n"
		"  \"list\": [\n"
		"    1,\n"
		"    -2,\n"
		"    {\n"
		"      \"deep\": false,\n"
		"      \"arr\": [\n"
		"        [],\n"
		"        \"x\"\n"
		"      ]\n"
		"    },\n"
		"    {}\n"
		"  ],\n"
		"  \"empty\": []\n"
		"}\n");
	free(out);
}

Test(base, json_top_level_scalars_and_empty)
{
	struct memout m;
	struct gs_json j;
	char *out;

	mo_open(&m);
	gs_json__init(&j, m.f, true);
	gs_json__begin_array(&j);
	gs_json__end_array(&j);
	out = mo_close(&m);
	cr_assert_str_eq(out, "[]\n");
	free(out);

	mo_open(&m);
	gs_json__init(&j, m.f, false);
	gs_json__begin_object(&j);
	gs_json__end_object(&j);
	out = mo_close(&m);
	cr_assert_str_eq(out, "{}");
	free(out);

	mo_open(&m);
	gs_json__init(&j, m.f, false);
	gs_json__string(&j, "top");
	out = mo_close(&m);
	cr_assert_str_eq(out, "\"top\"");
	free(out);
}

static char *quote(const char *s, size_t n)
{
	struct memout m;

	mo_open(&m);
	gs_json_quote(m.f, s, n);
	return mo_close(&m);
}

#define QUOTE_EQ(lit, want)                                   \
	do {                                                  \
		char *q_ = quote(lit, sizeof(lit) - 1);       \
		cr_assert_str_eq(q_, want, "input %s", #lit); \
		free(q_);                                     \
	} while (0)

Test(base, json_escaping)
{
	/* quotes, backslash, the short escapes, other controls, DEL */
	QUOTE_EQ("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	QUOTE_EQ("\n\r\t", "\"\\n\\r\\t\"");
	QUOTE_EQ("\x01" "\x08" "\x0c" "\x1f" "\x7f", "\"\\u0001\\u0008\\u000c\\u001f\\u007f\"");
	QUOTE_EQ("nul\0in", "\"nul\\u0000in\"");
	QUOTE_EQ("", "\"\"");
	/* valid UTF-8 passes through: 2, 3 and 4 bytes, and the extremes */
	QUOTE_EQ("\xc3\xa9t\xc3\xa9", "\"\xc3\xa9t\xc3\xa9\"");
	QUOTE_EQ("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	QUOTE_EQ("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	QUOTE_EQ("\xc2\x80", "\"\xc2\x80\"");
	QUOTE_EQ("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");
	QUOTE_EQ("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	/* invalid UTF-8: every offending byte becomes \u00XX */
	QUOTE_EQ("\xff", "\"\\u00ff\"");
	QUOTE_EQ("\x80x", "\"\\u0080x\"");
	QUOTE_EQ("a\xc3", "\"a\\u00c3\"");                  /* truncated at end */
	QUOTE_EQ("\xc3(", "\"\\u00c3(\"");                  /* bad continuation */
	QUOTE_EQ("\xe2\x82", "\"\\u00e2\\u0082\"");          /* truncated 3-byte */
	QUOTE_EQ("\xc0\xaf", "\"\\u00c0\\u00af\"");          /* overlong '/' */
	QUOTE_EQ("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\""); /* overlong */
	QUOTE_EQ("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""); /* surrogate */
	QUOTE_EQ("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""); /* > U+10FFFF */
	QUOTE_EQ("\xf8\x88\x80\x80\x80", "\"\\u00f8\\u0088\\u0080\\u0080\\u0080\"");
	QUOTE_EQ("ok\xfe\xc3\xa9", "\"ok\\u00fe\xc3\xa9\"");
}

Test(base, json_escaping_in_writer_keys_and_values)
{
	struct memout m;
	struct gs_json j;
	char *out;
	static const char raw[] = "q\"\\\x01\xff";

	mo_open(&m);
	gs_json__init(&j, m.f, false);
	gs_json__begin_object(&j);
	gs_json__kv_string(&j, "k\"ey\n", "v\\al\t");
	gs_json__key(&j, "raw");
	gs_json__string_n(&j, raw, sizeof(raw) - 1);
	gs_json__key(&j, "cut");
	gs_json__string_n(&j, "abcdef", 3);
	gs_json__end_object(&j);
	out = mo_close(&m);
	cr_assert_str_eq(out, "{\"k\\\"ey\\n\":\"v\\\\al\\t\","
			      "\"raw\":\"q\\\"\\\\\\u0001\\u00ff\",\"cut\":\"abc\"}");
	free(out);

	mo_open(&m);
	gs_json__init(&j, m.f, true);
	gs_json__begin_array(&j);
	gs_json__string(&j, "tab\there");
	gs_json__double(&j, INFINITY);
	gs_json__double(&j, 1234567.0);
	gs_json__double(&j, -0.000125);
	gs_json__end_array(&j);
	out = mo_close(&m);
	cr_assert_str_eq(out, "[\n  \"tab\\there\",\n  null,\n  1.23457e+06,\n  -0.000125\n]\n");
	free(out);
}
