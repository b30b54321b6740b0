/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_TIMER_H
#define TD_TIMER_H

/**
 * @file
 * A per-lcore hashed timing wheel (Varghese and Lauck, scheme 6): O(1) arm,
 * cancel and expiry, advanced from the poll loop by whatever clock the caller
 * uses (the TSC in the engine, a fake clock in tests), with an expiry budget
 * per call so that a million timers falling due together cannot stall RX.
 *
 * Time is in ticks (the caller picks the tick; lib/tcp uses 1 ms). A timer
 * due beyond one turn of the wheel stays in its slot and is skipped until its
 * turn comes. Timers are intrusive: embed a `struct td_timer` in the object.
 * Nothing here allocates after td_timer_wheel_init().
 */

#include <stdbool.h>
#include <stdint.h>

struct td_timer;

/** Called when a timer expires; the timer is already disarmed. */
typedef void (*td_timer_fn)(struct td_timer *t, void *arg);

/** An intrusive timer. Zero-initialised means disarmed. */
struct td_timer {
	struct td_timer *next;
	struct td_timer *prev; /**< NULL when disarmed */
	uint64_t expire;       /**< tick at which it fires */
};

/** A wheel. */
struct td_timer_wheel {
	struct td_timer *slots; /**< list heads (sentinels), nslots of them */
	uint32_t mask;          /**< nslots - 1 */
	uint64_t now;           /**< ticks up to now are done; in a callback, the tick being run */
	uint64_t armed;         /**< number of armed timers */
	td_timer_fn fn;
	void *arg;
};

/**
 * Initialise a wheel of @p nslots slots (a power of two) at tick @p now.
 * @return 0, or -TD_EINVAL (not a power of two), -TD_ENOMEM.
 */
int td_timer_wheel_init(struct td_timer_wheel *w, uint32_t nslots, uint64_t now, td_timer_fn fn,
			void *arg);

/** Free the slots; armed timers are forgotten, not run. */
void td_timer_wheel_free(struct td_timer_wheel *w);

/**
 * Arm (or re-arm) @p t to fire at tick @p expire. A tick at or before the
 * wheel's now fires at tick now + 1, with the next advance; from a callback,
 * where now is the tick being run, that is the following tick, never the
 * current one again.
 */
void td_timer_arm(struct td_timer_wheel *w, struct td_timer *t, uint64_t expire);

/** Disarm @p t; harmless when it is not armed. */
void td_timer_cancel(struct td_timer_wheel *w, struct td_timer *t);

/** True if @p t is armed. */
static inline bool
td_timer_pending(const struct td_timer *t)
{
	return t->prev != 0;
}

/**
 * Run the timers due at or before tick @p now, in due order slot by slot and
 * in arming order within a tick, at most @p budget of them (0: no limit).
 * When the budget runs out the wheel stays behind @p now and the next call
 * carries on. Callbacks may arm, re-arm and cancel any timer, but must not
 * call td_timer_advance() or td_timer_wheel_free().
 * @return the number of timers run.
 */
unsigned td_timer_advance(struct td_timer_wheel *w, uint64_t now, unsigned budget);

/**
 * The earliest due tick among armed timers, or UINT64_MAX when none is armed.
 * Scans the wheel: for tests and virtual clocks, not the fast path. From a
 * callback it does not see the timers still to run in the current tick.
 */
uint64_t td_timer_next(const struct td_timer_wheel *w);

#endif /* TD_TIMER_H */
