/* cli_args.c: command-line flags read the same way by every subcommand, and
 * the search flags tune and simulate share (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "search/search.h"

static const char *find_flag(const char *const *list, const char *flag) {
  for (size_t k = 0; list && list[k]; k++)
    if (strcmp(list[k], flag) == 0)
      return list[k];
  return NULL;
}

int helion_cli_next(const char *prog, int argc, char **argv, int *i,
                    const helion_cli_flags_t *flags, const char **out_flag,
                    const char **out_val) {
  const char *arg = argv[*i], *val = NULL, *eq = strchr(arg, '=');
  (*i)++;
  if (arg[0] != '-' || arg[1] == '\0') {
    *out_flag = NULL;
    *out_val = arg;
    return HELION_EXIT_OK;
  }
  char flag[64]; /* --flag value or --flag=value */
  if (eq && (size_t)(eq - arg) < sizeof(flag)) {
    memcpy(flag, arg, (size_t)(eq - arg));
    flag[eq - arg] = '\0';
    val = eq + 1;
  } else {
    snprintf(flag, sizeof(flag), "%s", arg);
  }
  const char *valued = find_flag(flags->valued, flag);
  const char *boolean = find_flag(flags->boolean, flag);
  if (!valued && !boolean)
    return helion_cli_usage_error(prog, "unknown option '%s'", arg);
  if (boolean && val)
    return helion_cli_usage_error(prog, "%s takes no value", flag);
  if (valued && !val) {
    if (*i >= argc)
      return helion_cli_usage_error(prog, "%s needs a value", flag);
    val = argv[(*i)++];
  }
  *out_flag = valued ? valued : boolean;
  *out_val = val;
  return HELION_EXIT_OK;
}

int helion_cli_search_flag(const char *prog, const char *flag, const char *val,
                           helion_cli_search_t *sf) {
  helion_err_t err = {{0}};
  if (strcmp(flag, "--algorithm") == 0) {
    if (!helion_search_algo_find(val, &err))
      return helion_cli_usage_error(prog, "--algorithm: %s", err.msg);
    sf->algorithm = val;
  } else if (strcmp(flag, "--effort") == 0) {
    if (helion_effort_parse(val, "--effort", &sf->effort, &err))
      return helion_cli_usage_error(prog, "%s", err.msg);
    sf->effort_set = true;
  } else if (strcmp(flag, "--seed") == 0) {
    if (!helion_cli_parse_u64(val, &sf->seed))
      return helion_cli_usage_error(
          prog, "--seed: '%s' is not a non-negative integer", val);
    sf->seed_set = true;
  } else if (strcmp(flag, "--budget-seconds") == 0) {
    if (!helion_cli_parse_pos_double(val, &sf->budget_seconds))
      return helion_cli_usage_error(
          prog, "--budget-seconds: '%s' is not a positive number", val);
  } else if (strcmp(flag, "--max-evals") == 0) {
    if (!helion_cli_parse_u64(val, &sf->max_evals) || sf->max_evals == 0)
      return helion_cli_usage_error(
          prog, "--max-evals: '%s' is not a positive integer", val);
  } else if (strcmp(flag, "--set") == 0) {
    if (sf->nsets == HELION_CLI_MAX_SETS)
      return helion_cli_usage_error(prog, "--set: at most %d options",
                                    HELION_CLI_MAX_SETS);
    sf->sets[sf->nsets++] = val;
  } else if (strcmp(flag, "--options-json") == 0) {
    if (!*val)
      return helion_cli_usage_error(prog, "--options-json: empty file name");
    sf->options_json = val;
  } else {
    return HELION_CLI_NOT_SEARCH_FLAG;
  }
  return HELION_EXIT_OK;
}

int helion_cli_search_opts(const char *prog, const helion_cli_search_t *sf,
                           helion_search_opts_t *o) {
  helion_err_t err = {{0}};
  helion_search_opts_init(o);
  if (helion_search_opts_from_env(o, &err))
    goto fail;
  if (sf->options_json &&
      helion_search_opts_from_file(o, sf->options_json, &err)) {
    helion_err_prefix(&err, "--options-json: ");
    goto fail;
  }
  if (sf->algorithm)
    o->algorithm = sf->algorithm;
  if (sf->effort_set)
    o->effort = sf->effort;
  if (sf->seed_set)
    o->seed = sf->seed;
  if (sf->budget_seconds > 0)
    o->budget_seconds = sf->budget_seconds;
  if (sf->max_evals)
    o->max_evals = (size_t)sf->max_evals;
  for (size_t i = 0; i < sf->nsets; i++) {
    if (helion_search_opts_set(o, sf->sets[i], &err)) {
      helion_err_prefix(&err, "--set: ");
      goto fail;
    }
  }
  return HELION_EXIT_OK;
fail:
  fprintf(stderr, "%s: %s\n", prog, err.msg);
  return HELION_EXIT_USAGE;
}

int helion_cli_gpu_flag(const char *prog, const char *flag, const char *val,
                        uint64_t *device, uint64_t *jobs) {
  if (strcmp(flag, "--device") == 0) {
    if (!helion_cli_parse_u64(val, device) || *device > 1024)
      return helion_cli_usage_error(prog, "--device: '%s' is not a device "
                                          "ordinal (0, 1, ...)",
                                    val);
    return HELION_EXIT_OK;
  }
  if (strcmp(flag, "--jobs") == 0) {
    if (!helion_cli_parse_u64(val, jobs) || *jobs == 0 || *jobs > 4096)
      return helion_cli_usage_error(prog, "--jobs: '%s' is not an integer in "
                                          "[1, 4096]",
                                    val);
    return HELION_EXIT_OK;
  }
  return HELION_CLI_NOT_SEARCH_FLAG;
}
