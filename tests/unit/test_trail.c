/*
 * test_trail.c — reading muxgate's attach records back (gateway/trail.c):
 * raw auditd lines, syslog lines, other programs' records, and values a
 * user chose (a session name) that try to pass for fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gateway/trail.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static void
test_raw_auditd_lines(void **state)
{
	struct trail_rec	r;

	assert_int_equal(trail_parse("type=USER_END msg=audit(1764900000.123:"
	    "42): pid=7 uid=1001 auid=4294967295 ses=4294967295 msg='op=muxgate"
	    "-attach-end identity=\"alice\" key=\"SHA256:x\" host=\"bastion\" "
	    "tmux_user=\"deploy\" session=\"s1\" attach=\"00112233aabbccdd\" "
	    "attach_mode=\"attach\" recording=\"/r/a.cast\" rec_hash=\"" HASH
	    "\" bytes_in=3 bytes_out=900 duration=12 rec_bytes=4096 "
	    "reason=\"detach\" exe=\"/usr/bin/muxgate\" hostname=? addr=? "
	    "terminal=pts/1 res=success'", &r), 1);
	assert_int_equal(r.kind, TRAIL_END);
	assert_string_equal(r.attach, "00112233aabbccdd");
	assert_string_equal(r.hash, HASH);
	assert_int_equal(r.bytes, 4096);
	assert_int_equal(r.duration, 12);
	assert_true(r.success);

	assert_int_equal(trail_parse("type=USER_START msg=audit(1.0:1): pid=7 "
	    "msg='op=muxgate-attach-start attach=\"00112233aabbccdd\" "
	    "rec_hash=\"" HASH "\" rec_bytes=300 res=success'", &r), 1);
	assert_int_equal(r.kind, TRAIL_START);
	assert_int_equal(r.duration, -1);
	assert_int_equal(trail_parse("type=TRUSTED_APP msg=audit(1.0:2): "
	    "msg='op=muxgate-attach-checkpoint attach=\"00112233aabbccdd\" "
	    "rec_hash=\"" HASH "\" duration=60 rec_bytes=9000 res=success'",
	    &r), 1);
	assert_int_equal(r.kind, TRAIL_CHECKPOINT);
	assert_int_equal(r.bytes, 9000);
}

static void
test_syslog_line(void **state)
{
	struct trail_rec	r;

	assert_int_equal(trail_parse("<85>Dec  5 02:00:00 muxgate[7]: "
	    "type=USER_END op=muxgate-attach-end attach=\"00112233aabbccdd\" "
	    "rec_hash=\"" HASH "\" rec_bytes=10 res=failed", &r), 1);
	assert_int_equal(r.kind, TRAIL_END);
	assert_false(r.success);
}

static void
test_not_ours_or_not_anchored(void **state)
{
	struct trail_rec	r;
	static const char *const lines[] = {
		"",
		"type=USER_START msg=audit(1.0:1): pid=1 msg='op=PAM:session_open "
		    "acct=\"root\" res=success'",
		/* An attach without a recording: nothing to anchor. */
		"msg='op=muxgate-attach-start attach=\"00112233aabbccdd\" "
		    "recording=\"none\" res=success'",
		"msg='op=muxgate-ls identity=\"a\" res=success'",
		/* Malformed values. */
		"msg='op=muxgate-attach-end attach=\"0011\" rec_hash=\"" HASH
		    "\" rec_bytes=1'",
		"msg='op=muxgate-attach-end attach=\"00112233aabbccdd\" "
		    "rec_hash=\"ABCDEF\" rec_bytes=1'",
		"msg='op=muxgate-attach-end attach=\"00112233aabbccdd\" "
		    "rec_hash=\"" HASH "\" rec_bytes=-1'",
		"msg='op=muxgate-attach-end attach=\"00112233aabbccdd\" "
		    "rec_hash=\"" HASH "\" rec_bytes=99999999999999999999999'",
		"msg='op=muxgate-attach-end attach=\"00112233aabbccdd\" "
		    "rec_hash=\"" HASH "\"",
		"msg='op=muxgate-attach-end attach=\"00112233aabbccdd\" "
		    "rec_hash=\"" HASH,
		NULL
	};
	size_t	i;

	for (i = 0; lines[i] != NULL; i++)
		assert_int_equal(trail_parse(lines[i], &r), 0);
}

/*
 * A session name holding " attach=... rec_hash=..." is hex-encoded by
 * libaudit (it has spaces and quotes), so the real fields are the ones
 * read; and a field name inside another name (attach_mode) is not it.
 */
static void
test_user_values_do_not_pass_for_fields(void **state)
{
	struct trail_rec	r;

	assert_int_equal(trail_parse("msg='op=muxgate-attach-end session="
	    "2061747461636820726563 attach_mode=\"ffffffffffffffff\" "
	    "attach=\"00112233aabbccdd\" rec_hash=\"" HASH "\" rec_bytes=5 "
	    "res=success'", &r), 1);
	assert_string_equal(r.attach, "00112233aabbccdd");
	assert_string_equal(r.hash, HASH);
	/* An op that only starts like ours. */
	assert_int_equal(trail_parse("msg='op=muxgate-attach-endx attach=\""
	    "00112233aabbccdd\" rec_hash=\"" OTHER "\" rec_bytes=5'", &r), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_auditd_lines),
		cmocka_unit_test(test_syslog_line),
		cmocka_unit_test(test_not_ours_or_not_anchored),
		cmocka_unit_test(test_user_values_do_not_pass_for_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
