/*
 * tree.c — the policy file as a tree of YAML nodes, built from libyaml's
 * events, for schema.c.
 *
 * libyaml's own loader (yaml_parser_load) gives every node a yaml_node_t
 * of about a hundred bytes, a copy of its tag and, for each list and
 * mapping, room for sixteen children: for a policy of 20,000 identities
 * that is some 40 MB, which took four times as long to build and free as
 * parsing the file did.  Here a node is 24 bytes, the children of every
 * list and mapping are indexes in one shared array, and the scalars' bytes
 * are copied into large blocks.  What the loader checks is kept, with its
 * messages: an alias must name an anchor defined before it, an anchor may
 * not be defined twice in a document, and an alias stands for the very
 * node of its anchor, not a copy.  Like the loader, this is not recursive.
 *
 * Unlike the loader, it bounds what a file can make the schema do
 * (policy.h): lists and mappings nest at most POLICY_MAX_DEPTH deep, a
 * scalar is at most POLICY_MAX_SCALAR bytes, an alias may not stand for
 * a list or mapping that holds it, and all the aliases of the file
 * together may stand for at most POLICY_MAX_ALIASED: as the schema walks
 * an aliased node once for each alias of it, an anchored list of aliases
 * of anchored lists of aliases ("billion laughs") would otherwise make
 * it walk, and copy, exponentially many nodes.  Anchors are found through
 * a hash table, so that many of them cannot make aliases quadratic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <yaml.h>

#include "policy/policy-int.h"

/* The messages below spell these out. */
_Static_assert(POLICY_MAX_DEPTH == 64, "tree.c's depth message");
_Static_assert(POLICY_MAX_SCALAR == 65536, "tree.c's scalar message");
_Static_assert(POLICY_MAX_ALIASED == 16777216, "tree.c's alias message");

/* An anchor's weight while its list or mapping is still open. */
#define WEIGHT_OPEN	UINT64_MAX

/*
 * Scalars are copied into blocks of this size, or larger for a long one:
 * large enough that malloc(3) maps each on its own, so that the pages of
 * a block are only touched as it fills.
 */
#define TEXT_BLOCK	(256 * 1024)

struct text_block {
	struct text_block	*next;
	size_t			 used;
	size_t			 size;
	char			 data[];
};

/*
 * The weight of a node is what walking it costs: POLICY_NODE_WEIGHT for
 * it and for each node under it, through aliases too, plus the length
 * of each scalar among them.
 */
struct anchor {
	char		*name;
	uint32_t	 node;
	uint64_t	 weight;	/* WEIGHT_OPEN until its end */
};

/* A list or mapping whose end event has not come yet. */
struct open_node {
	uint32_t	 node;
	size_t		 first;		/* its first in pending */
	uint64_t	 weight;	/* of its children so far */
	size_t		 anchor;	/* its anchor + 1, or 0 */
};

/*
 * Where and why building failed: libyaml's parser (a syntax error), or
 * the rules above (LIMIT: a bound of this file, not a syntax error).
 */
struct build_error {
	const char	*problem;
	const char	*context;
	size_t		 line;
	size_t		 column;
	bool		 limit;
};

struct build {
	struct tree		*t;
	/* The children of every open list and mapping, in order. */
	uint32_t		*pending;
	size_t			 npending;
	size_t			 pending_cap;
	struct open_node	*open;
	size_t			 nopen;
	struct anchor		*anchors;
	size_t			 nanchors;
	/* Anchors by name: the index + 1 of each, 0 for a free slot. */
	size_t			*slots;
	size_t			 nslots;	/* a power of two, or 0 */
	unsigned char		 hashkey[crypto_shorthash_KEYBYTES];
	uint64_t		 aliased;	/* the weight of every alias */
	struct build_error	 err;
};

/* P, which has room for *CAP elements of SIZE bytes, with room for NEED. */
static void *
reserve(void *p, size_t *cap, size_t need, size_t size)
{
	size_t	n = *cap == 0 ? 64 : *cap;

	if (need <= *cap)
		return p;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			abort();
		n *= 2;
	}
	*cap = n;
	return preallocarray(p, n, size);
}

static const char *
text_add(struct tree *t, const unsigned char *s, size_t len)
{
	struct text_block	*b = t->text;
	char			*r;

	if (b == NULL || b->size - b->used < len + 1) {
		if (len >= SIZE_MAX - sizeof(*b) - TEXT_BLOCK)
			abort();
		b = preallocarray(NULL, 1, sizeof(*b) + (len < TEXT_BLOCK ?
		    TEXT_BLOCK : len + 1));
		b->size = len < TEXT_BLOCK ? TEXT_BLOCK : len + 1;
		if (t->big)
			pprefault(b->data, b->size);
		b->used = 0;
		b->next = t->text;
		t->text = b;
	}
	r = b->data + b->used;
	memcpy(r, s, len);
	r[len] = '\0';
	b->used += len + 1;
	return r;
}

static void
build_fail(struct build *b, const char *problem, const char *context,
    const yaml_mark_t *mark)
{
	b->err.problem = problem;
	b->err.context = context;
	b->err.line = mark->line;
	b->err.column = mark->column;
	b->err.limit = false;
}

/* A bound of the file passed: PROBLEM is the whole message. */
static void
limit_fail(struct build *b, const char *problem, const yaml_mark_t *mark)
{
	build_fail(b, problem, NULL, mark);
	b->err.limit = true;
}

/* Another child of the innermost open list or mapping, if any. */
static void
add_child(struct build *b, uint32_t node, uint64_t weight)
{
	if (b->nopen == 0)
		return;
	b->pending = reserve(b->pending, &b->pending_cap, b->npending + 1,
	    sizeof(*b->pending));
	b->pending[b->npending++] = node;
	b->open[b->nopen - 1].weight += weight;
}

/* The slot of anchor NAME in the hash table: its own, or a free one. */
static size_t *
anchor_slot(struct build *b, const char *name)
{
	unsigned char	h[crypto_shorthash_BYTES];
	uint64_t	v;
	size_t		i, *slot;

	crypto_shorthash(h, (const unsigned char *)name, strlen(name),
	    b->hashkey);
	memcpy(&v, h, sizeof(v));
	for (i = v & (b->nslots - 1);; i = (i + 1) & (b->nslots - 1)) {
		slot = &b->slots[i];
		if (*slot == 0 || strcmp(b->anchors[*slot - 1].name, name) == 0)
			return slot;
	}
}

/* Room in the hash table for one more anchor: at most half full. */
static void
anchor_grow(struct build *b)
{
	size_t	i;

	if (b->nslots != 0 && b->nanchors + 1 <= b->nslots / 2)
		return;
	if (b->nslots == 0) {
		if (sodium_init() < 0)
			abort();
		randombytes_buf(b->hashkey, sizeof(b->hashkey));
	}
	if (b->nslots > SIZE_MAX / 4)
		abort();
	b->nslots = b->nslots == 0 ? 64 : b->nslots * 2;
	free(b->slots);
	b->slots = pcalloc(b->nslots, sizeof(*b->slots));
	for (i = 0; i < b->nanchors; i++)
		*anchor_slot(b, b->anchors[i].name) = i + 1;
}

/* Anchor NAME on NODE, whose weight is WEIGHT (WEIGHT_OPEN: not known). */
static int
add_anchor(struct build *b, const yaml_char_t *name, uint32_t node,
    uint64_t weight, const yaml_mark_t *mark)
{
	size_t	*slot;

	if (name == NULL)
		return 0;
	anchor_grow(b);
	slot = anchor_slot(b, (const char *)name);
	if (*slot != 0) {
		build_fail(b, "second occurrence",
		    "found duplicate anchor; first occurrence", mark);
		return -1;
	}
	b->anchors = pgrowarray(b->anchors, b->nanchors, sizeof(*b->anchors));
	b->anchors[b->nanchors].name = pstrdup((const char *)name);
	b->anchors[b->nanchors].node = node;
	b->anchors[b->nanchors++].weight = weight;
	*slot = b->nanchors;
	return 0;
}

static int
add_alias(struct build *b, const yaml_event_t *ev)
{
	const char	*name = (const char *)ev->data.alias.anchor;
	struct anchor	*a;
	size_t		*slot;

	if (b->nslots == 0 || *(slot = anchor_slot(b, name)) == 0) {
		build_fail(b, "found undefined alias", NULL, &ev->start_mark);
		return -1;
	}
	a = &b->anchors[*slot - 1];
	if (a->weight == WEIGHT_OPEN) {
		limit_fail(b, "alias of a list or mapping that contains it",
		    &ev->start_mark);
		return -1;
	}
	/* Both at most 2^32 or so: no overflow. */
	b->aliased += a->weight;
	if (b->aliased > POLICY_MAX_ALIASED) {
		limit_fail(b, "aliases stand for more than 16777216 bytes of "
		    "the policy in all (each node counts 32 and each scalar "
		    "its length too)", &ev->start_mark);
		return -1;
	}
	add_child(b, a->node, a->weight);
	return 0;
}

static int
add_node(struct build *b, const yaml_event_t *ev)
{
	struct tree		*t = b->t;
	struct tree_node	*n;
	const yaml_char_t	*anchor;
	uint64_t		 weight;
	uint32_t		 i;

	if (t->nnodes >= UINT32_MAX) {
		build_fail(b, "too many nodes", NULL, &ev->start_mark);
		return -1;
	}
	t->nodes = reserve(t->nodes, &t->nodes_cap, t->nnodes + 1,
	    sizeof(*t->nodes));
	i = (uint32_t)t->nnodes++;
	n = &t->nodes[i];
	memset(n, 0, sizeof(*n));
	n->line = ev->start_mark.line > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)ev->start_mark.line;
	n->column = ev->start_mark.column > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)ev->start_mark.column;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.length > POLICY_MAX_SCALAR) {
			limit_fail(b, "scalar longer than 65536 bytes",
			    &ev->start_mark);
			return -1;
		}
		n->type = TREE_SCALAR;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->value = text_add(t, ev->data.scalar.value,
		    ev->data.scalar.length);
		n->len = (uint32_t)ev->data.scalar.length;
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		n->type = TREE_SEQUENCE;
		anchor = ev->data.sequence_start.anchor;
		break;
	default:
		n->type = TREE_MAPPING;
		anchor = ev->data.mapping_start.anchor;
		break;
	}
	if (n->type == TREE_SCALAR) {
		weight = POLICY_NODE_WEIGHT + n->len;
		if (add_anchor(b, anchor, i, weight, &ev->start_mark) == -1)
			return -1;
		add_child(b, i, weight);
		return 0;
	}
	if (b->nopen >= POLICY_MAX_DEPTH) {
		limit_fail(b, "lists and mappings nested deeper than 64 levels",
		    &ev->start_mark);
		return -1;
	}
	if (add_anchor(b, anchor, i, WEIGHT_OPEN, &ev->start_mark) == -1)
		return -1;
	/* Its weight goes to its parent at its end. */
	add_child(b, i, 0);
	b->open = pgrowarray(b->open, b->nopen, sizeof(*b->open));
	b->open[b->nopen].node = i;
	b->open[b->nopen].first = b->npending;
	b->open[b->nopen].weight = 0;
	b->open[b->nopen++].anchor = anchor != NULL ? b->nanchors : 0;
	return 0;
}

/* The end of the innermost list or mapping: its children move to kids. */
static void
close_node(struct build *b)
{
	struct tree		*t = b->t;
	struct open_node	*o = &b->open[--b->nopen];
	size_t			 n = b->npending - o->first;
	uint64_t		 weight = POLICY_NODE_WEIGHT + o->weight;

	/* Not with a file of at most POLICY_MAX_SIZE bytes. */
	if (t->nkids + n > UINT32_MAX)
		abort();
	t->kids = reserve(t->kids, &t->kids_cap, t->nkids + n,
	    sizeof(*t->kids));
	/* An empty list or mapping has nothing pending, maybe no array. */
	if (n > 0)
		memcpy(t->kids + t->nkids, b->pending + o->first,
		    n * sizeof(*t->kids));
	t->nodes[o->node].kids = (uint32_t)t->nkids;
	t->nodes[o->node].len = (uint32_t)n;
	t->nkids += n;
	b->npending = o->first;
	if (o->anchor != 0)
		b->anchors[o->anchor - 1].weight = weight;
	if (b->nopen > 0)
		b->open[b->nopen - 1].weight += weight;
}

static void
parser_fail(struct build *b, const yaml_parser_t *parser)
{
	build_fail(b, parser->problem != NULL ? parser->problem : "unknown",
	    parser->context, &parser->problem_mark);
}

/*
 * The nodes of one document, its DOCUMENT-START event already read,
 * through its DOCUMENT-END.
 */
static int
build_document(struct build *b, yaml_parser_t *parser)
{
	yaml_event_t	ev;
	int		r = 0;

	for (;;) {
		if (!yaml_parser_parse(parser, &ev)) {
			parser_fail(b, parser);
			return -1;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_ALIAS_EVENT:
			r = add_alias(b, &ev);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			r = add_node(b, &ev);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (b->nopen > 0) {
				close_node(b);
				break;
			}
			/* FALLTHROUGH */
		default:
			build_fail(b, "unexpected event", NULL, &ev.start_mark);
			r = -1;
			break;
		}
		yaml_event_delete(&ev);
		if (r == -1)
			return -1;
	}
}

static void
build_free(struct build *b)
{
	size_t	i;

	for (i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	free(b->slots);
	free(b->pending);
	free(b->open);
}

/* One document into T, or -1 with ERR set. */
static int
load_one(yaml_parser_t *parser, struct tree *t, struct build_error *err)
{
	struct build	b;
	int		r;

	memset(&b, 0, sizeof(b));
	b.t = t;
	r = build_document(&b, parser);
	*err = b.err;
	build_free(&b);
	return r;
}

/* The next event's type, or -1 with ERR set from the parser. */
static int
next_event(yaml_parser_t *parser, yaml_mark_t *mark, struct build_error *err)
{
	yaml_event_t	ev;
	int		type;

	if (!yaml_parser_parse(parser, &ev)) {
		err->problem = parser->problem != NULL ? parser->problem :
		    "unknown";
		err->context = parser->context;
		err->line = parser->problem_mark.line;
		err->column = parser->problem_mark.column;
		return -1;
	}
	type = ev.type;
	*mark = ev.start_mark;
	yaml_event_delete(&ev);
	return type;
}

/* ERR as one line of ERRS: a bound passed, or a syntax error. */
static void
report(const char *path, const struct build_error *err,
    struct policy_errors *errs)
{
	if (err->limit)
		perr_add(errs, path, err->line + 1, err->column + 1, "%s",
		    err->problem);
	else
		perr_add(errs, path, err->line + 1, err->column + 1,
		    "YAML syntax error: %s%s%s", err->problem,
		    err->context != NULL ? " " : "",
		    err->context != NULL ? err->context : "");
}

/*
 * After the document: nothing, or a second one, which is an error; but as
 * libyaml's loader read the whole of it, an error inside it is reported
 * instead, and without its context.
 */
static void
check_rest(const char *path, yaml_parser_t *parser,
    struct policy_errors *errs)
{
	struct build_error	 err;
	struct tree		 extra;
	yaml_mark_t		 mark;
	int			 type;

	memset(&extra, 0, sizeof(extra));
	memset(&err, 0, sizeof(err));
	err.problem = "unknown";
	if ((type = next_event(parser, &mark, &err)) == YAML_STREAM_END_EVENT)
		return;
	if (type == YAML_DOCUMENT_START_EVENT &&
	    load_one(parser, &extra, &err) == 0)
		perr_add(errs, path, mark.line + 1, mark.column + 1,
		    "more than one YAML document in the policy");
	else {
		err.context = NULL;
		report(path, &err, errs);
	}
	tree_free(&extra);
}

int
tree_load(const char *path, tree_read_fn read, void *arg, size_t size,
    struct tree *t, struct policy_errors *errs)
{
	yaml_parser_t		 parser;
	struct build_error	 err;
	yaml_mark_t		 mark;
	size_t			 nerrs = errs->total;
	int			 type;

	memset(t, 0, sizeof(*t));
	memset(&err, 0, sizeof(err));
	err.problem = "unknown";
	/*
	 * A guess at the size of the tree, one node for 16 bytes of YAML
	 * (a policy of identities with one key each has one for 17), so that
	 * its arrays do not have to be moved, and so touched again, as they
	 * grow; they are faulted in at once.
	 */
	t->nodes = reserve(NULL, &t->nodes_cap, size / 16, sizeof(*t->nodes));
	t->kids = reserve(NULL, &t->kids_cap, size / 16, sizeof(*t->kids));
	t->big = size >= TEXT_BLOCK;
	pprefault(t->nodes, t->nodes_cap * sizeof(*t->nodes));
	pprefault(t->kids, t->kids_cap * sizeof(*t->kids));
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input(&parser, read, arg);
	type = next_event(&parser, &mark, &err);
	if (type == YAML_STREAM_START_EVENT)
		type = next_event(&parser, &mark, &err);
	if (type == YAML_STREAM_END_EVENT)
		perr_add(errs, path, 1, 1, "empty policy");
	else if (type != YAML_DOCUMENT_START_EVENT ||
	    load_one(&parser, t, &err) == -1) {
		report(path, &err, errs);
	} else if (t->nnodes == 0)
		perr_add(errs, path, 1, 1, "empty policy");
	else
		check_rest(path, &parser, errs);
	yaml_parser_delete(&parser);
	if (errs->total == nerrs)
		return 0;
	tree_free(t);
	return -1;
}

void
tree_free(struct tree *t)
{
	struct text_block	*b, *next;

	for (b = t->text; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(t->nodes);
	free(t->kids);
	memset(t, 0, sizeof(*t));
}
