/* Drift: notice when someone else changes table inet portctl. A second
 * netlink socket listens to NFNLGRP_NFTABLES; every commit ends with an
 * NFT_MSG_NEWGEN naming the committing process. After a commit not of ours
 * the kernel's table is compared with what we applied, and per "drift ="
 * repaired (the last applied ruleset again, in full) or reported. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "reply.h"
#include "state.h"
#include "drift.h"
#include "log.h"

#define DRIFT_RECV_SIZE (64 * 1024)
/* The mismatches named in the log; the rest are counted. */
#define DRIFT_LOG_MAX 5

struct drift {
	struct mnl_socket *sock;
	char *buf;
	pid_t self;
};

int drift_open(struct drift **out)
{
	struct drift *dr = calloc(1, sizeof(*dr));
	int group = NFNLGRP_NFTABLES, r;

	if (!dr)
		return -ENOMEM;
	dr->self = getpid();
	dr->buf = malloc(DRIFT_RECV_SIZE);
	dr->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!dr->buf || !dr->sock) {
		r = dr->buf ? -errno : -ENOMEM;
		drift_free(dr);
		return r;
	}
	if (mnl_socket_bind(dr->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(dr->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		drift_free(dr);
		return r;
	}
	*out = dr;
	return 0;
}

void drift_free(struct drift *dr)
{
	if (!dr)
		return;
	if (dr->sock)
		mnl_socket_close(dr->sock);
	free(dr->buf);
	free(dr);
}

int drift_fd(const struct drift *dr)
{
	return mnl_socket_get_fd(dr->sock);
}

static int gen_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NFTA_GEN_PROC_PID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*(pid_t *)data = (pid_t)ntohl(mnl_attr_get_u32(attr));
	return MNL_CB_OK;
}

/* The pid that committed, from a NEWGEN event; 0 when it does not say. */
static pid_t newgen_pid(const struct nlmsghdr *nlh)
{
	pid_t pid = 0;

	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, &pid);
	return pid;
}

/*
 * Read every queued event. Returns 1 when a commit by another process was
 * seen (or events were lost, so one may have been), 0 when all were ours.
 */
static int drift_read(struct drift *dr, pid_t *who)
{
	int foreign = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(dr->sock, dr->buf, DRIFT_RECV_SIZE);

		if (n < 0) {
			if (errno == ENOBUFS) {
				foreign = 1;
				continue;
			}
			return foreign;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)dr->buf; mnl_nlmsg_ok(nlh, (int)n);
		     nlh = mnl_nlmsg_next(nlh, (int *)&n)) {
			pid_t pid;

			if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN ||
			    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
				continue;
			pid = newgen_pid(nlh);
			if (pid != dr->self) {
				foreign = 1;
				*who = pid;
			}
		}
	}
}

static void drift_log(const struct pc_applied *a, const struct pc_nl_mismatches *m, pid_t who)
{
	log_warning("table inet %s was changed by another process (pid %d): %zu difference%s "
		    "from what portctld applied",
		    PC_TABLE_NAME, (int)who, m->n, m->n == 1 ? "" : "s");
	for (size_t i = 0; i < m->n && i < DRIFT_LOG_MAX; i++) {
		const struct pc_nl_mismatch *x = &m->items[i];
		const struct pc_rule *rule = x->obj >= 0 ? a->ruleset->objs[x->obj].rule : NULL;

		log_warning("  %s %s%s%s%s",
			    x->op == '-'   ? "missing:"
			    : x->op == '+' ? "added by someone else:"
					   : "changed:",
			    x->what, rule ? " of '" : "", rule ? rule->text : "", rule ? "'" : "");
	}
	if (m->n > DRIFT_LOG_MAX)
		log_warning("  ... and %zu more", m->n - DRIFT_LOG_MAX);
}

/* The desired state in force again, as a whole new table: through the
 * one path, like every other change. */
static int drift_repair(struct daemon *dm)
{
	struct next nx = {.panic = -1, .source = dm->source, .flags = PC_NL_FULL};
	struct pc_reply reply = {0};
	int r = state_commit(dm, &nx, &reply);

	free(reply.message);
	json_decref(reply.data);
	return r;
}

int drift_check(struct daemon *dm, pid_t who)
{
	struct pc_nl_mismatches m = {0};
	int r;

	/* In panic mode the kernel holds the panic ruleset, not applied; with
	 * no model there is nothing to compare with. */
	if (dm->panic || !dm->applied || !dm->applied->ruleset)
		return 0;
	r = state_verify(dm, &m);
	if (r < 0)
		return log_warning_errno(r, "cannot compare the kernel's table with ours: %m");
	if (m.n == 0)
		return 0;
	drift_log(dm->applied, &m, who);
	pc_nl_mismatches_free(&m);
	if (dm->applied->cfg->settings.drift == PC_DRIFT_REPORT) {
		log_warning("drift = report: left as it is; 'portctl reload' puts our rules back");
		return 1;
	}
	r = drift_repair(dm);
	if (r < 0)
		return log_error_errno(r, "drift repair failed: %m");
	log_notice("drift repaired: table inet %s holds the applied rules again", PC_TABLE_NAME);
	return 1;
}

void drift_event(void *userdata)
{
	struct daemon *dm = userdata;
	pid_t who = 0;

	if (drift_read(dm->drift, &who) > 0)
		drift_check(dm, who);
}
