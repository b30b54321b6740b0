/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_impl.h"

static bool
out_of_range(unsigned long long v, unsigned long long lo, unsigned long long hi)
{
	return v < lo || v > hi;
}

void
td_tcp_config_defaults(struct td_tcp_config *cfg)
{
#define TD_TCP_CFG_DEF(name, type, def, min, max, unit, help) cfg->name = (type)(def);
	TD_TCP_CONFIG_MAP(TD_TCP_CFG_DEF)
#undef TD_TCP_CFG_DEF
}

int
td_tcp_config_validate(const struct td_tcp_config *cfg, char *err, size_t errlen)
{
#define TD_TCP_CFG_CHECK(name, type, def, min, max, unit, help)                                    \
	if (out_of_range(cfg->name, (min), (max))) {                                               \
		snprintf(err, errlen, "%s: %llu is out of range, accepted %llu..%llu (%s)", #name, \
			 (unsigned long long)cfg->name, (unsigned long long)(min),                 \
			 (unsigned long long)(max), unit);                                         \
		return -TD_ERANGE;                                                                 \
	}
	TD_TCP_CONFIG_MAP(TD_TCP_CFG_CHECK)
#undef TD_TCP_CFG_CHECK
	if (cfg->rto_min_ms > cfg->rto_max_ms) {
		snprintf(err, errlen, "rto_min_ms: %u is above rto_max_ms %u, accepted 1..%u ms",
			 cfg->rto_min_ms, cfg->rto_max_ms, cfg->rto_max_ms);
		return -TD_EINVAL;
	}
	if ((cfg->timer_slots & (cfg->timer_slots - 1)) != 0) {
		snprintf(err, errlen,
			 "timer_slots: %u is not a power of two, accepted 256..16777216",
			 cfg->timer_slots);
		return -TD_EINVAL;
	}
	return 0;
}

int
td_tcp_config_set(struct td_tcp_config *cfg, const char *name, const char *value, char *err,
		  size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 0);
	bool bad = errno != 0 || end == value || *end != '\0' || value[0] == '-';
#define TD_TCP_CFG_SET(fname, type, def, min, max, unit, help)                                     \
	if (strcmp(name, #fname) == 0) {                                                           \
		if (bad) {                                                                         \
			snprintf(err, errlen,                                                      \
				 "%s: '%s' is not a number, accepted %llu..%llu (%s)", #fname,     \
				 value, (unsigned long long)(min), (unsigned long long)(max),      \
				 unit);                                                            \
			return -TD_EINVAL;                                                         \
		}                                                                                  \
		if (out_of_range(v, (min), (max))) {                                               \
			snprintf(err, errlen,                                                      \
				 "%s: '%s' is not accepted, accepted %llu..%llu (%s)", #fname,     \
				 value, (unsigned long long)(min), (unsigned long long)(max),      \
				 unit);                                                            \
			return -TD_ERANGE;                                                         \
		}                                                                                  \
		cfg->fname = (type)v;                                                              \
		return 0;                                                                          \
	}
	TD_TCP_CONFIG_MAP(TD_TCP_CFG_SET)
#undef TD_TCP_CFG_SET
	snprintf(err, errlen, "%s: unknown setting (see td_tcp.h TD_TCP_CONFIG_MAP)", name);
	return -TD_EINVAL;
}

static const char *const state_names[TD_TCP_NSTATES] = {
	[TD_TCP_CLOSED] = "CLOSED",           [TD_TCP_LISTEN] = "LISTEN",
	[TD_TCP_SYN_SENT] = "SYN-SENT",       [TD_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[TD_TCP_ESTABLISHED] = "ESTABLISHED", [TD_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TD_TCP_FIN_WAIT_1] = "FIN-WAIT-1",   [TD_TCP_CLOSING] = "CLOSING",
	[TD_TCP_LAST_ACK] = "LAST-ACK",       [TD_TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[TD_TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *
td_tcp_state_name(enum td_tcp_state s)
{
	return (unsigned)s < TD_TCP_NSTATES ? state_names[s] : "?";
}

const char *
td_tcp_drop_name(enum td_tcp_drop d)
{
	switch (d) {
#define TD_TCP_DROP_NAME(name, text)                                                               \
	case TD_TCP_DROP_##name:                                                                   \
		return #name;
		TD_TCP_DROP_MAP(TD_TCP_DROP_NAME)
#undef TD_TCP_DROP_NAME
	case TD_TCP_DROP_MAX:
		break;
	}
	return "?";
}

const char *
td_tcp_end_name(enum td_tcp_end e)
{
	switch (e) {
#define TD_TCP_END_NAME(name, text)                                                                \
	case TD_TCP_END_##name:                                                                    \
		return #name;
		TD_TCP_END_MAP(TD_TCP_END_NAME)
#undef TD_TCP_END_NAME
	case TD_TCP_END_MAX:
		break;
	}
	return "?";
}

const char *
td_tcp_event_name(enum td_tcp_event ev)
{
	switch (ev) {
	case TD_TCP_EV_CONNECTED:
		return "CONNECTED";
	case TD_TCP_EV_ACCEPTED:
		return "ACCEPTED";
	case TD_TCP_EV_READABLE:
		return "READABLE";
	case TD_TCP_EV_PEER_CLOSED:
		return "PEER_CLOSED";
	case TD_TCP_EV_WRITABLE:
		return "WRITABLE";
	case TD_TCP_EV_CLOSE_DONE:
		return "CLOSE_DONE";
	case TD_TCP_EV_RETX_WARNING:
		return "RETX_WARNING";
	case TD_TCP_EV_CLOSED:
		return "CLOSED";
	case TD_TCP_EV_RESET:
		return "RESET";
	case TD_TCP_EV_TIMED_OUT:
		return "TIMED_OUT";
	}
	return "?";
}
