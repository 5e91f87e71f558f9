/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gscope command line: a git-style command table, one thin file per
 * command.  Options are declared once in a table that drives both
 * getopt_long and the help text.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage or input error.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdio.h>

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

struct cli_opt {
	const char *name;   /* long name */
	int key;            /* short option char, or a value >= 256 */
	const char *arg;    /* argument name, NULL for a flag */
	const char *help;
};

struct cli_cmd {
	const char *name;
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
	const char *summary;
	const char *usage;          /* after "gscope NAME " */
	const char *description;    /* paragraphs, may be NULL */
	const struct cli_opt *opts; /* terminated by { NULL } */
};

extern const struct cli_cmd cmd_info, cmd_dump, cmd_import, cmd_analyze, cmd_record;

/* Print the help of cmd (the same for `gscope help CMD` and `CMD -h`). */
void cli_help(FILE *f, const struct cli_cmd *cmd);

/*
 * getopt_long over cmd->opts plus -h/--help.  Returns the key of the next
 * option (optarg set), -1 at the end, 'h' for help, '?' on an error
 * (already reported on stderr).
 */
int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv);

/* Report a usage error for cmd and return EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct tf_losses;

/* Warn on stderr about data the reader had to skip (nothing if none). */
void cli_warn_losses(const char *path, const struct tf_losses *l);

/* Exit code for a negative library error. */
int cli_exit_code(int err);

/* --compress CODEC for commands that write traces: "lz4", "zstd",
 * "zstd:LEVEL" (1-19) or "none" into wo; 0, or EXIT_USAGE after telling
 * the user what is accepted. */
#define CLI_COMPRESS_HELP \
	"chunk compression: lz4 (default, fastest), zstd[:LEVEL] (files about a third smaller), none"
struct tf_writer_opts;
int cli_opt_compress(const struct cli_cmd *cmd, const char *arg,
		     struct tf_writer_opts *wo);

#endif
