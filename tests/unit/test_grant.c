/*
 * test_grant.c — grants: their entry (grant.c) and their store
 * (grant-store.c, on a real file state in a temporary directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "gateway/grant.h"
#include "gateway/state.h"

#define T0	1800000000LL	/* 2027-01-15 */

static char	dir[64];

static void
fill(struct grant *g, enum grant_status status)
{
	memset(g, 0, sizeof(*g));
	g->requester = strdup("carol");
	g->action = POLICY_ATTACH;
	g->host = strdup("web1");
	g->user = strdup("deploy");
	g->session = strdup("build");
	g->duration = 3600;
	g->reason = strdup("INC-42: deploy is stuck");
	g->requested = T0;
	g->status = status;
	switch (status) {
	case GRANT_PENDING:
		break;
	case GRANT_ACTIVE:
		g->approver = strdup("alice");
		g->starts = g->decided = T0 + 60;
		g->ends = g->starts + g->duration;
		break;
	case GRANT_DENIED:
	case GRANT_REVOKED:
		g->by = strdup("alice");
		g->note = strdup("not now");
		g->decided = T0 + 60;
		break;
	case GRANT_EXPIRED:
		g->decided = T0 + GRANT_PENDING_FOR;
		break;
	}
}

static int
decode(const char *text, struct grant *g)
{
	char	err[256];

	return grant_decode("0123456789abcdef", (const unsigned char *)text,
	    strlen(text), g, err, sizeof(err));
}

static void
test_round_trip(void **state)
{
	enum grant_status	s;
	struct grant		g, back;
	char			*text, *again;

	for (s = GRANT_PENDING; s <= GRANT_EXPIRED; s++) {
		fill(&g, s);
		text = grant_encode(&g);
		assert_int_equal(decode(text, &back), 0);
		assert_int_equal(back.status, s);
		assert_string_equal(back.id, "0123456789abcdef");
		assert_string_equal(back.requester, "carol");
		assert_int_equal(back.action, POLICY_ATTACH);
		assert_string_equal(back.session, "build");
		assert_int_equal(back.duration, 3600);
		assert_int_equal(back.ends, g.ends);
		again = grant_encode(&back);
		assert_string_equal(text, again);
		free(text);
		free(again);
		grant_free(&g);
		grant_free(&back);
	}
	/* null session and reason */
	fill(&g, GRANT_ACTIVE);
	free(g.session);
	free(g.reason);
	g.session = g.reason = NULL;
	text = grant_encode(&g);
	assert_int_equal(decode(text, &back), 0);
	assert_null(back.session);
	assert_null(back.reason);
	free(text);
	grant_free(&g);
	grant_free(&back);
}

/* Every field replaced by something wrong is refused, and G left empty. */
static void
test_bad_entries(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "null", "{\"requester\":\"carol\"}",
		/* trailing bytes after the object */
		"@GOOD@x",
	};
	static const struct {
		const char	*from, *to;
	} edits[] = {
		{ "\"requester\":\"carol\"", "\"requester\":\"ca rol\"" },
		{ "\"requester\":\"carol\"", "\"requester\":null" },
		{ "\"action\":\"attach\"", "\"action\":\"root\"" },
		{ "\"host\":\"web1\"", "\"host\":\"web1;id\"" },
		{ "\"user\":\"deploy\"", "\"user\":\"-deploy\"" },
		{ "\"session\":\"build\"", "\"session\":\"a:b\"" },
		{ "\"session\":\"build\"", "\"session\":\"a\\u001b]52\"" },
		{ "\"duration\":3600", "\"duration\":0" },
		{ "\"duration\":3600", "\"duration\":\"3600\"" },
		{ "\"duration\":3600", "\"duration\":-5" },
		{ "\"status\":\"active\"", "\"status\":\"ACTIVE\"" },
		{ "\"status\":\"active\"", "\"status\":\"pending\"" },
		{ "\"status\":\"active\"", "\"status\":\"denied\"" },
		{ "\"ends\":1800003660", "\"ends\":1900003660" },
		{ "\"ends\":1800003660", "\"ends\":0" },
		{ "\"reason\":\"INC-42: deploy is stuck\"",
		    "\"reason\":\"a\\nb\"" },
		{ "\"reason\":\"INC-42: deploy is stuck\"", "\"reason\":\"\"" },
		{ "\"requested\":1800000000", "\"requested\":5" },
		{ "\"decided\":1800000060", "\"decided\":1800000061" },
		{ "\"approver\":\"alice\"", "\"approver\":7" },
		{ "\"by\":null", "\"by\":\"alice\"" },
		{ "\"note\":null", "\"note\":null,\"x\":1" },
		{ "\"note\":null,", "" },
	};
	struct grant	 g;
	char		*good, *text, *at;
	size_t		 i, len;

	fill(&g, GRANT_ACTIVE);
	good = grant_encode(&g);
	grant_free(&g);
	assert_int_equal(decode(good, &g), 0);
	grant_free(&g);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (strncmp(bad[i], "@GOOD@", 6) == 0) {
			len = strlen(good);
			text = malloc(len + 2);
			memcpy(text, good, len);
			memcpy(text + len, bad[i] + 6, 2);
		} else
			text = strdup(bad[i]);
		assert_int_equal(decode(text, &g), -1);
		assert_null(g.requester);
		free(text);
	}
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		at = strstr(good, edits[i].from);
		if (at == NULL)
			fail_msg("%s not in %s", edits[i].from, good);
		len = strlen(good) - strlen(edits[i].from) + strlen(edits[i].to);
		text = calloc(1, len + 1);
		snprintf(text, len + 1, "%.*s%s%s", (int)(at - good), good,
		    edits[i].to, at + strlen(edits[i].from));
		if (decode(text, &g) != -1)
			fail_msg("accepted: %s", text);
		assert_null(g.requester);
		free(text);
	}
	free(good);
	assert_int_equal(grant_decode("0123", (const unsigned char *)"{}", 2,
	    &g, (char[64]){ 0 }, 64), -1);
}

static void
test_status_over_time(void **state)
{
	struct grant		 g;
	struct grant_list	 l = { 0 };
	struct policy_grant	*pg;
	size_t			 n;

	fill(&g, GRANT_PENDING);
	assert_int_equal(grant_status_at(&g, T0 + 10), GRANT_PENDING);
	assert_int_equal(grant_status_at(&g, grant_lapses(&g)), GRANT_EXPIRED);
	grant_free(&g);
	fill(&g, GRANT_ACTIVE);
	assert_int_equal(grant_status_at(&g, g.ends - 1), GRANT_ACTIVE);
	assert_int_equal(grant_status_at(&g, g.ends), GRANT_EXPIRED);
	l.v = calloc(2, sizeof(*l.v));
	l.v[0] = g;
	fill(&l.v[1], GRANT_REVOKED);
	l.n = 2;
	grant_in_force(&l, l.v[0].ends - 1, &pg, &n);
	assert_int_equal(n, 1);
	assert_string_equal(pg[0].id, l.v[0].id);
	assert_string_equal(pg[0].session, "build");
	free(pg);
	grant_in_force(&l, l.v[0].ends, &pg, &n);
	assert_int_equal(n, 0);
	free(pg);
	grant_list_free(&l);
}

static void
test_reasons(void **state)
{
	const char	*why;
	char		 longer[GRANT_REASON_MAX + 2];

	assert_true(grant_valid_reason("INC-42 — disk full", &why));
	assert_false(grant_valid_reason("", &why));
	assert_false(grant_valid_reason("a\x1b[2Jb", &why));
	assert_false(grant_valid_reason("a\xc2\x9b" "2J", &why));	/* C1 CSI */
	assert_false(grant_valid_reason("\xff", &why));
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_false(grant_valid_reason(longer, &why));
	longer[GRANT_REASON_MAX] = '\0';
	assert_true(grant_valid_reason(longer, &why));
}

static int
setup(void **state)
{
	struct state	*st;
	char		 err[256];

	snprintf(dir, sizeof(dir), "/tmp/mgt-grant-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if ((st = state_open(dir, err, sizeof(err))) == NULL)
		print_error("%s\n", err);
	*state = st;
	return st == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	state_close(*state);
	return unit_rmtree(dir) == 0 ? 0 : -1;
}

static void
test_store(void **state)
{
	struct state		*st = *state;
	struct grant		 g, a, b, mine;
	struct grant_list	 l;
	char			 err[256];

	fill(&g, GRANT_PENDING);
	g.requested = time(NULL);
	assert_int_equal(grants_add(st, &g, err, sizeof(err)), 0);
	assert_true(grant_valid_id(g.id));
	assert_int_equal(grants_pending(st, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, g.id);
	grant_list_free(&l);
	/* Two approvers read the same version; only the first write wins. */
	assert_int_equal(grants_find(st, g.id, &a, err, sizeof(err)), STATE_OK);
	assert_int_equal(grants_find(st, g.id, &b, err, sizeof(err)), STATE_OK);
	a.status = b.status = GRANT_ACTIVE;
	a.approver = strdup("alice");
	b.approver = strdup("bob");
	a.starts = a.decided = b.starts = b.decided = g.requested + 1;
	a.ends = b.ends = a.starts + a.duration;
	assert_int_equal(grants_update(st, &a, err, sizeof(err)), STATE_OK);
	assert_int_equal(grants_update(st, &b, err, sizeof(err)),
	    STATE_CONFLICT);
	assert_int_equal(grants_find(st, g.id, &mine, err, sizeof(err)),
	    STATE_OK);
	assert_string_equal(mine.approver, "alice");
	assert_int_equal(mine.status, GRANT_ACTIVE);
	grant_free(&mine);
	/* No longer pending: out of the index. */
	assert_int_equal(grants_pending(st, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	grant_list_free(&l);
	assert_int_equal(grants_of(st, "carol", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].status, GRANT_ACTIVE);
	grant_list_free(&l);
	/* A name that is a prefix of another's is not theirs. */
	assert_int_equal(grants_of(st, "caro", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	grant_list_free(&l);
	/* Nothing is stored that would not read back. */
	free(g.session);
	g.session = strdup("a\tb");
	assert_int_equal(grants_add(st, &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "session"));
	assert_int_equal(grants_of(st, "carol", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	grant_list_free(&l);
	assert_int_equal(grants_find(st, "ffffffffffffffff", &mine, err,
	    sizeof(err)), STATE_ABSENT);
	assert_int_equal(grants_find(st, "../../etc/passwd", &mine, err,
	    sizeof(err)), STATE_ABSENT);
	grant_free(&a);
	grant_free(&b);
	grant_free(&g);
}

/* Overwrite the file of KEY in the state by hand: the state refuses it. */
static void
hand_edit(const char *key)
{
	char	path[256], *p;
	FILE	*f;

	assert_true(snprintf(path, sizeof(path), "%s/kv/%s", dir, key) <
	    (int)sizeof(path));
	for (p = path + strlen(dir) + 4; *p != '\0'; p++)
		if (*p == '/')
			*p = '.';
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs("{\"status\":\"active\"}\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Is there an entry of L's bad list naming NAME? */
static bool
bad_names(const struct grant_list *l, const char *name)
{
	size_t	i;

	for (i = 0; i < l->nbad; i++)
		if (strstr(l->bad[i], name) != NULL)
			return true;
	return false;
}

/*
 * A corrupt grant is never a grant, and hides no other: one that is
 * written through the state but is not a grant, and one whose file was
 * edited by hand (the state refuses it), are left out of every listing
 * and named; the third request is still listed.
 */
static void
test_store_corrupt(void **state)
{
	struct state		*st = *state;
	struct grant		 g[3], back;
	struct grant_list	 l;
	char			 err[256], key[2][128];
	int			 i;

	for (i = 0; i < 3; i++) {
		fill(&g[i], GRANT_PENDING);
		g[i].requested = time(NULL);
		assert_int_equal(grants_add(st, &g[i], err, sizeof(err)), 0);
	}
	for (i = 0; i < 2; i++)
		snprintf(key[i], sizeof(key[i]), "grant/6361726f6c/%s",
		    g[i].id);
	assert_int_equal(state_put_if(st, key[0], "{\"status\":\"active\"}",
	    19, 0, STATE_ANY, NULL, err, sizeof(err)), STATE_OK);
	hand_edit(key[1]);
	assert_int_equal(grants_find(st, g[0].id, &back, err, sizeof(err)),
	    STATE_ERROR);
	assert_non_null(strstr(err, "bad field"));
	assert_int_equal(grants_find(st, g[1].id, &back, err, sizeof(err)),
	    STATE_ERROR);
	assert_non_null(strstr(err, "corrupt entry"));

	assert_int_equal(grants_pending(st, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, g[2].id);
	assert_int_equal(l.nbad, 2);
	assert_true(bad_names(&l, g[0].id));
	assert_true(bad_names(&l, key[1]));
	grant_list_free(&l);

	assert_int_equal(grants_of(st, "carol", &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, g[2].id);
	assert_int_equal(l.nbad, 2);
	assert_true(bad_names(&l, g[0].id));
	assert_true(bad_names(&l, key[1]));
	grant_list_free(&l);
	for (i = 0; i < 3; i++)
		grant_free(&g[i]);
}

/* What grants_retire() did: grants retired, entries refused. */
struct retired {
	int	calls;
	int	refused;
	char	why[2][256];
};

static void
count_refused(const char *why, void *arg)
{
	struct retired	*r = arg;

	if (r->refused < 2)
		snprintf(r->why[r->refused], sizeof(r->why[0]), "%s", why);
	r->refused++;
}

static void
count_retired(const struct grant *g, void *arg)
{
	assert_int_equal(g->status, GRANT_EXPIRED);
	((struct retired *)arg)->calls++;
}

/* muxgate reap's step: what has run out is written expired, once. */
static void
test_retire(void **state)
{
	struct state	*st = *state;
	struct grant	 lapsed, ended, live, late, back;
	struct retired	 calls = { 0 };
	long long	 now = time(NULL);
	char		 err[256], key[128], edited[128];
	size_t		 n;

	fill(&lapsed, GRANT_PENDING);
	lapsed.requested = now - GRANT_PENDING_FOR - 10;
	fill(&ended, GRANT_ACTIVE);
	ended.requested = now - 200;
	ended.starts = ended.decided = now - 100;
	ended.duration = 50;
	ended.ends = ended.starts + 50;
	fill(&live, GRANT_ACTIVE);
	live.requested = now - 10;
	live.starts = live.decided = now - 5;
	live.ends = live.starts + live.duration;
	assert_int_equal(grants_add(st, &lapsed, err, sizeof(err)), 0);
	assert_int_equal(grants_add(st, &ended, err, sizeof(err)), 0);
	assert_int_equal(grants_add(st, &live, err, sizeof(err)), 0);
	assert_int_equal(grants_retire(st, now, count_retired, count_refused,
	    &calls, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(calls.calls, 2);
	assert_int_equal(calls.refused, 0);
	assert_int_equal(grants_find(st, ended.id, &back, err, sizeof(err)),
	    STATE_OK);
	assert_int_equal(back.status, GRANT_EXPIRED);
	assert_int_equal(back.ends, ended.ends);
	grant_free(&back);
	assert_int_equal(grants_find(st, live.id, &back, err, sizeof(err)),
	    STATE_OK);
	assert_int_equal(back.status, GRANT_ACTIVE);
	grant_free(&back);
	/* Once only. */
	assert_int_equal(grants_retire(st, now, count_retired, count_refused,
	    &calls, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	/*
	 * An entry that is not a grant and one the state refuses are each
	 * said, and the others are still done.
	 */
	fill(&late, GRANT_ACTIVE);
	late.requested = now - 10;
	late.starts = late.decided = now - 5;
	late.ends = late.starts + late.duration;
	assert_int_equal(grants_add(st, &late, err, sizeof(err)), 0);
	snprintf(key, sizeof(key), "grant/6361726f6c/%s", live.id);
	assert_int_equal(state_put_if(st, key, "{}", 2, 0, STATE_ANY, NULL,
	    err, sizeof(err)), STATE_OK);
	snprintf(edited, sizeof(edited), "grant/6361726f6c/%s", ended.id);
	hand_edit(edited);
	assert_int_equal(grants_retire(st, now + 100000, count_retired,
	    count_refused, &calls, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(calls.refused, 2);
	assert_non_null(strstr(calls.why[0], edited));
	assert_non_null(strstr(calls.why[1], live.id));
	assert_int_equal(grants_find(st, late.id, &back, err, sizeof(err)),
	    STATE_OK);
	assert_int_equal(back.status, GRANT_EXPIRED);
	grant_free(&back);
	grant_free(&late);
	grant_free(&lapsed);
	grant_free(&ended);
	grant_free(&live);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_status_over_time),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test_setup_teardown(test_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_corrupt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
