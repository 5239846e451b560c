/* editlib.c — dlopen() libedit for the interactive menu (see editlib.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <histedit.h>

#include "gateway/editlib.h"

#define EDITLIB_DEFINE(f) __typeof__(editlib_##f) editlib_##f;
EDITLIB_FUNCS(EDITLIB_DEFINE)
#undef EDITLIB_DEFINE

int
editlib_load(char *err, size_t errlen)
{
	static void	*handle;

	if (handle != NULL)
		return 0;
	if ((handle = dlopen(EDITLIB_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "cannot load %s (package libedit2): %s",
		    EDITLIB_SONAME, dlerror());
		return -1;
	}
#define EDITLIB_LOAD(f) \
	if ((editlib_##f = (__typeof__(editlib_##f))dlsym(handle, #f)) == \
	    NULL) { \
		snprintf(err, errlen, "%s: no symbol %s", EDITLIB_SONAME, #f); \
		dlclose(handle); \
		handle = NULL; \
		return -1; \
	}
	EDITLIB_FUNCS(EDITLIB_LOAD)
#undef EDITLIB_LOAD
	return 0;
}
