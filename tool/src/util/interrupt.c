/*
 * interrupt.c: the interrupt flag set by SIGINT/SIGTERM (interrupt.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "util/interrupt.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>

static volatile sig_atomic_t pending;
static struct sigaction saved_int, saved_term;
static bool installed;

/* Async-signal-safe: a store and sigaction(). The default actions go back
 * first thing, so the next signal of either kind is not caught. */
static void on_signal(int sig) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGINT, &dfl, NULL);
  sigaction(SIGTERM, &dfl, NULL);
  pending = sig;
}

void helion_interrupt_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  pending = 0;
  /* A signal ignored on entry (nohup, a background job of a script) stays
   * ignored: whoever started us chose that. */
  sigaction(SIGINT, NULL, &saved_int);
  sigaction(SIGTERM, NULL, &saved_term);
  if (saved_int.sa_handler != SIG_IGN)
    sigaction(SIGINT, &sa, NULL);
  if (saved_term.sa_handler != SIG_IGN)
    sigaction(SIGTERM, &sa, NULL);
  installed = true;
}

void helion_interrupt_restore(void) {
  if (!installed)
    return;
  sigaction(SIGINT, &saved_int, NULL);
  sigaction(SIGTERM, &saved_term, NULL);
  installed = false;
}

int helion_interrupted(void) {
  return pending;
}

void helion_interrupt_set(int sig) {
  pending = sig;
}

int helion_interrupt_exit_code(int sig) {
  return 128 + sig;
}

const char *helion_interrupt_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}
