/*
 * cli.h: the subcommands of helion-tune. Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit code:
 * 0 success, 1 failure, 2 usage error. Human output goes to stderr, machine
 * output (--json) to stdout.
 */
#ifndef HELION_CLI_H
#define HELION_CLI_H

#define HELION_EXIT_OK 0
#define HELION_EXIT_FAILURE 1
#define HELION_EXIT_USAGE 2

int helion_cmd_tune(int argc, char **argv);
int helion_cmd_check(int argc, char **argv);
int helion_cmd_space(int argc, char **argv);
int helion_cmd_simulate(int argc, char **argv);
int helion_cmd_report(int argc, char **argv);

/* True when argv[i] is -h or --help. */
int helion_cli_is_help(const char *arg);

#endif /* HELION_CLI_H */
