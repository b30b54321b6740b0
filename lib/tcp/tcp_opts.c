/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "tcp_impl.h"

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* RFC 9293 3.1: an option list is a sequence of kind bytes, each but EOL and
 * NOP followed by a length that counts kind and length. A list that lies about
 * its lengths cannot be parsed safely, so the whole segment is refused (C-89). */
int
td_tcp_opts_parse(const uint8_t *p, unsigned len, struct td_tcp_opts *o)
{
	unsigned i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == 0) /* EOL */
			break;
		if (kind == 1) { /* NOP */
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -TD_EINVAL;
		uint8_t olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return -TD_EINVAL;
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case 2:
			if (olen != 4)
				return -TD_EINVAL;
			o->has |= TD_OPT_MSS;
			o->mss = (uint16_t)(v[0] << 8 | v[1]);
			break;
		case 3:
			if (olen != 3)
				return -TD_EINVAL;
			o->has |= TD_OPT_WSCALE;
			o->wscale = v[0] > 14 ? 14 : v[0]; /* RFC 7323 2.3 */
			break;
		case 4:
			if (olen != 2)
				return -TD_EINVAL;
			o->has |= TD_OPT_SACKOK;
			break;
		case 5:
			if (olen < 10 || (olen - 2) % 8 != 0)
				return -TD_EINVAL;
			o->has |= TD_OPT_SACK;
			o->nsack = 0;
			for (unsigned b = 0; b < (olen - 2u) / 8 && b < TD_TCP_MAX_SACK; b++) {
				o->sack[b][0] = rd32(v + 8 * b);
				o->sack[b][1] = rd32(v + 8 * b + 4);
				o->nsack++;
			}
			break;
		case 8:
			if (olen != 10)
				return -TD_EINVAL;
			o->has |= TD_OPT_TS;
			o->ts_val = rd32(v);
			o->ts_ecr = rd32(v + 4);
			break;
		default:
			break; /* unknown but well formed: ignored */
		}
		i += olen;
	}
	return 0;
}

unsigned
td_tcp_opts_write(const struct td_tcp_opts *o, bool syn, uint8_t *p)
{
	unsigned n = 0;

	if (syn && (o->has & TD_OPT_MSS)) {
		p[n++] = 2, p[n++] = 4;
		p[n++] = o->mss >> 8, p[n++] = o->mss & 0xff;
	}
	if (o->has & TD_OPT_TS) {
		if (syn && (o->has & TD_OPT_SACKOK)) {
			p[n++] = 4, p[n++] = 2;
		} else {
			p[n++] = 1, p[n++] = 1;
		}
		p[n++] = 8, p[n++] = 10;
		wr32(p + n, o->ts_val);
		wr32(p + n + 4, o->ts_ecr);
		n += 8;
	} else if (syn && (o->has & TD_OPT_SACKOK)) {
		p[n++] = 1, p[n++] = 1, p[n++] = 4, p[n++] = 2;
	}
	if (syn && (o->has & TD_OPT_WSCALE)) {
		p[n++] = 1, p[n++] = 3, p[n++] = 3, p[n++] = o->wscale;
	}
	if (!syn && (o->has & TD_OPT_SACK) && o->nsack > 0) {
		unsigned room = (40 - n - 4) / 8;
		unsigned nb = o->nsack < room ? o->nsack : room;
		p[n++] = 1, p[n++] = 1, p[n++] = 5, p[n++] = (uint8_t)(2 + 8 * nb);
		for (unsigned b = 0; b < nb; b++) {
			wr32(p + n, o->sack[b][0]);
			wr32(p + n + 4, o->sack[b][1]);
			n += 8;
		}
	}
	return n;
}
