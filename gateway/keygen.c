/*
 * keygen.c — `muxgate keygen DIR`: make an auditor key pair for sealed
 * recordings (seal.h, docs/recording-format.md) in DIR and print its
 * fingerprint.  Meant to be run where the auditor keeps the secret key,
 * not on the gateway: only auditor.pub goes there.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/exitcode.h"
#include "gateway/keygen.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/seal.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate keygen DIR\n");
}

int
keygen_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	 fp[SEAL_FP_LEN], err[512], *e;
	int	 ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return MG_OK;
		default:
			error_msg("keygen: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (argc - optind != 1 || argv[optind][0] == '\0') {
		if (argc == optind || argv[optind][0] == '\0')
			error_msg("keygen: no directory given");
		else {
			e = out_escape(argv[optind + 1]);
			error_msg("keygen: one directory at a time, not also %s",
			    e);
			free(e);
		}
		usage(stderr);
		return MG_USAGE;
	}
	if (seal_keygen(argv[optind], fp, err, sizeof(err)) == -1) {
		e = out_escape(err);
		error_msg("keygen: %s", e);
		free(e);
		return MG_FAIL;
	}
	if (printf("%s\n", fp) < 0 || fflush(stdout) == EOF) {
		error_msg("keygen: standard output: %s", strerror(errno));
		return MG_FAIL;
	}
	return MG_OK;
}
