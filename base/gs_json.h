/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Streaming JSON writer (the shape of bpftool's json_writer).  Keys are
 * written in the order the caller gives them, so output is stable.
 * Strings are escaped per RFC 8259; bytes that are not valid UTF-8 are
 * written as \u00XX of the byte, so output is always valid JSON.
 */
#ifndef GS_BASE_JSON_H
#define GS_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GS_JSON_MAX_DEPTH 32

struct gs_json {
	FILE *f;
	bool pretty;
	bool after_key;
	int depth;
	bool nonempty[GS_JSON_MAX_DEPTH];
};

/* pretty: two-space indent, one member per line; else one line. */
void gs_json__init(struct gs_json *j, FILE *f, bool pretty);

void gs_json__begin_object(struct gs_json *j);
void gs_json__end_object(struct gs_json *j);
void gs_json__begin_array(struct gs_json *j);
void gs_json__end_array(struct gs_json *j);
void gs_json__key(struct gs_json *j, const char *key);
void gs_json__string(struct gs_json *j, const char *s);
void gs_json__string_n(struct gs_json *j, const char *s, size_t n);
void gs_json__uint(struct gs_json *j, uint64_t v);
void gs_json__int(struct gs_json *j, int64_t v);
void gs_json__double(struct gs_json *j, double v);
void gs_json__bool(struct gs_json *j, bool v);
void gs_json__null(struct gs_json *j);

/* Shorthands for "key": value. */
void gs_json__kv_string(struct gs_json *j, const char *key, const char *s);
void gs_json__kv_uint(struct gs_json *j, const char *key, uint64_t v);
void gs_json__kv_int(struct gs_json *j, const char *key, int64_t v);
void gs_json__kv_double(struct gs_json *j, const char *key, double v);
void gs_json__kv_bool(struct gs_json *j, const char *key, bool v);

/* Write s escaped, with quotes, to f (also used by text renderers). */
void gs_json_quote(FILE *f, const char *s, size_t n);

#endif
