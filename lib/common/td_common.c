/* SPDX-License-Identifier: BSD-3-Clause */
#include "td_common.h"

const char *
td_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
#define TD_ERRNO_TEXT(name, val, text)                                                             \
	case val:                                                                                  \
		return text;
		TD_ERRNO_MAP(TD_ERRNO_TEXT)
#undef TD_ERRNO_TEXT
	}
	return "unknown error";
}

const char *
td_errname(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
#define TD_ERRNO_NAME(name, val, text)                                                             \
	case val:                                                                                  \
		return #name;
		TD_ERRNO_MAP(TD_ERRNO_NAME)
#undef TD_ERRNO_NAME
	}
	return "E?";
}
