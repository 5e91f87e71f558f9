// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_parse.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "format/tf_writer.h"
#include "runtime/rt_goimport.h"

static const struct cli_opt import_opts[] = {
	{ "output", 'o', "OUT.gst", "write the trace here (required)" },
	{ "pid", 'p', "PID", "record the events of the first input under this pid (default 1, then 2, ...)" },
	{ "compress", 'c', "CODEC", CLI_COMPRESS_HELP },
	{ NULL },
};

enum input_kind {
	IN_UNKNOWN,
	IN_GOTRACE,
};

/* Detect an input's kind from its first bytes. */
static int detect(const char *path, enum input_kind *kind)
{
	uint8_t head[16] = { 0 };
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), v;

	if (fd < 0)
		return gs_errf(-errno, "%s: cannot open: %s", path, strerror(errno));
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return gs_errf(-errno, "%s: cannot read: %s", path, strerror(errno));
	*kind = IN_UNKNOWN;
	if (n >= 5 && !memcmp(head, "go 1.", 5) && !rt_gotrace__version(head, (size_t)n, &v))
		*kind = IN_GOTRACE;
	else if (n >= 5 && !memcmp(head, "go 1.", 5))
		return rt_gotrace__version(head, (size_t)n, &v); /* says why */
	if (*kind == IN_UNKNOWN)
		return gs_errf(-GS_E_FORMAT,
			       "%s: unrecognised input (expected a Go execution trace, \"go 1.N trace\" at offset 0)",
			       path);
	return 0;
}

static void on_progress(void *ctx, uint64_t events)
{
	cli_progress__update(ctx, events, "events");
}

static int run_import(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct tf_writer_opts wo = { .flags = TF_WRITER_ATOMIC };
	struct tf_writer *w = NULL;
	const char *out = NULL;
	uint64_t pid = 1;
	int c, err = 0;

	while ((c = cli_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			if (gs_parse_u64(optarg, 0, UINT32_MAX, &pid))
				return cli_usage_error(cmd, "bad pid '%s'", optarg);
			break;
		case 'c':
			if (cli_opt_compress(cmd, optarg, &wo))
				return EXIT_USAGE;
			break;
		case 'h':
			cli_help(stdout, cmd);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "expected at least one input file");
	if (!out)
		return cli_usage_error(cmd, "missing -o OUT.gst");
	/* check every input before creating the output */
	for (int i = optind; i < argc && !err; i++) {
		enum input_kind kind;

		err = detect(argv[i], &kind);
	}
	if (err)
		return cli_exit_code(err);
	err = tf_writer__open(out, &wo, NULL, &w);
	for (int i = optind; i < argc && !err; i++) {
		struct cli_progress pr;
		struct rt_goimport_opts o = {
			.pid = (uint32_t)(pid + (uint64_t)(i - optind)),
			.progress = on_progress, .progress_ctx = &pr,
		};
		struct rt_gotrace_stats st = { 0 };
		char what[256];

		snprintf(what, sizeof(what), "importing %s", argv[i]);
		cli_progress__start(&pr, what);
		err = rt_goimport__file(argv[i], &o, w, &st);
		if (!err)
			cli_progress__done(&pr, st.events, "events");
	}
	if (err) {
		tf_writer__abort(w);
		return cli_exit_code(err);
	}
	return cli_exit_code(tf_writer__close(w));
}

const struct cli_cmd cmd_import = {
	.name = "import",
	.run = run_import,
	.summary = "Import Go execution traces (Go 1.11-1.21 and 1.22+ formats) into one .gst trace.",
	.usage = "FILE... -o OUT.gst",
	.description =
		"The kind of each input is detected from its content.  Go traces written by\n"
		"runtime/trace, `go test -trace` or /debug/pprof/trace are decoded, ordered as Go's\n"
		"own parser orders them, and stored as goroutine events with their stacks.  The\n"
		"output appears only when every input was imported.",
	.opts = import_opts,
};
