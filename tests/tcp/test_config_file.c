/* SPDX-License-Identifier: BSD-3-Clause */
/* config/tcp.ini documents every lib/tcp setting: it must name exactly the
 * fields of TD_TCP_CONFIG_MAP, each with its default value. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "td_tcp.h"

#ifndef TD_CONFIG_DIR
#error "TD_CONFIG_DIR must name the source tree's config/ folder"
#endif

Test(config_file, tcp_ini_names_every_field_with_its_default)
{
	struct td_tcp_config want, got;
	char line[512], err[256];
	unsigned keys = 0, fields = 0;
	FILE *f = fopen(TD_CONFIG_DIR "/tcp.ini", "r");

	cr_assert_not_null(f, "cannot open %s/tcp.ini", TD_CONFIG_DIR);
	td_tcp_config_defaults(&want);
	memset(&got, 0xa5, sizeof(got)); /* every field must be set by the file */
	while (fgets(line, sizeof(line), f) != NULL) {
		char key[128], value[128];
		if (line[0] == ';' || line[0] == '[' || line[0] == '\n')
			continue;
		cr_assert_eq(sscanf(line, " %127[a-z0-9_] = %127s", key, value), 2, "bad line: %s",
			     line);
		cr_assert_eq(td_tcp_config_set(&got, key, value, err, sizeof(err)), 0, "%s", err);
		keys++;
	}
	fclose(f);
#define TD_COUNT(name, type, def, min, max, unit, help) fields++;
	TD_TCP_CONFIG_MAP(TD_COUNT)
#undef TD_COUNT
	cr_expect_eq(keys, fields, "config/tcp.ini has %u keys, the config %u fields", keys,
		     fields);
#define TD_SAME(name, type, def, min, max, unit, help)                                             \
	cr_expect_eq(got.name, want.name, #name ": %llu in tcp.ini, default %llu",                 \
		     (unsigned long long)got.name, (unsigned long long)want.name);
	TD_TCP_CONFIG_MAP(TD_SAME)
#undef TD_SAME
}
