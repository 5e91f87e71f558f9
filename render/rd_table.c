// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "render/rd_table.h"

void rd_table__init(struct rd_table *t, int ncols, const char *const *heads)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > RD_TABLE_MAX_COLS ? RD_TABLE_MAX_COLS : ncols;
	for (int i = 0; i < t->ncols; i++) {
		t->right[i] = heads[i][0] == '>';
		t->head[i] = heads[i] + t->right[i];
	}
}

int rd_table__cell(struct rd_table *t, const char *fmt, ...)
{
	void *p = t->cells;
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (gs_grow(&p, &t->cap, sizeof(char *), t->ncells + 1, SIZE_MAX / 16))
		return -ENOMEM;
	t->cells = p;
	t->cells[t->ncells] = gs_arena__strndup(&t->arena, tmp, strlen(tmp));
	if (!t->cells[t->ncells])
		return -ENOMEM;
	t->ncells++;
	return 0;
}

static void print_row(const struct rd_table *t, FILE *f, const char *indent,
		      const char *const *cells, const size_t *w)
{
	fputs(indent, f);
	for (int c = 0; c < t->ncols; c++) {
		const char *s = cells[c] ? cells[c] : "";
		bool last = c == t->ncols - 1;

		if (t->right[c])
			fprintf(f, "%*s", (int)w[c], s);
		else if (last)
			fputs(s, f);
		else
			fprintf(f, "%-*s", (int)w[c], s);
		if (!last)
			fputs("  ", f);
	}
	fputc('\n', f);
}

void rd_table__print(const struct rd_table *t, FILE *f, const char *indent)
{
	size_t w[RD_TABLE_MAX_COLS] = { 0 };

	for (int c = 0; c < t->ncols; c++)
		w[c] = strlen(t->head[c]);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t l = strlen(t->cells[i]);

		if (l > w[i % t->ncols])
			w[i % t->ncols] = l;
	}
	print_row(t, f, indent, t->head, w);
	for (size_t i = 0; i + t->ncols <= t->ncells; i += t->ncols)
		print_row(t, f, indent, (const char *const *)t->cells + i, w);
}

void rd_table__release(struct rd_table *t)
{
	gs_free(t->cells);
	gs_arena__release(&t->arena);
	memset(t, 0, sizeof(*t));
}

const char *rd_fmt_bytes(char *buf, size_t n, double b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%.0f B", b);
	else
		snprintf(buf, n, "%.2f %s", b, units[u]);
	return buf;
}

const char *rd_fmt_ns(char *buf, size_t n, double ns)
{
	if (ns < 1e3)
		snprintf(buf, n, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, n, "%.2f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, n, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.3f s", ns / 1e9);
	return buf;
}

const char *rd_fmt_count(char *buf, size_t n, uint64_t v)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t o = 0;

	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}
