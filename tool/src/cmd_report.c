/* cmd_report.c: `helion-tune report` (not written yet). */
#include <stdio.h>

#include "cli.h"

int helion_cmd_report(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "helion-tune report: not implemented yet\n");
  return HELION_EXIT_FAILURE;
}
