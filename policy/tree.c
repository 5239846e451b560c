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
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/policy-int.h"

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

struct anchor {
	char		*name;
	uint32_t	 node;
};

/* A list or mapping whose end event has not come yet. */
struct open_node {
	uint32_t	 node;
	size_t		 first;		/* its first in pending */
};

/* Where and why building failed: libyaml's parser, or the rules above. */
struct build_error {
	const char	*problem;
	const char	*context;
	size_t		 line;
	size_t		 column;
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
}

/* Another child of the innermost open list or mapping, if any. */
static void
add_child(struct build *b, uint32_t node)
{
	if (b->nopen == 0)
		return;
	b->pending = reserve(b->pending, &b->pending_cap, b->npending + 1,
	    sizeof(*b->pending));
	b->pending[b->npending++] = node;
}

static int
add_anchor(struct build *b, const yaml_char_t *name, uint32_t node,
    const yaml_mark_t *mark)
{
	size_t	i;

	if (name == NULL)
		return 0;
	/* As libyaml: anchors are rare, and looked up one by one. */
	for (i = 0; i < b->nanchors; i++)
		if (strcmp(b->anchors[i].name, (const char *)name) == 0) {
			build_fail(b, "second occurrence",
			    "found duplicate anchor; first occurrence", mark);
			return -1;
		}
	b->anchors = pgrowarray(b->anchors, b->nanchors, sizeof(*b->anchors));
	b->anchors[b->nanchors].name = pstrdup((const char *)name);
	b->anchors[b->nanchors++].node = node;
	return 0;
}

static int
add_alias(struct build *b, const yaml_event_t *ev)
{
	const char	*name = (const char *)ev->data.alias.anchor;
	size_t		 i;

	for (i = 0; i < b->nanchors; i++)
		if (strcmp(b->anchors[i].name, name) == 0) {
			add_child(b, b->anchors[i].node);
			return 0;
		}
	build_fail(b, "found undefined alias", NULL, &ev->start_mark);
	return -1;
}

static int
add_node(struct build *b, const yaml_event_t *ev)
{
	struct tree		*t = b->t;
	struct tree_node	*n;
	const yaml_char_t	*anchor;
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
		if (ev->data.scalar.length >= UINT32_MAX) {
			build_fail(b, "scalar too long", NULL, &ev->start_mark);
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
	if (add_anchor(b, anchor, i, &ev->start_mark) == -1)
		return -1;
	add_child(b, i);
	if (n->type != TREE_SCALAR) {
		b->open = pgrowarray(b->open, b->nopen, sizeof(*b->open));
		b->open[b->nopen].node = i;
		b->open[b->nopen++].first = b->npending;
	}
	return 0;
}

/* The end of the innermost list or mapping: its children move to kids. */
static void
close_node(struct build *b)
{
	struct tree		*t = b->t;
	struct open_node	*o = &b->open[--b->nopen];
	size_t			 n = b->npending - o->first;

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
	else
		perr_add(errs, path, err.line + 1, err.column + 1,
		    "YAML syntax error: %s", err.problem);
	tree_free(&extra);
}

int
tree_load(const char *path, tree_read_fn read, void *arg, size_t size,
    struct tree *t, struct policy_errors *errs)
{
	yaml_parser_t		 parser;
	struct build_error	 err;
	yaml_mark_t		 mark;
	size_t			 nerrs = errs->n;
	int			 type;

	memset(t, 0, sizeof(*t));
	memset(&err, 0, sizeof(err));
	err.problem = "unknown";
	/*
	 * A guess at the size of the tree, one node for 16 bytes of YAML
	 * (a policy of identities with one key each has one for 17), so that
	 * its arrays do not have to be moved, and so touched again, as they
	 * grow.  What is not used of them is never touched.
	 */
	t->nodes = reserve(NULL, &t->nodes_cap, size / 16, sizeof(*t->nodes));
	t->kids = reserve(NULL, &t->kids_cap, size / 16, sizeof(*t->kids));
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input(&parser, read, arg);
	type = next_event(&parser, &mark, &err);
	if (type == YAML_STREAM_START_EVENT)
		type = next_event(&parser, &mark, &err);
	if (type == YAML_STREAM_END_EVENT)
		perr_add(errs, path, 1, 1, "empty policy");
	else if (type != YAML_DOCUMENT_START_EVENT ||
	    load_one(&parser, t, &err) == -1)
		perr_add(errs, path, err.line + 1, err.column + 1,
		    "YAML syntax error: %s%s%s", err.problem,
		    err.context != NULL ? " " : "",
		    err.context != NULL ? err.context : "");
	else if (t->nnodes == 0)
		perr_add(errs, path, 1, 1, "empty policy");
	else
		check_rest(path, &parser, errs);
	yaml_parser_delete(&parser);
	if (errs->n == nerrs)
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
