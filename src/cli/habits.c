/* Hints for habits: what a ufw or firewalld user types by reflex
 * ("allow from X to any port 22 proto tcp", "--add-port=443/tcp
 * --permanent") answered with one line in portctl's words, exit 2, and
 * nothing sent to the daemon. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static bool word_is_ufw_range(const char *w)
{
	/* "1000:2000" or "1000:2000/tcp"; an IPv6 address has letters or "::". */
	size_t d1 = strspn(w, "0123456789");

	return d1 > 0 && w[d1] == ':' && isdigit((unsigned char)w[d1 + 1]) &&
	       strspn(w + d1 + 1, "0123456789") > 0 &&
	       (w[d1 + 1 + strspn(w + d1 + 1, "0123456789")] == '\0' ||
		w[d1 + 1 + strspn(w + d1 + 1, "0123456789")] == '/');
}

/* The application profiles ufw users meet most (ufw's own and those that
 * openssh-server, apache2, nginx, postfix, dovecot and bind9 install),
 * with portctl's services for them. */
static const char *ufw_app_service(const char *app)
{
	static const struct {
		const char *app, *service;
	} apps[] = {
	    {"OpenSSH", "ssh"},
	    {"Apache", "http"},
	    {"Apache Secure", "https"},
	    {"Apache Full", "http,https"},
	    {"Nginx HTTP", "http"},
	    {"Nginx HTTPS", "https"},
	    {"Nginx Full", "http,https"},
	    {"WWW", "http"},
	    {"WWW Secure", "https"},
	    {"WWW Full", "http,https"},
	    {"WWW Cache", "http-alt"},
	    {"Postfix", "smtp"},
	    {"Postfix SMTPS", "submissions"},
	    {"Postfix Submission", "submission"},
	    {"Dovecot IMAP", "imap"},
	    {"Dovecot Secure IMAP", "imaps"},
	    {"Dovecot POP3", "pop3"},
	    {"Dovecot Secure POP3", "pop3s"},
	    {"Bind9", "dns"},
	    {"DNS", "dns"},
	    {"Samba", "smb,netbios"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(apps); i++)
		if (streq(app, apps[i].app))
			return apps[i].service;
	return NULL;
}

static void port_print(struct pc_strbuf *sb, const char *p, const char *proto)
{
	pc_strbuf_printf(sb, " ");
	for (; *p; p++)
		pc_strbuf_printf(sb, "%c", *p == ':' ? '-' : *p);
	if (proto)
		pc_strbuf_printf(sb, "/%s", proto);
}

static int hint_print(const struct cli_context *ctx, struct pc_strbuf *sb, const char *why)
{
	fprintf(stderr, "%s: did you mean: %s%s%s\n", ctx->prog, sb->buf ? sb->buf : ctx->prog,
		why ? "  " : "", why ? why : "");
	pc_strbuf_free(sb);
	return CLI_EXIT_USAGE;
}

/* ufw's rule syntax after ACTION: [in|out] [log] [on IFACE] [proto P]
 * [from ADDR [port P]] [to ADDR [port P]] [app NAME] [comment C], or
 * PORT[:PORT][/PROTO]. argv[0] is the action. */
int cli_habit_rule(const struct cli_context *ctx, int argc, char *argv[])
{
	const char *dir = NULL, *iface = NULL, *proto = NULL, *from = NULL, *to = NULL;
	const char *dport = NULL, *sport = NULL, *app = NULL, *comment = NULL, *plain = NULL;
	const char **last_addr = NULL;
	bool log = false, ufw = false;
	struct pc_strbuf sb = {0};

	for (int i = 1; i < argc; i++) {
		const char *w = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (streq(w, "proto") || streq(w, "port") || streq(w, "on") || streq(w, "app"))
			ufw = true;
		if (word_is_ufw_range(w))
			ufw = true;
		if (ufw_app_service(w)) {
			ufw = true;
			app = w;
			continue;
		}
		if ((streq(w, "in") || streq(w, "out")) && i == 1)
			dir = w;
		else if (streq(w, "log") || streq(w, "log-all"))
			log = true;
		else if (streq(w, "on") && next)
			iface = argv[++i];
		else if (streq(w, "proto") && next)
			proto = argv[++i];
		else if (streq(w, "from") && next)
			from = argv[++i], last_addr = &from;
		else if (streq(w, "to") && next)
			to = argv[++i], last_addr = &to;
		else if (streq(w, "port") && next) {
			if (last_addr == &from)
				sport = argv[++i];
			else
				dport = argv[++i];
		} else if (streq(w, "app") && next)
			app = argv[++i];
		else if (streq(w, "comment") && next)
			comment = argv[++i];
		else if (!plain && w[0] != '-')
			plain = w;
	}
	if (!ufw)
		return -1;
	pc_strbuf_printf(&sb, "%s %s", ctx->prog, argv[0]);
	if (dir && streq(dir, "out"))
		pc_strbuf_printf(&sb, " out");
	if (dport)
		port_print(&sb, dport, proto);
	else if (plain && !app)
		port_print(&sb, plain, NULL);
	else if (app && ufw_app_service(app))
		pc_strbuf_printf(&sb, " %s", ufw_app_service(app));
	else if (app)
		pc_strbuf_printf(&sb, " SERVICE");
	else if (proto)
		pc_strbuf_printf(&sb, " 1-65535/%s", proto);
	if (iface)
		pc_strbuf_printf(&sb, " zone ZONE");
	if ((from && !streq(from, "any")) || sport)
		pc_strbuf_printf(&sb, " from %s", from ? from : "any");
	if (sport)
		pc_strbuf_printf(&sb, " port %s", sport);
	if (to && !streq(to, "any"))
		pc_strbuf_printf(&sb, " to %s", to);
	if (log)
		pc_strbuf_printf(&sb, " log");
	if (comment)
		pc_strbuf_printf(&sb, " comment '%s'", comment);
	if (iface) {
		_cleanup_free_ char *why = NULL;

		if (asprintf(
			&why,
			"(interfaces belong to zones: 'zone ZONE interface %s' in a rules file)",
			iface) < 0)
			why = NULL;
		return hint_print(ctx, &sb, why);
	}
	return hint_print(ctx, &sb,
			  app && !ufw_app_service(app)
			      ? "(ufw apps are portctl services: 'portctl services')"
			      : NULL);
}

/* firewall-cmd's options anywhere on the line, or "ufw"/"firewall-cmd"
 * typed after portctl. -1 when there is nothing to say. */
int cli_habit_command(const struct cli_context *ctx, int argc, char *argv[])
{
	static const char *const fw_opts[] = {
	    /* Not --zone=, which ban and unban take too. */
	    "--add-",
	    "--remove-",
	    "--permanent",
	    "--list-",
	    "--get-",
	    "--set-default-zone",
	    "--runtime-to-permanent",
	    "--reload",
	    "--query-",
	    "--state",
	};
	static const char *const globals_with_value[] = {"-c",	     "-d",	   "-s",
							 "--config", "--data-dir", "--socket"};
	const char *zone = NULL, *why = NULL;
	struct pc_strbuf sb = {0};
	bool fw = false, permanent = false;
	int first = 1;

	/* Past portctl's own global options. */
	while (first < argc) {
		bool value = false;

		for (size_t k = 0; k < ARRAY_SIZE(globals_with_value); k++)
			value |= streq(argv[first], globals_with_value[k]);
		if (value)
			first += 2;
		else if (streq(argv[first], "-j") || streq(argv[first], "--json") ||
			 strncmp(argv[first], "--config=", 9) == 0 ||
			 strncmp(argv[first], "--socket=", 9) == 0 ||
			 strncmp(argv[first], "--data-dir=", 11) == 0)
			first++;
		else
			break;
	}
	if (first < argc && (streq(argv[first], "ufw") || streq(argv[first], "firewall-cmd") ||
			     streq(argv[first], "firewall-offline-cmd")))
		first++, fw = true;
	for (int i = first; i < argc; i++)
		for (size_t k = 0; k < ARRAY_SIZE(fw_opts); k++)
			if (strncmp(argv[i], fw_opts[k], strlen(fw_opts[k])) == 0)
				fw = true;
	if (!fw)
		return -1;
	if (first > 1 && first < argc && streq(argv[first - 1], "ufw")) {
		if ((streq(argv[first], "allow") || streq(argv[first], "deny") ||
		     streq(argv[first], "reject") || streq(argv[first], "limit")) &&
		    cli_habit_rule(ctx, argc - first, argv + first) >= 0)
			return CLI_EXIT_USAGE;
		pc_strbuf_printf(&sb, "%s", ctx->prog);
		for (int i = first; i < argc; i++)
			pc_strbuf_printf(&sb, " %s", argv[i]);
		return hint_print(ctx, &sb, "(portctl's words are ufw's)");
	}
	for (int i = first; i < argc; i++) {
		if (strncmp(argv[i], "--zone=", 7) == 0)
			zone = argv[i] + 7;
		permanent |= streq(argv[i], "--permanent");
	}
	for (int i = first; i < argc && !sb.buf; i++) {
		const char *a = argv[i], *v = strchr(a, '=');

		v = v ? v + 1 : "";
		if (strncmp(a, "--add-port=", 11) == 0 || strncmp(a, "--add-service=", 14) == 0)
			pc_strbuf_printf(&sb, "%s allow %s", ctx->prog, v);
		else if (strncmp(a, "--remove-port=", 14) == 0 ||
			 strncmp(a, "--remove-service=", 17) == 0)
			pc_strbuf_printf(&sb, "%s delete allow %s", ctx->prog, v);
		else if (strncmp(a, "--add-source=", 13) == 0 ||
			 strncmp(a, "--add-interface=", 16) == 0 ||
			 strncmp(a, "--change-interface=", 19) == 0) {
			pc_strbuf_printf(&sb, "zone %s %s %s", zone ? zone : "public",
					 a[6] == 's' ? "source" : "interface", v);
			why = "(a line in /etc/portctl/rules.d/; see portctl.rules(5))";
			zone = NULL;
		} else if (strncmp(a, "--add-rich-rule=", 16) == 0) {
			pc_strbuf_printf(
			    &sb, "%s allow|deny|reject PORTS from ADDR [rate N/minute]", ctx->prog);
			why = "(rich rules are plain rules; see portctl.rules(5))";
		} else if (streq(a, "--reload")) {
			pc_strbuf_printf(&sb, "%s reload", ctx->prog);
		} else if (strncmp(a, "--list-", 7) == 0 || streq(a, "--state")) {
			pc_strbuf_printf(&sb, "%s status", ctx->prog);
		} else if (strncmp(a, "--get-", 6) == 0 ||
			   strncmp(a, "--set-default-zone", 18) == 0) {
			pc_strbuf_printf(&sb, "%s zones", ctx->prog);
		} else if (a[0] != '-' && i == first) {
			/* "portctl allow 443/tcp --permanent": the rest as typed. */
			pc_strbuf_printf(&sb, "%s", ctx->prog);
			for (int k = first; k < argc; k++)
				if (strncmp(argv[k], "--", 2) != 0)
					pc_strbuf_printf(&sb, " %s", argv[k]);
		}
	}
	if (!sb.buf)
		pc_strbuf_printf(&sb, "%s status", ctx->prog);
	if (zone)
		pc_strbuf_printf(&sb, " zone %s", zone);
	if (!why && permanent)
		why = "(portctl's changes are permanent unless --runtime)";
	return hint_print(ctx, &sb, why);
}
