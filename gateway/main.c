/*
 * main.c — one binary, subcommands.  Also the gateway account's login
 * shell: sshd runs a login shell as "-muxgate" (interactive) or
 * "muxgate -c COMMAND".
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "gateway/check.h"
#include "gateway/exitcode.h"
#include "gateway/keygen.h"
#include "gateway/keys.h"
#include "gateway/log.h"
#include "gateway/prune.h"
#include "gateway/reap.h"
#include "gateway/recordings.h"
#include "gateway/replay.h"
#include "gateway/verify.h"
#include "gateway/serve.h"
#include "gateway/shell.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: muxgate shell [-f CONFIG] [--identity NAME]\n"
	    "       muxgate -c COMMAND\n"
	    "       muxgate check [-f CONFIG] [--explain IDENTITY | --can "
	    "IDENTITY ACTION USER@HOST[:SESSION]]\n"
	    "       muxgate serve [-f CONFIG] [--listen ADDR:PORT] [--host-key FILE] [--user NAME] [--syslog]\n"
	    "       muxgate replay [--key KEY] [--speed N] [--idle-limit S] FILE | --cat FILE\n"
	    "       muxgate export [--key KEY] FILE\n"
	    "       muxgate prune --older-than DURATION [--dry-run] [-f CONFIG]\n"
	    "       muxgate reap [-f CONFIG]\n"
	    "       muxgate verify [--key KEY] [--audit-log FILE] RECORDING...\n"
	    "       muxgate keygen DIR\n"
	    "       muxgate keys [-f CONFIG] USER TYPE KEY | --all [-f CONFIG] | "
	    "--index [-f CONFIG]\n"
	    "       muxgate recordings [-f CONFIG | --dir DIR] [--identity NAME] "
	    "[--host H] [--user U]\n"
	    "                          [--session S] [--since TIME] [--until TIME] "
	    "[--json]\n"
	    "       muxgate --version | help\n");
}

static void
shell_usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate shell [-f CONFIG] [--identity NAME]\n");
}

static int
shell_cmd(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "identity", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*config = MUXGATE_DEFAULT_CONFIG, *identity = NULL;
	int		 ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'i': identity = optarg; break;
		case 'h': shell_usage(stdout); return MG_OK;
		case ':':
			error_msg("shell: %s needs a value", argv[optind - 1]);
			shell_usage(stderr);
			return MG_USAGE;
		default:
			error_msg("shell: bad option %s", argv[optind - 1]);
			shell_usage(stderr);
			return MG_USAGE;
		}
	}
	if (optind != argc) {
		error_msg("shell: unexpected argument %s", argv[optind]);
		shell_usage(stderr);
		return MG_USAGE;
	}
	return shell_main(config, identity, NULL);
}

int
main(int argc, char **argv)
{
	/*
	 * First of all: no process of the gateway account (or of whoever
	 * runs us) may ptrace us, read our memory through /proc/PID/mem or
	 * our environment through /proc/PID/environ, and no core file is
	 * written.  Our children start dumpable again at their execve.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		log_init("muxgate");
		error_fr(errno, "prctl PR_SET_DUMPABLE");
		return MG_FAIL;
	}
	umask(077);
	/* A closed client must not kill us half-way through a write. */
	signal(SIGPIPE, SIG_IGN);
	log_init("muxgate");
	/*
	 * Once, before anything hashes, seals or draws a random id: it picks
	 * libsodium's fastest code for this CPU (without it BLAKE2b runs the
	 * portable code) and opens its random source.
	 */
	if (sodium_init() < 0) {
		error_msg("cannot initialize libsodium");
		return MG_FAIL;
	}
	if (argv[0] != NULL && argv[0][0] == '-' && argc == 1)
		return shell_main(MUXGATE_DEFAULT_CONFIG, NULL, NULL);
	if (argc < 2) {
		error_msg("no subcommand");
		usage(stderr);
		return MG_USAGE;
	}
	if (strcmp(argv[1], "-c") == 0) {
		if (argc != 3) {
			error_msg("-c takes one COMMAND");
			usage(stderr);
			return MG_USAGE;
		}
		return shell_main(MUXGATE_DEFAULT_CONFIG, NULL, argv[2]);
	}
	if (strcmp(argv[1], "shell") == 0)
		return shell_cmd(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return replay_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "prune") == 0)
		return prune_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "reap") == 0)
		return reap_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "export") == 0)
		return export_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return verify_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "keygen") == 0)
		return keygen_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "keys") == 0)
		return keys_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "recordings") == 0)
		return recordings_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("muxgate %s\n", MUXGATE_VERSION);
		return MG_OK;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return MG_OK;
	}
	error_msg("unknown subcommand %s (try 'muxgate help')", argv[1]);
	return MG_USAGE;
}
