/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_COMMON_H
#define TD_COMMON_H

/**
 * @file
 * Definitions shared by every teardown library: the error map, branch hints
 * and small helpers. Nothing here depends on DPDK.
 */

#include <stddef.h>
#include <stdint.h>

/**
 * The one error map of the project. Each row is (NAME, value, text); it
 * generates both `enum td_errno` and td_strerror(). Control-path functions
 * return 0 or a negative value of this enum; the values are Linux errno
 * values so that the socket-like API and the conformance runner can hand
 * them out unchanged.
 */
#define TD_ERRNO_MAP(XX)                                                                           \
	XX(EPERM, 1, "operation not permitted")                                                    \
	XX(EAGAIN, 11, "resource temporarily unavailable")                                         \
	XX(ENOMEM, 12, "out of memory")                                                            \
	XX(EBUSY, 16, "resource busy")                                                             \
	XX(EEXIST, 17, "already exists")                                                           \
	XX(EINVAL, 22, "invalid argument")                                                         \
	XX(ENOSPC, 28, "no space left (pool or table full)")                                       \
	XX(EPIPE, 32, "connection closing")                                                        \
	XX(ERANGE, 34, "value out of range")                                                       \
	XX(ENOTSUP, 95, "operation not supported")                                                 \
	XX(EADDRINUSE, 98, "address already in use")                                               \
	XX(ENOBUFS, 105, "no buffer space available")                                              \
	XX(EISCONN, 106, "already connected")                                                      \
	XX(ENOTCONN, 107, "not connected")                                                         \
	XX(ETIMEDOUT, 110, "connection aborted due to user timeout")                               \
	XX(ECONNREFUSED, 111, "connection refused")                                                \
	XX(ECONNRESET, 104, "connection reset")                                                    \
	XX(EALREADY, 114, "operation already in progress")                                         \
	XX(EINPROGRESS, 115, "operation now in progress")

/** Error numbers: negated when returned. */
enum td_errno {
#define TD_ERRNO_ENUM(name, val, text) TD_##name = val,
	TD_ERRNO_MAP(TD_ERRNO_ENUM)
#undef TD_ERRNO_ENUM
};

/**
 * Text of an error number; accepts the value with either sign.
 * Never returns NULL.
 */
const char *td_strerror(int err);

/** Name of an error number ("EPIPE"), or "E?" if unknown. */
const char *td_errname(int err);

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#define TD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TD_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TD_CACHE_LINE 64

#define TD_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif /* TD_COMMON_H */
