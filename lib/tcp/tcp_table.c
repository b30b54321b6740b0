/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "tcp_impl.h"

/* lib/tcp's own 4-tuple table, so that the core runs in a plain process.
 * Keys live in a store with stable indices (connections and TIME-WAIT
 * entries keep their key's index, not a copy of the tuple); the index is an
 * open-addressing array with linear probing, at most half full, and
 * backward-shift deletion so that no tombstones accumulate. */

static uint32_t
tuple_hash(const struct td_tuple *t)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)t->lport << 16 | t->rport);
	unsigned alen = t->family == 6 ? 16 : 4;

	for (unsigned i = 0; i < alen; i += 4) {
		uint32_t a, b;
		memcpy(&a, t->laddr + i, 4);
		memcpy(&b, t->raddr + i, 4);
		h ^= ((uint64_t)a << 32 | b);
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

static bool
tuple_eq(const struct td_tuple *a, const struct td_tuple *b)
{
	unsigned alen = a->family == 6 ? 16 : 4;

	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       memcmp(a->laddr, b->laddr, alen) == 0 && memcmp(a->raddr, b->raddr, alen) == 0;
}

int
tcp_table_init(struct tcp_table *tb, uint32_t cap)
{
	uint64_t nb = 16;

	memset(tb, 0, sizeof(*tb));
	while (nb < 2ull * cap)
		nb <<= 1;
	tb->keys = calloc(cap, sizeof(*tb->keys));
	tb->khash = calloc(cap, sizeof(*tb->khash));
	tb->vals = calloc(cap, sizeof(*tb->vals));
	tb->kfree = calloc(cap, sizeof(*tb->kfree));
	tb->idx = calloc(nb, sizeof(*tb->idx));
	if (!tb->keys || !tb->khash || !tb->vals || !tb->kfree || !tb->idx) {
		tcp_table_free(tb);
		return -TD_ENOMEM;
	}
	tb->cap = cap;
	tb->mask = (uint32_t)nb - 1;
	for (uint32_t i = 0; i < cap; i++)
		tb->kfree[i] = cap - 1 - i;
	tb->nkfree = cap;
	return 0;
}

void
tcp_table_free(struct tcp_table *tb)
{
	free(tb->keys);
	free(tb->khash);
	free(tb->vals);
	free(tb->kfree);
	free(tb->idx);
	memset(tb, 0, sizeof(*tb));
}

uint32_t
tcp_table_lookup(const struct tcp_table *tb, const struct td_tuple *t, uint32_t *key)
{
	uint32_t h = tuple_hash(t);

	for (uint32_t i = h & tb->mask;; i = (i + 1) & tb->mask) {
		uint32_t k = tb->idx[i];
		if (k == 0)
			return TCP_NONE;
		k--;
		if (tb->khash[k] == h && tuple_eq(&tb->keys[k], t)) {
			if (key != NULL)
				*key = k;
			return tb->vals[k];
		}
	}
}

int
tcp_table_add(struct tcp_table *tb, const struct td_tuple *t, uint32_t val, uint32_t *key)
{
	if (tb->nkfree == 0)
		return -TD_ENOSPC;
	uint32_t h = tuple_hash(t);
	uint32_t k = tb->kfree[--tb->nkfree];
	uint32_t i = h & tb->mask;

	while (tb->idx[i] != 0)
		i = (i + 1) & tb->mask;
	tb->keys[k] = *t;
	tb->khash[k] = h;
	tb->vals[k] = val;
	tb->idx[i] = k + 1;
	tb->used++;
	*key = k;
	return 0;
}

void
tcp_table_del(struct tcp_table *tb, uint32_t key)
{
	uint32_t i = tb->khash[key] & tb->mask;

	while (tb->idx[i] != key + 1)
		i = (i + 1) & tb->mask;
	/* Backward-shift: pull later entries of the probe run into the hole
	 * when their home slot does not lie between the hole and them. */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & tb->mask; tb->idx[j] != 0; j = (j + 1) & tb->mask) {
		uint32_t home = tb->khash[tb->idx[j] - 1] & tb->mask;
		if (((j - home) & tb->mask) >= ((j - hole) & tb->mask)) {
			tb->idx[hole] = tb->idx[j];
			hole = j;
		}
	}
	tb->idx[hole] = 0;
	tb->kfree[tb->nkfree++] = key;
	tb->used--;
}
