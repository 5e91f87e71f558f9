// SPDX-License-Identifier: BSD-2-Clause
#include <unistd.h>

#include "cli/cli.h"
#include "format/tf_reader.h"
#include "render/rd_dump.h"

static const struct cli_opt dump_opts[] = {
	{ "json", 'j', NULL, "print JSON lines, one object per packet" },
	{ NULL },
};

static int run_dump(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct tf_reader *r;
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
	err = tf_reader__open(argv[optind], &r);
	if (err)
		return cli_exit_code(err);
	err = rd_dump(stdout, r, json);
	if (!err)
		cli_warn_losses(argv[optind], tf_reader__losses(r));
	tf_reader__close(r);
	return cli_exit_code(err);
}

const struct cli_cmd cmd_dump = {
	.name = "dump",
	.run = run_dump,
	.summary = "Print every packet of a .gst trace, in file order, as text or JSON lines.",
	.usage = "[--json] FILE",
	.description =
		"The output is deterministic.  Interned ids are printed as stored; the intern\n"
		"packets that define them come first.  The last line reports losses.",
	.opts = dump_opts,
};
