// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include <unistd.h>

#include "analyze/an_go.h"
#include "cli/cli.h"
#include "render/rd_go.h"

static const struct cli_opt analyze_opts[] = {
	{ "json", 'j', NULL, "print one JSON object instead of tables" },
	{ "section", 's', "LIST", "comma-separated sections: sched, goroutines, states, gc (default: all)" },
	{ NULL },
};

static int parse_sections(const char *list, unsigned int *out)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} names[] = {
		{ "sched", AN_GO_SCHED }, { "goroutines", AN_GO_GOROUTINES },
		{ "states", AN_GO_STATES }, { "gc", AN_GO_GC }, { "all", AN_GO_ALL },
	};
	const char *p = list;

	*out = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len && !strncmp(p, names[i].name, len))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		*out |= names[i].bit;
		p += len;
		if (*p == ',')
			p++;
	}
	return *out ? 0 : -1;
}

static int run_analyze(const struct cli_cmd *cmd, int argc, char **argv)
{
	unsigned int sections = AN_GO_ALL;
	struct an_go *a;
	bool json = false;
	int c, err;

	while ((c = cli_getopt(cmd, argc, argv)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			if (parse_sections(optarg, &sections))
				return cli_usage_error(cmd, "bad section list '%s' (sections: sched, goroutines, states, gc)",
						       optarg);
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
	err = an_go__compute(argv[optind], sections, &a);
	if (err)
		return cli_exit_code(err);
	if (json)
		rd_go__json(stdout, a);
	else
		rd_go__text(stdout, a);
	an_go__free(a);
	return EXIT_OK;
}

const struct cli_cmd cmd_analyze = {
	.name = "analyze",
	.run = run_analyze,
	.summary = "Analyse a .gst trace: scheduling latency, goroutines, state flows, GC.",
	.usage = "[--json] [--section LIST] FILE",
	.description =
		"sched       goroutine scheduling latency (runnable -> running): log2 histogram,\n"
		"            p50/p90/p99/p99.9/max (HDR, <1% error), by cause, and the delay per\n"
		"            unblocking stack as `go tool trace -pprof=sched` computes it\n"
		"goroutines  per start function: count, execution, scheduler wait, syscall,\n"
		"            blocked time by reason, GC overlap\n"
		"states      goroutine state-transition matrix: counts, time, mean per transition\n"
		"gc          GC cycles, STW pauses, mark assists, heap before/after/goal\n"
		"--json prints one object; sched.goroutine has count, total_ns, p50_ns, p90_ns,\n"
		"p99_ns, p999_ns and max_ns.",
	.opts = analyze_opts,
};
