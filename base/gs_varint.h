/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Protobuf base-128 varints and zigzag, inline for the hot codecs.
 * Decoders take [p, end) and never read past end; they return the new
 * position, or NULL on a malformed or truncated varint (more than 10 bytes,
 * or running off the end).
 */
#ifndef GS_BASE_VARINT_H
#define GS_BASE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define GS_VARINT_MAX 10

static inline uint64_t gs_zigzag_enc(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t gs_zigzag_dec(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline size_t gs_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Write v at p (room for GS_VARINT_MAX bytes); return the end. */
static inline uint8_t *gs_varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)v | 0x80;
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline const uint8_t *gs_varint_get_slow(const uint8_t *p,
						const uint8_t *end,
						uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned int shift = 0; shift < 64; shift += 7) {
		uint64_t b;

		if (p >= end)
			return NULL;
		b = *p++;
		if (shift == 63 && b > 1)
			return NULL; /* as gs_varint_get: bits past 63 */
		v |= (b & 0x7f) << shift;
		if (b < 0x80) {
			*out = v;
			return p;
		}
	}
	return NULL;
}

/*
 * gs_varint_get() where at least GS_VARINT_MAX bytes follow p: no bounds
 * checks; one- and two-byte values (most) take the first branches.
 */
static inline const uint8_t *gs_varint_get10(const uint8_t *p, uint64_t *out)
{
	uint64_t v = p[0], b;

	if (__builtin_expect(v < 0x80, 1)) {
		*out = v;
		return p + 1;
	}
	b = p[1];
	v = (v & 0x7f) | b << 7;
	if (b < 0x80) {
		*out = v;
		return p + 2;
	}
	v &= 0x3fff;
	p += 2;
	for (unsigned int shift = 14; shift < 63; shift += 7) {
		b = *p++;
		v |= (b & 0x7f) << shift;
		if (b < 0x80) {
			*out = v;
			return p;
		}
	}
	b = *p++; /* 10th byte holds bit 63 only */
	if (b > 1)
		return NULL;
	*out = v | b << 63;
	return p;
}

static inline const uint8_t *gs_varint_get(const uint8_t *p,
					   const uint8_t *end, uint64_t *out)
{
	if (end - p < GS_VARINT_MAX)
		return gs_varint_get_slow(p, end, out);
	return gs_varint_get10(p, out);
}

#endif
