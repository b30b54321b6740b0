/* SPDX-License-Identifier: BSD-3-Clause */
#include "td_timer.h"

#include <stdlib.h>

#include "td_common.h"

int
td_timer_wheel_init(struct td_timer_wheel *w, uint32_t nslots, uint64_t now, td_timer_fn fn,
		    void *arg)
{
	if (nslots == 0 || (nslots & (nslots - 1)) != 0)
		return -TD_EINVAL;
	w->slots = calloc(nslots, sizeof(*w->slots));
	if (w->slots == NULL)
		return -TD_ENOMEM;
	for (uint32_t i = 0; i < nslots; i++) {
		w->slots[i].next = &w->slots[i];
		w->slots[i].prev = &w->slots[i];
	}
	w->mask = nslots - 1;
	w->now = now;
	w->armed = 0;
	w->fn = fn;
	w->arg = arg;
	return 0;
}

void
td_timer_wheel_free(struct td_timer_wheel *w)
{
	free(w->slots);
	w->slots = NULL;
	w->armed = 0;
}

static void
unlink_timer(struct td_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = NULL;
	t->prev = NULL;
}

void
td_timer_arm(struct td_timer_wheel *w, struct td_timer *t, uint64_t expire)
{
	if (t->prev != NULL)
		unlink_timer(t);
	else
		w->armed++;
	/* Everything up to w->now has run: a timer in the past fires next tick. */
	if (expire <= w->now)
		expire = w->now + 1;
	t->expire = expire;
	struct td_timer *head = &w->slots[expire & w->mask];
	t->next = head;
	t->prev = head->prev;
	head->prev->next = t;
	head->prev = t;
}

void
td_timer_cancel(struct td_timer_wheel *w, struct td_timer *t)
{
	if (t->prev == NULL)
		return;
	unlink_timer(t);
	w->armed--;
}

unsigned
td_timer_advance(struct td_timer_wheel *w, uint64_t now, unsigned budget)
{
	unsigned ran = 0;

	while (w->now < now) {
		if (w->armed == 0) {
			/* Nothing can fire: jump instead of walking empty slots. */
			w->now = now;
			break;
		}
		uint64_t tick = w->now + 1;
		struct td_timer *head = &w->slots[tick & w->mask];
		struct td_timer *t = head->next;
		while (t != head) {
			struct td_timer *next = t->next;
			if (t->expire <= tick) {
				if (budget != 0 && ran == budget)
					return ran; /* the slot is finished next call */
				unlink_timer(t);
				w->armed--;
				ran++;
				/* The callback may re-arm t or cancel others, including next:
				 * restart from the head when it did. */
				w->fn(t, w->arg);
				if (next->prev == NULL && next != head)
					next = head->next;
			}
			t = next;
		}
		w->now = tick;
	}
	return ran;
}

uint64_t
td_timer_next(const struct td_timer_wheel *w)
{
	uint64_t best = UINT64_MAX;

	if (w->armed == 0)
		return best;
	for (uint32_t i = 0; i <= w->mask; i++) {
		const struct td_timer *head = &w->slots[i];
		for (const struct td_timer *t = head->next; t != head; t = t->next)
			if (t->expire < best)
				best = t->expire;
	}
	return best;
}
