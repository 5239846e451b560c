/*
 * test_relay.c — relay_winsize(): the terminal size a session is given,
 * whatever size the user's terminal claims.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <sys/ioctl.h>

#include "gateway/relay.h"

static struct winsize
ws_of(unsigned cols, unsigned rows, unsigned xpix, unsigned ypix)
{
	struct winsize	ws = { 0 };

	ws.ws_col = (unsigned short)cols;
	ws.ws_row = (unsigned short)rows;
	ws.ws_xpixel = (unsigned short)xpix;
	ws.ws_ypixel = (unsigned short)ypix;
	return ws;
}

static void
test_usual_sizes_kept(void **state)
{
	struct winsize	ws;

	(void)state;
	ws = ws_of(80, 24, 640, 480);
	assert_true(relay_winsize(&ws));
	assert_int_equal(ws.ws_col, 80);
	assert_int_equal(ws.ws_row, 24);
	assert_int_equal(ws.ws_xpixel, 640);
	ws = ws_of(1, 1, 0, 0);
	assert_true(relay_winsize(&ws));
	assert_int_equal(ws.ws_col, 1);
	assert_int_equal(ws.ws_row, 1);
	ws = ws_of(RELAY_MAX_COLS, RELAY_MAX_ROWS, 0, 0);
	assert_true(relay_winsize(&ws));
	assert_int_equal(ws.ws_col, RELAY_MAX_COLS);
	assert_int_equal(ws.ws_row, RELAY_MAX_ROWS);
}

static void
test_zero_is_no_size(void **state)
{
	struct winsize	ws;

	(void)state;
	ws = ws_of(0, 0, 0, 0);
	assert_false(relay_winsize(&ws));
	ws = ws_of(0, 65535, 0, 0);
	assert_false(relay_winsize(&ws));
	ws = ws_of(65535, 0, 0, 0);
	assert_false(relay_winsize(&ws));
}

static void
test_huge_sizes_clamped(void **state)
{
	struct winsize	ws;

	(void)state;
	ws = ws_of(65535, 65535, 65535, 65535);
	assert_true(relay_winsize(&ws));
	assert_int_equal(ws.ws_col, RELAY_MAX_COLS);
	assert_int_equal(ws.ws_row, RELAY_MAX_ROWS);
	assert_int_equal(ws.ws_xpixel, 0);
	assert_int_equal(ws.ws_ypixel, 0);
	ws = ws_of(RELAY_MAX_COLS + 1, 24, 0, 0);
	assert_true(relay_winsize(&ws));
	assert_int_equal(ws.ws_col, RELAY_MAX_COLS);
	assert_int_equal(ws.ws_row, 24);
	ws = ws_of(80, 10000, 0, 0);
	assert_true(relay_winsize(&ws));
	assert_int_equal(ws.ws_col, 80);
	assert_int_equal(ws.ws_row, RELAY_MAX_ROWS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usual_sizes_kept),
		cmocka_unit_test(test_zero_is_no_size),
		cmocka_unit_test(test_huge_sizes_clamped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
