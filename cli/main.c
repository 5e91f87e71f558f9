// SPDX-License-Identifier: BSD-2-Clause
/*
 * gscope: performance toolchain for Go services.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage or input error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/gs_err.h"
#include "cli/cli.h"

static const struct cli_cmd *const cmds[] = {
	&cmd_record,
	&cmd_import,
	&cmd_analyze,
	&cmd_info,
	&cmd_dump,
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static enum gs_log_level log_level = GS_LOG_WARN;

static void log_stderr(enum gs_log_level level, const char *msg)
{
	if (level > log_level)
		return;
	fprintf(stderr, "gscope: %s%s\n", level == GS_LOG_WARN ? "warning: " : "", msg);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: gscope [-v | -q] [--version] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  %-10s %s\n", cmds[i]->name, cmds[i]->summary);
	fprintf(f, "  %-10s %s\n", "help", "show the help of a command: gscope help COMMAND");
	fprintf(f, "\nglobal options:\n"
		   "  -v, --verbose   more diagnostics (repeat for debug)\n"
		   "  -q, --quiet     errors only\n"
		   "  --version       print the version\n");
}

static const struct cli_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i]->name, name))
			return cmds[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd) {
		fprintf(stderr, "gscope: no such command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	cli_help(stdout, cmd);
	return EXIT_OK;
}

/* Like git's run_builtin: a failed write to stdout is a failure. */
static int finish(int rc)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "gscope: write error on standard output: %s\n",
			strerror(errno));
		return EXIT_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;
	const char *env = getenv("GSCOPE_LOG_LEVEL");
	int i;

	if (env && !strcmp(env, "debug"))
		log_level = GS_LOG_DEBUG;
	else if (env && !strcmp(env, "info"))
		log_level = GS_LOG_INFO;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			log_level = log_level < GS_LOG_INFO ? GS_LOG_INFO : GS_LOG_DEBUG;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			log_level = GS_LOG_ERR;
		} else if (!strcmp(a, "--version")) {
			printf("gscope %s\n", GSCOPE_VERSION);
			return finish(EXIT_OK);
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return finish(EXIT_OK);
		} else {
			fprintf(stderr, "gscope: unknown option '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	gs_log__set_fn(log_stderr);
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help"))
		return finish(help(argc - i, argv + i));
	cmd = find_cmd(argv[i]);
	if (!cmd) {
		fprintf(stderr, "gscope: '%s' is not a gscope command; see 'gscope --help'\n",
			argv[i]);
		return EXIT_USAGE;
	}
	optind = 1;
	return finish(cmd->run(cmd, argc - i, argv + i));
}
