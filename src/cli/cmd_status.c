/* portctl status|zones|services: read commands answered by portctld from
 * the configuration in force and the kernel's counters; anyone may run them. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "portctl/proto.h"

enum status_detail { DETAIL_PLAIN, DETAIL_NUMBERED, DETAIL_VERBOSE };

static const char *list_join(const json_t *a, char *buf, size_t size)
{
	size_t i, o = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(a, i, v) {
		int n = snprintf(buf + o, size - o, "%s%s", i ? "," : "", json_string_value(v));

		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
	return o ? buf : "-";
}

static void zone_print(const json_t *z)
{
	char ifs[512], srcs[1024];

	const char *fwd = json_string_value(json_object_get(z, "policy_forward"));

	printf("  %-12s%s %-7s %-7s %-7s  %-20s %s\n",
	       json_string_value(json_object_get(z, "name")),
	       json_is_true(json_object_get(z, "default")) ? " (default)" : "          ",
	       json_string_value(json_object_get(z, "policy_in")),
	       json_string_value(json_object_get(z, "policy_out")), fwd ? fwd : "-",
	       list_join(json_object_get(z, "interfaces"), ifs, sizeof(ifs)),
	       list_join(json_object_get(z, "sources"), srcs, sizeof(srcs)));
}

/* The rule's text without its "zone NAME,..." words: the ZONE column says
 * it, and saying it twice made the row read as two zones. Words inside a
 * quoted comment stay. */
static const char *text_without_zone(const char *text, const char *zones, char *buf, size_t size)
{
	size_t zl = strlen(zones);
	bool quoted = false;

	for (const char *p = text; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		if (quoted || strncmp(p, " zone ", 6) != 0 || strncmp(p + 6, zones, zl) != 0 ||
		    (p[6 + zl] != '\0' && p[6 + zl] != ' '))
			continue;
		snprintf(buf, size, "%.*s%s", (int)(p - text), text, p + 6 + zl);
		return buf;
	}
	return text;
}

/* Column widths fitted to the rules shown, so that a long rule pushes its
 * column wider instead of pushing its own counters out of line. */
struct rule_columns {
	int text, zone;
};

static const char *rule_text(const json_t *r, const char *zones, char *buf, size_t size)
{
	const char *text = json_string_value(json_object_get(r, "text"));

	return text_without_zone(text ? text : "", zones, buf, size);
}

static struct rule_columns rule_columns_fit(const json_t *rules)
{
	struct rule_columns w = {.text = (int)strlen("RULE"), .zone = (int)strlen("ZONE")};
	char zones[512], text[1024];
	size_t i;
	json_t *r;

	json_array_foreach(rules, i, r) {
		const char *z = list_join(json_object_get(r, "zones"), zones, sizeof(zones));
		int t = (int)strlen(rule_text(r, z, text, sizeof(text)));
		int zl = (int)strlen(z);

		if (t > w.text)
			w.text = t;
		if (zl > w.zone)
			w.zone = zl;
	}
	return w;
}

static void rule_header_print(const struct rule_columns *w, enum status_detail detail)
{
	if (detail != DETAIL_PLAIN)
		printf("%-5s ", "NUM");
	printf("%-*s  %-*s  %10s  %12s", w->text, "RULE", w->zone, "ZONE", "PACKETS", "BYTES");
	if (detail == DETAIL_VERBOSE)
		printf("  FROM");
	putchar('\n');
}

static void zone_header_print(void)
{
	printf("  %-12s%-10s %-7s %-7s %-7s  %-20s %s\n", "ZONE", "", "IN", "OUT", "FORWARD",
	       "INTERFACES", "SOURCES");
}

static void rule_print(const json_t *r, const struct rule_columns *w, enum status_detail detail)
{
	char zones[512], text[1024];
	const char *z = list_join(json_object_get(r, "zones"), zones, sizeof(zones));

	if (detail != DETAIL_PLAIN)
		printf("[%3lld] ", (long long)json_integer_value(json_object_get(r, "number")));
	printf("%-*s  %-*s  %10lld  %12lld", w->text, rule_text(r, z, text, sizeof(text)), w->zone,
	       z,
	       (long long)json_integer_value(json_object_get(r, "packets")),
	       (long long)json_integer_value(json_object_get(r, "bytes")));
	if (detail == DETAIL_VERBOSE)
		printf("  %s:%lld", json_string_value(json_object_get(r, "file")),
		       (long long)json_integer_value(json_object_get(r, "line")));
	if (json_is_integer(json_object_get(r, "expires_in"))) {
		char left[32];

		pc_duration_format((uint64_t)json_integer_value(json_object_get(r, "expires_in")),
				   left, sizeof(left));
		printf("  (expires in %s)", left);
	}
	putchar('\n');
}

/* Sets by their size, not their entries: "status --set NAME" lists those. */
static void sets_print(const json_t *sets)
{
	size_t i;
	json_t *v;

	if (json_array_size(sets) == 0)
		return;
	printf("\nSets (entries: portctl status --set NAME):\n");
	json_array_foreach(sets, i, v) {
		const char *file = json_string_value(json_object_get(v, "file"));

		printf("  @%-20s %8lld entries (%lld IPv4, %lld IPv6)  %s%s\n",
		       json_string_value(json_object_get(v, "name")),
		       (long long)json_integer_value(json_object_get(v, "entries")),
		       (long long)json_integer_value(json_object_get(v, "ipv4")),
		       (long long)json_integer_value(json_object_get(v, "ipv6")),
		       file ? "file " : "inline", file ? file : "");
	}
}

static void set_entries_print(const json_t *data, enum status_detail detail)
{
	const json_t *set = json_object_get(data, "set");
	size_t i;
	json_t *v;

	(void)detail;
	json_array_foreach(json_object_get(set, "elements"), i, v)
		printf("%s\n", json_string_value(v));
}

static void status_print(const json_t *data, enum status_detail detail)
{
	const json_t *rules = json_object_get(data, "rules");
	struct rule_columns w = rule_columns_fit(rules);
	size_t i;
	json_t *v;

	printf("Status: %s, table %s, from %s\n",
	       json_is_true(json_object_get(data, "disabled")) ? "disabled" : "active",
	       json_string_value(json_object_get(data, "table")),
	       json_string_value(json_object_get(data, "source")));
	cli_trust_status_print(data);
	if (!json_is_true(json_object_get(data, "counters")))
		printf("(counters could not be read from the kernel)\n");
	printf("\nZones:\n");
	zone_header_print();
	json_array_foreach(json_object_get(data, "zones"), i, v)
		zone_print(v);
	printf("\nRules (first match wins):\n");
	if (json_array_size(rules) == 0)
		printf("  none: everything inbound gets its zone's policy. Add one with "
		       "'portctl allow 22/tcp'.\n");
	if (json_array_size(rules) > 0)
		rule_header_print(&w, detail);
	json_array_foreach(rules, i, v)
		rule_print(v, &w, detail);
	if (json_array_size(rules) <
	    (size_t)json_integer_value(json_object_get(data, "rules_total")))
		printf("  (rules %lld-%lld of %lld: --offset N --limit N for others, --all for all)\n",
		       (long long)json_integer_value(json_object_get(data, "rules_offset")) + 1,
		       (long long)(json_integer_value(json_object_get(data, "rules_offset")) +
				   (json_int_t)json_array_size(rules)),
		       (long long)json_integer_value(json_object_get(data, "rules_total")));
	sets_print(json_object_get(data, "sets"));
}

static int read_command(struct cli_context *ctx, int argc, char *argv[], const char *cmd,
			const char *usage, int *first)
{
	int code;

	*first = cli_options_parse(ctx, argc, argv, usage, &code);
	return *first < 0 ? code : -1;
}

/* Ask the daemon (page by page when paged is not NULL); print JSON, or
 * hand the data to print. */
static int read_and_print_args(struct cli_context *ctx, const char *cmd, const json_t *args,
			       const struct cli_paged *paged,
			       void (*print)(const json_t *data, enum status_detail),
			       enum status_detail detail)
{
	struct pc_response resp;
	int r = paged ? cli_daemon_call_paged(ctx, cmd, args, paged, &resp)
		      : cli_daemon_call(ctx, cmd, args, &resp);

	if (r != CLI_EXIT_OK)
		return r;
	if (ctx->json || resp.status != PC_STATUS_OK || !resp.data)
		return cli_response_finish(ctx, &resp);
	print(resp.data, detail);
	pc_response_done(&resp);
	return CLI_EXIT_OK;
}

static int read_and_print(struct cli_context *ctx, const char *cmd,
			  void (*print)(const json_t *data, enum status_detail), enum status_detail detail)
{
	return read_and_print_args(ctx, cmd, NULL, NULL, print, detail);
}

/* Rules plain status shows unless told otherwise: a screenful or so of a
 * big configuration, never its 100,000 rules unasked. */
#define STATUS_SHOWN_DEFAULT 1000

#define STATUS_USAGE                                                                               \
	"status [numbered|verbose] [--offset N] [--limit N|--all] [--json]\n"                      \
	"status --set NAME [--offset N] [--limit N] [--json]\n\n"                                   \
	"Show the zones and the rules in force, in order, with the packets and\n"                  \
	"bytes each rule matched. numbered: with rule numbers (for insert and\n"                   \
	"delete); verbose: also the FILE:LINE each rule comes from. Named sets\n"                   \
	"are shown by their size; --set NAME lists the entries of one. Without\n"                  \
	"--limit, the first 1000 rules are shown, and --json gives them all.\n"                    \
	"  --offset N, --limit N  a page of the rules (or of the set's entries)\n"                 \
	"  --all                  every rule\n"

/* "--offset N" / "--limit N": a non-negative number, or a usage error. */
static int page_opt(struct cli_context *ctx, json_t *args, const char *key, const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);

	if (!*v || *end || v[0] == '-') {
		fprintf(stderr, "%s: status --%s takes a number\n", ctx->prog, key);
		return -1;
	}
	json_object_set_new(args, key, json_integer((json_int_t)n));
	return 0;
}

int cmd_status(struct cli_context *ctx, int argc, char *argv[])
{
	static const char *const details[] = {[DETAIL_NUMBERED] = "numbered",
					      [DETAIL_VERBOSE] = "verbose"};
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},	  {"json", no_argument, NULL, 'j'},
		{"offset", required_argument, NULL, 'o'}, {"limit", required_argument, NULL, 'l'},
		{"set", required_argument, NULL, 's'},	  {"all", no_argument, NULL, 'a'},
		{0},
	};
	struct cli_paged rules = {.items = "rules", .total = "rules_total", .want = SIZE_MAX};
	struct cli_paged entries = {.in = "set", .items = "elements", .total = "entries",
				    .want = SIZE_MAX};
	bool all = false;
	enum status_detail detail = DETAIL_PLAIN;
	_cleanup_(json_decrefp) json_t *args = json_object();
	const char *word = NULL;
	int c, code = CLI_EXIT_USAGE;

	if (!args)
		return CLI_EXIT_FAILURE;
	optind = 0;
	while ((c = getopt_long(argc, argv, "-hj", options, NULL)) != -1) {
		switch (c) {
		case 1:
			if (word)
				return fprintf(stderr, "%s: status takes at most one word\n",
					       ctx->prog),
				       CLI_EXIT_USAGE;
			word = optarg;
			break;
		case 'o':
		case 'l':
			if (page_opt(ctx, args, c == 'o' ? "offset" : "limit", optarg) < 0)
				return CLI_EXIT_USAGE;
			break;
		case 's':
			json_object_set_new(args, "set", json_string(optarg));
			break;
		case 'a':
			all = true;
			break;
		default:
			if (cli_option_common(ctx, c, argv[0], STATUS_USAGE, &code) < 0)
				return code;
		}
	}
	if (word) {
		for (detail = DETAIL_NUMBERED; detail <= DETAIL_VERBOSE; detail++)
			if (streq(word, details[detail]))
				break;
		if (detail > DETAIL_VERBOSE)
			return fprintf(stderr, "%s: status %s: expected numbered or verbose\n",
				       ctx->prog, word),
			       CLI_EXIT_USAGE;
	}
	/* The daemon answers a page at a time: as many as asked for, in as
	 * many requests as that takes. */
	if (json_object_get(args, "limit"))
		rules.want = entries.want = (size_t)json_integer_value(json_object_get(args, "limit"));
	else if (!all && !ctx->json)
		rules.want = STATUS_SHOWN_DEFAULT;
	if (json_object_get(args, "set"))
		return read_and_print_args(ctx, "status", args, &entries, set_entries_print,
					   detail);
	return read_and_print_args(ctx, "status", args, &rules, status_print, detail);
}

/* Where a zone or service comes from: "shipped" or the admin's FILE:LINE. */
static const char *origin_format(const json_t *v, char *buf, size_t size)
{
	const char *origin = json_string_value(json_object_get(v, "origin"));

	if (origin && streq(origin, "shipped"))
		return "shipped";
	snprintf(buf, size, "%s:%lld",
		 json_string_value(json_object_get(v, "file")) ?: "?",
		 (long long)json_integer_value(json_object_get(v, "line")));
	return buf;
}

static void zones_print(const json_t *data, enum status_detail detail)
{
	char where[4200];
	size_t i;
	json_t *v;

	zone_header_print();
	json_array_foreach(json_object_get(data, "zones"), i, v) {
		zone_print(v);
		printf("  %-12s from %s\n", "", origin_format(v, where, sizeof(where)));
	}
}

int cmd_zones(struct cli_context *ctx, int argc, char *argv[])
{
	int i, code;

	code = read_command(ctx, argc, argv, "zones",
			    "zones [--json]\n\nShow the zones in force: policies, interfaces, "
			    "sources.\n",
			    &i);
	if (code >= 0)
		return code;
	if (i != argc)
		return fprintf(stderr, "%s: zones takes no arguments\n", ctx->prog),
		       CLI_EXIT_USAGE;
	return read_and_print(ctx, "zones", zones_print, DETAIL_PLAIN);
}

static void services_print(const json_t *data, enum status_detail detail)
{
	char ports[1024];
	char where[4200];
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(data, "services"), i, v)
		printf("  %-20s %-30s %s\n", json_string_value(json_object_get(v, "name")),
		       list_join(json_object_get(v, "ports"), ports, sizeof(ports)),
		       origin_format(v, where, sizeof(where)));
}

int cmd_services(struct cli_context *ctx, int argc, char *argv[])
{
	int i, code;

	code = read_command(ctx, argc, argv, "services",
			    "services [--json]\n\nShow the service names rules may use, and "
			    "their ports.\n",
			    &i);
	if (code >= 0)
		return code;
	if (i != argc)
		return fprintf(stderr, "%s: services takes no arguments\n", ctx->prog),
		       CLI_EXIT_USAGE;
	return read_and_print(ctx, "services", services_print, DETAIL_PLAIN);
}
