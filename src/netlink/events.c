/* nftables events (NFNLGRP_NFTABLES): which commits of other sockets touched
 * table inet portctl, and whether events were lost, for drift detection. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "internal.h"
#include "portctl/util.h"

/* One datagram; the kernel packs a commit's events into page-sized ones. */
#define EVENTS_RECV_SIZE (64 * 1024)
/* A whole-table replace of a large configuration is a few thousand events:
 * queue them all rather than lose them (an overrun costs a verify). */
#define EVENTS_SOCKET_BUFFER (8 * 1024 * 1024)

struct pc_nl_events {
	struct mnl_socket *sock;
	char *buf;
};

int pc_nl_events_open(struct pc_nl_events **out)
{
	_cleanup_(pc_nl_events_closep) struct pc_nl_events *ev = calloc(1, sizeof(*ev));
	int group = NFNLGRP_NFTABLES, size = EVENTS_SOCKET_BUFFER;

	if (!ev)
		return -ENOMEM;
	ev->buf = malloc(EVENTS_RECV_SIZE);
	if (!ev->buf)
		return -ENOMEM;
	ev->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!ev->sock)
		return -errno;
	if (mnl_socket_bind(ev->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(ev->sock, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0)
		return -errno;
	/* FORCE passes rmem_max with CAP_NET_ADMIN; without it, what we get. */
	if (setsockopt(mnl_socket_get_fd(ev->sock), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0)
		(void)setsockopt(mnl_socket_get_fd(ev->sock), SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
	*out = TAKE_PTR(ev);
	return 0;
}

void pc_nl_events_close(struct pc_nl_events *ev)
{
	if (!ev)
		return;
	if (ev->sock)
		mnl_socket_close(ev->sock);
	free(ev->buf);
	free(ev);
}

void pc_nl_events_closep(struct pc_nl_events **ev)
{
	pc_nl_events_close(*ev);
}

int pc_nl_events_fd(const struct pc_nl_events *ev)
{
	return mnl_socket_get_fd(ev->sock);
}

static int gen_attr_cb(const struct nlattr *attr, void *data)
{
	struct pc_nl_event_summary *s = data;

	if (mnl_attr_get_type(attr) == NFTA_GEN_PROC_PID &&
	    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		s->pid = (pid_t)ntohl(mnl_attr_get_u32(attr));
	else if (mnl_attr_get_type(attr) == NFTA_GEN_PROC_NAME &&
		 mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(s->comm, sizeof(s->comm), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int table_attr_cb(const struct nlattr *attr, void *data)
{
	/* Attribute 1 of every object event: NFTA_TABLE_NAME, NFTA_CHAIN_TABLE,
	 * NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE,
	 * NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE all have that number. */
	if (mnl_attr_get_type(attr) != 1)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0 &&
	    streq(mnl_attr_get_str(attr), PC_TABLE_NAME))
		*(bool *)data = true;
	return MNL_CB_STOP;
}

/* Whether an object event (table, chain, rule, set, element, object,
 * flowtable; new or deleted) is about table inet portctl. */
static bool event_is_ours(const struct nlmsghdr *nlh)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	bool ours = false;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) || g->nfgen_family != NFPROTO_INET)
		return false;
	mnl_attr_parse(nlh, sizeof(*g), table_attr_cb, &ours);
	return ours;
}

/*
 * A commit's events come in order, NEWGEN last, each stamped with the
 * portid of the socket that sent the batch (nlmsg_pid). That, not the pid
 * in NEWGEN, tells our commits apart: inside a PID namespace the kernel
 * reports the host's pid.
 */
static void event_account(const struct nlmsghdr *nlh, uint32_t self,
			  struct pc_nl_event_summary *s, bool *touched)
{
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES || nlh->nlmsg_pid == self)
		return;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN) {
		*touched = *touched || event_is_ours(nlh);
		return;
	}
	if (!*touched) {
		s->n_ignored++;
		return;
	}
	s->foreign = true;
	s->n_foreign++;
	s->pid = 0;
	s->comm[0] = '\0';
	mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, s);
	*touched = false;
}

int pc_nl_events_read(struct pc_nl_events *ev, uint32_t self, struct pc_nl_event_summary *out)
{
	/* Events of a foreign commit to our table whose NEWGEN is still to come. */
	bool touched = false;

	*out = (struct pc_nl_event_summary){0};
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(ev->sock, ev->buf, EVENTS_RECV_SIZE);

		if (n < 0) {
			/* ENOBUFS: the kernel dropped events; ENOSPC: libmnl saw
			 * a truncated datagram. Either way something is unknown. */
			if (errno == ENOBUFS || errno == ENOSPC) {
				out->overrun = true;
				continue;
			}
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		int len = (int)n;

		for (struct nlmsghdr *nlh = (struct nlmsghdr *)ev->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len))
			event_account(nlh, self, out, &touched);
	}
	/* A commit cut short by the end of the queue: its NEWGEN was lost. */
	if (touched) {
		out->foreign = true;
		out->n_foreign++;
	}
	return 0;
}
