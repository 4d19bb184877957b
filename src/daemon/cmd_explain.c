/* Read commands about the configuration in force: explain (which rule
 * decides a packet, from the plan the kernel's objects were lowered from),
 * export (the configuration as one rules file) and diff (files vs. kernel). */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

#include "handlers.h"
#include "log.h"
#include "readout.h"
#include "temporary.h"
#include "portctl/explain.h"
#include "portctl/natscan.h"
#include "portctl/export.h"

/* The query's words from args.words, bounded like the CLI's argv. */
static int args_words(json_t *args, char *words[PC_EXPLAIN_WORDS_MAX], int *n,
		      struct pc_reply *reply)
{
	json_t *a = json_object_get(args, "words"), *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > PC_EXPLAIN_WORDS_MAX) {
		reply_set(
		    reply, PC_STATUS_USAGE,
		    "explain needs \"words\": at most %d strings, e.g. [\"in\", \"tcp\", \"22\"]",
		    PC_EXPLAIN_WORDS_MAX);
		return -EINVAL;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v)) {
			reply_set(reply, PC_STATUS_USAGE, "explain: every word must be a string");
			return -EINVAL;
		}
		words[i] = (char *)json_string_value(v);
	}
	*n = (int)json_array_size(a);
	return 0;
}

static int route_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*(uint32_t *)data = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_reply(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	/* A local address arrives on lo: not a route to another host. */
	if (rtm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(*rtm), route_attr, data);
}

/* The interface this namespace's routes use to reach addr (RTM_GETROUTE,
 * as "ip route get" asks): where the kernel sends the replies, and so,
 * with symmetric routes, where that host's packets come in. */
static int route_iface(uint8_t family, const uint8_t *addr, char name[IF_NAMESIZE])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	uint32_t oif = 0, seq = 1;
	ssize_t n;
	int r;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, addr);
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	r = 0;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		r = -errno;
	if (r >= 0) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), route_reply,
					&oif) < 0)
			r = -errno;
	}
	mnl_socket_close(nl);
	if (r < 0)
		return r;
	if (oif == 0 || !if_indextoname(oif, name))
		return -ENOENT;
	return 0;
}

/* Does the zone of a packet depend on its interface? */
static bool config_binds_ifaces(const struct pc_config *cfg)
{
	for (size_t i = 0; i < cfg->n_zones; i++)
		if (cfg->zones[i].n_interfaces > 0)
			return true;
	return false;
}

/* Without "on IFACE", a packet from (in, forward) or to (out) a remote host takes
 * the interface of the route to that host, as real traffic does; zones
 * bound to interfaces would otherwise never be considered. Returns true
 * when q->iface was filled in so. */
static bool query_route_iface(const struct pc_config *cfg, struct pc_explain_query *q)
{
	bool by_source = q->dir != PC_DIR_OUT;
	bool have = by_source ? q->have_from : q->have_to;
	char name[IF_NAMESIZE];

	if (q->iface[0] || !have || !config_binds_ifaces(cfg))
		return false;
	if (route_iface(q->family, by_source ? q->from : q->to, name) < 0 ||
	    strlen(name) >= sizeof(q->iface))
		return false;
	strcpy(q->iface, name);
	return true;
}

/* explain's stand-in addresses for the configuration in force (it names
 * none of them, nor any ban), found once per change of it, bans included. */
static struct pc_explain_ends *ends_get(struct daemon *dm)
{
	static struct pc_explain_ends ends;
	static uint64_t generation, applies;
	uint64_t now = daemon_changes(dm);

	if (generation != readout_generation(dm) || applies != now) {
		generation = readout_generation(dm);
		applies = now;
		ends = (struct pc_explain_ends){0};
	}
	return &ends;
}

static const char *nfproto_name(uint8_t f)
{
	return f == NFPROTO_IPV4 ? "ip" : f == NFPROTO_IPV6 ? "ip6" : f == NFPROTO_INET ? "inet" : "?";
}

/* The other tables' DNAT rules that publish the queried port (natscan.h),
 * as a JSON list in *list, or NULL when the scan failed (its error is set
 * in answer as "published_error"). Our own forwards come first in the
 * answer ("forwarded_to"): no scan then. */
static int published_scan(struct daemon *dm, const struct pc_explain_query *q, json_t *answer,
			  json_t **list)
{
	struct pc_nat_scan scan;
	char to[64];
	int r;

	*list = NULL;
	if (q->dir != PC_DIR_IN || json_object_get(answer, "forwarded_to"))
		return 0;
	r = state_nat_scan(dm, &scan);
	if (r < 0)
		return json_object_set_new(answer, "published_error", json_string(strerror(-r))) < 0
			       ? -ENOMEM
			       : 0;
	*list = json_array();
	for (size_t i = 0; *list && i < scan.n; i++) {
		const struct pc_nat_entry *e = &scan.items[i];

		if (!pc_nat_entry_matches(e, q->family ? q->family : AF_INET, q->l4proto, q->port,
					  q->have_to ? q->to : NULL, q->iface[0] ? q->iface : NULL))
			continue;
		pc_nat_entry_to_format(e, to, sizeof(to));
		json_array_append_new(*list, json_pack("{s:s,s:s,s:s,s:s,s:I}", "to", to, "family",
						       nfproto_name(e->table_family), "table",
						       e->table, "chain", e->chain, "handle",
						       (json_int_t)e->handle));
	}
	r = *list ? json_object_set_new(answer, "published_unknown",
					json_integer((json_int_t)scan.n_unknown))
		  : -ENOMEM;
	pc_nat_scan_free(&scan);
	return r < 0 ? -ENOMEM : 0;
}

/* A published port is DNAT'ed before input sees it: the kernel judges the
 * connection in the forward chain (published-ports = obey: by the zone's
 * in rules on the port the client connected to), so explain evaluates it
 * there. */
static int published_judge(struct daemon *dm, struct pc_explain_query *q, json_t **answer)
{
	json_t *list = NULL, *again = NULL, *unknown;
	struct pc_diags d;
	int r = published_scan(dm, q, *answer, &list);

	if (r < 0 || !list)
		return r;
	if (json_array_size(list) > 0) {
		q->published = true;
		pc_diags_init(&d);
		r = pc_explain_eval_plan(dm->applied->cfg, dm->applied->plan, ends_get(dm), q,
					 &again, &d);
		pc_diags_free(&d);
		if (r < 0) {
			json_decref(list);
			return r;
		}
		unknown = json_object_get(*answer, "published_unknown");
		if (json_object_set(again, "published_unknown", unknown) < 0) {
			json_decref(again);
			json_decref(list);
			return -ENOMEM;
		}
		json_decref(*answer);
		*answer = again;
	}
	return json_object_set_new(*answer, "published", list) < 0 ? -ENOMEM : 0;
}

int cmd_explain(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	bool routed;
	char *words[PC_EXPLAIN_WORDS_MAX];
	struct pc_explain_query q;
	char err[256];
	json_t *answer = NULL;
	struct pc_diags d;
	int n = 0, r;

	if (args_words(args, words, &n, reply) < 0)
		return 0;
	if (pc_explain_parse(n, words, &q, err, sizeof(err)) < 0)
		return reply_set(reply, PC_STATUS_USAGE, "explain: %s", err);
	if (need_model(dm, reply) < 0)
		return 0;
	routed = query_route_iface(dm->applied->cfg, &q);
	pc_diags_init(&d);
	/* The plan in force, kept up to date with every change: no compile. */
	r = pc_explain_eval_plan(dm->applied->cfg, dm->applied->plan, ends_get(dm), &q,
				 &answer, &d);
	pc_diags_free(&d);
	if (r < 0)
		return r;
	r = published_judge(dm, &q, &answer);
	if (r < 0) {
		json_decref(answer);
		return r;
	}
	json_object_set_new(answer, "configuration", json_string("daemon"));
	json_object_set_new(answer, "panic", json_boolean(dm->panic));
	if (routed)
		json_object_set_new(answer, "interface_from", json_string("route"));
	reply->data = answer;
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}

int cmd_export(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	struct pc_strbuf sb = {0};
	size_t from, to;
	int r;

	if (need_model(dm, reply) < 0)
		return 0;
	/* A page of rules per request (the first with the zones, services and
	 * sets): portctl asks for the next ones apart. */
	page_args(args, dm->applied->cfg->n_rules, &from, &to);
	r = pc_config_export_page(dm->applied->cfg, from, to, &sb);
	if (r >= 0)
		r = pc_strbuf_append(&sb, "", 0);
	if (r >= 0) {
		reply->data = json_pack("{s:s,s:I,s:I,s:I,s:I}", "text", sb.buf, "rules_total",
					(json_int_t)dm->applied->cfg->n_rules, "rules_offset",
					(json_int_t)from, "rules_count", (json_int_t)(to - from),
					"generation", (json_int_t)readout_generation(dm));
		r = reply->data ? reply_set(reply, PC_STATUS_OK, "%s", "") : -ENOMEM;
	}
	pc_strbuf_free(&sb);
	return r;
}

static json_t *changes_json(const struct pc_changes *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < c->n; i++) {
		const struct pc_change *x = &c->items[i];
		char op[2] = {x->op, '\0'};

		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s?,s:i}", "op", op, "kind",
						   x->kind, "text", x->text, "file",
						   x->loc ? x->loc->file : NULL, "line",
						   x->loc ? (int)x->loc->line : 0));
	}
	return a;
}

static json_t *mismatches_json(const struct pc_applied *a, const struct pc_nl_mismatches *m)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < m->n; i++) {
		const struct pc_nl_mismatch *x = &m->items[i];
		const struct pc_rule *rule = x->obj >= 0 ? a->ruleset->objs[x->obj].rule : NULL;
		char op[2] = {x->op, '\0'};

		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:i}", "op", op,
						      "what", x->what, "object", x->text, "rule",
						      rule ? rule->text : NULL, "file",
						      rule ? rule->loc.file : NULL, "line",
						      rule ? (int)rule->loc.line : 0));
	}
	return list;
}

/* The kernel's generation when diff was asked (cmd_diff, before the
 * fork), 0: unknown. The worker compares a copy of the rules in force as
 * they were then with the table as it is when read: a commit in between
 * (the daemon's own next change) would show as drift. */
static uint32_t asked_genid;

/* Does the kernel still hold what the daemon applied? */
static json_t *kernel_json(struct daemon *dm, bool *matches)
{
	uint32_t genid;
	struct pc_nl_mismatches m = {0};
	json_t *j;
	int r;

	*matches = false;
	if (dm->panic)
		return json_pack("{s:b,s:s}", "checked", false, "reason",
				 "panic mode: the kernel holds the panic rules");
	if (dm->disabled)
		return json_pack("{s:b,s:s}", "checked", false, "reason",
				 "portctl is disabled: the kernel holds no table of ours");
	if (!dm->applied || !dm->applied->ruleset)
		return json_pack("{s:b,s:s}", "checked", false, "reason",
				 "portctld has no model of the rules the kernel holds");
	r = state_verify(dm, &m);
	if (r < 0)
		return json_pack("{s:b,s:s}", "checked", false, "reason", strerror(-r));
	if (m.n > 0 && asked_genid && pc_nl_genid(dm->nl, &genid) >= 0 && genid != asked_genid) {
		pc_nl_mismatches_free(&m);
		return json_pack("{s:b,s:s}", "checked", false, "reason",
				 "the rules changed while they were compared: run diff again");
	}
	*matches = m.n == 0;
	j = json_pack("{s:b,s:b,s:o}", "checked", true, "matches", *matches, "differences",
		      mismatches_json(dm->applied, &m));
	pc_nl_mismatches_free(&m);
	return j;
}

/* diff's answer, in a worker (worker.c): the files compiled and the
 * kernel's whole table read take most of a second at 100,000 rules. */
static int diff_answer(void *userdata, const struct pc_peer *peer, json_t *args,
		       struct pc_reply *reply)
{
	struct daemon *dm = userdata;
	struct pc_config *empty = NULL;
	struct pc_changes changes = {0};
	struct pc_applied *files = NULL;
	const struct pc_config *from;
	json_t *kernel;
	struct pc_diags d;
	bool matches;
	int r;

	/* The daemon's netlink socket is its own: answers to our dump must
	 * not reach it, nor its answers us. */
	r = pc_nl_open(&dm->nl);
	if (r < 0)
		return r;
	pc_diags_init(&d);
	r = pc_apply_prepare(&dm->paths, &files, &d);
	if (r == -EINVAL) {
		/* diff is open to everyone; the files are read as root. */
		if (!peer->may_write)
			pc_diags_redact(&d);
		reply_diags(
		    reply, PC_STATUS_USAGE,
		    "the files are invalid, so reload would change nothing and refuse them:", &d,
		    files ? files->cfg : NULL);
		pc_applied_free(files);
		pc_diags_free(&d);
		return 0;
	}
	/* A reload keeps the bans ahead of the files' rules, and the
	 * temporary rules until they end (the runtime ones it drops). */
	if (r >= 0)
		r = bans_compose(&dm->bans, (uint64_t)time(NULL), files->cfg, &d);
	if (r >= 0) {
		struct runtime temporary = {0};

		r = temporary_place(dm, files->cfg, &temporary, &d);
		runtime_clear(&temporary);
	}
	if (r == -EINVAL)
		r = reply_diags(reply, PC_STATUS_USAGE,
				"reload would refuse the files: a temporary rule does not fit them:",
				&d, files->cfg) < 0 ? -ENOMEM : 1;
	pc_diags_free(&d);
	if (r != 0) {
		pc_applied_free(files);
		return r < 0 ? r : 0;
	}
	from = dm->applied && dm->applied->cfg ? dm->applied->cfg : (empty = pc_config_new());
	r = from ? pc_config_diff(from, files->cfg, &changes) : -ENOMEM;
	if (r >= 0) {
		kernel = kernel_json(dm, &matches);
		reply->data = json_pack("{s:b,s:o,s:o}", "equal", changes.n == 0 && matches,
					"changes", changes_json(&changes), "kernel", kernel);
		r = reply->data ? reply_set(reply, PC_STATUS_OK, "%s", "") : -ENOMEM;
	}
	pc_changes_free(&changes);
	pc_applied_free(files);
	pc_config_free(empty);
	return r;
}

int cmd_diff(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	if (pc_nl_genid(dm->nl, &asked_genid) < 0)
		asked_genid = 0;
	reply->worker = diff_answer;
	return reply_set(reply, PC_STATUS_OK, "%s", "");
}
