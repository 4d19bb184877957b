/* portctl import firewalld: zones (DIR/zones/NAME.xml over the shipped ones,
 * which are compiled in), their services (DIR/services/NAME.xml over the
 * shipped ones), ports, sources (ipsets inlined), interfaces, target and
 * rich rules; firewalld.conf's DefaultZone. Only active zones are
 * imported: the default zone and those with an interface or a source.
 *
 * Order: firewalld runs a zone's rich rules of negative priority first,
 * then (priority 0) its log, deny and allow chains -- drop and reject rich
 * rules before every accept, services and ports with the accepts -- then
 * rich rules of positive priority. portctl's first match decides, so the
 * rules are written in that order. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

struct fw_zone {
	char *name; /* firewalld's */
	char *file; /* NULL: the shipped zone, from the table */
	struct xml_node *xml;
	const struct fw_shipped_zone *shipped;
};

struct fw {
	struct imp *im;
	const char *dir;
	struct fw_zone *zones;
	size_t n_zones, cap_zones;
	char *default_zone;
};

static struct xml_node *xml_read(struct imp *im, const char *path)
{
	_cleanup_free_ char *data = NULL;
	struct xml_node *n;
	const char *err;
	size_t len, line;

	if (pc_read_file(path, 16 * 1024 * 1024, &data, &len) < 0)
		return NULL;
	n = xml_parse(data, &err, &line);
	if (!n) {
		_cleanup_free_ char *where = NULL;

		if (asprintf(&where, "%s:%zu", path, line) >= 0)
			imp_skip(im, where, "the file (%s)", err);
	}
	return n;
}

static int zone_add(struct fw *fw, const char *name, char *file, struct xml_node *xml)
{
	struct fw_zone *z;

	for (size_t i = 0; i < fw->n_zones; i++)
		if (streq(fw->zones[i].name, name)) {
			free(fw->zones[i].file);
			xml_free(fw->zones[i].xml);
			fw->zones[i].file = file;
			fw->zones[i].xml = xml;
			return 0;
		}
	z = PC_ARRAY_PUSH(fw->zones, fw->n_zones, fw->cap_zones);
	if (!z)
		return -ENOMEM;
	z->name = strdup(name);
	z->file = file;
	z->xml = xml;
	for (size_t i = 0; i < fw_n_shipped_zones; i++)
		if (streq(fw_shipped_zones[i].name, name))
			z->shipped = &fw_shipped_zones[i];
	return z->name ? 0 : -ENOMEM;
}

/* The *.xml names of DIR/sub, sorted; callers free. */
static int xml_names(const char *dir, const char *sub, char ***out, size_t *n)
{
	_cleanup_free_ char *path = NULL;
	struct dirent **ents = NULL;
	int k;

	*out = NULL;
	*n = 0;
	if (asprintf(&path, "%s/%s", dir, sub) < 0)
		return -ENOMEM;
	k = scandir(path, &ents, NULL, alphasort);
	if (k < 0)
		return errno == ENOENT ? 0 : -errno;
	*out = calloc((size_t)k + 1, sizeof(char *));
	for (int i = 0; i < k; i++) {
		size_t l = strlen(ents[i]->d_name);

		if (*out && l > 4 && streq(ents[i]->d_name + l - 4, ".xml") &&
		    ents[i]->d_name[0] != '.')
			(*out)[(*n)++] = strndup(ents[i]->d_name, l - 4);
		free(ents[i]);
	}
	free(ents);
	return *out ? 0 : -ENOMEM;
}

static void names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static const struct fw_shipped_service *shipped_service(const char *name)
{
	for (size_t i = 0; i < fw_n_shipped_services; i++)
		if (streq(fw_shipped_services[i].name, name))
			return &fw_shipped_services[i];
	return NULL;
}

/* A service's own ports as a portctl target ("22/tcp,60000-61000/udp"),
 * destination addresses and included services (comma-separated lists),
 * from DIR/services/NAME.xml or the shipped table; what portctl cannot
 * express goes to the report. false: unknown. */
static bool service_lookup(struct fw *fw, const char *name, const char *where,
			   struct pc_strbuf *ports, struct pc_strbuf *dests, struct pc_strbuf *incl)
{
	_cleanup_free_ char *path = NULL;
	struct xml_node *x;
	const struct fw_shipped_service *s;

	if (asprintf(&path, "%s/services/%s.xml", fw->dir, name) < 0) {
		fw->im->oom = true;
		return false;
	}
	x = xml_read(fw->im, path);
	if (x) {
		for (size_t i = 0; i < x->n_kids; i++) {
			const struct xml_node *k = x->kids[i];
			const char *port = xml_attr(k, "port"), *proto = xml_attr(k, "protocol");

			if (streq(k->name, "port") && port && *port && proto)
				imp_printf(fw->im, ports, "%s%s/%s", ports->len ? "," : "", port,
					   proto);
			else if (streq(k->name, "port") || streq(k->name, "protocol"))
				imp_skip(fw->im, where, "service %s: protocol %s", name,
					 proto			? proto
					 : xml_attr(k, "value") ? xml_attr(k, "value")
								: "?");
			else if (streq(k->name, "include") && xml_attr(k, "service"))
				imp_printf(fw->im, incl, "%s%s", incl->len ? "," : "",
					   xml_attr(k, "service"));
			else if (streq(k->name, "destination")) {
				for (const char *const *a =
					 (const char *const[]){"ipv4", "ipv6", NULL};
				     *a; a++)
					if (xml_attr(k, *a))
						imp_printf(fw->im, dests, "%s%s",
							   dests->len ? "," : "", xml_attr(k, *a));
			} else if (streq(k->name, "source-port") || streq(k->name, "helper"))
				imp_skip(fw->im, where, "service %s: %s", name, k->name);
		}
		xml_free(x);
		return true;
	}
	s = shipped_service(name);
	if (!s)
		return false;
	imp_printf(fw->im, ports, "%s", s->ports);
	imp_printf(fw->im, dests, "%s", s->dests);
	imp_printf(fw->im, incl, "%s", s->includes);
	if (*s->other)
		imp_skip(fw->im, where, "service %s: %s", name, s->other);
	return true;
}

/* All the ports of a service, includes followed, as one target: for a
 * rich rule, which takes one. A destination is not kept (noted). */
static bool service_ports(struct fw *fw, const char *name, const char *where,
			  struct pc_strbuf *ports, unsigned depth)
{
	struct pc_strbuf own = {0}, dests = {0}, incl = {0};
	bool known = depth <= 8 && service_lookup(fw, name, where, &own, &dests, &incl);

	if (own.len)
		imp_printf(fw->im, ports, "%s%s", ports->len ? "," : "", own.buf);
	if (dests.len)
		imp_note(fw->im, where,
			 "service %s: its destination %s is not kept: the rule is broader", name,
			 dests.buf);
	if (incl.len) {
		char *save = NULL;

		for (char *w = strtok_r(incl.buf, ",", &save); w; w = strtok_r(NULL, ",", &save))
			service_ports(fw, w, where, ports, depth + 1);
	}
	pc_strbuf_free(&own);
	pc_strbuf_free(&dests);
	pc_strbuf_free(&incl);
	return known;
}

/* An ipset's entries, comma-separated, for hash:ip and hash:net sets. */
static bool ipset_entries(struct fw *fw, const char *name, const char *where, struct pc_strbuf *out)
{
	_cleanup_free_ char *path = NULL;
	struct xml_node *x;
	const char *type;
	bool ok = false;

	if (asprintf(&path, "%s/ipsets/%s.xml", fw->dir, name) < 0)
		return false;
	x = xml_read(fw->im, path);
	if (!x) {
		imp_skip(fw->im, where, "ipset %s (no %s)", name, path);
		return false;
	}
	type = xml_attr(x, "type");
	if (type && (streq(type, "hash:ip") || streq(type, "hash:net"))) {
		ok = true;
		for (size_t i = 0; i < x->n_kids; i++)
			if (streq(x->kids[i]->name, "entry") && x->kids[i]->text)
				imp_printf(fw->im, out, "%s%s", out->len ? "," : "",
					   x->kids[i]->text);
		if (out->len == 0)
			ok = false;
	}
	if (!ok)
		imp_skip(fw->im, where, "ipset %s of type %s%s", name, type ? type : "?",
			 type && strncmp(type, "hash:", 5) == 0 ? " or without entries" : "");
	xml_free(x);
	return ok;
}

static char *zone_where(const struct fw_zone *z, const struct xml_node *n)
{
	char *w = NULL;

	if (z->file && n) {
		if (asprintf(&w, "%s:%zu", z->file, n->line) < 0)
			return NULL;
	} else if (z->file ? asprintf(&w, "%s", z->file) < 0
			   : asprintf(&w, "firewalld's shipped zone %s", z->name) < 0) {
		return NULL;
	}
	return w;
}

static const char *target_policy(const char *target)
{
	if (!target || streq(target, "default") || streq(target, "%%REJECT%%"))
		return "reject";
	if (streq(target, "ACCEPT"))
		return "accept";
	return "drop";
}

/* "3/m" -> "3/minute"; NULL for days, which portctl has not. */
static char *limit_rate(const char *v)
{
	const char *slash = v ? strchr(v, '/') : NULL;
	const char *unit;
	char *out;

	if (!slash)
		return NULL;
	switch (slash[1]) {
	case 's':
		unit = "second";
		break;
	case 'm':
		unit = "minute";
		break;
	case 'h':
		unit = "hour";
		break;
	default:
		return NULL;
	}
	if (asprintf(&out, "%.*s/%s", (int)(slash - v), v, unit) < 0)
		return NULL;
	return out;
}

/* One rich rule into portctl words, or a report of why not. */
static void rich_rule_emit(struct fw *fw, const struct fw_zone *z, const char *zn,
			   const struct xml_node *rule)
{
	_cleanup_free_ char *where = zone_where(z, rule), *rate = NULL;
	struct pc_strbuf target = {0}, from = {0}, to = {0};
	const char *family = xml_attr(rule, "family"), *action = NULL, *skip = NULL;
	bool log = false;

	for (size_t i = 0; i < rule->n_kids && !skip; i++) {
		const struct xml_node *k = rule->kids[i];
		const char *n = k->name;

		if (streq(n, "source") || streq(n, "destination")) {
			struct pc_strbuf *sb = streq(n, "source") ? &from : &to;
			const char *inv = xml_attr(k, "invert");

			if (inv && (streq(inv, "True") || streq(inv, "true") || streq(inv, "yes")))
				skip = "an inverted address (portctl has no 'not')";
			else if (xml_attr(k, "address"))
				imp_printf(fw->im, sb, "%s", xml_attr(k, "address"));
			else if (xml_attr(k, "ipset")) {
				if (!ipset_entries(fw, xml_attr(k, "ipset"), where, sb))
					skip = "a rule on that ipset";
			} else
				skip = "a source by MAC address";
		} else if (streq(n, "service")) {
			if (!xml_attr(k, "name") ||
			    !service_ports(fw, xml_attr(k, "name"), where, &target, 0))
				skip = "an unknown service";
			else if (target.len == 0)
				skip = "a service without ports";
		} else if (streq(n, "port")) {
			imp_printf(fw->im, &target, "%s/%s",
				   xml_attr(k, "port") ? xml_attr(k, "port") : "?",
				   xml_attr(k, "protocol") ? xml_attr(k, "protocol") : "tcp");
		} else if (streq(n, "log") || streq(n, "nflog")) {
			log = true;
		} else if (streq(n, "audit")) {
		} else if (streq(n, "accept") || streq(n, "reject") || streq(n, "drop")) {
			action = streq(n, "accept")   ? "allow"
				 : streq(n, "reject") ? "reject"
						      : "deny";
			for (size_t j = 0; j < k->n_kids; j++)
				if (streq(k->kids[j]->name, "limit")) {
					rate = limit_rate(xml_attr(k->kids[j], "value"));
					if (!rate || streq(action, "deny"))
						skip = "a limit portctl cannot express (per day, "
						       "or on drop)";
				}
		} else {
			skip = n; /* protocol, icmp-block, icmp-type, masquerade, forward-port,
				     source-port, mark */
		}
	}
	if (!skip && !action)
		skip = "a rule without accept, reject or drop (log or audit only)";
	if (!skip && target.len == 0 && from.len == 0 && to.len == 0 && !family)
		skip = "a rule on all traffic from everywhere";
	if (skip) {
		imp_skip(fw->im, where, "rich rule with %s", skip);
		goto out;
	}
	imp_printf(fw->im, &fw->im->rules, "# %s: rich rule\n%s", where, action);
	if (target.len)
		imp_printf(fw->im, &fw->im->rules, " %s", target.buf);
	imp_printf(fw->im, &fw->im->rules, " zone %s", zn);
	if (from.len)
		imp_printf(fw->im, &fw->im->rules, " from %s", from.buf);
	else if (family && to.len == 0)
		imp_printf(fw->im, &fw->im->rules, " from %s",
			   streq(family, "ipv6") ? "::/0" : "0.0.0.0/0");
	if (to.len)
		imp_printf(fw->im, &fw->im->rules, " to %s", to.buf);
	if (rate)
		imp_printf(fw->im, &fw->im->rules, " rate %s", rate);
	if (log)
		imp_printf(fw->im, &fw->im->rules, " log");
	imp_printf(fw->im, &fw->im->rules, "\n");
out:
	pc_strbuf_free(&target);
	pc_strbuf_free(&from);
	pc_strbuf_free(&to);
}

/* Which pass a rich rule belongs to: 0 negative priority, 1 priority 0
 * drop/reject, 2 priority 0 accept (with services and ports), 3 positive. */
static int rich_pass(const struct xml_node *rule)
{
	const char *p = xml_attr(rule, "priority");
	long prio = p ? strtol(p, NULL, 10) : 0;

	if (prio < 0)
		return 0;
	if (prio > 0)
		return 3;
	for (size_t i = 0; i < rule->n_kids; i++)
		if (streq(rule->kids[i]->name, "accept"))
			return 2;
	return 1;
}

static int prio_of(const struct xml_node *rule)
{
	const char *p = xml_attr(rule, "priority");

	return p ? (int)strtol(p, NULL, 10) : 0;
}

/* A zone's service: its ports, once per destination address if it has
 * any (mdns: 224.0.0.251 and ff02::fb), then its includes, each with
 * their own destinations. */
static void service_emit(struct fw *fw, const struct fw_zone *z, const char *zn, const char *name,
			 const struct xml_node *n, unsigned depth)
{
	_cleanup_free_ char *where = zone_where(z, n);
	struct pc_strbuf ports = {0}, dests = {0}, incl = {0};
	char *save = NULL;

	if (depth > 8 || !service_lookup(fw, name, where, &ports, &dests, &incl)) {
		imp_skip(fw->im, where,
			 "service %s (unknown: no %s/services/%s.xml and not shipped)", name,
			 fw->dir, name);
		goto out;
	}
	if (ports.len > 0 && dests.len == 0)
		imp_printf(fw->im, &fw->im->rules, "allow %s zone %s comment \"%s\"\n", ports.buf,
			   zn, name);
	for (char *d = ports.len && dests.len ? strtok_r(dests.buf, ",", &save) : NULL; d;
	     d = strtok_r(NULL, ",", &save))
		imp_printf(fw->im, &fw->im->rules, "allow %s zone %s to %s comment \"%s\"\n",
			   ports.buf, zn, d, name);
	save = NULL;
	for (char *w = incl.len ? strtok_r(incl.buf, ",", &save) : NULL; w;
	     w = strtok_r(NULL, ",", &save))
		service_emit(fw, z, zn, w, n, depth + 1);
out:
	pc_strbuf_free(&ports);
	pc_strbuf_free(&dests);
	pc_strbuf_free(&incl);
}

static void zone_emit(struct fw *fw, const struct fw_zone *z)
{
	struct imp *im = fw->im;
	struct pc_strbuf ifaces = {0}, sources = {0};
	const struct xml_node *x = z->xml;
	const char *target = x ? xml_attr(x, "target") : z->shipped->target;
	bool is_default = streq(z->name, fw->default_zone);
	char zn[33];

	imp_zone_name(zn, z->name, "");
	for (size_t i = 0; x && i < x->n_kids; i++) {
		const struct xml_node *k = x->kids[i];
		_cleanup_free_ char *where = zone_where(z, k);

		if (streq(k->name, "interface") && xml_attr(k, "name") &&
		    imp_ifname_ok(xml_attr(k, "name")))
			imp_printf(im, &ifaces, "%s%s", ifaces.len ? "," : "", xml_attr(k, "name"));
		else if (streq(k->name, "interface"))
			imp_skip(im, where, "zone %s: interface '%s' (not a name portctl accepts)",
				 z->name, xml_attr(k, "name") ? xml_attr(k, "name") : "");
		else if (streq(k->name, "source") && xml_attr(k, "address"))
			imp_printf(im, &sources, "%s%s", sources.len ? "," : "",
				   xml_attr(k, "address"));
		else if (streq(k->name, "source") && xml_attr(k, "ipset"))
			ipset_entries(fw, xml_attr(k, "ipset"), where, &sources);
		else if (streq(k->name, "source"))
			imp_skip(im, where, "zone %s: a source by MAC address", z->name);
	}
	imp_printf(im, &im->zones, "zone %s", zn);
	if (ifaces.len)
		imp_printf(im, &im->zones, " interface %s", ifaces.buf);
	if (sources.len)
		imp_printf(im, &im->zones, " source %s", sources.buf);
	imp_printf(im, &im->zones, " policy in %s%s", target_policy(target),
		   is_default ? " default" : "");
	imp_printf(im, &im->zones, "   # firewalld zone %s, target %s\n", z->name,
		   target ? target : "default");
	if (!streq(zn, z->name))
		imp_note(im, z->file ? z->file : z->name,
			 "zone %s is called %s here (%s is a portctl keyword)", z->name, zn,
			 z->name);
	pc_strbuf_free(&ifaces);
	pc_strbuf_free(&sources);

	for (int pass = 0; pass < 4; pass++) {
		if (pass == 2) {
			if (!x) {
				_cleanup_free_ char *svcs = strdup(z->shipped->services);
				char *save = NULL;

				for (char *w = svcs ? strtok_r(svcs, ",", &save) : NULL; w;
				     w = strtok_r(NULL, ",", &save))
					service_emit(fw, z, zn, w, NULL, 0);
			}
			for (size_t i = 0; x && i < x->n_kids; i++) {
				const struct xml_node *k = x->kids[i];
				_cleanup_free_ char *where = zone_where(z, k);
				const char *port = xml_attr(k, "port"),
					   *proto = xml_attr(k, "protocol");

				if (streq(k->name, "service") && xml_attr(k, "name"))
					service_emit(fw, z, zn, xml_attr(k, "name"), k, 0);
				else if (streq(k->name, "port") && port && proto &&
					 (streq(proto, "tcp") || streq(proto, "udp") ||
					  streq(proto, "sctp")))
					imp_printf(im, &im->rules, "allow %s/%s zone %s\n", port,
						   proto, zn);
				else if (streq(k->name, "port") || streq(k->name, "protocol") ||
					 streq(k->name, "source-port") ||
					 streq(k->name, "icmp-block") ||
					 streq(k->name, "icmp-block-inversion") ||
					 streq(k->name, "masquerade") ||
					 streq(k->name, "forward-port"))
					imp_skip(im, where, "zone %s: <%s%s%s>", z->name, k->name,
						 port ? " port="
						 : proto || xml_attr(k, "value") ||
							 xml_attr(k, "name")
						     ? " "
						     : "",
						 port			? port
						 : proto		? proto
						 : xml_attr(k, "value") ? xml_attr(k, "value")
						 : xml_attr(k, "name")	? xml_attr(k, "name")
									: "");
			}
		}
		/* Rich rules of a pass, by priority, in file order among equals. */
		for (int prio = -32768; x && prio <= 32767; prio++) {
			bool more = false;

			for (size_t i = 0; i < x->n_kids; i++) {
				const struct xml_node *k = x->kids[i];

				if (!streq(k->name, "rule") || rich_pass(k) != pass)
					continue;
				if (prio_of(k) == prio)
					rich_rule_emit(fw, z, zn, k);
				else if (prio_of(k) > prio)
					more = true;
			}
			if (!more)
				break;
		}
	}
}

static bool zone_active(const struct fw *fw, const struct fw_zone *z)
{
	if (streq(z->name, fw->default_zone))
		return true;
	for (size_t i = 0; z->xml && i < z->xml->n_kids; i++)
		if (streq(z->xml->kids[i]->name, "interface") ||
		    streq(z->xml->kids[i]->name, "source"))
			return true;
	return false;
}

static void conf_read(struct fw *fw)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	size_t len;

	if (asprintf(&path, "%s/firewalld.conf", fw->dir) < 0 ||
	    pc_read_file(path, 1024 * 1024, &data, &len) < 0)
		return;
	for (char *p = data, *nl; p && *p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		if (strncmp(p, "DefaultZone=", 12) == 0 && p[12]) {
			free(fw->default_zone);
			fw->default_zone = strdup(p + 12);
		} else if (strncmp(p, "LogDenied=", 10) == 0 && !streq(p + 10, "off")) {
			imp_skip(fw->im, path, "%s (portctl logs per rule: add 'log' to rules)", p);
		}
	}
}

/* What firewalld has beyond zones: reported, never converted. */
static void others_report(struct fw *fw)
{
	char **names;
	size_t n;
	_cleanup_free_ char *direct = NULL;
	struct xml_node *x;

	if (xml_names(fw->dir, "policies", &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *w = NULL;

			if (asprintf(&w, "%s/policies/%s.xml", fw->dir, names[i]) >= 0)
				imp_skip(fw->im, w, "policy %s (policies between zones)", names[i]);
		}
		names_free(names, n);
	}
	if (asprintf(&direct, "%s/direct.xml", fw->dir) >= 0 && (x = xml_read(fw->im, direct))) {
		if (x->n_kids > 0)
			imp_skip(fw->im, direct, "%zu direct rule%s (iptables arguments)",
				 x->n_kids, x->n_kids == 1 ? "" : "s");
		xml_free(x);
	}
}

int import_firewalld(struct imp *im, const char *dir)
{
	struct fw fw = {.im = im, .dir = dir};
	char **names = NULL;
	size_t n = 0;
	bool public_done = false;
	int r;

	fw.default_zone = strdup("public");
	if (!fw.default_zone)
		return -ENOMEM;
	r = xml_names(dir, "zones", &names, &n);
	if (r < 0) {
		fprintf(stderr, "%s import: %s/zones: %s\n", im->prog, dir, strerror(-r));
		goto out;
	}
	if (n == 0 && access(dir, R_OK) < 0) {
		r = -errno;
		fprintf(stderr, "%s import: %s: %s\n", im->prog, dir, strerror(errno));
		goto out;
	}
	conf_read(&fw);
	for (size_t i = 0; i < fw_n_shipped_zones && r == 0; i++)
		r = zone_add(&fw, fw_shipped_zones[i].name, NULL, NULL);
	for (size_t i = 0; i < n && r == 0; i++) {
		char *path = NULL;
		struct xml_node *x;

		if (asprintf(&path, "%s/zones/%s.xml", dir, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		x = xml_read(im, path);
		if (!x) {
			free(path);
			continue;
		}
		r = zone_add(&fw, names[i], path, x);
	}
	if (r < 0)
		goto out;
	imp_printf(im, &im->head, "# firewalld's default zone: %s.\n", fw.default_zone);
	for (size_t i = 0; i < fw.n_zones; i++) {
		const struct fw_zone *z = &fw.zones[i];

		if (!z->xml && !z->shipped)
			continue;
		if (!zone_active(&fw, z)) {
			if (z->file)
				imp_note(
				    im, z->file,
				    "zone %s has no interface or source and is not the default: "
				    "not imported",
				    z->name);
			continue;
		}
		zone_emit(&fw, z);
		public_done |= streq(z->name, "public");
	}
	/* portctl's shipped public zone is the default one: take that back. */
	if (!public_done && !streq(fw.default_zone, "public"))
		imp_printf(im, &im->zones,
			   "zone public policy in drop   # portctl's, no longer the default\n");
	others_report(&fw);
out:
	for (size_t i = 0; i < fw.n_zones; i++) {
		free(fw.zones[i].name);
		free(fw.zones[i].file);
		xml_free(fw.zones[i].xml);
	}
	free(fw.zones);
	free(fw.default_zone);
	names_free(names, n);
	return r;
}
