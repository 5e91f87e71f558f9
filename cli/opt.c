// SPDX-License-Identifier: BSD-2-Clause
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "base/gs_err.h"
#include "cli/cli.h"
#include "base/gs_parse.h"
#include "format/tf_reader.h"
#include "format/tf_writer.h"

#define MAX_OPTS 32

void cli_help(FILE *f, const struct cli_cmd *cmd)
{
	const struct cli_opt *o;

	fprintf(f, "usage: gscope %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->description)
		fprintf(f, "\n%s\n", cmd->description);
	fprintf(f, "\noptions:\n");
	for (o = cmd->opts; o && o->name; o++) {
		char left[64];

		if (o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-24s %s\n", left, o->help);
	}
	fprintf(f, "  %-24s %s\n", "-h, --help", "show this help");
}

int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct option longs[MAX_OPTS + 2];
	char shorts[3 * MAX_OPTS + 4];
	size_t n = 0, s = 0;

	/* GNU getopt permutes: options may follow operands; `--` ends them */
	shorts[s++] = ':'; /* report a missing argument as ':' */
	for (const struct cli_opt *o = cmd->opts; o && o->name && n < MAX_OPTS; o++) {
		longs[n++] = (struct option){ o->name, o->arg ? required_argument :
							 no_argument, NULL, o->key };
		if (o->key < 256) {
			shorts[s++] = (char)o->key;
			if (o->arg)
				shorts[s++] = ':';
		}
	}
	longs[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longs[n] = (struct option){ NULL, 0, NULL, 0 };
	shorts[s++] = 'h';
	shorts[s] = 0;
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, shorts, longs, NULL);

		if (c == ':') {
			cli_usage_error(cmd, "option '%s' needs an argument",
					argv[optind - 1]);
			return '?';
		}
		if (c == '?') {
			cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
			return '?';
		}
		return c;
	}
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gscope %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: gscope %s %s (see 'gscope help %s')\n", cmd->name,
		cmd->usage, cmd->name);
	return EXIT_USAGE;
}

int cli_exit_code(int err)
{
	if (!err)
		return EXIT_OK;
	return gs_err_is_input(err) ? EXIT_USAGE : EXIT_FAIL;
}

void cli_warn_losses(const char *path, const struct tf_losses *l)
{
	if (l->chunks_skipped || l->bytes_skipped)
		fprintf(stderr, "gscope: warning: %s: %llu corrupt or missing chunk%s skipped (%llu bytes)\n",
			path, (unsigned long long)l->chunks_skipped,
			l->chunks_skipped == 1 ? "" : "s",
			(unsigned long long)l->bytes_skipped);
	if (l->truncated)
		fprintf(stderr, "gscope: warning: %s: truncated: the last %llu bytes are an incomplete chunk\n",
			path, (unsigned long long)l->truncated_bytes);
}

int cli_opt_compress(const struct cli_cmd *cmd, const char *arg,
		     struct tf_writer_opts *wo)
{
	uint64_t level = 1;

	if (!strcmp(arg, "lz4")) {
		wo->compress = TF_COMPRESS_LZ4;
	} else if (!strcmp(arg, "none")) {
		wo->compress = TF_COMPRESS_NONE;
	} else if (!strncmp(arg, "zstd", 4) &&
		   (!arg[4] || (arg[4] == ':' && !gs_parse_u64(arg + 5, 1, 19, &level)))) {
		wo->compress = TF_COMPRESS_ZSTD;
		wo->zstd_level = (int)level;
	} else {
		return cli_usage_error(cmd, "bad compression '%s' (lz4, zstd[:1-19], none)",
				       arg);
	}
	return 0;
}
