/* cmd_check.c: `helion-tune check` (not written yet). */
#include <stdio.h>

#include "cli.h"

int helion_cmd_check(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "helion-tune check: not implemented yet\n");
  return HELION_EXIT_FAILURE;
}
