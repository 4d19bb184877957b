/* Unit tests of the read side: explain's words and answers (through the
 * real parser, validator and plan), export's text and its round trip, and
 * the configuration diff. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "compile_helper.h"
#include "portctl/explain.h"
#include "portctl/export.h"

static const char zones_text[] =
    "zone public interface eth0 default\n"
    "zone office interface eth1 source 10.1.0.0/16,fd00:1::/32 policy in reject\n"
    "service web 80/tcp,443/tcp\n";

static int parse_words(const char *line, struct pc_explain_query *q, char *err, size_t size)
{
	char *words[PC_EXPLAIN_WORDS_MAX + 4];
	char *copy = strdup(line), *save = NULL;
	int n = 0, r;

	for (char *w = strtok_r(copy, " ", &save); w && n < (int)ARRAY_SIZE(words);
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	r = pc_explain_parse(n, words, q, err, size);
	free(copy);
	return r;
}

START_TEST(test_parse_ok)
{
	struct pc_explain_query q;
	char err[256] = "";

	ck_assert_int_eq(parse_words("in tcp 22", &q, err, sizeof(err)), 0);
	ck_assert_int_eq(q.dir, PC_DIR_IN);
	ck_assert_int_eq(q.l4proto, IPPROTO_TCP);
	ck_assert_int_eq(q.port, 22);
	ck_assert_int_eq(q.family, 0);
	ck_assert(!q.have_from && !q.have_to);
	ck_assert_str_eq(q.iface, "");

	ck_assert_int_eq(parse_words("out udp 53 to 2001:db8::1 on wlan0", &q, err, sizeof(err)),
			 0);
	ck_assert_int_eq(q.dir, PC_DIR_OUT);
	ck_assert_int_eq(q.l4proto, IPPROTO_UDP);
	ck_assert_int_eq(q.family, AF_INET6);
	ck_assert(q.have_to && !q.have_from);
	ck_assert_str_eq(q.iface, "wlan0");

	ck_assert_int_eq(parse_words("in sctp 65535 on eth1 from 10.1.2.3", &q, err, sizeof(err)),
			 0);
	ck_assert_int_eq(q.port, 65535);
	ck_assert_int_eq(q.family, AF_INET);
	ck_assert_int_eq(q.from[0], 10);
	ck_assert_int_eq(q.from[3], 3);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct {
		const char *line, *says;
	} bad[] = {
	    {"in tcp", "needs a direction"},
	    {"inbound tcp 22", "'in', 'out' or 'forward'"},
	    {"in icmp 22x", "not an ICMP type"},
	    {"in icmpv6 echo-request from 10.0.0.1", "icmpv6 is IPv6's"},
	    {"in gre 1", "tcp, udp, sctp, icmp, icmpv6 or proto"},
	    {"in proto nosuch", "a number from 1 to 255"},
	    {"in tcp 22 from 10.0.0.1 port 0", "source port"},
	    {"in tcp 0", "1 to 65535"},
	    {"in tcp 65536", "1 to 65535"},
	    {"in tcp 22x", "1 to 65535"},
	    {"in tcp -1", "1 to 65535"},
	    {"in tcp 22 from", "needs a value"},
	    {"in tcp 22 from 10.0.0.0/8", "one IPv4 or IPv6 address"},
	    {"in tcp 22 from 10.0.0.1 from 10.0.0.2", "given twice"},
	    {"in tcp 22 from 10.0.0.1 to ::1", "one address family"},
	    {"in tcp 22 via eth0", "expected from ADDR"},
	    {"in tcp 22 on eth0 on eth1", "given twice"},
	    {"in tcp 22 on averyveryverylongname", "interface name"},
	    {"in tcp 22 on a/b", "interface name"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct pc_explain_query q;
		char err[256] = "";

		ck_assert_msg(parse_words(bad[i].line, &q, err, sizeof(err)) == -EINVAL,
			      "'%s' was accepted", bad[i].line);
		ck_assert_msg(strstr(err, bad[i].says), "'%s' said '%s', not '%s'", bad[i].line,
			      err, bad[i].says);
	}
}
END_TEST

/* Evaluate a query line against config text with reverse-path = rpf; the
 * answer as JSON. */
static json_t *explain_rpf(const char *rules, const char *line, enum pc_reverse_path rpf)
{
	_cleanup_free_ char *text = NULL;
	struct pc_config *cfg;
	struct pc_explain_query q;
	struct pc_diags d;
	json_t *a = NULL;
	char err[256];

	ck_assert_int_ge(asprintf(&text, "%s%s", zones_text, rules), 0);
	cfg = config_from_text(text);
	cfg->settings.reverse_path = rpf;
	ck_assert_int_eq(parse_words(line, &q, err, sizeof(err)), 0);
	pc_diags_init(&d);
	ck_assert_int_eq(pc_explain_eval(cfg, &q, &a, &d), 0);
	pc_diags_free(&d);
	/* The answer owns copies of everything it says: free cfg first. */
	pc_config_free(cfg);
	return a;
}

static json_t *explain(const char *rules, const char *line)
{
	return explain_rpf(rules, line, PC_RPF_STRICT);
}

static const char *jstr(const json_t *a, const char *key)
{
	const char *s = json_string_value(json_object_get(a, key));

	return s ? s : "(null)";
}

/* A port another table publishes (the daemon sets q.published): judged in
 * the forward chain, by the in rules on the original port, or with
 * published-ports = runtime by the forward rules and policy. */
static json_t *explain_published(const char *line, enum pc_published mode)
{
	struct pc_config *cfg = config_from_text("zone public interface eth0 default\n"
						  "zone office source 10.1.0.0/16 policy in reject\n"
						  "allow 8080/tcp zone office\n"
						  "deny forward 8081/tcp zone office\n");
	struct pc_explain_query q;
	struct pc_diags d;
	json_t *a = NULL;
	char err[256];

	cfg->settings.published = mode;
	ck_assert_int_eq(parse_words(line, &q, err, sizeof(err)), 0);
	q.published = true;
	pc_diags_init(&d);
	ck_assert_int_eq(pc_explain_eval(cfg, &q, &a, &d), 0);
	pc_diags_free(&d);
	pc_config_free(cfg);
	return a;
}

START_TEST(test_eval_published)
{
	json_t *a = explain_published("in tcp 8080 from 10.1.2.3", PC_PUBLISHED_OBEY);

	ck_assert_str_eq(jstr(a, "direction"), "in");
	ck_assert_str_eq(jstr(a, "published_judged_by"), "in");
	ck_assert_str_eq(jstr(a, "zone"), "office");
	ck_assert_str_eq(jstr(a, "decided_by"), "rule");
	ck_assert_str_eq(jstr(a, "verdict"), "accept");
	json_decref(a);
	/* Not allowed: the in policy, not the forward rules or policy. */
	a = explain_published("in tcp 8081 from 10.1.2.3", PC_PUBLISHED_OBEY);
	ck_assert_str_eq(jstr(a, "decided_by"), "policy");
	ck_assert_str_eq(jstr(a, "verdict"), "reject");
	json_decref(a);
	a = explain_published("in tcp 8080 from 10.1.2.3", PC_PUBLISHED_RUNTIME);
	ck_assert_str_eq(jstr(a, "published_judged_by"), "forward");
	ck_assert_str_eq(jstr(a, "decided_by"), "policy");
	ck_assert_str_eq(jstr(a, "verdict"), "accept");
	json_decref(a);
	a = explain_published("in tcp 8081 from 10.1.2.3", PC_PUBLISHED_RUNTIME);
	ck_assert_str_eq(jstr(a, "decided_by"), "rule");
	ck_assert_str_eq(jstr(a, "verdict"), "drop");
	json_decref(a);
}
END_TEST

START_TEST(test_eval_rule_and_reason)
{
	const char *rules = "deny 22/tcp from 10.1.9.0/24\n"
			    "allow 22/tcp zone office\n"
			    "allow web\n";
	json_t *a = explain(rules, "in tcp 22 from 10.1.2.3");
	const json_t *rule = json_object_get(a, "rule");

	ck_assert_str_eq(jstr(a, "zone"), "office");
	ck_assert_str_eq(jstr(a, "zone_reason"), "source");
	ck_assert_str_eq(jstr(a, "zone_match"), "10.1.0.0/16");
	ck_assert_str_eq(jstr(a, "decided_by"), "rule");
	ck_assert_str_eq(jstr(a, "verdict"), "accept");
	ck_assert_str_eq(jstr(rule, "text"), "allow 22/tcp zone office");
	ck_assert_str_eq(jstr(rule, "file"), "test.rules");
	ck_assert_int_eq(json_integer_value(json_object_get(rule, "line")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(rule, "number")), 2);
	json_decref(a);

	/* The deny names a /24 inside the office's sources but no zone:
	 * it is a default-zone rule, and 10.1.9.9 still goes to office. */
	a = explain(rules, "in tcp 22 from 10.1.9.9");
	ck_assert_str_eq(jstr(a, "zone"), "office");
	ck_assert_str_eq(jstr(a, "verdict"), "accept");
	json_decref(a);

	a = explain(rules, "in tcp 443 on eth0");
	ck_assert_str_eq(jstr(a, "zone"), "public");
	ck_assert_str_eq(jstr(a, "zone_reason"), "interface");
	ck_assert_str_eq(jstr(a, "zone_match"), "eth0");
	ck_assert_str_eq(jstr(json_object_get(a, "rule"), "text"), "allow web");
	json_decref(a);

	a = explain(rules, "in udp 443");
	ck_assert_str_eq(jstr(a, "zone"), "public");
	ck_assert_str_eq(jstr(a, "zone_reason"), "default");
	ck_assert_str_eq(jstr(a, "decided_by"), "policy");
	ck_assert_str_eq(jstr(a, "verdict"), "drop");
	ck_assert(json_is_null(json_object_get(a, "rule")));
	json_decref(a);
}
END_TEST

START_TEST(test_eval_policy_reject_and_out)
{
	json_t *a = explain("deny out 25/tcp\n", "in tcp 8080 on eth1");

	ck_assert_str_eq(jstr(a, "zone"), "office");
	ck_assert_str_eq(jstr(a, "decided_by"), "policy");
	ck_assert_str_eq(jstr(a, "verdict"), "reject");
	json_decref(a);

	a = explain("deny out 25/tcp\n", "out tcp 25 to 192.0.2.77");
	ck_assert_str_eq(jstr(a, "direction"), "out");
	ck_assert_str_eq(jstr(a, "destination"), "192.0.2.77");
	ck_assert_str_eq(jstr(a, "verdict"), "drop");
	ck_assert_str_eq(jstr(json_object_get(a, "rule"), "text"), "deny out 25/tcp");
	json_decref(a);

	a = explain("deny out 25/tcp\n", "out tcp 26");
	ck_assert_str_eq(jstr(a, "verdict"), "accept");
	ck_assert_str_eq(jstr(a, "decided_by"), "policy");
	json_decref(a);

	a = explain("", "in tcp 22 on lo");
	ck_assert_str_eq(jstr(a, "decided_by"), "builtin");
	ck_assert_str_eq(jstr(a, "verdict"), "accept");
	ck_assert(json_is_null(json_object_get(a, "zone")));
	json_decref(a);
}
END_TEST

/* Without "from", the stand-in address must be one no rule names: an
 * "allow from 192.0.2.0/24" must not make "any" look allowed. */
START_TEST(test_eval_any_address)
{
	json_t *a = explain("allow 22/tcp from 192.0.2.0/24,198.51.100.0/24\n", "in tcp 22");

	ck_assert_str_eq(jstr(a, "verdict"), "drop");
	ck_assert(!json_is_true(json_object_get(a, "source_given")));
	ck_assert_str_eq(jstr(a, "source"), "203.0.113.1");
	json_decref(a);

	/* Every documentation address named: the first of 240.0.0.K (3fff::K)
	 * that nothing names, found past prefixes and hosts in any order. */
	a = explain("allow 22/tcp from 192.0.2.0/24,198.51.100.0/24,203.0.113.0/24\n"
		    "deny from 240.0.1.0/24\ndeny from 240.0.0.0/24\ndeny from 240.0.2.0\n"
		    "deny from 240.0.2.2/31\n",
		    "in tcp 22");
	ck_assert_str_eq(jstr(a, "source"), "240.0.2.1");
	json_decref(a);
	a = explain("allow 22/tcp from 2001:db8::/32\ndeny from 3fff::1/128,3fff::/127\n",
		    "in tcp 22 to 2001:db8::5");
	ck_assert_str_eq(jstr(a, "source"), "3fff::2");
	json_decref(a);
	/* All of them named: the last one, as each was tried in turn before. */
	a = explain("deny from 0.0.0.0/0\n", "in tcp 22");
	ck_assert_str_eq(jstr(a, "source"), "240.0.255.255");
	json_decref(a);
}
END_TEST

static char *print_answer(const json_t *a);

/* Without "on", the default zone is an assumption: the answer names the
 * zones bound to interfaces, unless the zone came from the address. */
START_TEST(test_eval_interface_zones)
{
	json_t *a = explain("", "in tcp 444 from 192.0.2.9");
	json_t *z = json_object_get(a, "interface_zones");
	_cleanup_free_ char *text = NULL;

	ck_assert_str_eq(jstr(a, "zone"), "public");
	ck_assert_str_eq(jstr(a, "zone_reason"), "default");
	ck_assert_str_eq(jstr(a, "interface_from"), "none");
	ck_assert_int_eq(json_array_size(z), 2);
	ck_assert_str_eq(jstr(json_array_get(z, 0), "zone"), "public");
	ck_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(json_array_get(z, 1), "interfaces"), 0)),
			 "eth1");
	ck_assert_str_eq(jstr(json_array_get(z, 0), "verdict"), "drop");
	ck_assert_str_eq(jstr(json_array_get(z, 1), "verdict"), "reject");
	text = print_answer(a);
	ck_assert_ptr_nonnull(strstr(text, "\nnote:    assumes no interface; on one of these it "
					   "would be that zone: public (eth0) drop, office (eth1) "
					   "reject; give "
					   "'on IFACE' to choose\n"));
	json_decref(a);

	a = explain("", "in tcp 444 from 192.0.2.9 on eth1");
	ck_assert_str_eq(jstr(a, "zone"), "office");
	ck_assert_str_eq(jstr(a, "interface_from"), "query");
	ck_assert_int_eq(json_array_size(json_object_get(a, "interface_zones")), 0);
	json_decref(a);

	a = explain("", "in tcp 444 from 10.1.2.3");
	ck_assert_str_eq(jstr(a, "zone_reason"), "source");
	ck_assert_int_eq(json_array_size(json_object_get(a, "interface_zones")), 0);
	json_decref(a);
}
END_TEST

static char *print_answer(const json_t *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	pc_explain_print(f, a);
	fclose(f);
	return buf;
}

/* explain cannot see routes: a zone chosen by source address is an
 * assumption that the kernel's reverse-path check passes, and says so. */
START_TEST(test_eval_reverse_path_assumed)
{
	json_t *a = explain("", "in tcp 22 from 10.1.2.3 on eth1");
	_cleanup_free_ char *out = print_answer(a);

	ck_assert_str_eq(jstr(a, "reverse_path"), "strict");
	ck_assert_msg(strstr(out, "the zone's source 10.1.0.0/16\n"
				  "         (if 10.1.2.3 routes back via eth1; else dropped)\n"),
		      "%s", out);
	json_decref(a);
	free(out);

	a = explain("", "in tcp 22 from 10.1.2.3");
	out = print_answer(a);
	ck_assert_msg(strstr(out, "(if 10.1.2.3 routes back via the interface it came in on; "
				  "else dropped)\n"),
		      "%s", out);
	json_decref(a);
	free(out);

	a = explain_rpf("", "in tcp 22 from fd00:1::5", PC_RPF_LOOSE);
	out = print_answer(a);
	ck_assert_str_eq(jstr(a, "reverse_path"), "loose");
	ck_assert_msg(strstr(out, "(if fd00:1::5 routes back via any interface; else dropped)\n"),
		      "%s", out);
	json_decref(a);
	free(out);

	/* No assumption: reverse-path = off, a zone by interface, outbound. */
	a = explain_rpf("", "in tcp 22 from 10.1.2.3", PC_RPF_OFF);
	out = print_answer(a);
	ck_assert_str_eq(jstr(a, "zone_reason"), "source");
	ck_assert(json_is_null(json_object_get(a, "reverse_path")));
	ck_assert_msg(!strstr(out, "routes back"), "%s", out);
	json_decref(a);
	a = explain("", "in tcp 22 from 192.0.2.9 on eth1");
	ck_assert_str_eq(jstr(a, "zone_reason"), "interface");
	ck_assert(json_is_null(json_object_get(a, "reverse_path")));
	json_decref(a);
	a = explain("", "out tcp 22 to 10.1.2.3");
	ck_assert_str_eq(jstr(a, "zone_reason"), "destination");
	ck_assert(json_is_null(json_object_get(a, "reverse_path")));
	json_decref(a);
}
END_TEST

START_TEST(test_print)
{
	json_t *a = explain("reject 113/tcp comment \"ident\"\n", "in tcp 113 from 10.1.0.5");
	_cleanup_free_ char *out = print_answer(a);

	ck_assert_msg(strstr(out, "packet:  in tcp/113 from 10.1.0.5 to "), "%s", out);
	ck_assert_msg(strstr(out, "zone:    office, because the source address 10.1.0.5 is in "
				  "the zone's source 10.1.0.0/16\n"),
		      "%s", out);
	ck_assert_msg(strstr(out, "rule:    none matched: the zone's inbound policy decides\n"),
		      "%s", out);
	ck_assert_msg(strstr(out, "verdict: reject\n"), "%s", out);
	json_decref(a);

	a = explain("reject 113/tcp comment \"ident\"\n", "in tcp 113");
	free(out);
	out = print_answer(a);
	ck_assert_msg(strstr(out, "from 192.0.2.1 (any) to 192.0.2.2 (any)"), "%s", out);
	ck_assert_msg(strstr(out, "zone:    public, the default zone"), "%s", out);
	ck_assert_msg(strstr(out, "rule:    test.rules:4 (rule 1)\n         reject 113/tcp "
				  "comment \"ident\"\n"),
		      "%s", out);
	ck_assert_msg(strstr(out, "verdict: reject\n"), "%s", out);
	json_decref(a);
}
END_TEST

/* Long texts: name the first line that differs (check's messages are short). */
static void assert_same_text(const char *a, const char *b)
{
	size_t i = 0, line = 1, start = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	ck_assert_msg(a[i] == b[i], "line %zu differs: '%.120s' vs '%.120s'", line, a + start,
		      b + start);
}

/*
 * The compiler names a rule's FILE:LINE in the kernel objects it makes (the
 * comment of a rule without one, log prefixes): the exported file has
 * other line numbers, so those are the one thing allowed to differ.
 */
static char *provenance_strip(const char *t)
{
	char *out = malloc(strlen(t) + 1), *o = out;

	ck_assert_ptr_nonnull(out);
	while (*t) {
		if (!strncmp(t, "userdata = {", 12)) {
			const char *end = strstr(t, " }");

			t = end ? end + 2 : t + strlen(t);
		} else if (!strncmp(t, "test.rules:", 11)) {
			memcpy(o, "test.rules:N", 12);
			o += 12;
			for (t += 11; *t >= '0' && *t <= '9'; t++)
				;
		} else {
			*o++ = *t++;
		}
	}
	*o = '\0';
	return out;
}

static char *export_text(const struct pc_config *cfg)
{
	struct pc_strbuf sb = {0};

	ck_assert_int_eq(pc_config_export(cfg, &sb), 0);
	ck_assert_int_eq(pc_strbuf_append(&sb, "", 0), 0);
	return sb.buf;
}

START_TEST(test_export_round_trip)
{
	static const char text[] =
	    "zone public interface eth0,wlan0 default\n"
	    "zone private interface eth1 source 192.168.0.0/16,fd00::/8 policy in reject "
	    "policy out drop\n"
	    "service web 80/tcp,443/tcp,8000-8100\n"
	    "allow   in 80 , 443/tcp zone public comment web   # trailing\n"
	    "limit 22/tcp\n"
	    "deny from 203.0.113.7,2001:db8:bad::/48\n"
	    "allow web zone private \\\n   log\n"
	    "reject out 25/tcp to 198.51.100.0/24 rate 5/minute burst 10\n";
	struct pc_config *cfg = config_from_text(text), *again;
	_cleanup_free_ char *out = export_text(cfg), *out2 = NULL;

	ck_assert_msg(strstr(out, "zone private interface eth1 source 192.168.0.0/16,fd00::/8 "
				  "policy in reject policy out drop   # test.rules:2\n"),
		      "%s", out);
	ck_assert_msg(strstr(out, "service web 80/tcp,443/tcp,8000-8100   # test.rules:3\n"), "%s",
		      out);
	ck_assert_msg(strstr(out, "allow in 80,443/tcp zone public comment \"web\"   # "
				  "test.rules:4\n"),
		      "%s", out);
	ck_assert_msg(strstr(out, "allow web zone private log   # test.rules:7\n"), "%s", out);
	again = config_from_text(out);
	ck_assert_int_eq(again->n_rules, cfg->n_rules);
	ck_assert_int_eq(again->n_zones, cfg->n_zones);
	for (size_t i = 0; i < cfg->n_rules; i++)
		ck_assert_str_eq(again->rules[i].text, cfg->rules[i].text);
	/* The same configuration compiles to the same kernel objects. */
	{
		struct pc_ruleset *a = ruleset_from_config(cfg), *b = ruleset_from_config(again);
		_cleanup_free_ char *ra = ruleset_text(a), *rb = ruleset_text(b);
		_cleanup_free_ char *ta = provenance_strip(ra), *tb = provenance_strip(rb);

		assert_same_text(ta, tb);
		pc_ruleset_free(a);
		pc_ruleset_free(b);
	}
	/* Exporting the export changes nothing but the lines in the comments. */
	out2 = export_text(again);
	{
		_cleanup_free_ char *x = provenance_strip(out), *y = provenance_strip(out2);

		assert_same_text(x, y);
	}
	pc_config_free(again);
	pc_config_free(cfg);
}
END_TEST

static char *diff_text(const char *a, const char *b)
{
	struct pc_config *from = config_from_text(a), *to = config_from_text(b);
	struct pc_changes c = {0};
	struct pc_strbuf sb = {0};

	ck_assert_int_eq(pc_config_diff(from, to, &c), 0);
	for (size_t i = 0; i < c.n; i++)
		ck_assert_int_eq(pc_strbuf_printf(&sb, "%c %s @%u\n", c.items[i].op,
						  c.items[i].text,
						  c.items[i].loc ? c.items[i].loc->line : 0),
				 0);
	ck_assert_int_eq(pc_strbuf_append(&sb, "", 0), 0);
	pc_changes_free(&c);
	pc_config_free(from);
	pc_config_free(to);
	return sb.buf;
}

START_TEST(test_diff)
{
	const char *base = "zone public interface eth0 default\n"
			   "allow 22/tcp\n"
			   "allow 80/tcp\n"
			   "allow 443/tcp\n";
	_cleanup_free_ char *same = diff_text(base, base);
	_cleanup_free_ char *added = diff_text(base, "zone public interface eth0 default\n"
						     "allow 22/tcp\n"
						     "allow 80/tcp\n"
						     "allow 8080/tcp\n"
						     "allow 443/tcp\n");
	_cleanup_free_ char *moved = diff_text(base, "zone public interface eth0 default\n"
						     "allow 443/tcp\n"
						     "allow 22/tcp\n"
						     "allow 80/tcp\n");
	_cleanup_free_ char *zone = diff_text(base, "zone public interface eth0,eth9 default\n"
						    "allow 22/tcp\n"
						    "allow 80/tcp\n");

	ck_assert_str_eq(same, "");
	ck_assert_str_eq(added, "+ allow 8080/tcp @4\n");
	ck_assert_str_eq(moved, "+ allow 443/tcp @2\n- allow 443/tcp @4\n");
	ck_assert_str_eq(zone, "- zone public interface eth0 default @1\n"
			       "+ zone public interface eth0,eth9 default @1\n"
			       "- allow 443/tcp @4\n");
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_ok);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_eval_rule_and_reason);
	tcase_add_test(tc, test_eval_published);
	tcase_add_test(tc, test_eval_reverse_path_assumed);
	tcase_add_test(tc, test_eval_policy_reject_and_out);
	tcase_add_test(tc, test_eval_any_address);
	tcase_add_test(tc, test_eval_interface_zones);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_export_round_trip);
	tcase_add_test(tc, test_diff);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(explain_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
