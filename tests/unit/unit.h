/* unit.h — helpers shared by the unit tests. */
#ifndef MUXGATE_UNIT_H
#define MUXGATE_UNIT_H

#include "policy/policy.h"

/*
 * Load a policy from TEXT through a temporary file; errors are printed
 * with cmocka's print_error.  NULL when it does not load.
 */
struct policy	*unit_policy(const char *text);
/* Remove DIR and everything below it (no shell); 0 or -1. */
int		 unit_rmtree(const char *dir);

#endif
