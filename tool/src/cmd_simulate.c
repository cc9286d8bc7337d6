/* cmd_simulate.c: `helion-tune simulate` (not written yet). */
#include <stdio.h>

#include "cli.h"

int helion_cmd_simulate(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "helion-tune simulate: not implemented yet\n");
  return HELION_EXIT_FAILURE;
}
