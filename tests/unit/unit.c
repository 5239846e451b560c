/* unit.c — helpers shared by the unit tests. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"

struct policy *
unit_policy(const char *text)
{
	char			 path[] = "/tmp/mgt-unit-XXXXXX.yaml";
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;
	size_t			 i, len = strlen(text);
	int			 fd;

	if ((fd = mkstemps(path, 5)) == -1)
		return NULL;
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	p = policy_load(path, &errs);
	unlink(path);
	for (i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msgs[i]);
	policy_errors_free(&errs);
	return p;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path);
}

int
unit_rmtree(const char *dir)
{
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
