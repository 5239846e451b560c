/*
 * testkey.h — the auditor key of the fuzzers that read sealed recordings
 * (fuzz_seal.c writes its corpus with it, fuzz_recording.c reads that
 * corpus): a test key, never used for anything else.
 */
#ifndef MUXGATE_FUZZ_TESTKEY_H
#define MUXGATE_FUZZ_TESTKEY_H

#include <stdio.h>
#include <stdlib.h>

#include "gateway/seal.h"

static const char TEST_KEY_TEXT[] =
    "muxgate-auditor-key Fxcg0d+nEWkgB8soggjdgOrpb4KHU4joe1dWFVXfHfE=\n";

static struct seal_secret *
test_key(void)
{
	static struct seal_secret	*key;
	char				 err[256];

	if (key == NULL && (key = seal_secret_parse(TEST_KEY_TEXT,
	    sizeof(TEST_KEY_TEXT) - 1, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz: the test key: %s\n", err);
		abort();
	}
	return key;
}

#endif
