/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of lib/timer, the per-lcore hashed timing wheel, driven by a fake
 * clock. Every test that uses the wheel ends with no timer armed and none
 * due (expect_idle()).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>

#include "td_common.h"
#include "td_timer.h"

#define NSLOTS 64
#define LOG_MAX 200000

/* A timer with what the test wants to know about it. */
struct item {
	struct td_timer t;
	unsigned id;
	unsigned fired;    /* how many times the callback ran */
	uint64_t fired_at; /* wheel tick seen by the last run */
	/* Optional action run from the callback, with its argument. */
	void (*hook)(struct item *it);
	struct item *other;
	uint64_t when;
};

/* One record per callback run, in run order. */
struct fire {
	unsigned id;
	uint64_t tick;   /* the wheel's now inside the callback */
	uint64_t expire; /* the timer's due tick */
};

static struct td_timer_wheel wheel;
static struct fire *fires;
static size_t nfires;

static void
on_expire(struct td_timer *t, void *arg)
{
	struct td_timer_wheel *w = arg;
	struct item *it = TD_CONTAINER_OF(t, struct item, t);

	cr_assert_not(td_timer_pending(t), "a timer is disarmed before its callback");
	cr_assert_lt(nfires, LOG_MAX);
	fires[nfires++] = (struct fire){.id = it->id, .tick = w->now, .expire = t->expire};
	it->fired++;
	it->fired_at = w->now;
	if (it->hook != NULL)
		it->hook(it);
}

static void
setup_at(uint64_t now, uint32_t nslots)
{
	fires = calloc(LOG_MAX, sizeof(*fires));
	cr_assert_not_null(fires);
	nfires = 0;
	cr_assert_eq(td_timer_wheel_init(&wheel, nslots, now, on_expire, &wheel), 0);
	cr_assert_eq(wheel.armed, 0);
	cr_assert_eq(wheel.now, now);
}

static void
setup(void)
{
	setup_at(0, NSLOTS);
}

static void
setup_big(void)
{
	setup_at(0, 1024);
}

/* Every test that uses the wheel ends here: nothing armed, nothing due. It
 * runs in the test body because Criterion 2.4 ignores failed assertions in
 * .fini. */
static void
expect_idle(void)
{
	cr_expect_eq(wheel.armed, 0, "%llu timers still armed at the end of the test",
		     (unsigned long long)wheel.armed);
	cr_expect_eq(td_timer_next(&wheel), UINT64_MAX);
}

static void
teardown(void)
{
	/* A test that left timers armed without calling expect_idle() still
	 * fails: Criterion counts it passed, but the exit status is not 0. */
	if (wheel.armed != 0)
		abort();
	td_timer_wheel_free(&wheel);
	free(fires);
}

/* Advance one tick at a time up to @p to, without budget; returns the runs. */
static unsigned
step_to(uint64_t to)
{
	unsigned ran = 0;

	while (wheel.now < to)
		ran += td_timer_advance(&wheel, wheel.now + 1, 0);
	return ran;
}

static void
arm(struct item *it, unsigned id, uint64_t expire)
{
	it->id = id;
	td_timer_arm(&wheel, &it->t, expire);
}

/* ------------------------------------------------------------------------ */
/* Initialisation                                                             */

Test(timer_init, rejects_a_slot_count_that_is_not_a_power_of_two)
{
	struct td_timer_wheel w;

	cr_expect_eq(td_timer_wheel_init(&w, 0, 0, on_expire, NULL), -TD_EINVAL);
	cr_expect_eq(td_timer_wheel_init(&w, 3, 0, on_expire, NULL), -TD_EINVAL);
	cr_expect_eq(td_timer_wheel_init(&w, 100, 0, on_expire, NULL), -TD_EINVAL);
	cr_expect_eq(td_timer_wheel_init(&w, 0x80000001u, 0, on_expire, NULL), -TD_EINVAL);
}

Test(timer_init, starts_empty_at_the_given_tick)
{
	struct td_timer_wheel w;

	cr_assert_eq(td_timer_wheel_init(&w, 1, 42, on_expire, NULL), 0);
	cr_expect_eq(w.mask, 0);
	cr_expect_eq(w.now, 42);
	cr_expect_eq(w.armed, 0);
	cr_expect_eq(td_timer_next(&w), UINT64_MAX);
	cr_expect_eq(td_timer_advance(&w, 1000, 0), 0);
	cr_expect_eq(w.now, 1000);
	td_timer_wheel_free(&w);
	cr_expect_null(w.slots);
}

/* ------------------------------------------------------------------------ */
/* Arm, cancel, expire                                                        */

Test(timer_arm, fires_once_at_its_tick, .init = setup, .fini = teardown)
{
	struct item a = {0};

	cr_assert_not(td_timer_pending(&a.t), "zero-initialised means disarmed");
	arm(&a, 1, 10);
	cr_expect(td_timer_pending(&a.t));
	cr_expect_eq(wheel.armed, 1);
	cr_expect_eq(a.t.expire, 10);

	cr_expect_eq(step_to(9), 0);
	cr_expect_eq(a.fired, 0);
	cr_expect(td_timer_pending(&a.t));

	cr_expect_eq(td_timer_advance(&wheel, 10, 0), 1);
	cr_expect_eq(a.fired, 1);
	cr_expect_eq(a.fired_at, 10);
	cr_expect_not(td_timer_pending(&a.t));
	cr_expect_eq(wheel.armed, 0);

	cr_expect_eq(step_to(10 + 3 * NSLOTS), 0, "a fired timer does not come back a turn later");
	cr_expect_eq(a.fired, 1);
	expect_idle();
}

Test(timer_arm, cancel_disarms_and_is_idempotent, .init = setup, .fini = teardown)
{
	struct item a = {0}, b = {0}, never = {0};

	arm(&a, 1, 5);
	arm(&b, 2, 5);
	cr_expect_eq(wheel.armed, 2);
	td_timer_cancel(&wheel, &a.t);
	cr_expect_not(td_timer_pending(&a.t));
	cr_expect_eq(wheel.armed, 1);
	td_timer_cancel(&wheel, &a.t);
	cr_expect_eq(wheel.armed, 1, "cancelling a disarmed timer changes nothing");
	td_timer_cancel(&wheel, &never.t);
	cr_expect_eq(wheel.armed, 1, "cancelling a never-armed timer changes nothing");

	cr_expect_eq(step_to(100), 1);
	cr_expect_eq(a.fired, 0);
	cr_expect_eq(b.fired, 1);
	cr_expect_eq(never.fired, 0);
	expect_idle();
}

Test(timer_arm, rearm_moves_the_timer_without_counting_it_twice, .init = setup, .fini = teardown)
{
	struct item a = {0};

	arm(&a, 1, 10);
	arm(&a, 1, 20);
	cr_expect_eq(wheel.armed, 1);
	cr_expect_eq(td_timer_next(&wheel), 20);
	cr_expect_eq(step_to(19), 0);
	cr_expect_eq(step_to(20), 1);
	cr_expect_eq(a.fired_at, 20);

	/* Earlier, and into a later turn of the same slot. */
	arm(&a, 1, 20 + 2 * NSLOTS);
	arm(&a, 1, 25);
	cr_expect_eq(wheel.armed, 1);
	cr_expect_eq(step_to(20 + 3 * NSLOTS), 1);
	cr_expect_eq(a.fired, 2);
	cr_expect_eq(a.fired_at, 25);
	expect_idle();
}

Test(timer_arm, past_expiry_fires_at_the_next_tick, .init = setup, .fini = teardown)
{
	struct item past = {0}, now = {0}, zero = {0};

	cr_expect_eq(td_timer_advance(&wheel, 100, 0), 0);
	cr_assert_eq(wheel.now, 100);
	arm(&past, 1, 50);
	arm(&now, 2, 100);
	arm(&zero, 3, 0);
	cr_expect_eq(td_timer_next(&wheel), 101);
	cr_expect_eq(td_timer_advance(&wheel, 100, 0), 0, "nothing runs without time passing");
	cr_expect_eq(td_timer_advance(&wheel, 101, 0), 3);
	cr_expect_eq(past.fired_at, 101);
	cr_expect_eq(now.fired_at, 101);
	cr_expect_eq(zero.fired_at, 101);
	cr_assert_eq(nfires, 3);
	cr_expect_eq(fires[0].id, 1, "past timers keep their arming order");
	cr_expect_eq(fires[1].id, 2);
	cr_expect_eq(fires[2].id, 3);
	expect_idle();
}

Test(timer_arm, advance_with_nothing_armed_jumps, .init = setup, .fini = teardown)
{
	struct item a = {0};

	cr_expect_eq(td_timer_advance(&wheel, 1000000000000ull, 0), 0);
	cr_expect_eq(wheel.now, 1000000000000ull);
	arm(&a, 1, 5);
	cr_expect_eq(td_timer_advance(&wheel, 1000000000001ull, 0), 1);
	cr_expect_eq(a.fired_at, 1000000000001ull);
	expect_idle();
}

Test(timer_arm, going_back_in_time_runs_nothing, .init = setup, .fini = teardown)
{
	struct item a = {0};

	cr_expect_eq(step_to(50), 0);
	arm(&a, 1, 60);
	cr_expect_eq(td_timer_advance(&wheel, 10, 0), 0);
	cr_expect_eq(wheel.now, 50);
	cr_expect_eq(td_timer_advance(&wheel, 60, 0), 1);
	cr_expect_eq(a.fired_at, 60);
	expect_idle();
}

/* ------------------------------------------------------------------------ */
/* Ordering                                                                   */

Test(timer_order, same_tick_fires_in_arming_order, .init = setup, .fini = teardown)
{
	struct item it[8] = {0};

	/* Arm 0..7, then move 2 to the tail by re-arming it at the same tick. */
	for (unsigned i = 0; i < 8; i++)
		arm(&it[i], i, 7);
	arm(&it[2], 2, 7);
	cr_expect_eq(td_timer_advance(&wheel, 7, 0), 8);
	cr_assert_eq(nfires, 8);
	const unsigned want[8] = {0, 1, 3, 4, 5, 6, 7, 2};
	for (unsigned i = 0; i < 8; i++) {
		cr_expect_eq(fires[i].id, want[i], "run %u: timer %u, expected %u", i, fires[i].id,
			     want[i]);
		cr_expect_eq(fires[i].tick, 7);
	}
	expect_idle();
}

Test(timer_order, one_advance_runs_slots_in_due_order, .init = setup, .fini = teardown)
{
	enum { N = 500, SPAN = 5 * NSLOTS };
	static struct item it[N];
	uint32_t x = 12345;
	unsigned due_at[SPAN + 1] = {0};

	/* Pseudo-random due ticks over five turns, armed in random order. */
	for (unsigned i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		uint64_t expire = 1 + (x >> 8) % SPAN;
		arm(&it[i], i, expire);
		due_at[expire]++;
	}
	cr_expect_eq(wheel.armed, N);
	cr_expect_eq(td_timer_advance(&wheel, SPAN, 0), N);
	cr_assert_eq(nfires, N);
	for (size_t i = 0; i < nfires; i++) {
		cr_expect_eq(fires[i].tick, fires[i].expire, "timer %u due %llu ran at %llu",
			     fires[i].id, (unsigned long long)fires[i].expire,
			     (unsigned long long)fires[i].tick);
		if (i > 0)
			cr_expect_geq(fires[i].expire, fires[i - 1].expire, "run %zu out of order",
				      i);
		if (i > 0 && fires[i].expire == fires[i - 1].expire)
			cr_expect_gt(fires[i].id, fires[i - 1].id, "same tick: arming order");
		due_at[fires[i].expire]--;
	}
	for (unsigned t = 0; t <= SPAN; t++)
		cr_expect_eq(due_at[t], 0, "tick %u", t);
	for (unsigned i = 0; i < N; i++)
		cr_expect_eq(it[i].fired, 1);
	expect_idle();
}

/* ------------------------------------------------------------------------ */
/* Timers more than one turn away                                             */

Test(timer_turn, beyond_one_turn_fires_at_its_tick_not_a_turn_early, .init = setup,
     .fini = teardown)
{
	const uint64_t due[] = {
		NSLOTS - 1, NSLOTS,         NSLOTS + 1,  2 * NSLOTS - 1,
		2 * NSLOTS, 3 * NSLOTS + 7, 10 * NSLOTS,
	};
	struct item it[TD_ARRAY_SIZE(due)] = {0};

	for (unsigned i = 0; i < TD_ARRAY_SIZE(due); i++)
		arm(&it[i], i, due[i]);
	/* One tick at a time, so a run a turn early would show. */
	for (uint64_t t = 1; t <= 10 * NSLOTS; t++) {
		td_timer_advance(&wheel, t, 0);
		for (unsigned i = 0; i < TD_ARRAY_SIZE(due); i++)
			cr_assert_eq(it[i].fired, t >= due[i] ? 1 : 0,
				     "timer due at %llu, tick %llu: ran %u times",
				     (unsigned long long)due[i], (unsigned long long)t,
				     it[i].fired);
	}
	for (unsigned i = 0; i < TD_ARRAY_SIZE(due); i++)
		cr_expect_eq(it[i].fired_at, due[i]);
	expect_idle();
}

Test(timer_turn, same_slot_different_turns, .init = setup, .fini = teardown)
{
	struct item later = {0}, sooner = {0};

	/* Both hash to slot 5; the later one is armed first, at the head. */
	arm(&later, 1, 5 + 2 * NSLOTS);
	arm(&sooner, 2, 5);
	cr_expect_eq(td_timer_advance(&wheel, 5 + NSLOTS, 0), 1);
	cr_expect_eq(sooner.fired_at, 5);
	cr_expect_eq(later.fired, 0);
	cr_expect_eq(td_timer_advance(&wheel, 5 + 2 * NSLOTS, 0), 1);
	cr_expect_eq(later.fired_at, 5 + 2 * NSLOTS);
	expect_idle();
}

Test(timer_turn, wheel_of_one_slot, .fini = teardown)
{
	struct item a = {0}, b = {0};

	setup_at(1000, 1);
	arm(&a, 1, 1003);
	arm(&b, 2, 1001);
	cr_expect_eq(td_timer_advance(&wheel, 1002, 0), 1);
	cr_expect_eq(b.fired_at, 1001);
	cr_expect_eq(td_timer_advance(&wheel, 1010, 0), 1);
	cr_expect_eq(a.fired_at, 1003);
	expect_idle();
}

/* ------------------------------------------------------------------------ */
/* Callbacks that touch the wheel                                             */

static void
rearm_every_7(struct item *it)
{
	if (it->fired < 10)
		td_timer_arm(&wheel, &it->t, it->t.expire + 7);
}

Test(timer_callback, rearm_from_the_callback, .init = setup, .fini = teardown)
{
	struct item a = {.hook = rearm_every_7};

	arm(&a, 1, 7);
	cr_expect_eq(td_timer_advance(&wheel, 1000, 0), 10, "one advance runs every period");
	cr_assert_eq(nfires, 10);
	for (unsigned i = 0; i < 10; i++)
		cr_expect_eq(fires[i].tick, 7 * (i + 1));
	expect_idle();
}

static void
rearm_now(struct item *it)
{
	if (it->fired == 1)
		td_timer_arm(&wheel, &it->t, wheel.now);
}

/* A callback that re-arms at the current tick (or earlier) gets the next
 * tick, as any past expiry does; it must not run again in the same tick. */
Test(timer_callback, rearm_at_the_current_tick_fires_next_tick, .init = setup, .fini = teardown)
{
	struct item a = {.hook = rearm_now};

	arm(&a, 1, 20);
	cr_expect_eq(td_timer_advance(&wheel, 20, 0), 1);
	cr_expect_eq(a.fired, 1);
	cr_expect(td_timer_pending(&a.t));
	cr_expect_eq(a.t.expire, 21);
	cr_expect_eq(td_timer_advance(&wheel, 21, 0), 1);
	cr_expect_eq(a.fired, 2);
	cr_expect_eq(a.fired_at, 21);
	expect_idle();
}

static void
cancel_other(struct item *it)
{
	td_timer_cancel(&wheel, &it->other->t);
}

Test(timer_callback, cancel_the_next_timer_of_the_slot, .init = setup, .fini = teardown)
{
	struct item a = {0}, b = {0}, c = {0};

	a.hook = cancel_other;
	a.other = &b;
	arm(&a, 1, 9);
	arm(&b, 2, 9);
	arm(&c, 3, 9);
	cr_expect_eq(td_timer_advance(&wheel, 9, 0), 2);
	cr_expect_eq(a.fired, 1);
	cr_expect_eq(b.fired, 0);
	cr_expect_eq(c.fired, 1);
	cr_expect_not(td_timer_pending(&b.t));
	expect_idle();
}

static void
move_other(struct item *it)
{
	td_timer_arm(&wheel, &it->other->t, it->when);
}

Test(timer_callback, move_the_next_timer_to_another_slot, .init = setup, .fini = teardown)
{
	struct item a = {0}, b = {0}, c = {0};

	a.hook = move_other;
	a.other = &b;
	a.when = 14;
	arm(&a, 1, 9);
	arm(&b, 2, 9);
	arm(&c, 3, 9);
	cr_expect_eq(td_timer_advance(&wheel, 9, 0), 2);
	cr_expect_eq(c.fired_at, 9);
	cr_expect_eq(b.fired, 0);
	cr_expect_eq(wheel.armed, 1);
	cr_expect_eq(step_to(20), 1);
	cr_expect_eq(b.fired_at, 14);
	expect_idle();
}

Test(timer_callback, move_the_next_timer_to_the_tail_of_the_slot, .init = setup, .fini = teardown)
{
	struct item a = {0}, b = {0}, c = {0}, d = {0};

	/* b goes a turn later into the same slot: c and d must still run now. */
	a.hook = move_other;
	a.other = &b;
	a.when = 9 + NSLOTS;
	arm(&a, 1, 9);
	arm(&b, 2, 9);
	arm(&c, 3, 9);
	arm(&d, 4, 9);
	cr_expect_eq(td_timer_advance(&wheel, 9, 0), 3);
	cr_expect_eq(c.fired_at, 9);
	cr_expect_eq(d.fired_at, 9);
	cr_expect_eq(b.fired, 0);
	cr_expect_eq(step_to(9 + NSLOTS), 1);
	cr_expect_eq(b.fired_at, 9 + NSLOTS);
	expect_idle();
}

static void
arm_other_now(struct item *it)
{
	td_timer_arm(&wheel, &it->other->t, wheel.now);
}

Test(timer_callback, arm_a_new_timer_at_the_current_tick, .init = setup, .fini = teardown)
{
	struct item a = {0}, fresh = {0};

	a.hook = arm_other_now;
	a.other = &fresh;
	fresh.id = 2;
	arm(&a, 1, 30);
	cr_expect_eq(td_timer_advance(&wheel, 30, 0), 1);
	cr_expect_eq(fresh.fired, 0);
	cr_expect_eq(td_timer_advance(&wheel, 31, 0), 1);
	cr_expect_eq(fresh.fired_at, 31);
	expect_idle();
}

/* ------------------------------------------------------------------------ */
/* Budget                                                                     */

Test(timer_budget, limits_runs_per_call_and_the_rest_follow, .init = setup, .fini = teardown)
{
	struct item it[10] = {0};

	for (unsigned i = 0; i < 10; i++)
		arm(&it[i], i, 5);
	cr_expect_eq(td_timer_advance(&wheel, 5, 3), 3);
	cr_expect_lt(wheel.now, 5, "the wheel stays behind while timers due remain");
	cr_expect_eq(td_timer_next(&wheel), 5);
	cr_expect_eq(wheel.armed, 7);
	cr_expect_eq(td_timer_advance(&wheel, 5, 3), 3);
	cr_expect_eq(td_timer_advance(&wheel, 5, 3), 3);
	cr_expect_eq(td_timer_advance(&wheel, 5, 3), 1);
	cr_expect_eq(wheel.now, 5);
	cr_expect_eq(td_timer_advance(&wheel, 5, 3), 0);
	cr_assert_eq(nfires, 10);
	for (unsigned i = 0; i < 10; i++) {
		cr_expect_eq(fires[i].id, i, "arming order survives the budget");
		cr_expect_eq(fires[i].tick, 5);
		cr_expect_eq(it[i].fired, 1);
	}
	expect_idle();
}

Test(timer_budget, spans_ticks_in_due_order, .init = setup, .fini = teardown)
{
	struct item it[6] = {0};

	for (unsigned i = 0; i < 6; i++)
		arm(&it[i], i, i < 3 ? 5 : 6);
	cr_expect_eq(td_timer_advance(&wheel, 10, 4), 4);
	cr_expect_eq(wheel.now, 5);
	cr_expect_eq(td_timer_advance(&wheel, 10, 4), 2);
	cr_expect_eq(wheel.now, 10);
	cr_assert_eq(nfires, 6);
	for (unsigned i = 0; i < 6; i++) {
		cr_expect_eq(fires[i].id, i);
		cr_expect_eq(fires[i].tick, i < 3 ? 5 : 6);
	}
	expect_idle();
}

Test(timer_budget, a_cancel_from_a_callback_frees_room, .init = setup, .fini = teardown)
{
	struct item it[5] = {0};

	it[0].hook = cancel_other;
	it[0].other = &it[1];
	for (unsigned i = 0; i < 5; i++)
		arm(&it[i], i, 5);
	/* 0 and 1 are taken together; 0 cancels 1, so 2 fills the budget. */
	cr_expect_eq(td_timer_advance(&wheel, 5, 2), 2);
	cr_expect_eq(it[2].fired, 1);
	cr_expect_eq(it[3].fired, 0);
	cr_expect_eq(td_timer_advance(&wheel, 5, 2), 2);
	cr_expect_eq(it[1].fired, 0);
	cr_expect_eq(it[4].fired_at, 5);
	cr_expect_eq(wheel.now, 5);
	expect_idle();
}

Test(timer_budget, a_timer_armed_between_calls_joins_the_backlog, .init = setup, .fini = teardown)
{
	struct item it[4] = {0}, late = {0};

	for (unsigned i = 0; i < 4; i++)
		arm(&it[i], i, 5);
	cr_expect_eq(td_timer_advance(&wheel, 8, 2), 2);
	/* In the past for the caller, whose clock reads 8: it runs in the
	 * backlog, after the timers of tick 5 armed before it. */
	arm(&late, 9, 3);
	cr_expect_eq(td_timer_advance(&wheel, 8, 0), 3);
	cr_assert_eq(nfires, 5);
	cr_expect_eq(fires[4].id, 9);
	cr_expect_eq(late.fired_at, 5);
	expect_idle();
}

Test(timer_budget, hundred_thousand_due_together_take_exactly_100_calls, .init = setup_big,
     .fini = teardown)
{
	enum { N = 100000, BUDGET = 1000 };
	struct item *it = calloc(N, sizeof(*it));
	unsigned calls = 0;

	cr_assert_not_null(it);
	for (unsigned i = 0; i < N; i++)
		arm(&it[i], i, 50 + 1024 * (i % 3 == 0)); /* a third a turn later */
	for (unsigned i = 0; i < N; i++)
		if (i % 3 == 0)
			arm(&it[i], i, 50); /* re-armed: they go to the tail */
	cr_assert_eq(wheel.armed, N);
	while (wheel.armed > 0) {
		cr_assert_lt(calls, 100, "more than 100 calls");
		cr_expect_eq(td_timer_advance(&wheel, 60, BUDGET), BUDGET, "call %u", calls);
		calls++;
	}
	cr_expect_eq(calls, 100);
	cr_expect_eq(td_timer_advance(&wheel, 60, BUDGET), 0);
	cr_expect_eq(wheel.now, 60);
	cr_assert_eq(nfires, N);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(it[i].fired, 1, "timer %u ran %u times", i, it[i].fired);
	/* Arming order: first those never moved, then the re-armed third. */
	unsigned moved = (N + 2) / 3;
	for (size_t k = 1; k < nfires; k++) {
		cr_assert_eq(fires[k].tick, 50);
		if (k == N - moved)
			continue;
		cr_assert_gt(fires[k].id, fires[k - 1].id, "run %zu", k);
	}
	cr_expect_eq(fires[N - moved].id, 0);
	expect_idle();
	free(it);
}

/* ------------------------------------------------------------------------ */
/* td_timer_next                                                              */

Test(timer_next, earliest_due_tick, .init = setup, .fini = teardown)
{
	struct item a = {0}, b = {0}, c = {0};

	cr_expect_eq(td_timer_next(&wheel), UINT64_MAX);
	arm(&a, 1, 30);
	cr_expect_eq(td_timer_next(&wheel), 30);
	arm(&b, 2, 3 * NSLOTS + 2); /* far, in a slot before a's */
	cr_expect_eq(td_timer_next(&wheel), 30);
	arm(&c, 3, 10);
	cr_expect_eq(td_timer_next(&wheel), 10);
	td_timer_cancel(&wheel, &c.t);
	cr_expect_eq(td_timer_next(&wheel), 30);
	cr_expect_eq(step_to(30), 1);
	cr_expect_eq(td_timer_next(&wheel), 3 * NSLOTS + 2);
	cr_expect_eq(step_to(3 * NSLOTS + 2), 1);
	cr_expect_eq(td_timer_next(&wheel), UINT64_MAX);
	expect_idle();
}

Test(timer_next, drives_a_virtual_clock, .init = setup, .fini = teardown)
{
	const uint64_t due[] = {1000, 3, 77, 77, 5 * NSLOTS, 64};
	struct item it[TD_ARRAY_SIZE(due)] = {0};
	unsigned jumps = 0;

	for (unsigned i = 0; i < TD_ARRAY_SIZE(due); i++)
		arm(&it[i], i, due[i]);
	/* Jump straight from due tick to due tick, as a simulation would. */
	for (uint64_t next; (next = td_timer_next(&wheel)) != UINT64_MAX; jumps++) {
		size_t before = nfires;
		cr_assert_gt(td_timer_advance(&wheel, next, 0), 0);
		for (size_t k = before; k < nfires; k++)
			cr_expect_eq(fires[k].tick, next);
	}
	cr_expect_eq(jumps, 5, "six timers, five distinct due ticks");
	for (unsigned i = 0; i < TD_ARRAY_SIZE(due); i++)
		cr_expect_eq(it[i].fired_at, due[i]);
	expect_idle();
}
