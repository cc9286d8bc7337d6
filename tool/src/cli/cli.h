/*
 * cli.h: the subcommands of helion-tune. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 failure, 2 usage error. Human output goes to stderr, machine
 * output (--json) to stdout.
 */
#ifndef HELION_CLI_H
#define HELION_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HELION_EXIT_OK 0
#define HELION_EXIT_FAILURE 1
#define HELION_EXIT_USAGE 2

int helion_cmd_tune(int argc, char **argv);
int helion_cmd_check(int argc, char **argv);
int helion_cmd_space(int argc, char **argv);
int helion_cmd_simulate(int argc, char **argv);
int helion_cmd_report(int argc, char **argv);

/* True when argv[i] is -h or --help. */
int helion_cli_is_help(const char *arg);

/* The --algorithm list of the help texts: one line per search, its name
 * and summary, indented under the option. */
void helion_cli_print_algorithms(FILE *f);

/* The declared search options (--set keys): the driver's, then those of
 * `algorithm` (NULL: of every algorithm), each with its default (and the
 * quick profile's where it differs), range, environment variable and help. */
void helion_cli_print_search_options(FILE *f, const char *algorithm);

/* Parses a non-negative decimal integer (no sign, no trailing text). */
bool helion_cli_parse_u64(const char *s, uint64_t *out);
/* Parses a finite number > 0. */
bool helion_cli_parse_pos_double(const char *s, double *out);

/* Prints "<prog>: <message>" and the pointer to --help on stderr; returns
 * HELION_EXIT_USAGE. */
int helion_cli_usage_error(const char *prog, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

struct helion_spec;
struct helion_device_props;

/*
 * What `check`, `space` and `tune` do first: loads the spec at `spec_path`,
 * the device properties assumed for `arch` ("sm_90"; NULL skips them and
 * leaves *out_dev alone, which may then be NULL), and, when `shape` is
 * not NULL, parses it ("M=64,N=128") into *out_shape (spec->nkeys values,
 * caller frees; NULL when `shape` is NULL). On failure prints
 * "helion-tune <cmd>: <message>" to stderr, writes nothing and returns the
 * exit code (1 for a bad spec, 2 for a bad --arch or --shape); 0 on success.
 */
int helion_cli_load_spec(const char *cmd, const char *spec_path,
                         const char *arch, const char *shape,
                         struct helion_spec **out_spec,
                         struct helion_device_props *out_dev,
                         int64_t **out_shape);

#endif /* HELION_CLI_H */
