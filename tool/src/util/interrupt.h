/*
 * interrupt.h: the interrupt flag: SIGINT or SIGTERM asks a long run to stop
 * at its next safe point instead of killing it mid-write.
 *
 * The CLI installs the handlers around a run (tune, simulate); the search
 * driver polls helion_interrupted() between evaluations, like its budget
 * check, and winds down with the best so far. The handler only stores the
 * signal in a volatile sig_atomic_t and puts back the default action of both
 * signals, so a second Ctrl-C (or SIGTERM) ends the process at once.
 * Children started by util/proc.h ignore SIGINT and live in their own
 * session: the parent decides what stops them.
 *
 * Process-wide state: one run at a time.
 */
#ifndef HELION_INTERRUPT_H
#define HELION_INTERRUPT_H

/* Catches SIGINT and SIGTERM (SA_RESTART, so stdio and waits go on) and
 * clears the flag. A signal ignored on entry (nohup, a script's background
 * job) is left ignored. */
void helion_interrupt_install(void);
/* Puts back the actions helion_interrupt_install() replaced; the flag is
 * kept so the caller can still read it. */
void helion_interrupt_restore(void);
/* The signal that asked the run to stop (SIGINT, SIGTERM), 0 if none. */
int helion_interrupted(void);
/* Sets the flag as the handler would (tests; a caller that wants a run to
 * wind down). 0 clears it. */
void helion_interrupt_set(int sig);
/* The exit status of a process stopped by `sig`, as a shell reports one
 * killed by it: 128 + sig (130 for SIGINT, 143 for SIGTERM). */
int helion_interrupt_exit_code(int sig);
/* "SIGINT", "SIGTERM", else "a signal". */
const char *helion_interrupt_name(int sig);

#endif /* HELION_INTERRUPT_H */
