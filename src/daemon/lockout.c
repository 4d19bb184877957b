/* The lock-out guard: before a change reaches the kernel, evaluate the new
 * plan for the SSH session of the admin making it, and refuse a change that
 * would cut it unless --force or --confirm says the admin knows. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lockout.h"
#include "log.h"
#include "portctl/compile.h"
#include "portctl/plan.h"

/* "CLIENT CPORT SERVER SPORT" is about 100 bytes at most. */
#define SSH_CONNECTION_MAX 200

/* The admin's session as sshd describes it in SSH_CONNECTION. */
struct session {
	uint8_t family;
	uint8_t client[16], server[16];
	char client_text[INET6_ADDRSTRLEN], server_text[INET6_ADDRSTRLEN];
	uint16_t client_port, server_port;
	char iface[IF_NAMESIZE]; /* "" when no local interface holds server */
};

void guard_opts_from_args(json_t *args, struct guard_opts *g)
{
	*g = (struct guard_opts){
	    .ssh_connection = json_string_value(json_object_get(args, "ssh_connection")),
	    .force = json_is_true(json_object_get(args, "force")),
	};
}

/* An address of either family; an IPv4-mapped IPv6 address (sshd on a
 * dual-stack socket) is the IPv4 address the kernel's filter sees. */
static int addr_parse(const char *s, uint8_t *family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};

	if (pc_host_parse(s, family, addr) < 0)
		return -EINVAL;
	if (*family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		*family = AF_INET;
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
	}
	return 0;
}

/* The value comes from the client: trust nothing in it. */
static int session_parse(const char *text, struct session *s)
{
	char buf[SSH_CONNECTION_MAX + 1], *save = NULL, *f[4];
	uint8_t fam_server;
	size_t n = 0;

	*s = (struct session){0};
	if (strlen(text) > SSH_CONNECTION_MAX)
		return -EINVAL;
	strcpy(buf, text);
	for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == ARRAY_SIZE(f))
			return -EINVAL;
		f[n++] = tok;
	}
	if (n != ARRAY_SIZE(f) || addr_parse(f[0], &s->family, s->client) < 0 ||
	    addr_parse(f[2], &fam_server, s->server) < 0 || fam_server != s->family ||
	    pc_port_parse(f[1], &s->client_port) < 0 || pc_port_parse(f[3], &s->server_port) < 0)
		return -EINVAL;
	inet_ntop(s->family, s->client, s->client_text, sizeof(s->client_text));
	inet_ntop(s->family, s->server, s->server_text, sizeof(s->server_text));
	return 0;
}

static bool ifaddr_is(const struct ifaddrs *ifa, uint8_t family, const uint8_t *addr)
{
	if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != family)
		return false;
	if (family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr, addr, 4);
	return !memcmp(&((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, addr, 16);
}

/* The interface that holds the session's server address: the packets of
 * the session arrive there (in this network namespace, the daemon's). */
static void session_find_iface(struct session *s)
{
	struct ifaddrs *all, *ifa;

	if (getifaddrs(&all) < 0) {
		log_warning_errno(-errno, "getifaddrs: %m");
		return;
	}
	for (ifa = all; ifa; ifa = ifa->ifa_next)
		if (ifaddr_is(ifa, s->family, s->server)) {
			snprintf(s->iface, sizeof(s->iface), "%s", ifa->ifa_name);
			break;
		}
	freeifaddrs(all);
}

/* The first packet of a new connection of the session (a reconnect). */
static void session_packet(const struct session *s, struct pc_packet *pkt)
{
	*pkt = (struct pc_packet){
	    .dir = PC_DIR_IN,
	    .family = s->family,
	    .l4proto = IPPROTO_TCP,
	    .dport = s->server_port,
	    .iif = s->iface[0] ? s->iface : NULL,
	};
	memcpy(pkt->saddr, s->client, sizeof(s->client));
	memcpy(pkt->daddr, s->server, sizeof(s->server));
}

static int session_eval(const struct pc_config *cfg, const struct pc_packet *pkt,
			struct pc_verdict *v)
{
	struct pc_plan *plan = NULL;
	struct pc_diags d;
	int r;

	pc_diags_init(&d);
	r = pc_plan_build(cfg, &plan, &d);
	if (r >= 0)
		r = pc_plan_eval(plan, pkt, v);
	pc_plan_free(plan);
	pc_diags_free(&d);
	return r;
}

/* Accepted, and not forwarded to another host by a forward. */
static bool reaches_host(const struct pc_verdict *v)
{
	return v->verdict == PC_VERDICT_ACCEPT && !(v->rule && v->rule->action == PC_FORWARD);
}

/* Which part of the configuration decides, in words. */
static char *verdict_cause(const struct pc_verdict *v)
{
	char *out = NULL;
	int n;

	if (v->by == PC_DECIDED_RULE && v->rule)
		n = asprintf(&out, "rule %s:%u (%s) would %s it",
			     v->rule->loc.file ? v->rule->loc.file : "?", v->rule->loc.line,
			     v->rule->text,
			     v->rule->action == PC_FORWARD ? "forward" : pc_verdict_kind_name(v->verdict));
	else
		n = asprintf(&out, "the inbound policy of zone %s would %s it",
			     v->zone ? v->zone->name : "?", pc_verdict_kind_name(v->verdict));
	return n < 0 ? NULL : out;
}

static char *cut_message(const struct session *s, const struct pc_verdict *v,
			 const struct guard_opts *g)
{
	_cleanup_free_ char *cause = verdict_cause(v);
	char *out = NULL;

	if (!cause)
		return NULL;
	if (asprintf(&out,
		     "this change would cut your SSH session from %s port %u to port %u on %s: "
		     "%s. The connection open now survives (the built-in rule accepts "
		     "established connections), but a reconnect would be refused, and so would "
		     "the session after a restart or 'portctl panic'. %s",
		     s->client_text, s->client_port, s->server_port,
		     s->iface[0] ? s->iface : s->server_text, cause,
		     g->can_confirm
			 ? "Use --force, or --confirm SECONDS to try it safely (rolled back "
			   "unless 'portctl confirm' follows in time)."
			 : "Use --force, or put the change in a rules file and run 'portctl "
			   "apply --confirm SECONDS' to try it safely.") < 0)
		return NULL;
	return out;
}

/* The session the CLI reported: 1 when there is one (in *s), 0 when none
 * or --force overrides a malformed one, -EPERM (reply set) otherwise. */
static int session_get(const struct guard_opts *g, struct session *s, struct pc_reply *reply)
{
	if (!g->ssh_connection)
		return 0;
	if (session_parse(g->ssh_connection, s) < 0) {
		if (g->force)
			return 0;
		reply_set(reply, PC_STATUS_USAGE,
			  "SSH_CONNECTION '%.64s' is not 'CLIENT_ADDR CLIENT_PORT SERVER_ADDR "
			  "SERVER_PORT': unset it, or use --force",
			  g->ssh_connection);
		return -EPERM;
	}
	session_find_iface(s);
	return 1;
}

int guard_check_in_place(const struct guard_opts *g, const struct pc_plan *plan,
			 const struct pc_rule_append *app, bool any, struct pc_reply *reply)
{
	struct pc_verdict v;
	struct pc_packet pkt;
	struct session s;
	int r = session_get(g, &s, reply);

	if (r <= 0)
		return r;
	session_packet(&s, &pkt);
	/* Refused already, or by the preamble: not this change's doing. */
	if (pc_plan_eval(plan, &pkt, &v) < 0 || v.verdict != PC_VERDICT_ACCEPT ||
	    v.by == PC_DECIDED_PREAMBLE)
		return 0;
	for (size_t i = 0; i < app->n_ports; i++) {
		const struct pc_append_port *ap = &app->ports[i];

		if (plan->zones[ap->zone].zone == v.zone && ap->dir == PC_DIR_IN &&
		    ap->port.l4proto == pkt.l4proto && ap->port.lo <= pkt.dport &&
		    pkt.dport <= ap->port.hi && (any || ap->port.verdict != PC_VERDICT_ACCEPT))
			return 1;
	}
	return 0;
}

int guard_check(const struct guard_opts *g, const struct pc_config *old,
		const struct pc_config *cfg, struct pc_reply *reply, char **warning)
{
	_cleanup_free_ char *msg = NULL;
	struct pc_verdict v_new, v_old;
	struct pc_packet pkt;
	struct session s;
	int r;

	if (warning)
		*warning = NULL;
	r = session_get(g, &s, reply);
	if (r <= 0)
		return r;
	session_packet(&s, &pkt);
	r = session_eval(cfg, &pkt, &v_new);
	if (r < 0 || reaches_host(&v_new))
		return 0;
	/* A session the rules in force already refuse is not this change's doing. */
	if (old && session_eval(old, &pkt, &v_old) >= 0 && !reaches_host(&v_old))
		return 0;
	msg = cut_message(&s, &v_new, g);
	if (!msg)
		return -ENOMEM;
	if (g->force || g->confirm) {
		log_warning("%s (%s given)", msg, g->force ? "--force" : "--confirm");
		if (warning)
			*warning = TAKE_PTR(msg);
		return 0;
	}
	log_notice("change refused by the lock-out guard: %s", msg);
	reply_set(reply, PC_STATUS_FAILURE, "%s", msg);
	return -EPERM;
}
