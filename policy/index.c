/*
 * index.c — sorted indexes of a policy: hosts by name, identities by
 * name, keys by fingerprint.  A gateway with thousands of identities
 * looks one up at every login and every command; with these a lookup
 * costs log n and building them n log n, where scanning every identity
 * (and, to validate, comparing every key with every other) did not scale.
 *
 * Each index points into arrays that stop growing once their section of
 * the file has been walked, so it is built then: hosts before the roles
 * that name them, keys before their owners are checked, identities once
 * the policy is valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-int.h"

static int
host_cmp(const void *a, const void *b)
{
	const struct policy_host *const	*x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
host_name_cmp(const void *name, const void *elem)
{
	const struct policy_host *const	*h = elem;

	return strcmp(name, (*h)->name);
}

void
index_hosts(struct policy *p)
{
	size_t	i;

	free(p->host_index);
	p->host_index = pcalloc(p->nhosts, sizeof(*p->host_index));
	for (i = 0; i < p->nhosts; i++)
		p->host_index[i] = &p->hosts[i];
	qsort(p->host_index, p->nhosts, sizeof(*p->host_index), host_cmp);
}

struct policy_host *
index_host(const struct policy *p, const char *name)
{
	struct policy_host	**h;

	if (p->host_index == NULL || p->nhosts == 0)
		return NULL;
	h = bsearch(name, p->host_index, p->nhosts, sizeof(*p->host_index),
	    host_name_cmp);
	return h != NULL ? *h : NULL;
}

static int
ident_cmp(const void *a, const void *b)
{
	const struct policy_identity *const	*x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
ident_name_cmp(const void *name, const void *elem)
{
	const struct policy_identity *const	*id = elem;

	return strcmp(name, (*id)->name);
}

void
index_identities(struct policy *p)
{
	size_t	i;

	free(p->ident_index);
	p->ident_index = pcalloc(p->nidents, sizeof(*p->ident_index));
	for (i = 0; i < p->nidents; i++)
		p->ident_index[i] = &p->idents[i];
	qsort(p->ident_index, p->nidents, sizeof(*p->ident_index), ident_cmp);
}

struct policy_identity *
index_identity(const struct policy *p, const char *name)
{
	struct policy_identity	**id;

	if (p->ident_index == NULL || p->nidents == 0)
		return NULL;
	id = bsearch(name, p->ident_index, p->nidents,
	    sizeof(*p->ident_index), ident_name_cmp);
	return id != NULL ? *id : NULL;
}

/*
 * Eight characters of a fingerprint after "SHA256:", as a number that
 * sorts as they do: sorting compares these, held in the index, before it
 * reads the key entries, which are all over the heap.
 */
static uint64_t
fp_order(const char *fp)
{
	uint64_t	v = 0;
	size_t		i, len = strnlen(fp, 15);

	for (i = 7; i < 15; i++)
		v = v << 8 | (i < len ? (unsigned char)fp[i] : 0);
	return v;
}

/* By fingerprint: by its order, then by the whole of it. */
static int
fp_cmp(const struct key_ref *r, uint64_t order, const char *fp)
{
	if (r->order != order)
		return r->order < order ? -1 : 1;
	return strcmp(r->key->fp, fp);
}

/*
 * By fingerprint, then by position in the file: the first key of a run
 * of equal fingerprints is the one met first.  Both pointers compared
 * point into one array (p->idents, then one identity's keys).
 */
static int
key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref	*x = a, *y = b;
	int			 r;

	if ((r = fp_cmp(x, y->order, y->key->fp)) != 0)
		return r;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/*
 * Every key entry, full keys and SHA256: entries alike: a full key's
 * fingerprint was computed when it was loaded.
 */
void
index_keys(struct policy *p)
{
	struct policy_identity	*id;
	size_t			 i, j, n = 0;

	for (i = 0; i < p->nidents; i++)
		n += p->idents[i].nkeys;
	free(p->key_index);
	p->key_index = pcalloc(n, sizeof(*p->key_index));
	p->nkey_index = 0;
	for (i = 0; i < p->nidents; i++) {
		id = &p->idents[i];
		for (j = 0; j < id->nkeys; j++) {
			p->key_index[p->nkey_index].id = id;
			p->key_index[p->nkey_index].key = &id->keys[j];
			p->key_index[p->nkey_index++].order =
			    fp_order(id->keys[j].fp);
		}
	}
	qsort(p->key_index, p->nkey_index, sizeof(*p->key_index), key_ref_cmp);
}

/*
 * The entries whose fingerprint is FP: the first of them, and their
 * number in *N (0, and NULL, when there is none).
 */
const struct key_ref *
index_key(const struct policy *p, const char *fp, size_t *n)
{
	uint64_t	order = fp_order(fp);
	size_t		lo = 0, hi = p->nkey_index, mid, end;

	*n = 0;
	if (p->key_index == NULL)
		return NULL;
	/* The lowest entry not below FP. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fp_cmp(&p->key_index[mid], order, fp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < p->nkey_index &&
	    fp_cmp(&p->key_index[end], order, fp) == 0; end++)
		;
	if (end == lo)
		return NULL;
	*n = end - lo;
	return &p->key_index[lo];
}
