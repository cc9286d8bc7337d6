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

#include "search/search.h"

#define HELION_EXIT_OK 0
#define HELION_EXIT_FAILURE 1
#define HELION_EXIT_USAGE 2

int helion_cmd_tune(int argc, char **argv);
int helion_cmd_check(int argc, char **argv);
int helion_cmd_space(int argc, char **argv);
int helion_cmd_simulate(int argc, char **argv);
int helion_cmd_report(int argc, char **argv);
int helion_cmd_cache(int argc, char **argv);
int helion_cmd_results(int argc, char **argv);
int helion_cmd_generate(int argc, char **argv);
int helion_cmd_distill(int argc, char **argv);

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

/* ------------------------------------------------------------- flags */

/* Flags of one subcommand: those that take a value and those that do not
 * (NULL-terminated lists). */
typedef struct helion_cli_flags {
  const char *const *valued;
  const char *const *boolean;
} helion_cli_flags_t;

/*
 * Reads the argument at argv[*i] ("--flag value", "--flag=value", a boolean
 * "--flag", or a positional argument) and advances *i past what it used.
 * A flag sets *out_flag (the table's spelling) and *out_val (NULL for a
 * boolean); a positional argument sets *out_flag = NULL and *out_val to it.
 * Returns HELION_EXIT_OK, or HELION_EXIT_USAGE after printing why (unknown
 * flag, missing value, a value given to a boolean).
 */
int helion_cli_next(const char *prog, int argc, char **argv, int *i,
                    const helion_cli_flags_t *flags, const char **out_flag,
                    const char **out_val);

/* The flags every searching subcommand (tune, simulate) takes, spelled for
 * a helion_cli_flags_t list. */
#define HELION_CLI_SEARCH_FLAGS                                                \
  "--algorithm", "--effort", "--seed", "--budget-seconds", "--max-evals",      \
      "--set", "--options-json"

#define HELION_CLI_MAX_SETS 64

/* What the search flags said; zeroed = nothing. Strings are borrowed from
 * argv. */
typedef struct helion_cli_search {
  const char *algorithm, *options_json;
  const char *sets[HELION_CLI_MAX_SETS]; /* --set KEY=VALUE, in order */
  size_t nsets;
  helion_effort effort;
  uint64_t seed, max_evals;
  bool effort_set, seed_set;
  double budget_seconds; /* 0 = not given */
} helion_cli_search_t;

/* What helion_cli_search_flag returns for a flag that is not a search
 * flag. */
#define HELION_CLI_NOT_SEARCH_FLAG (-1)

/*
 * Takes `flag` (from helion_cli_next) into `sf` when it is one of
 * HELION_CLI_SEARCH_FLAGS. Returns HELION_EXIT_OK when it was and its value
 * is well formed, HELION_EXIT_USAGE after printing why not, or
 * HELION_CLI_NOT_SEARCH_FLAG.
 */
int helion_cli_search_flag(const char *prog, const char *flag, const char *val,
                           helion_cli_search_t *sf);

/* The GPU flags of `tune` and `distill`, spelled for a flags list. */
#define HELION_CLI_GPU_FLAGS "--device", "--jobs"

/*
 * Takes --device N (a CUDA ordinal) into *device or --jobs N (compile
 * processes, 1..4096) into *jobs. Returns HELION_EXIT_OK, HELION_EXIT_USAGE
 * after printing why, or HELION_CLI_NOT_SEARCH_FLAG for another flag.
 */
int helion_cli_gpu_flag(const char *prog, const char *flag, const char *val,
                        uint64_t *device, uint64_t *jobs);

/*
 * The search options of a run: helion_search_opts_init, then the
 * environment, then --options-json, then the other search flags (--set in
 * order), each overriding the one before. Returns HELION_EXIT_OK, or
 * HELION_EXIT_USAGE after printing "<prog>: <why>".
 */
int helion_cli_search_opts(const char *prog, const helion_cli_search_t *sf,
                           helion_search_opts_t *o);

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
