// SPDX-License-Identifier: BSD-2-Clause
/*
 * Go execution traces: header parsing and the version dispatcher.  The
 * header rules are Go's own (internal/trace parseHeader): "go ", a major
 * digit 1-9, ".", a minor number whose first digit is 1-9 and which has at
 * most three digits, " trace", NULs up to 16 bytes.
 */
#include <stdint.h>
#include <string.h>

#include "base/gs_err.h"
#include "runtime/rt_gotrace.h"
#include "runtime/rt_gotrace_v1_hdr.h"

int rt_gotrace__parse_header(const uint8_t *data, size_t len, int *version,
			     const char **why)
{
	static const char tail[] = " trace\0\0\0\0"; /* 10 bytes */
	int ver, i;

	if (!data || len < RT_GOTRACE_HDR_LEN) {
		*why = "input shorter than the 16-byte Go trace header";
		return -GS_E_FORMAT;
	}
	if (data[0] != 'g' || data[1] != 'o' || data[2] != ' ' ||
	    data[3] < '1' || data[3] > '9' || data[4] != '.' ||
	    data[5] < '1' || data[5] > '9') {
		*why = "not a Go execution trace (expected \"go 1.N trace\")";
		return -GS_E_FORMAT;
	}
	ver = data[5] - '0';
	for (i = 0; i < 2 && data[6 + i] >= '0' && data[6 + i] <= '9'; i++)
		ver = ver * 10 + (data[6 + i] - '0');
	if (memcmp(data + 6 + i, tail, (size_t)(10 - i))) {
		*why = "not a Go execution trace (bad header padding)";
		return -GS_E_FORMAT;
	}
	*version = (data[3] - '0') * 1000 + ver;
	return 0;
}

int rt_gotrace__version(const uint8_t *data, size_t len, int *version)
{
	const char *why;
	int err = rt_gotrace__parse_header(data, len, version, &why);

	if (err)
		return gs_errf(err, "go trace: offset 0: %s", why);
	return 0;
}

int rt_gotrace__decode(const uint8_t *data, size_t len, const char *name,
		       const struct rt_go_sink *sink, struct rt_gotrace_stats *st)
{
	const char *why;
	int version, err;

	if (!name)
		name = "go trace";
	err = rt_gotrace__parse_header(data, len, &version, &why);
	if (err)
		return gs_errf(err, "%s: offset 0: %s", name, why);
	if (version >= 1022)
		return rt_gotrace_v2__decode(data, len, name, sink, st);
	if (version >= 1009)
		return rt_gotrace_v1__decode(data, len, name, sink, st);
	return gs_errf(-GS_E_VERSION, "%s: offset 0: unsupported Go trace version go %d.%d",
		       name, version / 1000, version % 1000);
}
