/*
 * editlib.h — libedit, loaded only by the interactive menu.
 *
 * Every other muxgate process (each `ssh gateway@bastion ls`, each attach
 * relay, each check) would otherwise map libedit and, through it,
 * libtinfo, libbsd and libmd: four of the eleven objects the dynamic
 * linker loads and relocates at every start, for a library only the menu
 * uses.  So menu.c reaches libedit through these pointers, filled by
 * editlib_load() with dlopen(); the names below stand for the pointers.
 */
#ifndef MUXGATE_EDITLIB_H
#define MUXGATE_EDITLIB_H

#include <stddef.h>
#include <stdio.h>
#include <histedit.h>

#define EDITLIB_SONAME "libedit.so.2"

/* Load libedit; -1 with ERR set when it cannot be. */
int	editlib_load(char *err, size_t errlen)
	    __attribute__((warn_unused_result));

#define EDITLIB_FUNCS(X) \
	X(el_end) \
	X(el_get) \
	X(el_gets) \
	X(el_init) \
	X(el_insertstr) \
	X(el_line) \
	X(el_set) \
	X(history) \
	X(history_end) \
	X(history_init)

#define EDITLIB_DECLARE(f) extern __typeof__(f) *editlib_##f;
EDITLIB_FUNCS(EDITLIB_DECLARE)
#undef EDITLIB_DECLARE

#define el_end		editlib_el_end
#define el_get		editlib_el_get
#define el_gets		editlib_el_gets
#define el_init		editlib_el_init
#define el_insertstr	editlib_el_insertstr
#define el_line		editlib_el_line
#define el_set		editlib_el_set
#define history		editlib_history
#define history_end	editlib_history_end
#define history_init	editlib_history_init

#endif
