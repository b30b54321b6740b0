/* SPDX-License-Identifier: BSD-3-Clause */
#include "td_timer.h"

#include <limits.h>
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

static void
link_tail(struct td_timer *head, struct td_timer *t)
{
	t->next = head;
	t->prev = head->prev;
	head->prev->next = t;
	head->prev = t;
}

void
td_timer_arm(struct td_timer_wheel *w, struct td_timer *t, uint64_t expire)
{
	if (t->prev != NULL)
		unlink_timer(t);
	else
		w->armed++;
	/* Everything up to w->now has run (or, from a callback, is running): a
	 * timer in the past fires next tick. */
	if (expire <= w->now)
		expire = w->now + 1;
	t->expire = expire;
	link_tail(&w->slots[expire & w->mask], t);
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
		struct td_timer due = {.next = &due, .prev = &due};
		unsigned room = budget != 0 ? budget - ran : UINT_MAX;
		bool more = false;

		/* Take the timers due at tick, as many as the budget allows, out of
		 * the slot before running any: the callbacks may then arm, re-arm or
		 * cancel any timer, these included, without breaking a walk. */
		for (struct td_timer *t = head->next, *next; t != head; t = next) {
			next = t->next;
			if (t->expire > tick)
				continue; /* a later turn */
			if (room == 0) {
				more = true;
				break;
			}
			room--;
			unlink_timer(t);
			link_tail(&due, t);
		}
		/* While the callbacks run, now reads tick, so that a timer armed at
		 * or before tick goes to the next tick and not into this one. */
		w->now = tick;
		while (due.next != &due) {
			struct td_timer *t = due.next;

			unlink_timer(t);
			w->armed--;
			ran++;
			w->fn(t, w->arg);
		}
		if (more) {
			/* The budget ran out before the slot did: stay behind tick, and
			 * let the next call finish it. */
			w->now = tick - 1;
			if (ran == budget)
				break;
		}
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
