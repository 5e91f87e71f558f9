// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "base/gs_parse.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "collect/col_godebug.h"
#include "collect/col_gotrace.h"
#include "format/tf_header.h"
#include "format/tf_writer.h"
#include "runtime/rt_goimport.h"

enum {
	OPT_GO_TRACE = 256,
	OPT_GODEBUG,
	OPT_SCHEDTRACE,
};

static const struct cli_opt record_opts[] = {
	{ "go-trace", OPT_GO_TRACE, "URL", "fetch URL/debug/pprof/trace from a live Go service (net/http/pprof)" },
	{ "godebug", OPT_GODEBUG, NULL, "run CMD with GODEBUG=schedtrace,gctrace and record what the runtime prints" },
	{ "duration", 'd', "DURATION", "how long to trace with --go-trace (default 5s; e.g. 500ms, 10s, 1m)" },
	{ "schedtrace", OPT_SCHEDTRACE, "MS", "schedtrace period for --godebug (default 1000)" },
	{ "output", 'o', "OUT.gst", "output trace (default gscope.gst)" },
	{ "compress", 'c', "CODEC", CLI_COMPRESS_HELP },
	{ NULL },
};

static int record_go_trace(const char *url, uint64_t duration, const char *out,
			   struct tf_writer_opts wo)
{
	struct gs_buf body = GS_BUF_INIT;
	struct rt_goimport_opts o = { .pid = 0, .source = url };
	struct tf_header th;
	struct tf_writer *w;
	int err;

	fprintf(stderr, "gscope: tracing %s for %.3g s\n", url, (double)duration / 1e9);
	err = col_gotrace__fetch(url, duration, &body);
	if (err)
		goto out;
	err = tf_header__init_host(&th, GSCOPE_VERSION);
	err = err ?: tf_header__add_attr(&th, "go_trace_url", url);
	if (!err)
		err = tf_writer__open(out, &wo, &th.h, &w);
	tf_header__release(&th);
	if (err)
		goto out;
	err = rt_goimport__mem(body.data, body.len, url, &o, w, NULL);
	if (err) {
		tf_writer__abort(w);
		goto out;
	}
	err = tf_writer__close(w);
	if (!err)
		fprintf(stderr, "gscope: wrote %s (%zu bytes of Go trace imported)\n", out,
			body.len);
out:
	gs_buf__release(&body);
	return err;
}

static int record_godebug(char **argv, uint64_t schedtrace_ms, const char *out,
			  const struct tf_writer_opts *wo, int *status)
{
	struct col_godebug_opts o = {
		.argv = argv, .schedtrace_ms = (unsigned int)schedtrace_ms,
		.passthrough_fd = STDERR_FILENO,
	};
	struct tf_header th;
	struct tf_writer *w;
	int err;

	err = tf_header__init_host(&th, GSCOPE_VERSION);
	err = err ?: tf_header__add_attr(&th, "command", argv[0]);
	if (!err)
		err = tf_writer__open(out, wo, &th.h, &w);
	tf_header__release(&th);
	if (err)
		return err;
	err = col_godebug__run(&o, w, status);
	if (err && (*status == 126 || *status == 127)) { /* CMD did not start */
		tf_writer__abort(w);
		unlink(out);
		return err;
	}
	if (err) {
		tf_writer__close(w);
		return err;
	}
	return tf_writer__close(w);
}

static int run_record(const struct cli_cmd *cmd, int argc, char **argv)
{
	const char *url = NULL, *out = "gscope.gst";
	uint64_t duration = 5000000000ull, schedtrace = 1000;
	struct tf_writer_opts wo = { 0 };
	bool godebug = false;
	int c, err, status = 0;

	while ((c = cli_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case OPT_GO_TRACE:
			url = optarg;
			break;
		case OPT_GODEBUG:
			godebug = true;
			break;
		case 'd':
			if (gs_parse_duration_ns(optarg, &duration) || duration < 1000000 ||
			    duration > 3600ull * 1000000000ull)
				return cli_usage_error(cmd, "bad duration '%s' (1ms .. 1h, e.g. 500ms, 10s)",
						       optarg);
			break;
		case OPT_SCHEDTRACE:
			if (gs_parse_u64(optarg, 1, 3600000, &schedtrace))
				return cli_usage_error(cmd, "bad schedtrace period '%s' (ms)", optarg);
			break;
		case 'o':
			out = optarg;
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
	if (!!url + godebug != 1)
		return cli_usage_error(cmd, "choose one of --go-trace URL or --godebug -- CMD");
	if (url) {
		if (optind != argc)
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		wo.flags |= TF_WRITER_ATOMIC;
		return cli_exit_code(record_go_trace(url, duration, out, wo));
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "--godebug needs a command: gscope record --godebug -- CMD ARGS");
	err = record_godebug(argv + optind, schedtrace, out, &wo, &status);
	if (err)
		return status == 126 || status == 127 ? status : cli_exit_code(err);
	return status;
}

const struct cli_cmd cmd_record = {
	.name = "record",
	.run = run_record,
	.summary = "Record a Go program: its execution trace over HTTP, or its GODEBUG scheduler and GC traces.",
	.usage = "--go-trace URL [-d DURATION] [-o OUT.gst] | --godebug [-o OUT.gst] -- CMD [ARGS]",
	.description =
		"--go-trace URL   fetch URL/debug/pprof/trace?seconds=N from a service that imports\n"
		"                 net/http/pprof, and import the trace (Go 1.11 to 1.26 formats)\n"
		"--godebug        run CMD with GODEBUG=schedtrace=MS,gctrace=1 added to any GODEBUG\n"
		"                 already set; turn the runtime's lines into run-queue samples and GC\n"
		"                 cycles, pass every other stderr line through, and exit with CMD's\n"
		"                 exit status",
	.opts = record_opts,
};
