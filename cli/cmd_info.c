// SPDX-License-Identifier: BSD-2-Clause
#include <unistd.h>

#include "analyze/an_info.h"
#include "cli/cli.h"
#include "render/rd_info.h"

static const struct cli_opt info_opts[] = {
	{ "json", 'j', NULL, "print one JSON object instead of text" },
	{ NULL },
};

static int run_info(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct an_info info;
	bool json = false;
	int c, err;

	while ((c = cli_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			cli_help(stdout, cmd);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "expected one trace file");
	err = an_info__compute(argv[optind], &info);
	if (!err) {
		if (json)
			rd_info__json(stdout, argv[optind], &info);
		else
			rd_info__text(stdout, argv[optind], &info);
		cli_warn_losses(argv[optind], &info.losses);
	}
	an_info__release(&info);
	return cli_exit_code(err);
}

const struct cli_cmd cmd_info = {
	.name = "info",
	.run = run_info,
	.summary = "Summarise a .gst trace: versions, host, time span, events and bytes per family, losses.",
	.usage = "[--json] FILE",
	.description =
		"Reads the whole file once, chunk by chunk.  Corrupt chunks are skipped and a\n"
		"truncated tail is tolerated; both are reported under 'losses'.  With --json the\n"
		"output is one stable JSON object (keys: format_version, events, bytes, losses, ...).",
	.opts = info_opts,
};
