/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "tcp_impl.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t
rd64le(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* SipHash-2-4 (Aumasson and Bernstein), the keyed PRF RFC 6528 asks for. */
uint64_t
tcp_siphash(const uint8_t key[16], const uint8_t *data, size_t len)
{
	uint64_t k0 = rd64le(key), k1 = rd64le(key + 8);
	uint64_t v0 = 0x736f6d6570736575ull ^ k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0;
	uint64_t v3 = 0x7465646279746573ull ^ k1;
	size_t end = len - len % 8;
	uint64_t b = (uint64_t)len << 56;

	for (size_t i = 0; i < end; i += 8) {
		uint64_t m = rd64le(data + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = end; i < len; i++)
		b |= (uint64_t)data[i] << (8 * (i - end));
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a timer ticking every 4 microseconds. */
uint32_t
td_tcp_isn_rfc6528(const struct td_tcp_stack *st, const struct td_tuple *t, uint64_t now_us)
{
	uint8_t buf[36];
	size_t alen = t->family == 6 ? 16 : 4;
	size_t n = 0;

	memcpy(buf + n, t->laddr, alen);
	n += alen;
	memcpy(buf + n, t->raddr, alen);
	n += alen;
	buf[n++] = t->lport >> 8, buf[n++] = t->lport & 0xff;
	buf[n++] = t->rport >> 8, buf[n++] = t->rport & 0xff;
	return (uint32_t)(now_us / 4) + (uint32_t)tcp_siphash(st->key, buf, n);
}
