/* fuzz_policy.c — the policy loader and schema on arbitrary files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		 path[64];
	struct policy_errors	 errs = { 0 };
	struct policy		*p;
	FILE			*fp;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/mgt-fuzz-policy-%ld.yaml",
		    (long)getpid());
	if ((fp = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	p = policy_load(path, &errs);
	/* Never a policy and errors at once. */
	if (p != NULL && errs.n != 0)
		abort();
	if (p == NULL && errs.n == 0)
		abort();
	policy_free(p);
	policy_errors_free(&errs);
	return 0;
}
