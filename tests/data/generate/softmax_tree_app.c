/*
 * softmax_tree_app.c: a program built against a generated softmax_tuned.h
 * (from softmax_distilled.tuned.json) and the runtime library;
 * test_generate.sh feeds it distill_predict's lines ("device MAJOR
 * MINOR NAME", then "M N CONFIG_JSON" per shape: what the tool's tree
 * gives). For every shape it checks the generated tree (the desc's tree
 * fn) gives that config, and that helion_softmax_choose serves it: the
 * exact entry for a tuned shape, else the tree's config where it is legal,
 * else (legal fn says why) something other than the tree, with explain
 * naming the tree's config as passed over. Prints the counts; exit 0 when
 * everything agrees, else 1 with the first disagreements.
 */
#define HELION_IMPLEMENTATION
#include "softmax_tuned.h"

#include <stdio.h>
#include <string.h>

static int fails;

static void fail(long long m, long long n, const char *what) {
  if (fails++ < 10)
    printf("M=%lld N=%lld: %s\n", m, n, what);
}

/* The header's index of the config the tool printed; -1: none. */
static int config_of(const char *json) {
  for (unsigned c = 0; c < helion_softmax_desc.nconfigs; c++)
    if (strcmp(helion_softmax_desc.configs[c].text, json) == 0)
      return (int)c;
  return -1;
}

int main(void) {
  helion_device_t dev;
  char line[1024], json[1024], buf[4096], want_text[128];
  long long m, n;
  unsigned shapes = 0, tree = 0, exact = 0, illegal = 0;
  int group = -1;
  memset(&dev, 0, sizeof(dev));
  dev.num_sms = 132;
  dev.smem_per_block = 232448;
  if (!fgets(line, sizeof(line), stdin) ||
      sscanf(line, "device %d %d %255[^\n]", &dev.cc_major, &dev.cc_minor,
             dev.name) != 3) {
    printf("no device line\n");
    return 1;
  }
  if (helion_device_ladder(&helion_softmax_desc, &dev, &group) !=
      HELION_RUNG_DEVICE) {
    printf("the header has no group for %s\n", dev.name);
    return 1;
  }
  while (fgets(line, sizeof(line), stdin)) {
    if (sscanf(line, "%lld %lld %1023s", &m, &n, json) != 3) {
      fail(0, 0, "a line that does not read");
      continue;
    }
    shapes++;
    const int64_t key[2] = {m, n};
    int want = config_of(json);
    if (want < 0) {
      fail(m, n, "the tool's config is not in the header's table");
      continue;
    }
    if (helion_softmax_desc.tree((unsigned)group, key) != want)
      fail(m, n, "the generated tree disagrees with the tool's");
    helion_choice_t c;
    helion_status rc = helion_softmax_choose(&dev, m, n, &c);
    int legal = helion_softmax_desc.legal(want, &dev, key, NULL, 0);
    if (rc == HELION_OK && c.pick == HELION_PICK_EXACT) {
      exact++;
    } else if (legal) {
      tree++;
      if (rc != HELION_OK || c.pick != HELION_PICK_TREE || c.config != want)
        fail(m, n, "a legal tree config was not picked");
    } else {
      illegal++;
      if (c.pick == HELION_PICK_TREE)
        fail(m, n, "an illegal tree config was picked");
      helion_softmax_explain_on(&dev, m, n, buf, sizeof(buf));
      snprintf(want_text, sizeof(want_text),
               "passed over: the distilled tree's config %d, illegal here: ",
               want);
      if (!strstr(buf, want_text))
        fail(m, n, "explain does not name the tree's illegal config");
    }
  }
  printf("shapes %u, tree %u, exact %u, illegal %u, disagreements %d\n",
         shapes, tree, exact, illegal, fails);
  return fails || !shapes ? 1 : 0;
}
