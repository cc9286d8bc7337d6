/*
 * llm_request.c: one LLM request from the command line, so
 * tests/cli/test_llm_transport.sh can drive the transport (llm_transport.c)
 * against tests/tools/fake_llm_server.py.
 *
 *   llm_request ROLE TEXT [ROLE TEXT]...
 *
 * The settings come from the environment (HELION_LLM_*). On success the
 * model's text goes to stdout, then exit 0. On failure one line
 * "error <code> (<status text>): <message>" goes to stderr, then exit 1 (the
 * request failed) or 2 (the settings were refused).
 */
#include <stdio.h>
#include <stdlib.h>

#include "llm/llm.h"

int main(int argc, char **argv) {
  if (argc < 3 || (argc - 1) % 2 != 0) {
    fprintf(stderr, "usage: llm_request ROLE TEXT [ROLE TEXT]...\n");
    return 2;
  }
  size_t n = (size_t)(argc - 1) / 2;
  helion_llm_message_t msgs[64];
  if (n > 64)
    return 2;
  for (size_t i = 0; i < n; i++) {
    msgs[i].role = argv[1 + 2 * i];
    msgs[i].text = argv[2 + 2 * i];
  }
  helion_llm_settings_t s;
  helion_err_t err = {{0}};
  helion_status rc = helion_llm_settings_from_env(&s, &err);
  if (rc) {
    fprintf(stderr, "error %d (%s): %s\n", (int)rc, helion_status_str(rc),
            err.msg);
    return 2;
  }
  char *text = NULL;
  rc = helion_llm_request(&s, msgs, n, &text, &err);
  int code = 0;
  if (rc) {
    fprintf(stderr, "error %d (%s): %s\n", (int)rc, helion_status_str(rc),
            err.msg);
    code = 1;
  } else {
    fputs(text, stdout);
    free(text);
  }
  helion_llm_settings_cleanup(&s);
  return code;
}
