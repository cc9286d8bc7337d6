/* main.c: helion-tune's entry point: global options and subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "backend/bench_worker.h"
#include "cli/cli.h"
#include "helion/runtime.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"tune", helion_cmd_tune,
     "search a spec's configurations on the GPU and report the winners"},
    {"check", helion_cmd_check,
     "validate a kernel spec and NVRTC-compile its default config (no GPU)"},
    {"space", helion_cmd_space,
     "report the size of a spec's configuration space"},
    {"simulate", helion_cmd_simulate,
     "run a search against a recorded tuning landscape (no GPU)"},
    {"report", helion_cmd_report,
     "draw a search trace as an SVG chart"},
    {"cache", helion_cmd_cache,
     "list, show or delete the local best-config cache's entries"},
    {"results", helion_cmd_results,
     "list a spec's results file (<name>.tuned.json), stale entries marked"},
    {"distill", helion_cmd_distill,
     "fit a few configs and a shape dispatcher to many tuned shapes (GPU)"},
    {"generate", helion_cmd_generate,
     "write the header that launches a kernel with its tuned configs (no GPU)"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f) {
  fprintf(f, "usage: helion-tune [--version] [--help] <command> [<args>]\n\n"
             "Autotunes CUDA C kernels described by a JSON spec.\n\n"
             "Commands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nRun 'helion-tune <command> --help' for a command's options.\n"
             "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return HELION_EXIT_USAGE;
  }
  if (strcmp(argv[1], HELION_BENCH_WORKER_ARG) == 0)
    return helion_bench_worker_main(argc - 1, argv + 1);
  if (helion_cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return HELION_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("helion-tune %s\n", helion_version());
    return HELION_EXIT_OK;
  }
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "helion-tune: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return HELION_EXIT_USAGE;
}
