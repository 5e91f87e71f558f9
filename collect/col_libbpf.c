// SPDX-License-Identifier: BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "base/gs_err.h"
#include "collect/col_libbpf.h"

__attribute__((format(printf, 2, 0)))
static int col_libbpf_print(enum libbpf_print_level level, const char *fmt,
			    va_list ap)
{
	enum gs_log_level lvl;
	char msg[1024];
	size_t len;

	switch (level) {
	case LIBBPF_WARN:
		lvl = GS_LOG_WARN;
		break;
	case LIBBPF_INFO:
		lvl = GS_LOG_INFO;
		break;
	default:
		lvl = GS_LOG_DEBUG;
		break;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	if (len && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	gs_log(lvl, "%s", msg);
	return 0;
}

void col_libbpf__init(void)
{
	libbpf_set_print(col_libbpf_print);
}
