/* Unit tests of validation, portctl.conf settings and the loader: every
 * check of doc/design.md "Meaning and checks" at its exact LINE:COL. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "test_lang.h"

static struct lang_fixture F;

static void setup(void)
{
	fixture_setup(&F);
	fixture_shipped(&F);
}

static void teardown(void)
{
	fixture_teardown(&F);
}

/* Parse admin text (which must parse) and validate it. */
static int validate_text(const char *text)
{
	ck_assert_int_eq(fixture_parse(&F, text), 0);
	return pc_config_validate(F.cfg, &F.d);
}

START_TEST(test_services_expanded_with_word_place)
{
	const struct pc_rule *r;

	ck_assert_int_eq(validate_text("allow 8080,https,dns zone internal\n"), 0);
	r = &F.cfg->rules[0];
	ck_assert_uint_eq(r->n_written_ports, 1);
	ck_assert_uint_eq(r->n_ports, 3);
	ck_assert_uint_eq(r->ports[1].lo, 443);
	ck_assert_uint_eq(r->ports[1].loc.col, 12);
	ck_assert_uint_eq(r->ports[1].loc.len, 5);
	ck_assert_uint_eq(r->ports[2].protos, PC_PROTO_DEFAULT);
	ck_assert_uint_eq(r->ports[2].loc.col, 18);
	/* Validating again after a change does not expand twice. */
	ck_assert_int_eq(fixture_parse(&F, "allow ssh\n"), 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), 0);
	ck_assert_uint_eq(F.cfg->rules[0].n_ports, 3);
	ck_assert_uint_eq(F.cfg->rules[1].n_ports, 1);
	ck_assert_str_eq(F.cfg->zones[F.cfg->default_zone].name, "public");
}
END_TEST

START_TEST(test_unknown_names_hinted)
{
	ck_assert_int_eq(validate_text("allow 22\nallow htps zone pubic\nallow 22 zone nowhere\n"),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 3);
	assert_diag(&F, 0, 2, 17, "unknown zone 'pubic'");
	assert_hint(&F, 0, "did you mean 'public'?");
	assert_diag(&F, 1, 2, 7, "unknown service 'htps'");
	assert_hint(&F, 1, "did you mean 'https'?");
	assert_diag(&F, 2, 3, 15, "unknown zone 'nowhere'");
	ck_assert_ptr_null(F.d.items[2].hint);
}
END_TEST

START_TEST(test_misspelt_option_in_target_hinted)
{
	ck_assert_int_eq(validate_text("allow 22,lgo\n"), -EINVAL);
	assert_diag(&F, 0, 1, 10, "unknown service 'lgo'");
	assert_hint(&F, 0, "did you mean 'log'?");
}
END_TEST

START_TEST(test_admin_replaces_shipped_and_duplicates_name_first)
{
	ck_assert_int_eq(fixture_parse(&F, "zone internal interface eth1\n"
					   "service ssh 2222/tcp\n"
					   "allow ssh zone internal\n"),
			 0);
	ck_assert_int_eq(fixture_parse_origin(&F, "b.rules", "zone internal\nservice ssh 22\n", 29,
					      PC_ORIGIN_ADMIN),
			 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 2);
	assert_diag(&F, 0, 1, 6, "zone 'internal' is already defined at t.rules:1");
	ck_assert_str_eq(F.d.items[0].loc.file, "b.rules");
	assert_diag(&F, 1, 2, 9, "service 'ssh' is already defined at t.rules:2");
	ck_assert_uint_eq(F.cfg->n_zones, 3);
	ck_assert_uint_eq(pc_config_zone(F.cfg, "internal")->n_interfaces, 1);
	ck_assert_uint_eq(pc_config_service(F.cfg, "ssh")->ports[0].lo, 2222);
	ck_assert_uint_eq(F.cfg->rules[0].ports[0].lo, 2222);
}
END_TEST

START_TEST(test_default_zone_choice)
{
	ck_assert_int_eq(validate_text("zone lan default\n"), 0);
	ck_assert_str_eq(F.cfg->zones[F.cfg->default_zone].name, "lan");
	ck_assert_int_eq(validate_text("zone wan policy in drop default\n"), -EINVAL);
	assert_diag(&F, 0, 1, 25,
		    "zone 'wan' is marked default, but 'lan' already is at t.rules:1");
}
END_TEST

START_TEST(test_default_survives_replacement_and_revalidation)
{
	ck_assert_int_eq(validate_text("zone lan\nzone public interface eth0\n"), 0);
	ck_assert_str_eq(F.cfg->zones[F.cfg->default_zone].name, "public");
	ck_assert_uint_eq(F.cfg->zones[F.cfg->default_zone].n_interfaces, 1);
	ck_assert_int_eq(fixture_parse(&F, "allow 22\n"), 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), 0);
	ck_assert_str_eq(F.cfg->zones[F.cfg->default_zone].name, "public");
	/* An explicit admin default still wins over the inherited one. */
	ck_assert_int_eq(validate_text("zone wan default\n"), 0);
	ck_assert_str_eq(F.cfg->zones[F.cfg->default_zone].name, "wan");
	ck_assert_uint_eq(F.d.n, 0);
}
END_TEST

START_TEST(test_validate_one_added_rule)
{
	ck_assert_int_eq(validate_text("allow 22\n"), 0);
	ck_assert_int_eq(fixture_parse(&F, "limit https zone internal\n"), 0);
	ck_assert_int_eq(pc_config_validate_rule(F.cfg, 1, &F.d), 0);
	ck_assert_uint_eq(F.cfg->rules[1].n_ports, 1);
	ck_assert_uint_eq(F.cfg->rules[1].ports[0].lo, 443);
	ck_assert_uint_eq(F.cfg->rules[1].rate.count, 6);
	ck_assert_int_eq(fixture_parse(&F, "allow ssh zone internl\n"), 0);
	ck_assert_int_eq(pc_config_validate_rule(F.cfg, 2, &F.d), -EINVAL);
	assert_diag(&F, 0, 1, 16, "unknown zone 'internl'");
	assert_hint(&F, 0, "did you mean 'internal'?");
}
END_TEST

/* One rule's names are found by a scan of the configuration's zones and
 * services (no maps built at each change): the administrator's own, and
 * the hint for a misspelt one. */
START_TEST(test_validate_one_rule_names_scanned)
{
	const struct pc_rule *r;

	ck_assert_int_eq(validate_text("service web 80/tcp,8443/tcp\n"
				       "zone wan interface eth9\nallow 22\n"),
			 0);
	ck_assert_int_eq(fixture_parse(&F, "allow web zone wan,public\n"), 0);
	ck_assert_int_eq(pc_config_validate_rule(F.cfg, F.cfg->n_rules - 1, &F.d), 0);
	r = &F.cfg->rules[F.cfg->n_rules - 1];
	ck_assert_uint_eq(r->n_ports, 2);
	ck_assert_uint_eq(r->ports[1].lo, 8443);
	ck_assert_int_eq(fixture_parse(&F, "allow htps zone wan\n"), 0);
	ck_assert_int_eq(pc_config_validate_rule(F.cfg, F.cfg->n_rules - 1, &F.d), -EINVAL);
	assert_diag(&F, 0, 1, 7, "unknown service 'htps'");
	assert_hint(&F, 0, "did you mean 'https'?");
}
END_TEST

/* Whether another rule has a port: through rules put and taken in place
 * (the index kept), and after any other change (made again). */
START_TEST(test_ports_alone)
{
	struct pc_config *cfg;

	ck_assert_int_eq(validate_text("allow 80/tcp\nallow 80,443/tcp\nallow 1000-2000/udp\n"
				       "allow 7000\n"),
			 0);
	cfg = F.cfg;
	/* None yet: nothing is known alone. */
	ck_assert(!pc_config_ports_alone(cfg, &cfg->rules[1], PC_PROTO_TCP, 443, 443));
	ck_assert_int_eq(pc_config_ports_index(cfg), 0);
	ck_assert(!pc_config_ports_alone(cfg, &cfg->rules[0], PC_PROTO_TCP, 80, 80));
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[1], PC_PROTO_TCP, 443, 443));
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[1], PC_PROTO_UDP, 1, 65535) == false);
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[2], PC_PROTO_UDP, 1500, 1500));
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[3], PC_PROTO_UDP, 7000, 7000));
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[3], PC_PROTO_SCTP, 1, 65535));
	/* A rule at the head: another 1500/udp, and another 7000/udp. */
	ck_assert_int_eq(fixture_parse(&F, "allow 1500,7000/udp\n"), 0);
	ck_assert_int_eq(pc_config_validate_rule(cfg, cfg->n_rules - 1, &F.d), 0);
	pc_config_rule_put(cfg, 0);
	ck_assert(!pc_config_ports_alone(cfg, &cfg->rules[3], PC_PROTO_UDP, 1500, 1500));
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[3], PC_PROTO_UDP, 1000, 1499));
	ck_assert(!pc_config_ports_alone(cfg, &cfg->rules[4], PC_PROTO_UDP, 7000, 7000));
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[4], PC_PROTO_TCP, 7000, 7000));
	/* The first 80/tcp goes: the second is alone on 80. */
	pc_config_rule_take(cfg, 1);
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[1], PC_PROTO_TCP, 80, 443));
	pc_config_rule_take(cfg, 0);
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[1], PC_PROTO_UDP, 1500, 1500));
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[2], PC_PROTO_UDP, 7000, 7000));
	/* Moved otherwise (the full path's way): gone until made again. */
	pc_config_rule_remove(cfg, 0);
	ck_assert(!pc_config_ports_alone(cfg, &cfg->rules[0], PC_PROTO_UDP, 1, 6999));
	ck_assert_int_eq(pc_config_ports_index(cfg), 0);
	ck_assert(pc_config_ports_alone(cfg, &cfg->rules[0], PC_PROTO_UDP, 1, 6999));
	/* A rule parsed but not put: the index is not of these rules. */
	ck_assert_int_eq(fixture_parse(&F, "allow 1999/udp\n"), 0);
	ck_assert_int_eq(pc_config_validate_rule(cfg, cfg->n_rules - 1, &F.d), 0);
	ck_assert(!pc_config_ports_alone(cfg, &cfg->rules[0], PC_PROTO_UDP, 1, 6999));
	ck_assert_int_eq(pc_config_ports_index(cfg), 0);
	ck_assert(!pc_config_ports_alone(cfg, &cfg->rules[0], PC_PROTO_UDP, 1, 6999));
}
END_TEST

START_TEST(test_rules_grow)
{
	struct pc_rules_moved moved;
	struct pc_config *cfg;
	const struct pc_rule *before;
	char text[32];
	void *old;

	ck_assert_int_eq(validate_text("allow 80/tcp\n"), 0);
	cfg = F.cfg;
	/* Fill the array, then grow it: the rules are where moved says. */
	for (unsigned port = 1000; cfg->n_rules < cfg->cap_rules; port++) {
		snprintf(text, sizeof(text), "allow %u/tcp\n", port);
		ck_assert_int_eq(fixture_parse(&F, text), 0);
	}
	before = cfg->rules;
	ck_assert_int_eq(pc_config_rules_grow(cfg, &moved, &old), 0);
	ck_assert_ptr_nonnull(old);
	ck_assert_ptr_eq(moved.first, before);
	ck_assert_ptr_eq(moved.end, before + cfg->n_rules);
	ck_assert_ptr_eq(moved.to, cfg->rules);
	ck_assert_uint_gt(cfg->cap_rules, cfg->n_rules);
	for (size_t i = 0; i < cfg->n_rules; i++)
		ck_assert_str_eq(cfg->rules[i].text, before[i].text);
	free(old);
	/* Room now: nothing moves, and a push keeps the rules where they are. */
	before = cfg->rules;
	ck_assert_int_eq(pc_config_rules_grow(cfg, &moved, &old), 0);
	ck_assert_ptr_null(old);
	ck_assert_ptr_eq(moved.first, moved.end);
	ck_assert_int_eq(fixture_parse(&F, "allow 9/tcp\n"), 0);
	ck_assert_ptr_eq(cfg->rules, before);
}
END_TEST

START_TEST(test_rules_reserve)
{
	struct pc_strbuf text = {0};
	const struct pc_rule *before;
	size_t n;

	for (unsigned port = 1; port <= 3000; port++)
		ck_assert_int_eq(pc_strbuf_printf(&text, "allow %u/tcp # a comment\n", port), 0);
	n = F.cfg->n_rules;
	/* Room for the file's lines, made once: parsing it moves no rule. */
	ck_assert_int_eq(pc_config_rules_reserve(F.cfg, pc_newlines(text.buf, text.len)), 0);
	ck_assert_uint_ge(F.cfg->cap_rules, n + 3000);
	before = F.cfg->rules;
	ck_assert_int_eq(fixture_parse(&F, text.buf), 0);
	ck_assert_ptr_eq(F.cfg->rules, before);
	ck_assert_uint_eq(F.cfg->n_rules, n + 3000);
	/* And some to spare for the changes that follow. */
	ck_assert_uint_ge(F.cfg->cap_rules - F.cfg->n_rules, 64);
	/* Already room: nothing moves. */
	ck_assert_int_eq(pc_config_rules_reserve(F.cfg, 1), 0);
	ck_assert_ptr_eq(F.cfg->rules, before);
	pc_strbuf_free(&text);
}
END_TEST

START_TEST(test_default_zone_setting)
{
	static const char conf[] = "default-zone = trusted\n";
	static const char bad[] = "# c\n  default-zone=nope   # x\n";

	ck_assert_int_eq(
	    pc_settings_parse(F.cfg, "portctl.conf", strdup(conf), sizeof(conf) - 1, &F.d), 0);
	ck_assert_int_eq(validate_text("zone lan default\n"), 0);
	ck_assert_str_eq(F.cfg->zones[F.cfg->default_zone].name, "trusted");
	fixture_teardown(&F);
	setup();
	ck_assert_int_eq(
	    pc_settings_parse(F.cfg, "portctl.conf", strdup(bad), sizeof(bad) - 1, &F.d), 0);
	ck_assert_int_eq(pc_config_validate(F.cfg, &F.d), -EINVAL);
	assert_diag(&F, 0, 2, 16, "unknown zone 'nope'");
}
END_TEST

START_TEST(test_no_zones_at_all)
{
	fixture_teardown(&F);
	fixture_setup(&F);
	ck_assert_int_eq(validate_text("allow 22\n"), -EINVAL);
	ck_assert_str_eq(F.d.items[0].message, "no zones are defined");
	ck_assert_ptr_null(F.d.items[0].loc.file);
}
END_TEST

START_TEST(test_rule_checks)
{
	ck_assert_int_eq(validate_text("allow\n"
				       "allow in zone public\n"
				       "allow 22 from 10.0.0.0/8 to 2001:db8::1\n"
				       "allow 22 from 10.0.0.0/8,::1 to 2001:db8::1\n"
				       "deny 22 rate 1/second\n"
				       "limit out 22\n"
				       "reject 22 rate 1/second\n"),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 5);
	assert_diag(&F, 0, 1, 1, "'allow' needs a target");
	assert_diag(&F, 1, 2, 1, "'allow' needs a target");
	assert_diag(&F, 2, 3, 29, "different address families");
	assert_diag(&F, 3, 5, 9, "'rate' cannot be used with 'deny'");
	assert_diag(&F, 4, 6, 1, "'limit' applies to inbound connections only");
}
END_TEST

START_TEST(test_limit_gets_default_rate)
{
	const struct pc_rule *r;

	ck_assert_int_eq(validate_text("limit 22/tcp\nlimit ssh rate 3/minute\n"), 0);
	r = &F.cfg->rules[0];
	ck_assert(r->rate.set);
	ck_assert_uint_eq(r->rate.count, 6);
	ck_assert_int_eq(r->rate.unit, PC_PER_MINUTE);
	ck_assert_uint_eq(r->rate.burst, 6);
	ck_assert_uint_eq(F.cfg->rules[1].rate.count, 3);
	ck_assert_str_eq(r->text, "limit 22/tcp");
}
END_TEST

START_TEST(test_interface_and_source_bound_once)
{
	ck_assert_int_eq(validate_text("zone a interface eth0 source 10.0.0.0/8,192.168.1.0/24\n"
				       "zone b interface eth1,eth0 source 10.20.0.0/16\n"
				       "zone c source 192.168.1.0/24,fd00::/8,10.0.0.0/9\n"),
			 -EINVAL);
	/* 10.0.0.0/9 inside a's /8 and 10.20.0.0/16 inside that are more
	 * specific bindings; the same /24 in a and c is an error. */
	ck_assert_uint_eq(F.d.n_errors, 2);
	ck_assert_uint_eq(F.d.n, 2);
	assert_diag(&F, 0, 2, 23, "interface 'eth0' is already in zone 'a' (t.rules:1)");
	assert_diag(&F, 1, 3, 15, "source 192.168.1.0/24 of zone 'c' is already a source of");
	assert_hint(&F, 1, "a prefix belongs to one zone (a longer one inside it need not)");
}
END_TEST

/* Nested sources: the longest prefix wins, so only the nearest enclosing
 * prefix matters: in the same zone it makes the inner one redundant. */
START_TEST(test_sources_nested)
{
	ck_assert_int_eq(validate_text("zone a source 10.0.0.0/8,10.1.2.0/24,10.2.0.0/16\n"
				       "zone b source 10.1.0.0/16,fd00::/8\n"
				       "zone c source fd00::/8\n"),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 1);
	ck_assert_uint_eq(F.d.n, 2);
	/* 10.1.2.0/24 takes back from b what b took from a: no word. */
	assert_diag(&F, 0, 1, 38, "source 10.2.0.0/16 of zone 'a' is inside 10.0.0.0/8");
	ck_assert_int_eq(F.d.items[0].severity, PC_SEV_WARNING);
	assert_diag(&F, 1, 3, 15, "source fd00::/8 of zone 'c' is already a source of zone 'b'");
}
END_TEST

START_TEST(test_sources_nested_valid)
{
	ck_assert_int_eq(validate_text("zone a source 10.0.0.0/8,fd00::/8 default\n"
				       "zone b source 10.1.0.0/16,fd00:1::/32\n"
				       "zone c source 10.1.1.0/24\n"),
			 0);
	ck_assert_uint_eq(F.d.n, 0);
}
END_TEST

START_TEST(test_settings_parse)
{
	static const char good[] = "cli-changes = no\nsocket-group = wheel\nsocket-mode = 0640\n"
				   "log-level = debug\ntable-owner = no\ndrift = report\n"
				   "reverse-path = loose\n";
	static const char bad[] = "cli-change = yes\ncli-changes = maybe\nsocket-mode = 0999\n"
				  "log-level = verbose\nlog-level = info\nlog-level = err\n"
				  "drift = repare\njust words\nsocket-group =\n"
				  "reverse-path = strcit\n";

	ck_assert(F.cfg->settings.cli_changes);
	ck_assert_uint_eq(F.cfg->settings.socket_mode, 0666);
	ck_assert_int_eq(F.cfg->settings.reverse_path, PC_RPF_STRICT);
	ck_assert_int_eq(pc_settings_parse(F.cfg, "p.conf", strdup(good), sizeof(good) - 1, &F.d),
			 0);
	ck_assert(!F.cfg->settings.cli_changes);
	ck_assert_str_eq(F.cfg->settings.group, "wheel");
	ck_assert_uint_eq(F.cfg->settings.socket_mode, 0640);
	ck_assert_int_eq(F.cfg->settings.log_level, PC_LOG_DEBUG);
	ck_assert(!F.cfg->settings.table_owner);
	ck_assert_int_eq(F.cfg->settings.drift, PC_DRIFT_REPORT);
	ck_assert_int_eq(F.cfg->settings.reverse_path, PC_RPF_LOOSE);
	ck_assert_int_eq(pc_settings_parse(F.cfg, "q.conf", strdup(bad), sizeof(bad) - 1, &F.d),
			 -EINVAL);
	ck_assert_uint_eq(F.d.n_errors, 10);
	assert_diag(&F, 0, 1, 1, "unknown setting 'cli-change'");
	assert_hint(&F, 0, "did you mean 'cli-changes'?");
	assert_diag(&F, 1, 2, 15, "invalid value 'maybe'");
	assert_diag(&F, 2, 3, 15, "invalid socket mode '0999'");
	assert_diag(&F, 3, 4, 13, "invalid value 'verbose'");
	assert_diag(&F, 4, 5, 1, "'log-level' is set twice");
	assert_hint(&F, 4, "first set at line 4");
	assert_diag(&F, 5, 6, 1, "'log-level' is set twice");
	assert_diag(&F, 6, 7, 9, "invalid value 'repare'");
	assert_hint(&F, 6, "did you mean 'repair'?");
	assert_diag(&F, 7, 8, 1, "expected 'key = value'");
	assert_diag(&F, 8, 9, 15, "'socket-group' needs a value");
	assert_diag(&F, 9, 10, 16, "invalid value 'strcit'");
	assert_hint(&F, 9, "did you mean 'strict'?");
}
END_TEST

START_TEST(test_settings_not_utf8)
{
	static const char bad[] = "log-level = info\n# d\xe9"
				  "bug\n";

	ck_assert_int_eq(pc_settings_parse(F.cfg, "p.conf", strdup(bad), sizeof(bad) - 1, &F.d),
			 -EINVAL);
	assert_diag(&F, 0, 2, 4, "invalid UTF-8 byte 0xe9");
}
END_TEST

static void paths_fixture(struct pc_paths *p, const char *etc)
{
	static char sysconf[4096], data[4096];
	const char *top = getenv("top_srcdir");

	snprintf(sysconf, sizeof(sysconf), "%s/tests/data/lang/%s", top ? top : "..", etc);
	snprintf(data, sizeof(data), "%s/tests/data/lang/data", top ? top : "..");
	pc_paths_default(p);
	p->sysconf_dir = sysconf;
	p->data_dir = data;
}

START_TEST(test_load_whole_configuration)
{
	struct pc_config *cfg = NULL;
	struct pc_paths paths;
	struct pc_diags d;

	pc_diags_init(&d);
	paths_fixture(&paths, "etc");
	ck_assert_int_eq(pc_config_load(&paths, &cfg, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	/* rules.d in byte order; README, .hidden.rules and old.rules~ ignored. */
	ck_assert_uint_eq(cfg->n_rules, 3);
	ck_assert_str_eq(cfg->rules[0].text, "deny from 203.0.113.7");
	ck_assert_str_eq(cfg->rules[1].text, "allow web zone internal");
	ck_assert_ptr_nonnull(strstr(cfg->rules[1].loc.file, "rules.d/20-web.rules"));
	ck_assert_uint_eq(cfg->rules[1].n_ports, 2);
	ck_assert_uint_eq(cfg->n_zones, 4);
	ck_assert_uint_eq(pc_config_zone(cfg, "internal")->n_sources, 1);
	ck_assert_uint_eq(cfg->n_services, 7);
	ck_assert_str_eq(cfg->zones[cfg->default_zone].name, "public");
	ck_assert(!cfg->settings.cli_changes);
	ck_assert_int_eq(cfg->settings.drift, PC_DRIFT_REPORT);
	pc_config_free(cfg);
	pc_diags_free(&d);
}
END_TEST

START_TEST(test_load_override_and_missing_parts)
{
	struct pc_config *cfg = NULL;
	struct pc_paths paths;
	struct pc_diags d;

	/* override/ has services.rules (replacing the shipped one whole), no
	 * portctl.conf and no rules.d: defaults and no rules. */
	pc_diags_init(&d);
	paths_fixture(&paths, "override");
	ck_assert_int_eq(pc_config_load(&paths, &cfg, &d), 0);
	ck_assert_uint_eq(cfg->n_services, 1);
	ck_assert_uint_eq(pc_config_service(cfg, "ssh")->ports[0].lo, 2222);
	ck_assert_uint_eq(cfg->n_rules, 0);
	ck_assert(cfg->settings.cli_changes);
	pc_config_free(cfg);
	/* A missing data dir is an I/O error, not an invalid file. */
	paths.data_dir = "/nonexistent";
	ck_assert_int_eq(pc_config_load(&paths, &cfg, &d), -ENOENT);
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "cannot read"));
	ck_assert_ptr_nonnull(strstr(d.items[0].loc.file, "/nonexistent/zones.rules"));
	pc_config_free(cfg);
	pc_diags_free(&d);
}
END_TEST

START_TEST(test_load_files_instead_of_rules_dir)
{
	char example[4096], *files[1] = {example};
	const char *top = getenv("top_srcdir");
	struct pc_config *cfg = NULL;
	struct pc_paths paths;
	struct pc_diags d;

	pc_diags_init(&d);
	paths_fixture(&paths, "etc");
	snprintf(example, sizeof(example), "%s/tests/data/product-example.rules", top ? top : "..");
	ck_assert_int_eq(pc_config_load_files(&paths, files, 1, &cfg, &d), 0);
	ck_assert_uint_eq(cfg->n_rules, 12);
	ck_assert_str_eq(cfg->rules[0].text, "allow 443/tcp");
	ck_assert_str_eq(cfg->zones[cfg->default_zone].name, "public");
	ck_assert_uint_eq(pc_config_zone(cfg, "public")->n_interfaces, 2);
	ck_assert_str_eq(cfg->rules[11].comment, "WCF-WF 4.0 Samples");
	pc_config_free(cfg);
	pc_diags_free(&d);
}
END_TEST

START_TEST(test_load_refuses_huge_file)
{
	char dir[] = "/tmp/portctl-test-XXXXXX", path[256], rules[256];
	char *files[1] = {path};
	struct pc_config *cfg = NULL;
	struct pc_paths paths;
	struct pc_diags d;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/huge.rules", dir);
	snprintf(rules, sizeof(rules), "%s/rules.d", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (64 << 20) + 1), 0);
	close(fd);
	pc_diags_init(&d);
	paths_fixture(&paths, "etc");
	ck_assert_int_eq(pc_config_load_files(&paths, files, 1, &cfg, &d), -EINVAL);
	ck_assert_str_eq(d.items[0].message, "file is larger than 64 MiB; refusing to read it");
	pc_config_free(cfg);
	pc_diags_free(&d);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A throw-away tree for defaults.rules: DIR/data (shipped) and DIR/etc. */
struct defaults_tree {
	char dir[64], data[128], etc[128];
	struct pc_paths paths;
};

static void tree_write(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void tree_make(struct defaults_tree *t)
{
	char rules_d[256];

	snprintf(t->dir, sizeof(t->dir), "/tmp/portctl-defaults-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->data, sizeof(t->data), "%s/data", t->dir);
	snprintf(t->etc, sizeof(t->etc), "%s/etc", t->dir);
	snprintf(rules_d, sizeof(rules_d), "%s/rules.d", t->etc);
	ck_assert_int_eq(mkdir(t->data, 0700), 0);
	ck_assert_int_eq(mkdir(t->etc, 0700), 0);
	ck_assert_int_eq(mkdir(rules_d, 0700), 0);
	tree_write(t->data, "zones.rules", "zone public default\nzone internal\n");
	tree_write(t->data, "services.rules", "service ssh 22/tcp\n");
	tree_write(t->data, "defaults.rules", "# keeps SSH open\nallow ssh\n");
	tree_write(t->etc, "rules.d/10-admin.rules", "deny ssh\nallow 443/tcp\n");
	pc_paths_default(&t->paths);
	t->paths.sysconf_dir = t->etc;
	t->paths.data_dir = t->data;
}

static void tree_remove(struct defaults_tree *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && streq(s + n - m, tail);
}

START_TEST(test_load_defaults_after_rules_dir)
{
	struct defaults_tree t;
	struct pc_config *cfg = NULL;
	struct pc_diags d;

	tree_make(&t);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &d), 0);
	/* The admin's "deny ssh" comes first, so it wins over the default. */
	ck_assert_uint_eq(cfg->n_rules, 3);
	ck_assert_str_eq(cfg->rules[0].text, "deny ssh");
	ck_assert_int_eq(cfg->rules[0].origin, PC_ORIGIN_ADMIN);
	ck_assert_str_eq(cfg->rules[2].text, "allow ssh");
	ck_assert_int_eq(cfg->rules[2].origin, PC_ORIGIN_DEFAULTS);
	ck_assert(ends_with(cfg->rules[2].loc.file, "/data/defaults.rules"));
	ck_assert_uint_eq(cfg->rules[2].loc.line, 2);
	ck_assert_uint_eq(cfg->rules[2].loc.col, 1);
	ck_assert_uint_eq(cfg->rules[2].ports[0].lo, 22);
	pc_config_free(cfg);
	/* check FILE... validates the given files only, without the defaults. */
	{
		char admin[256], *files[1] = {admin};

		snprintf(admin, sizeof(admin), "%s/rules.d/10-admin.rules", t.etc);
		ck_assert_int_eq(pc_config_load_files(&t.paths, files, 1, &cfg, &d), 0);
		ck_assert_uint_eq(cfg->n_rules, 2);
		pc_config_free(cfg);
	}
	pc_diags_free(&d);
	tree_remove(&t);
}
END_TEST

START_TEST(test_load_defaults_replaced_removed_or_missing)
{
	struct defaults_tree t;
	struct pc_config *cfg = NULL;
	struct pc_diags d;
	char path[256];

	tree_make(&t);
	pc_diags_init(&d);
	/* /etc/portctl/defaults.rules replaces the shipped one whole. */
	tree_write(t.etc, "defaults.rules", "limit ssh\n");
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &d), 0);
	ck_assert_uint_eq(cfg->n_rules, 3);
	ck_assert_str_eq(cfg->rules[2].text, "limit ssh");
	ck_assert(ends_with(cfg->rules[2].loc.file, "/etc/defaults.rules"));
	pc_config_free(cfg);
	/* An empty one removes the default rules. */
	tree_write(t.etc, "defaults.rules", "");
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &d), 0);
	ck_assert_uint_eq(cfg->n_rules, 2);
	ck_assert_str_eq(cfg->rules[1].text, "allow 443/tcp");
	pc_config_free(cfg);
	/* A data directory without the file is no error: no default rules. */
	snprintf(path, sizeof(path), "%s/defaults.rules", t.etc);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/defaults.rules", t.data);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &d), 0);
	ck_assert_uint_eq(cfg->n_rules, 2);
	ck_assert_uint_eq(d.n, 0);
	pc_config_free(cfg);
	pc_diags_free(&d);
	tree_remove(&t);
}
END_TEST

START_TEST(test_load_defaults_holds_only_rules)
{
	struct defaults_tree t;
	struct pc_config *cfg = NULL;

	tree_make(&t);
	tree_write(t.data, "defaults.rules",
		   "allow ssh\nzone mgmt interface eth9\n  service x 1/tcp\nallow sshh\n");
	pc_diags_init(&F.d);
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &F.d), -EINVAL);
	assert_diag(&F, 0, 2, 1, "defaults.rules may hold only rules");
	ck_assert(ends_with(F.d.items[0].loc.file, "/data/defaults.rules"));
	assert_diag(&F, 1, 3, 3, "defaults.rules may hold only rules");
	/* Its rules are checked like the admin's, at their FILE:LINE:COL. */
	assert_diag(&F, 2, 4, 7, "unknown service 'sshh'");
	assert_hint(&F, 2, "did you mean 'ssh'?");
	pc_config_free(cfg);
	pc_diags_free(&F.d);
	/* The other shipped files still hold no rules. */
	tree_write(t.data, "defaults.rules", "allow ssh\n");
	tree_write(t.data, "zones.rules", "zone public default\nallow 80/tcp\n");
	pc_diags_init(&F.d);
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &F.d), -EINVAL);
	assert_diag(&F, 0, 2, 1, "shipped files may hold only zone and service definitions");
	pc_config_free(cfg);
	pc_diags_free(&F.d);
	tree_remove(&t);
}
END_TEST

/* The diagnostic of the file whose name ends in tail, or fail. */
static const struct pc_diag *diag_of(const struct pc_diags *d, const char *tail)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].loc.file && ends_with(d->items[i].loc.file, tail))
			return &d->items[i];
	ck_abort_msg("no diagnostic for %s", tail);
	return NULL;
}

static void tree_chmod(const struct defaults_tree *t, const char *name, mode_t mode)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", t->etc, name);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_load_refuses_unsafe_files)
{
	struct defaults_tree t;
	struct pc_config *cfg = NULL;
	struct pc_diags d;
	char path[256], hint[300];

	tree_make(&t);
	/* Neither a FIFO (opening it must not wait for a writer), nor a
	 * directory, nor a file that others can write is read. */
	snprintf(path, sizeof(path), "%s/rules.d/20-fifo.rules", t.etc);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/rules.d/30-dir.rules", t.etc);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	tree_write(t.etc, "rules.d/40-open.rules", "allow 1-65535/tcp\n");
	tree_chmod(&t, "rules.d/40-open.rules", 0666);
	tree_write(t.etc, "rules.d/50-group.rules", "allow 1-65535/udp\n");
	tree_chmod(&t, "rules.d/50-group.rules", 0660);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n_errors, 4);
	ck_assert_str_eq(diag_of(&d, "/20-fifo.rules")->message,
			 "a FIFO, not a regular file; refusing to read it");
	ck_assert_str_eq(diag_of(&d, "/30-dir.rules")->message,
			 "a directory, not a regular file; refusing to read it");
	ck_assert_str_eq(
	    diag_of(&d, "/40-open.rules")->message,
	    "file writable by every user (mode 0666): anyone could change the firewall "
	    "through it; refusing it");
	snprintf(hint, sizeof(hint), "run: chmod go-w %s/rules.d/40-open.rules", t.etc);
	ck_assert_str_eq(diag_of(&d, "/40-open.rules")->hint, hint);
	ck_assert_ptr_nonnull(strstr(diag_of(&d, "/50-group.rules")->message, "by its group"));
	/* Only the safe file's rules and the defaults were read. */
	ck_assert_uint_eq(cfg->n_rules, 3);
	pc_config_free(cfg);
	pc_diags_free(&d);
	tree_remove(&t);

	/* The directories that hold the files count as much. */
	tree_make(&t);
	tree_chmod(&t, "rules.d", 0777);
	ck_assert_int_eq(chmod(t.data, 0770), 0);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &d), -EINVAL);
	ck_assert_uint_eq(d.n_errors, 2);
	ck_assert_str_eq(diag_of(&d, "/rules.d")->message,
			 "directory writable by every user (mode 0777): anyone could change the "
			 "firewall through it; refusing it");
	ck_assert_ptr_nonnull(strstr(diag_of(&d, "/data")->message, "by its group (mode 0770)"));
	pc_config_free(cfg);
	pc_diags_free(&d);
	tree_chmod(&t, "rules.d", 0700);
	ck_assert_int_eq(chmod(t.data, 0700), 0);

	/* A file of another user is refused (root can make one). */
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/rules.d/10-admin.rules", t.etc);
		ck_assert_int_eq(chown(path, 65534, 65534), 0);
		pc_diags_init(&d);
		ck_assert_int_eq(pc_config_load(&t.paths, &cfg, &d), -EINVAL);
		ck_assert_uint_eq(d.n_errors, 1);
		ck_assert_str_eq(diag_of(&d, "/10-admin.rules")->message,
				 "file owned by uid 65534, not root: that user could change the "
				 "firewall through it; refusing it");
		snprintf(hint, sizeof(hint), "if it is trusted, run: chown root %s", path);
		ck_assert_str_eq(diag_of(&d, "/10-admin.rules")->hint, hint);
		pc_config_free(cfg);
		pc_diags_free(&d);
	}
	tree_remove(&t);
}
END_TEST

/* A rule's comment of FILE:LINE is what snprintf makes of it, cut the same
 * at every buffer size, for lines of every digit count. */
START_TEST(test_rule_comment_file_line)
{
	static const uint32_t lines[] = { 1, 9, 10, 99, 100, 12345, 4294967295u };
	static const char *const files[] = { "/etc/portctl/rules.d/10-bulk.rules", "a", "" };

	for (size_t f = 0; f < sizeof(files) / sizeof(*files); f++)
		for (size_t l = 0; l < sizeof(lines) / sizeof(*lines); l++)
			for (size_t size = 1; size <= 48; size++) {
				struct pc_rule r = { .loc = { .file = files[f], .line = lines[l] } };
				const char *base = strrchr(files[f], '/');
				char got[48], want[48];

				snprintf(want, size, "%s:%u", base ? base + 1 : files[f], lines[l]);
				memset(got, 'x', sizeof(got));
				pc_rule_comment(&r, got, size);
				ck_assert_str_eq(got, want);
			}
}
END_TEST

/* The names made by hand (pc_put_*) read as snprintf writes them, cut
 * and terminated alike at every size. */
START_TEST(test_put_as_snprintf)
{
	static const uint64_t hexes[] = { 0, 1, 0xabcdef, 0x0123456789abcdefull, UINT64_MAX };
	static const unsigned long uints[] = { 0, 7, 10, 4294967295ul, ULONG_MAX };
	static const char *const strs[] = { "", "in", "public_zone_with_a_long_name" };

	for (size_t k = 0; k < 5; k++)
		for (size_t t = 0; t < 3; t++)
			for (size_t size = 1; size <= 72; size++) {
				char got[72], want[72];
				size_t at;

				snprintf(want, size, "%s_%016llxd%lu", strs[t],
					 (unsigned long long)hexes[k], uints[k]);
				memset(got, 'x', sizeof(got));
				at = pc_put_str(got, size, 0, strs[t]);
				at = pc_put_str(got, size, at, "_");
				at = pc_put_hex64(got, size, at, hexes[k]);
				at = pc_put_str(got, size, at, "d");
				at = pc_put_uint(got, size, at, uints[k]);
				ck_assert_str_eq(got, want);
				ck_assert_uint_eq(at, strlen(want));
			}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("validate");
	TCase *tl = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_services_expanded_with_word_place);
	tcase_add_test(tc, test_unknown_names_hinted);
	tcase_add_test(tc, test_misspelt_option_in_target_hinted);
	tcase_add_test(tc, test_admin_replaces_shipped_and_duplicates_name_first);
	tcase_add_test(tc, test_default_zone_choice);
	tcase_add_test(tc, test_rules_grow);
	tcase_add_test(tc, test_rules_reserve);
	tcase_add_test(tc, test_default_survives_replacement_and_revalidation);
	tcase_add_test(tc, test_validate_one_added_rule);
	tcase_add_test(tc, test_validate_one_rule_names_scanned);
	tcase_add_test(tc, test_ports_alone);
	tcase_add_test(tc, test_default_zone_setting);
	tcase_add_test(tc, test_no_zones_at_all);
	tcase_add_test(tc, test_rule_checks);
	tcase_add_test(tc, test_limit_gets_default_rate);
	tcase_add_test(tc, test_interface_and_source_bound_once);
	tcase_add_test(tc, test_sources_nested);
	tcase_add_test(tc, test_sources_nested_valid);
	tcase_add_test(tc, test_settings_parse);
	tcase_add_test(tc, test_settings_not_utf8);
	tcase_add_test(tc, test_rule_comment_file_line);
	tcase_add_test(tc, test_put_as_snprintf);
	suite_add_tcase(s, tc);
	tcase_add_test(tl, test_load_whole_configuration);
	tcase_add_test(tl, test_load_override_and_missing_parts);
	tcase_add_test(tl, test_load_files_instead_of_rules_dir);
	tcase_add_test(tl, test_load_refuses_huge_file);
	tcase_add_test(tl, test_load_defaults_after_rules_dir);
	tcase_add_test(tl, test_load_defaults_replaced_removed_or_missing);
	tcase_add_test(tl, test_load_defaults_holds_only_rules);
	tcase_add_test(tl, test_load_refuses_unsafe_files);
	suite_add_tcase(s, tl);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
