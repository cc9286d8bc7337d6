/* cmd_space.c: `helion-tune space` (not written yet). */
#include <stdio.h>

#include "cli.h"

int helion_cmd_space(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "helion-tune space: not implemented yet\n");
  return HELION_EXIT_FAILURE;
}
