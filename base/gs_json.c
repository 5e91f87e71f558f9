// SPDX-License-Identifier: BSD-2-Clause
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "base/gs_json.h"

void gs_json__init(struct gs_json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->pretty = pretty;
	j->after_key = false;
	j->depth = 0;
	j->nonempty[0] = false;
}

static void newline(struct gs_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator and indentation before a value or key. */
static void before_value(struct gs_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->nonempty[j->depth])
			fputc(',', j->f);
		newline(j);
	}
	j->nonempty[j->depth] = true;
}

static void open_(struct gs_json *j, char c)
{
	before_value(j);
	fputc(c, j->f);
	if (j->depth < GS_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->nonempty[j->depth] = false;
}

static void close_(struct gs_json *j, char c)
{
	bool had = j->nonempty[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		newline(j);
	fputc(c, j->f);
	if (j->depth == 0 && j->pretty)
		fputc('\n', j->f);
}

void gs_json__begin_object(struct gs_json *j) { open_(j, '{'); }
void gs_json__end_object(struct gs_json *j) { close_(j, '}'); }
void gs_json__begin_array(struct gs_json *j) { open_(j, '['); }
void gs_json__end_array(struct gs_json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at s (max n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void gs_json_quote(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	fputc('"', f);
	while (i < n) {
		unsigned char c = s[i];

		switch (c) {
		case '"': fputs("\\\"", f); i++; continue;
		case '\\': fputs("\\\\", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		k = utf8_len(s + i, n - i);
		if (!k) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		fwrite(s + i, 1, k, f);
		i += k;
	}
	fputc('"', f);
}

void gs_json__key(struct gs_json *j, const char *key)
{
	before_value(j);
	gs_json_quote(j->f, key, strlen(key));
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = true;
}

void gs_json__string_n(struct gs_json *j, const char *s, size_t n)
{
	before_value(j);
	gs_json_quote(j->f, s, n);
}

void gs_json__string(struct gs_json *j, const char *s)
{
	if (!s) {
		gs_json__null(j);
		return;
	}
	gs_json__string_n(j, s, strlen(s));
}

void gs_json__uint(struct gs_json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->f, "%" PRIu64, v);
}

void gs_json__int(struct gs_json *j, int64_t v)
{
	before_value(j);
	fprintf(j->f, "%" PRId64, v);
}

void gs_json__double(struct gs_json *j, double v)
{
	before_value(j);
	if (!isfinite(v))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.6g", v);
}

void gs_json__bool(struct gs_json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->f);
}

void gs_json__null(struct gs_json *j)
{
	before_value(j);
	fputs("null", j->f);
}

void gs_json__kv_string(struct gs_json *j, const char *key, const char *s)
{
	gs_json__key(j, key);
	gs_json__string(j, s);
}

void gs_json__kv_uint(struct gs_json *j, const char *key, uint64_t v)
{
	gs_json__key(j, key);
	gs_json__uint(j, v);
}

void gs_json__kv_int(struct gs_json *j, const char *key, int64_t v)
{
	gs_json__key(j, key);
	gs_json__int(j, v);
}

void gs_json__kv_double(struct gs_json *j, const char *key, double v)
{
	gs_json__key(j, key);
	gs_json__double(j, v);
}

void gs_json__kv_bool(struct gs_json *j, const char *key, bool v)
{
	gs_json__key(j, key);
	gs_json__bool(j, v);
}
