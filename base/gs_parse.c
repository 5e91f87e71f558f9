// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/gs_parse.h"

int gs_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	/* decimal or 0x hex; base 0 would read "010" as octal 8 */
	v = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Parse "<number><suffix>" where suffix is looked up in units[]. */
struct unit {
	const char *name;
	double mult;
};

static int parse_scaled(const char *s, const struct unit *units,
			double dflt, double *out)
{
	char *end;
	double v, mult = dflt;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v))
		return -EINVAL;
	if (*end) {
		const struct unit *u;

		for (u = units; u->name; u++)
			if (!strcmp(end, u->name))
				break;
		if (!u->name)
			return -EINVAL;
		mult = u->mult;
	}
	*out = v * mult;
	return 0;
}

int gs_parse_duration_ns(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
		{ "m", 60e9 }, { "h", 3600e9 }, { NULL, 0 },
	};
	double v;
	int err = parse_scaled(s, units, 1e9, &v);

	if (err)
		return err;
	if (v >= 1.8e19)
		return -ERANGE;
	/* nearest ns: 1.001 * 1e3 is 1000.999..., not 1000 */
	*out = (uint64_t)round(v);
	return 0;
}

int gs_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct unit units[] = {
		{ "K", 1024.0 }, { "KiB", 1024.0 }, { "M", 1048576.0 },
		{ "MiB", 1048576.0 }, { "G", 1073741824.0 },
		{ "GiB", 1073741824.0 }, { NULL, 0 },
	};
	double v;
	int err = parse_scaled(s, units, 1, &v);

	if (err)
		return err;
	/* (double)UINT64_MAX is 2^64, which does not convert back */
	if (v < (double)min || v > (double)max || v >= 0x1p64 || v != floor(v))
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}
