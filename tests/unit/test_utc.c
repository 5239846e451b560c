/* test_utc.c — ISO 8601 times in UTC, and durations before now. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "gateway/utc.h"

#define NOW	1795465478LL	/* 2026-11-23T20:24:38Z */

static long long
parsed(const char *s)
{
	long long	t = -42;

	assert_int_equal(utc_parse(s, NOW, &t), 0);
	return t;
}

static void
test_format(void **state)
{
	char	buf[UTC_ISO_LEN];

	utc_format(NOW, buf);
	assert_string_equal(buf, "2026-11-23T20:24:38Z");
	utc_format(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	utc_format(UTC_MAX, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	utc_format(UTC_MAX + 1, buf);
	assert_string_equal(buf, "-");
	utc_format(-1, buf);
	assert_string_equal(buf, "-");
}

static void
test_dates_and_times(void **state)
{
	assert_int_equal(parsed("2026-11-23"), 1795392000LL);
	assert_int_equal(parsed("2026-11-23T20:24:38Z"), NOW);
	assert_int_equal(parsed("1970-01-01"), 0);
	assert_int_equal(parsed("2028-02-29"), 1835395200LL);
	assert_int_equal(parsed("9999-12-31T23:59:59Z"), UTC_MAX);
}

static void
test_durations_before_now(void **state)
{
	assert_int_equal(parsed("7d"), NOW - 7 * 86400);
	assert_int_equal(parsed("12h"), NOW - 12 * 3600);
	assert_int_equal(parsed("30m"), NOW - 1800);
	assert_int_equal(parsed("45s"), NOW - 45);
	assert_int_equal(parsed("0"), NOW);
}

static void
test_refused(void **state)
{
	static const char *bad[] = {
		"", "today", "2026-11-2", "2026-11-230", "2026-13-01",
		"2026-00-10", "2026-02-30", "2027-02-29", "2026-11-31",
		"1969-12-31", "2026/11/23", "2026-11-23T24:00:00Z",
		"2026-11-23T20:60:00Z", "2026-11-23T20:24:60Z",
		"2026-11-23T20:24:38", "2026-11-23t20:24:38z",
		"2026-11-23 20:24:38Z", "2026-11-23T20:24:38+01",
		"+026-11-23", "2026-1a-23", "7", "7w", "-7d", "7d ", " 7d",
		"99999999999d", "2026-11-23T20:24:38Z\n",
	};
	long long	t = -42;
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (utc_parse(bad[i], NOW, &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(t, -42);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_dates_and_times),
		cmocka_unit_test(test_durations_before_now),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
