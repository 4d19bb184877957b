/* portctl import ufw: ufw keeps each rule it was given as a "### tuple ###"
 * comment in user.rules (IPv4) and user6.rules (IPv6), with the ports of
 * application profiles already expanded; the default policies are in
 * /etc/default/ufw. A rule given for both families is in both files and
 * becomes one portctl rule. ufw has no zones: a rule "on IFACE" becomes a
 * zone per interface, and rules without one apply in all of them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

struct ufw_rule {
	char *where;  /* "user.rules:12" */
	char *action; /* allow deny reject limit */
	char *log;    /* "", "log" or "log-all" */
	char *proto, *dport, *dst, *sport, *src, *dapp, *sapp;
	char *iface_in, *iface_out;
	char *comment; /* decoded */
	bool out, route;
	bool v6;
	bool paired; /* merged with the same rule of the other family */
};

struct ufw_rules {
	struct ufw_rule *items;
	size_t n, cap;
};

static void ufw_rules_free(struct ufw_rules *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct ufw_rule *r = &rs->items[i];

		free(r->where);
		free(r->action);
		free(r->log);
		free(r->proto);
		free(r->dport);
		free(r->dst);
		free(r->sport);
		free(r->src);
		free(r->dapp);
		free(r->sapp);
		free(r->iface_in);
		free(r->iface_out);
		free(r->comment);
	}
	free(rs->items);
}

static bool addr_is_any(const char *a)
{
	return streq(a, "any") || streq(a, "0.0.0.0/0") || streq(a, "::/0");
}

/* ufw stores comments hex-encoded. */
static char *hex_decode(const char *h)
{
	size_t n = strlen(h) / 2;
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			v = '?';
		s[i] = (char)v;
	}
	s[n] = '\0';
	return s;
}

static char *app_decode(const char *a)
{
	struct pc_strbuf sb = {0};

	if (streq(a, "-"))
		return strdup("");
	for (const char *p = a; *p; p++) {
		if (strncmp(p, "%20", 3) == 0) {
			pc_strbuf_append(&sb, " ", 1);
			p += 2;
		} else {
			pc_strbuf_append(&sb, p, 1);
		}
	}
	return sb.buf ? sb.buf : strdup("");
}

/* One "### tuple ###" line, as ufw's backend_iptables reads it: action
 * proto dport dst sport src [dapp sapp] direction[_iface][ comment=HEX]. */
static int tuple_parse(struct ufw_rule *r, char *line)
{
	char *f[10], *save = NULL, *c, *dir;
	size_t n = 0;

	c = strstr(line, " comment=");
	if (c) {
		*c = '\0';
		r->comment = hex_decode(c + strlen(" comment="));
	}
	for (char *w = strtok_r(line, " \t\r", &save); w && n < 10;
	     w = strtok_r(NULL, " \t\r", &save))
		f[n++] = w;
	if (n != 7 && n != 9)
		return -EINVAL;
	r->route = strncmp(f[0], "route:", 6) == 0;
	c = strchr(f[0] + (r->route ? 6 : 0), '_');
	r->log = strdup(c ? c + 1 : "");
	if (c)
		*c = '\0';
	r->action = strdup(f[0] + (r->route ? 6 : 0));
	r->proto = strdup(f[1]);
	r->dport = strdup(f[2]);
	r->dst = strdup(f[3]);
	r->sport = strdup(f[4]);
	r->src = strdup(f[5]);
	r->dapp = app_decode(n == 9 ? f[6] : "-");
	r->sapp = app_decode(n == 9 ? f[7] : "-");
	dir = f[n - 1];
	r->iface_in = strdup("");
	r->iface_out = strdup("");
	if (strncmp(dir, "in_", 3) == 0 && strchr(dir, '!')) {
		char *bang = strchr(dir, '!');

		*bang = '\0';
		free(r->iface_in);
		free(r->iface_out);
		r->iface_in = strdup(dir + 3);
		r->iface_out = strdup(strncmp(bang + 1, "out_", 4) == 0 ? bang + 5 : bang + 1);
	} else if (strncmp(dir, "in_", 3) == 0) {
		free(r->iface_in);
		r->iface_in = strdup(dir + 3);
	} else if (strncmp(dir, "out_", 4) == 0) {
		free(r->iface_out);
		r->iface_out = strdup(dir + 4);
		r->out = true;
	} else if (streq(dir, "out")) {
		r->out = true;
	} else if (!streq(dir, "in")) {
		return -EINVAL;
	}
	if (!r->action || !r->log || !r->proto || !r->dport || !r->dst || !r->sport || !r->src ||
	    !r->dapp || !r->sapp || !r->iface_in || !r->iface_out)
		return -ENOMEM;
	return 0;
}

static int rules_read(struct imp *im, const char *dir, const char *file, bool v6,
		      struct ufw_rules *rs)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	size_t len, lineno = 0;
	int r;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	r = pc_read_file(path, 16 * 1024 * 1024, &data, &len);
	if (r < 0)
		return r;
	for (char *p = data, *nl; p && *p; p = nl) {
		struct ufw_rule *u;

		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		if (strncmp(p, "### tuple ###", 13) != 0)
			continue;
		u = PC_ARRAY_PUSH(rs->items, rs->n, rs->cap);
		if (!u)
			return -ENOMEM;
		u->v6 = v6;
		if (asprintf(&u->where, "%s:%zu", path, lineno) < 0) {
			u->where = NULL;
			return -ENOMEM;
		}
		r = tuple_parse(u, p + 13);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			imp_skip(im, u->where, "a tuple ufw itself would skip as malformed");
			ufw_rules_free(&(struct ufw_rules){.items = u, .n = 1});
			rs->n--;
		}
	}
	return 0;
}

/* The same rule for the other family: everything but the addresses,
 * which are "any" in both. */
static bool rule_pairs(const struct ufw_rule *a, const struct ufw_rule *b)
{
	return !b->paired && streq(a->action, b->action) && streq(a->log, b->log) &&
	       streq(a->proto, b->proto) && streq(a->dport, b->dport) &&
	       streq(a->sport, b->sport) && a->out == b->out && a->route == b->route &&
	       streq(a->iface_in, b->iface_in) && streq(a->iface_out, b->iface_out) &&
	       streq(a->dapp, b->dapp) && streq(a->sapp, b->sapp) && addr_is_any(b->src) &&
	       addr_is_any(b->dst) &&
	       streq(a->comment ? a->comment : "", b->comment ? b->comment : "");
}

struct ufw_ctx {
	struct imp *im;
	char **ifaces; /* interfaces rules are bound to: a zone each */
	size_t n_ifaces, cap_ifaces;
};

static const char *iface_zone(char *buf, const char *iface)
{
	return imp_zone_name(buf, iface, "ufw-");
}

/* "1000:2000" -> "1000-2000", "80,443" as is; with the protocol suffix
 * (nothing for "any": portctl's bare port is tcp and udp, as ufw's). */
static void ports_print(struct imp *im, const char *dport, const char *proto)
{
	for (const char *p = dport; *p; p++)
		imp_printf(im, &im->rules, "%c", *p == ':' ? '-' : *p);
	if (!streq(proto, "any"))
		imp_printf(im, &im->rules, "/%s", proto);
}

static void rule_emit(struct ufw_ctx *u, const struct ufw_rule *r, bool both_families)
{
	struct imp *im = u->im;
	const char *iface = r->out ? r->iface_out : r->iface_in;
	char zb[33];

	if (r->route) {
		imp_skip(im, r->where,
			 "a 'route' rule (forwarded traffic; portctl filters only this host's)");
		return;
	}
	if (!streq(r->sport, "any")) {
		imp_skip(im, r->where, "%s with source port %s (portctl has no source ports)",
			 r->action, r->sport);
		return;
	}
	if (!streq(r->proto, "any") && !streq(r->proto, "tcp") && !streq(r->proto, "udp")) {
		imp_skip(im, r->where, "%s proto %s (portctl rules match tcp and udp ports only)",
			 r->action, r->proto);
		return;
	}
	if (!streq(r->action, "allow") && !streq(r->action, "deny") &&
	    !streq(r->action, "reject") && !streq(r->action, "limit")) {
		imp_skip(im, r->where, "unknown action '%s'", r->action);
		return;
	}
	if (streq(r->action, "limit") && r->out) {
		imp_skip(im, r->where, "limit out (portctl limits inbound connections only)");
		return;
	}
	if (*iface && !imp_ifname_ok(iface)) {
		imp_skip(im, r->where, "%s on '%s' (not an interface name portctl accepts)",
			 r->action, iface);
		return;
	}
	imp_printf(im, &im->rules, "# %s%s%s\n", r->where, *r->dapp ? ": ufw app " : "", r->dapp);
	imp_printf(im, &im->rules, "%s%s", r->action, r->out ? " out" : "");
	if (!streq(r->dport, "any")) {
		imp_printf(im, &im->rules, " ");
		ports_print(im, r->dport, r->proto);
	} else if (!streq(r->proto, "any")) {
		/* ufw "allow proto tcp from X": every port of one protocol. */
		imp_printf(im, &im->rules, " 1-65535/%s", r->proto);
	}
	if (*iface) {
		imp_printf(im, &im->rules, " zone %s", iface_zone(zb, iface));
		if (*r->iface_in && *r->iface_out)
			imp_note(im, r->where, "only the %s interface is kept",
				 r->out ? "output" : "input");
	} else if (u->n_ifaces > 0) {
		imp_printf(im, &im->rules, " zone public");
		for (size_t i = 0; i < u->n_ifaces; i++)
			imp_printf(im, &im->rules, ",%s", iface_zone(zb, u->ifaces[i]));
	}
	/* A rule ufw gave one family only still needs to say which. */
	if (!addr_is_any(r->src))
		imp_printf(im, &im->rules, " from %s", r->src);
	else if (!both_families && addr_is_any(r->dst))
		imp_printf(im, &im->rules, " from %s", r->v6 ? "::/0" : "0.0.0.0/0");
	if (!addr_is_any(r->dst))
		imp_printf(im, &im->rules, " to %s", r->dst);
	if (*r->log)
		imp_printf(im, &im->rules, " log");
	if (r->comment && *r->comment)
		imp_comment(im, &im->rules, r->comment);
	else if (*r->dapp)
		imp_comment(im, &im->rules, r->dapp);
	imp_printf(im, &im->rules, "\n");
	if (*r->log && streq(r->log, "log-all"))
		imp_note(im, r->where,
			 "'log-all' becomes 'log' (portctl logs each match, rate-limited)");
	if (streq(r->action, "limit"))
		imp_note(im, r->where,
			 "ufw's limit is 6 new connections per 30 s per source; portctl's default "
			 "is 6 per minute, burst 6");
}

static int iface_add(struct ufw_ctx *u, const char *iface)
{
	char **slot;

	if (!*iface || !imp_ifname_ok(iface))
		return 0;
	for (size_t i = 0; i < u->n_ifaces; i++)
		if (streq(u->ifaces[i], iface))
			return 0;
	slot = PC_ARRAY_PUSH(u->ifaces, u->n_ifaces, u->cap_ifaces);
	if (!slot)
		return -ENOMEM;
	*slot = (char *)iface;
	return 0;
}

/* KEY=VALUE or KEY="VALUE" from a shell-style file; NULL when absent. */
static char *conf_get(const char *data, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = data; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *e;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, kl) != 0 || p[kl] != '=')
			continue;
		p += kl + 1;
		e = p + strcspn(p, "\n#");
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > p && (*p == '"' || *p == '\'') && e[-1] == *p) {
			p++;
			e--;
		}
		return strndup(p, (size_t)(e - p));
	}
	return NULL;
}

static const char *policy_word(const char *ufw)
{
	if (!ufw)
		return NULL;
	if (strcasecmp(ufw, "DROP") == 0)
		return "drop";
	if (strcasecmp(ufw, "REJECT") == 0)
		return "reject";
	if (strcasecmp(ufw, "ACCEPT") == 0)
		return "accept";
	return NULL;
}

/* /etc/default/ufw: DIR/../default/ufw for DIR=/etc/ufw, or DIR/default-ufw
 * for a copy kept together. */
static int defaults_read(struct imp *im, const char *dir, char **data, char **where)
{
	static const char *const names[] = {"default-ufw", "../default/ufw"};
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
			return -ENOMEM;
		if (pc_read_file(path, 1024 * 1024, data, &len) == 0) {
			*where = TAKE_PTR(path);
			return 0;
		}
	}
	imp_note(im, dir,
		 "no ../default/ufw nor default-ufw: ufw's default policies assumed "
		 "(incoming drop, outgoing accept)");
	return -ENOENT;
}

/* before.rules and after.rules hold iptables lines that ufw applies
 * around the user's rules. The shipped ones accept what portctl's
 * preamble accepts (loopback, established, ICMP errors and ping) plus
 * DHCP replies, mDNS and UPnP; a line of anything else is reported. */
static void extra_rules_report(struct imp *im, const char *dir)
{
	static const char *const files[] = {"before.rules", "before6.rules", "after.rules",
					    "after6.rules"};
	static const char *const known[] = {
	    "-i lo",
	    "-o lo",
	    "--ctstate RELATED,ESTABLISHED",
	    "--ctstate INVALID",
	    "--icmp-type",
	    "--icmpv6-type",
	    "--sport 67 --dport 68",
	    "--sport 547 --dport 546",
	    "-j ufw-not-local",
	    "-j ufw-logging-deny",
	    "ufw-not-local",
	    "224.0.0.251 --dport 5353",
	    "ff02::fb --dport 5353",
	    "239.255.255.250 --dport 1900",
	    "ff02::f --dport 1900",
	    "--dport 137",
	    "--dport 138",
	    "--dport 139",
	    "--dport 445",
	    "--dport 67",
	    "--dport 68",
	    "-m rt --rt-type 0",
	    "fe80::/10",
	    "skip-to-policy",
	    "-j ufw-user-",
	    "-j ufw6-user-",
	    "-j ufw-logging-",
	    "-j ufw6-logging-",
	    "-j ufw-before-",
	    "-j ufw6-before-",
	    "-j ufw-after-",
	    "-j ufw6-after-",
	    "-A ufw-skip-to-policy",
	    "-A ufw6-skip-to-policy",
	    "-m addrtype --dst-type",
	    "-A ufw-not-local -j DROP",
	};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *path = NULL, *data = NULL;
		size_t len, lineno = 0;

		if (asprintf(&path, "%s/%s", dir, files[i]) < 0)
			return;
		if (pc_read_file(path, 16 * 1024 * 1024, &data, &len) < 0)
			continue;
		for (char *p = data, *nl; p && *p; p = nl) {
			bool ok = false;

			nl = strchr(p, '\n');
			if (nl)
				*nl++ = '\0';
			lineno++;
			if (strncmp(p, "-A ", 3) != 0)
				continue;
			for (size_t k = 0; k < ARRAY_SIZE(known) && !ok; k++)
				ok = strstr(p, known[k]) != NULL;
			if (!ok) {
				_cleanup_free_ char *where = NULL;

				if (asprintf(&where, "%s:%zu", path, lineno) < 0)
					return;
				imp_skip(im, where, "%s (iptables lines are not converted)", p);
			}
		}
	}
}

int import_ufw(struct imp *im, const char *dir)
{
	_cleanup_free_ char *defaults = NULL, *dwhere = NULL, *conf = NULL, *conf_path = NULL;
	_cleanup_free_ char *pin = NULL, *pout = NULL, *enabled = NULL, *ipv6 = NULL,
			    *loglevel = NULL;
	struct ufw_rules v4 = {0}, v6 = {0};
	struct ufw_ctx u = {.im = im};
	const char *in_policy, *out_policy;
	char zb[33];
	size_t len, j = 0;
	int r, r6;

	r = rules_read(im, dir, "user.rules", false, &v4);
	if (r == -ENOMEM)
		goto out;
	r6 = rules_read(im, dir, "user6.rules", true, &v6);
	if (r6 == -ENOMEM) {
		r = r6;
		goto out;
	}
	if (r < 0 && r6 < 0) {
		fprintf(stderr, "%s import: %s/user.rules: %s (is %s ufw's directory?)\n", im->prog,
			dir, strerror(-r), dir);
		goto out;
	}
	r = 0;
	if (asprintf(&conf_path, "%s/ufw.conf", dir) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (pc_read_file(conf_path, 1024 * 1024, &conf, &len) == 0) {
		enabled = conf_get(conf, "ENABLED");
		if (enabled && !streq(enabled, "yes"))
			imp_note(im, conf_path,
				 "ufw was not enabled (ENABLED=%s); its rules are imported anyway",
				 enabled);
		loglevel = conf_get(conf, "LOGLEVEL");
		if (loglevel && !streq(loglevel, "off"))
			imp_note(im, conf_path,
				 "LOGLEVEL=%s (ufw logged blocked packets) is not kept: "
				 "portctl logs the packets of rules with 'log'",
				 loglevel);
	}
	if (defaults_read(im, dir, &defaults, &dwhere) == 0) {
		pin = conf_get(defaults, "DEFAULT_INPUT_POLICY");
		pout = conf_get(defaults, "DEFAULT_OUTPUT_POLICY");
		ipv6 = conf_get(defaults, "IPV6");
		if (ipv6 && !streq(ipv6, "yes"))
			imp_note(im, dwhere,
				 "IPV6=%s: ufw managed IPv4 only; portctl filters IPv6 with the "
				 "same rules",
				 ipv6);
	}
	in_policy = policy_word(pin) ? policy_word(pin) : "drop";
	out_policy = policy_word(pout) ? policy_word(pout) : "accept";

	for (size_t i = 0; i < v4.n; i++)
		if (!v4.items[i].route &&
		    (r = iface_add(&u, v4.items[i].out ? v4.items[i].iface_out
						       : v4.items[i].iface_in)) < 0)
			goto out;
	for (size_t i = 0; i < v6.n; i++)
		if (!v6.items[i].route &&
		    (r = iface_add(&u, v6.items[i].out ? v6.items[i].iface_out
						       : v6.items[i].iface_in)) < 0)
			goto out;

	imp_printf(im, &im->head, "# ufw's default policies: incoming %s, outgoing %s.\n",
		   in_policy, out_policy);
	imp_printf(im, &im->zones, "zone public policy in %s policy out %s default\n", in_policy,
		   out_policy);
	for (size_t i = 0; i < u.n_ifaces; i++)
		imp_printf(im, &im->zones, "zone %s interface %s policy in %s policy out %s\n",
			   iface_zone(zb, u.ifaces[i]), u.ifaces[i], in_policy, out_policy);

	/* Keep each file's order: an IPv6-only rule that ufw put before the
	 * IPv6 half of a rule for both families stays before it. */
	for (size_t i = 0; i < v4.n; i++) {
		struct ufw_rule *a = &v4.items[i];
		size_t k = v6.n;

		if (addr_is_any(a->src) && addr_is_any(a->dst))
			for (k = j; k < v6.n && !rule_pairs(a, &v6.items[k]); k++)
				;
		if (k < v6.n) {
			for (; j < k; j++)
				if (!v6.items[j].paired)
					rule_emit(&u, &v6.items[j], false);
			v6.items[k].paired = true;
			j = k + 1;
			rule_emit(&u, a, true);
		} else {
			rule_emit(&u, a, false);
		}
	}
	for (; j < v6.n; j++)
		if (!v6.items[j].paired)
			rule_emit(&u, &v6.items[j], false);
	extra_rules_report(im, dir);
out:
	free(u.ifaces);
	ufw_rules_free(&v4);
	ufw_rules_free(&v6);
	return r;
}
