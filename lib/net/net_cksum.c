/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "net_impl.h"

/* RFC 1071 2(B): the ones' complement sum does not depend on byte order. The
 * loop adds native 32-bit words into a 64-bit accumulator, which cannot
 * overflow for any length a uint32_t IP length allows, and folds once at the
 * end; on a little-endian host the folded result is the byte-swapped sum of
 * the big-endian words, so one swap brings it back. memcpy() makes the loads
 * safe at any alignment and compiles to plain loads. */
uint32_t
td_net_cksum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t acc = 0;

	while (len >= 16) {
		uint32_t w[4];

		memcpy(w, p, sizeof(w));
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, sizeof(w));
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, sizeof(h));
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		/* The odd byte is the high half of a word padded with a zero. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		acc += p[0];
#else
		acc += (uint32_t)p[0] << 8;
#endif
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	uint16_t folded = td_net_cksum_fold((uint32_t)acc);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	folded = (uint16_t)(folded << 8 | folded >> 8);
#endif
	return td_net_cksum_fold(sum + folded);
}

uint16_t
td_net_cksum(const void *buf, size_t len)
{
	return td_net_cksum_finish(td_net_cksum_add(0, buf, len));
}

uint32_t
td_net_pseudo4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint32_t len)
{
	uint32_t sum = (uint32_t)rd16(src) + rd16(src + 2) + rd16(dst) + rd16(dst + 2);

	return td_net_cksum_fold(sum + proto + (len >> 16) + (len & 0xffff));
}

uint32_t
td_net_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, uint32_t len)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < 16; i += 2)
		sum += (uint32_t)rd16(src + i) + rd16(dst + i);
	return td_net_cksum_fold(sum + proto + (len >> 16) + (len & 0xffff));
}
