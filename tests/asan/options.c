/*
 * options.c — the sanitizers' run-time options, built into muxgate and
 * the unit tests by `make SANITIZE=1` (tests/run-asan).  sshd starts
 * muxgate with a clean environment, so ASAN_OPTIONS cannot reach it:
 * these are the defaults, and an ASAN_OPTIONS or UBSAN_OPTIONS that is
 * set still overrides them.
 *
 * Every report goes to a file under /tmp/mgt-asan/ (one per process) that
 * tests/run-asan creates for the run and reads afterwards: a report on
 * stderr would go to the SSH client, where no test looks for it.  Leaks
 * are left to the unit tests (valgrind, and LeakSanitizer there): the
 * program is not dumpable, which LeakSanitizer's stop-the-world needs.
 */
const char	*__asan_default_options(void);
const char	*__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "log_path=/tmp/mgt-asan/asan:detect_leaks=0:"
	    "abort_on_error=0:exitcode=86:check_initialization_order=1:"
	    "strict_string_checks=1:detect_stack_use_after_return=1";
}

const char *
__ubsan_default_options(void)
{
	return "log_path=/tmp/mgt-asan/ubsan:print_stacktrace=1:"
	    "halt_on_error=1:exitcode=86";
}
