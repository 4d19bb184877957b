/* Loads compiled rulesets into the real kernel, in a private network
 * namespace, with a test-only netlink loader; "nft list" must show them. */
#include "config.h"

#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "compile_helper.h"

#define ZONES "zone public interface eth0 default\n"

static void object_put(struct nlmsghdr *nlh, const struct pc_nft_object *o)
{
	switch (o->kind) {
	case PC_NFT_TABLE:
		nftnl_table_nlmsg_build_payload(nlh, o->obj);
		break;
	case PC_NFT_CHAIN:
		nftnl_chain_nlmsg_build_payload(nlh, o->obj);
		break;
	case PC_NFT_SET:
		nftnl_set_nlmsg_build_payload(nlh, o->obj);
		break;
	case PC_NFT_RULE:
		nftnl_rule_nlmsg_build_payload(nlh, o->obj);
		break;
	}
}

static uint16_t object_msg_type(const struct pc_nft_object *o)
{
	static const uint16_t types[] = { NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWSET,
					  NFT_MSG_NEWRULE };
	return types[o->kind];
}

/* A set's elements follow it in NEWSETELEM messages, split so that each
 * message's element list stays within a netlink attribute's 64 KiB. */
static uint32_t set_elems_put(struct mnl_nlmsg_batch *b, const struct nftnl_set *s, uint32_t seq)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	bool more;

	ck_assert_ptr_nonnull(it);
	more = nftnl_set_elems_iter_cur(it) != NULL;
	while (more) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
							     NFT_MSG_NEWSETELEM, NFPROTO_INET,
							     NLM_F_CREATE | NLM_F_ACK, seq++);

		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it) > 0;
		ck_assert(mnl_nlmsg_batch_next(b));
	}
	nftnl_set_elems_iter_destroy(it);
	return seq;
}

/* Send the ruleset as one transaction. */
static int ruleset_load(const struct pc_ruleset *rs)
{
	size_t size = 64u << 20;
	char *buf = malloc(size);
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, size);
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	uint32_t seq = (uint32_t)time(NULL), first = seq;
	int bufsz = 64 << 20, ret;
	char rbuf[MNL_SOCKET_BUFFER_SIZE];

	ck_assert_ptr_nonnull(nl);
	ck_assert_int_eq(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	for (size_t i = 0; i < rs->n_objs; i++) {
		const struct pc_nft_object *o = &rs->objs[i];
		uint16_t flags = NLM_F_CREATE | NLM_F_ACK | (o->kind == PC_NFT_RULE ? NLM_F_APPEND : 0);
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
							     object_msg_type(o), NFPROTO_INET,
							     flags, seq++);

		object_put(nlh, o);
		ck_assert(mnl_nlmsg_batch_next(b));
		if (o->kind == PC_NFT_SET)
			seq = set_elems_put(b, o->obj, seq);
	}
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	ck_assert_int_ge(mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)), 0);

	/* Read ACKs until every message is answered or one fails. */
	ret = 0;
	for (uint32_t acked = 0; acked < seq - first - 2 && ret >= 0;) {
		int n = (int)mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));

		ck_assert_int_gt(n, 0);
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(h);
			if (err->error) {
				fprintf(stderr, "object %u refused: %s\n", h->nlmsg_seq - first - 1,
					strerror(-err->error));
				ret = err->error;
			}
			acked++;
		}
	}
	mnl_socket_close(nl);
	mnl_nlmsg_batch_stop(b);
	free(buf);
	return ret;
}

static char *command_output(const char *cmd)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	FILE *p = popen(cmd, "r");
	char chunk[4096];
	size_t n;

	ck_assert_ptr_nonnull(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, mem);
	ck_assert_int_eq(pclose(p), 0);
	fclose(mem);
	return out;
}

static void assert_listing_has(const char *listing, const char *needle)
{
	if (!strstr(listing, needle)) {
		fprintf(stderr, "%s", listing);
		ck_abort_msg("nft list ruleset lacks \"%s\"", needle);
	}
}

/* Compile rules, load them in this (private) namespace, list them back. */
static char *load_and_list(const char *rules)
{
	struct pc_config *cfg = config_from_text(rules);
	struct pc_ruleset *rs = ruleset_from_config(cfg);
	char *listing;

	ck_assert_int_eq(ruleset_load(rs), 0);
	listing = names_unhash(command_output("nft list ruleset"));
	pc_ruleset_free(rs);
	pc_config_free(cfg);
	return listing;
}

static void netns_enter(void)
{
	/* Check forks every test, so the namespace dies with the test. */
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
}

START_TEST(test_kernel_full_shape)
{
	char *l;

	netns_enter();
	l = load_and_list("zone public interface eth0 default\n"
			  "zone private interface eth1 source 192.168.0.0/16,fd00::/8\n"
			  "service web 80/tcp,443/tcp\n"
			  "allow 443/tcp comment \"https\"\n"
			  "deny 1500/tcp\n"
			  "allow 1000-2000/tcp,60000-61000/udp\n"
			  "reject 113/tcp\n"
			  "allow 53\nallow web zone private\n"
			  "limit 22/tcp\n"
			  "allow 8080/tcp from 10.0.0.0/8,2001:db8::/32 rate 10/second burst 20 log\n"
			  "deny from 203.0.113.7,2001:db8:bad::/48\n"
			  "deny out 25/tcp log\n"
			  "reject out to 198.51.100.0/24\n");
	assert_listing_has(l, "table inet portctl {");
	assert_listing_has(l, "type filter hook input priority filter; policy accept;");
	assert_listing_has(l, "iif \"lo\" accept");
	assert_listing_has(l, "ct state established,related accept");
	assert_listing_has(l, "ct state invalid drop");
	assert_listing_has(l, "ip saddr vmap @zone_src4_in");
	assert_listing_has(l, "ip6 saddr vmap @zone_src6_in");
	assert_listing_has(l, "iifname vmap @zone_iif_in");
	assert_listing_has(l, "oifname vmap @zone_oif_out");
	assert_listing_has(l, "jump in_public");
	assert_listing_has(l, "meta l4proto . th dport @in_public_P_ports_accept accept");
	assert_listing_has(l, "meta l4proto . th dport @in_public_P_ports_drop drop");
	assert_listing_has(l, "meta l4proto . th dport @in_public_P_ranges_accept accept");
	assert_listing_has(l, "tcp . 443 counter packets 0 bytes 0 comment \"https\"");
	assert_listing_has(l, "tcp . 1500 counter packets 0 bytes 0 comment \"test.rules:5\" }");
	assert_listing_has(l, "meta l4proto . th dport @in_public_P_ports_reject jump do_reject");
	assert_listing_has(l, "tcp . 113 counter packets 0 bytes 0 comment \"test.rules:7\" }");
	assert_listing_has(l, "tcp . 1501-2000 counter packets 0 bytes 0");
	assert_listing_has(l, "udp . 60000-61000 counter packets 0 bytes 0");
	assert_listing_has(l, "type ipv4_addr . mark\n\t\tsize 65535\n\t\tflags dynamic,timeout\n");
	assert_listing_has(l, "tcp dport 22 add @meter4_public { ip saddr . 0x");
	assert_listing_has(l, " timeout 1m limit rate over 6/minute burst 6 packets } counter packets 0 bytes 0 drop");
	assert_listing_has(l, "tcp dport 22 add @meter6_public { ip6 saddr . 0x");
	assert_listing_has(l, "limit rate 10/second burst 20 packets counter packets 0 bytes 0 accept comment \"test.rules:11\"");
	assert_listing_has(l, "log prefix \"portctl public test.rules:11 \"");
	assert_listing_has(l, "ip saddr @in_public_A_src4_drop drop");
	assert_listing_has(l, "203.0.113.7 counter packets 0 bytes 0 comment \"test.rules:12\" }");
	assert_listing_has(l, "ip daddr @out_public_A_dst4_ranges_reject jump do_reject");
	assert_listing_has(l, "meta l4proto tcp reject with tcp reset");
	assert_listing_has(l, "\t\treject\n"); /* nft's short form of icmpx port-unreachable */
	assert_listing_has(l, "elements = { \"eth0\" : jump in_public,");
	free(l);
}
END_TEST

/* 100,000 ports in one transaction; the last one asked for by its key. A
 * listing would walk the set's hash table, which the kernel may still be
 * growing after the load, and a dump resumed by a count of the elements
 * already sent then misses or repeats some. */
START_TEST(test_kernel_100k_ports)
{
	struct pc_strbuf sb = { 0 };
	struct pc_config *cfg;
	struct pc_ruleset *rs;
	size_t found = 0;

	netns_enter();
	ck_assert_int_eq(pc_strbuf_append(&sb, ZONES, strlen(ZONES)), 0);
	for (unsigned int i = 1; i <= 100000; i++)
		ck_assert_int_eq(pc_strbuf_printf(&sb, "allow %u/%s\n", i <= 65535 ? i : i - 65535,
						  i <= 65535 ? "tcp" : "udp"),
				 0);
	cfg = config_from_text(sb.buf);
	rs = ruleset_from_config(cfg);
	ck_assert_int_eq(ruleset_load(rs), 0);
	for (size_t i = 0; i < rs->n_objs; i++) {
		const char *name;
		char cmd[256];
		_cleanup_free_ char *out = NULL;

		if (rs->objs[i].kind != PC_NFT_SET)
			continue;
		name = nftnl_set_get_str(rs->objs[i].obj, NFTNL_SET_NAME);
		if (!strstr(name, "_ports_accept") || nftnl_set_get_u32(rs->objs[i].obj, NFTNL_SET_KEY_LEN) != 8)
			continue;
		snprintf(cmd, sizeof(cmd), "nft get element inet portctl %s '{ udp . 34465 }' 2>&1",
			 name);
		out = command_output(cmd);
		assert_listing_has(out, "udp . 34465 counter packets 0 bytes 0");
		found++;
	}
	ck_assert_uint_gt(found, 0);
	pc_ruleset_free(rs);
	pc_config_free(cfg);
	pc_strbuf_free(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compile-kernel");
	TCase *tc = tcase_create("netns");
	SRunner *sr;
	int failed;

	if (geteuid() != 0 || unshare(0) != 0) {
		fprintf(stderr, "needs root for network namespaces: skipped\n");
		return 77;
	}
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_kernel_full_shape);
	tcase_add_test(tc, test_kernel_100k_ports);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
