/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Aligned text tables: add cells row by row, print once with every column
 * sized to its widest cell.  Text columns are left-aligned, numeric ones
 * right-aligned.
 */
#ifndef RD_TABLE_H
#define RD_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/gs_mem.h"

#define RD_TABLE_MAX_COLS 12

struct rd_table {
	int ncols;
	const char *head[RD_TABLE_MAX_COLS];
	bool right[RD_TABLE_MAX_COLS];
	char **cells;         /* row-major, ncols per row */
	size_t ncells, cap;
	struct gs_arena arena;
};

/* Columns: "name" left-aligned, ">name" right-aligned. */
void rd_table__init(struct rd_table *t, int ncols, const char *const *heads);

/* Append one cell (printf-style); rows wrap every ncols cells. */
int rd_table__cell(struct rd_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void rd_table__print(const struct rd_table *t, FILE *f, const char *indent);
void rd_table__release(struct rd_table *t);

/* Human formats into buf: "1.23 MiB", "5.0 s", "12,345". */
const char *rd_fmt_bytes(char *buf, size_t n, double bytes);
const char *rd_fmt_ns(char *buf, size_t n, double ns);
const char *rd_fmt_count(char *buf, size_t n, uint64_t v);

#endif
