/* test_slots.c — attach caps through flock()ed slot files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "gateway/slots.h"

static char	dir[64];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/mgt-slots-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	return unit_rmtree(dir) == 0 ? 0 : -1;
}

static void
info(struct slot_info *i, const char *identity, const char *session)
{
	memset(i, 0, sizeof(*i));
	i->attach_id = "0123456789abcdef";
	i->identity = identity;
	i->mode = "watch";
	i->host = "bastion";
	i->user = "deploy";
	i->session = session;
	i->since = 1732300000;
}

static void
test_per_identity_limit(void **state)
{
	struct slot_info	i;
	struct slot		s[3];
	char			err[256];

	info(&i, "alice", "a");
	assert_int_equal(slots_acquire(dir, 2, 10, &i, &s[0], err,
	    sizeof(err)), SLOTS_OK);
	assert_int_equal(slots_acquire(dir, 2, 10, &i, &s[1], err,
	    sizeof(err)), SLOTS_OK);
	assert_int_equal(slots_acquire(dir, 2, 10, &i, &s[2], err,
	    sizeof(err)), SLOTS_FULL);
	assert_non_null(strstr(err, "attaches_per_identity"));
	/* Another identity still gets in. */
	info(&i, "bob", "b");
	assert_int_equal(slots_acquire(dir, 2, 10, &i, &s[2], err,
	    sizeof(err)), SLOTS_OK);
	slots_release(&s[2]);
	/* Released slots are free again. */
	slots_release(&s[0]);
	info(&i, "alice", "a");
	assert_int_equal(slots_acquire(dir, 2, 10, &i, &s[0], err,
	    sizeof(err)), SLOTS_OK);
	slots_release(&s[0]);
	slots_release(&s[1]);
}

static void
test_total_limit(void **state)
{
	struct slot_info	i;
	struct slot		a, b;
	char			err[256];

	info(&i, "alice", "a");
	assert_int_equal(slots_acquire(dir, 5, 1, &i, &a, err, sizeof(err)),
	    SLOTS_OK);
	info(&i, "bob", "b");
	assert_int_equal(slots_acquire(dir, 5, 1, &i, &b, err, sizeof(err)),
	    SLOTS_FULL);
	assert_non_null(strstr(err, "attaches_total"));
	/* A refused total gives its identity slot back. */
	slots_release(&a);
	assert_int_equal(slots_acquire(dir, 1, 1, &i, &b, err, sizeof(err)),
	    SLOTS_OK);
	slots_release(&b);
}

static void
test_dead_process_frees_its_slot(void **state)
{
	struct slot_info	i;
	struct slot		s;
	char			err[256];
	int			p[2], status;
	pid_t			pid;
	char			c;

	info(&i, "alice", "a");
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (slots_acquire(dir, 1, 1, &i, &s, err, sizeof(err)) != SLOTS_OK)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(slots_acquire(dir, 1, 1, &i, &s, err, sizeof(err)),
	    SLOTS_FULL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_int_equal(slots_acquire(dir, 1, 1, &i, &s, err, sizeof(err)),
	    SLOTS_OK);
	slots_release(&s);
}

static void
test_viewers(void **state)
{
	struct slot_info	i;
	struct slot		s;
	struct viewers		v;
	char			err[256];

	info(&i, "alice", "build");
	assert_int_equal(slots_acquire(dir, 5, 5, &i, &s, err, sizeof(err)),
	    SLOTS_OK);
	slots_viewers(dir, &v);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.v[0].identity, "alice");
	assert_string_equal(v.v[0].mode, "watch");
	assert_string_equal(v.v[0].session, "build");
	assert_int_equal(v.v[0].since, 1732300000);
	viewers_free(&v);
	slots_release(&s);
	slots_viewers(dir, &v);
	assert_int_equal(v.n, 0);
	viewers_free(&v);
}

static void
test_refuses_open_state_dir(void **state)
{
	struct slot_info	i;
	struct slot		s;
	char			err[256], open_dir[128];

	snprintf(open_dir, sizeof(open_dir), "%s/open", dir);
	assert_int_equal(mkdir(open_dir, 0700), 0);
	assert_int_equal(chmod(open_dir, 0777), 0);
	info(&i, "alice", "a");
	assert_int_equal(slots_acquire(open_dir, 5, 5, &i, &s, err,
	    sizeof(err)), SLOTS_ERROR);
	assert_non_null(strstr(err, "refusing"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_per_identity_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_total_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_process_frees_its_slot,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_viewers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_open_state_dir, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
