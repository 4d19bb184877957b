/* Small builders for libnftnl expressions, sets and elements, so lowering
 * reads as the nft statements it produces. Internal to the compiler. */
#ifndef PORTCTL_NFT_BUILD_H
#define PORTCTL_NFT_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>

#include "portctl/plan.h"

/* nft's datatype numbers, which "nft list" uses to print set keys. */
enum nft_dtype {
	NFT_DTYPE_IPADDR = 7,
	NFT_DTYPE_IP6ADDR = 8,
	NFT_DTYPE_INET_PROTOCOL = 12,
	NFT_DTYPE_INET_SERVICE = 13,
	NFT_DTYPE_ICMP_TYPE = 14,
	NFT_DTYPE_MARK = 19,
	NFT_DTYPE_ICMP6_TYPE = 29,
	NFT_DTYPE_IFNAME = 41,
};
#define NFT_DTYPE_BITS 6
#define NFT_DTYPE_PROTO_SERVICE ((NFT_DTYPE_INET_PROTOCOL << NFT_DTYPE_BITS) | NFT_DTYPE_INET_SERVICE)

#define REJECT_CHAIN "do_reject"

/* Each adds one expression to r; -ENOMEM when it cannot be allocated. */
int rule_add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
int rule_add_cmp(struct nftnl_rule *r, uint32_t op, uint32_t sreg, const void *data, uint32_t len);
int rule_add_cmp_u8(struct nftnl_rule *r, uint32_t sreg, uint8_t v);
int rule_add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		     uint32_t dreg);
int rule_add_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask, uint32_t len);
/* dreg < 0: a plain set lookup; NFT_REG_VERDICT: a verdict map. */
int rule_add_lookup(struct nftnl_rule *r, uint32_t sreg, const struct nftnl_set *s, int dreg);
/* fib FLAGS RESULT => dreg; with NFTA_FIB_F_PRESENT the register holds 1
 * when the route exists, else 0: nft's "exists"/"missing", which nft
 * compares as 4 bytes (with 1 it lists "missing/8"). */
int rule_add_fib(struct nftnl_rule *r, uint32_t flags, uint32_t result, uint32_t dreg);
int rule_add_counter(struct nftnl_rule *r);
int rule_add_verdict(struct nftnl_rule *r, enum pc_verdict_kind v);
int rule_add_jump(struct nftnl_rule *r, const char *chain);
int rule_add_ct_state(struct nftnl_rule *r, uint32_t mask);
/* ct status & mask != 0 (IPS_DST_NAT: "ct status dnat"). */
int rule_add_ct_status(struct nftnl_rule *r, uint32_t mask);
/* ct original KEY => dreg: the connection's first direction, as the
 * client sent it before any NAT (NFT_CT_PROTO_DST, NFT_CT_DST_IP[6]). */
int rule_add_ct_original(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
int rule_add_limit(struct nftnl_rule *r, uint32_t rate, uint64_t unit, uint32_t burst, bool over);
int rule_add_log(struct nftnl_rule *r, const char *prefix, int group, int level);
int rule_add_reject(struct nftnl_rule *r, uint32_t type, uint8_t code);
/* add @s { key timeout T limit rate over rate/unit burst burst }: a
 * per-key meter; timeout_ms 0: the set's. */
int rule_add_dynset_limit(struct nftnl_rule *r, uint32_t sreg, const struct nftnl_set *s,
			  uint64_t timeout_ms, uint32_t rate, uint64_t unit, uint32_t burst);
/* A 32-bit constant into register dreg (a field of a concatenated key). */
int rule_add_imm_u32(struct nftnl_rule *r, uint32_t dreg, uint32_t value);
/* Store a comment as NFTNL_UDATA_RULE_COMMENT so nft shows it. */
int rule_set_comment(struct nftnl_rule *r, const char *comment);

/* A chain of table inet portctl; with hook >= 0 a filter base chain at
 * priority 0 with that policy. Caller owns it; NULL when out of memory. */
struct nftnl_chain *chain_new(const char *name, int hook, uint32_t policy);
/* An empty rule for a chain of table inet portctl. Caller owns it. */
struct nftnl_rule *rule_new(const char *chain);

/* A new set of table inet portctl, with a transaction-unique id. */
struct nftnl_set *set_new(const char *name, uint32_t id, uint32_t flags, uint32_t key_type,
			  uint32_t key_len);
/* nft's byte order numbers, for set user data. */
#define NFT_BYTEORDER_HOST 1
/* Tell nft the key is in host order (interface names), or it prints
 * the names reversed, as empty strings. */
int set_key_host_order(struct nftnl_set *s);
/* A verdict map's data type, and a counter on every element. */
void set_make_vmap(struct nftnl_set *s);
int set_add_counter(struct nftnl_set *s);

/*
 * Add one element. key_end: the inclusive end for concatenated intervals,
 * else NULL. verdict < 0: no data; reject jumps to REJECT_CHAIN; jump: a
 * chain to jump to instead. comment may be NULL.
 */
struct elem_spec {
	const void *key, *key_end;
	uint32_t len;
	int verdict; /* enum pc_verdict_kind, or -1 */
	const char *jump;
	uint32_t flags; /* NFT_SET_ELEM_INTERVAL_END */
	const char *comment;
	uint64_t timeout_ms; /* 0: none (the set's timeout flag allows one) */
};
int set_add_elem(struct nftnl_set *s, const struct elem_spec *e);

/*
 * One span of an interval set: its start element (with the span's verdict
 * when map, or a jump) and, unless it reaches the last key, the end
 * element one past it. Counts what it adds in *n_elems.
 */
int set_add_span(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width, bool map,
		 const char *jump, size_t *n_elems);

/* A span of a single key in a hash set: the key alone, with the rule's
 * comment. Counts it in *n_elems. */
int set_add_key(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width,
		size_t *n_elems);
/* A span of an address run into its set: a single address's key alone
 * (hash set), a range's start and end (interval set). */
int set_add_addr(struct nftnl_set *s, const struct pc_plan_span *sp, uint8_t width,
		 size_t *n_elems);

/*
 * Fill an interval set (rbtree) from disjoint spans: start elements with
 * data, end elements one past each span, as nft sends them. comment_of and
 * jump_of give per-span data; both may be NULL.
 */
/* The end element at key 0 that opens an interval set whose first span
 * starts above 0, as nft makes it (always: an empty one's too, so that
 * its first span in place is that span's elements alone). 0 or -ENOMEM. */
int set_add_spans_open(struct nftnl_set *s, const struct pc_plan_spans *spans, bool always,
		       size_t *n_elems);
int set_add_spans(struct nftnl_set *s, const struct pc_plan_spans *spans, bool map,
		  const char *(*jump_of)(const struct pc_plan_span *, void *), void *ctx,
		  size_t *n_elems);

/* One segment of a port map (meta l4proto . th dport): a key, with the
 * segment's end for a range, its verdict, a counter and the rule's comment. */
int port_elem_add(struct nftnl_set *s, const struct pc_plan_port *p);

/* NAT (lower_nat). A nat base chain of table inet portctl at prio. */
struct nftnl_chain *chain_new_nat(const char *name, int hook, int prio);
/* immediate data => dreg (an address, a port). */
int rule_add_data(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len);
/* ct mark set ct mark & ~field | value. */
int rule_add_ct_mark_set(struct nftnl_rule *r, uint32_t field, uint32_t value);
/* ct KEY & field == value, for the 4-byte keys (mark, status). */
int rule_add_ct_match(struct nftnl_rule *r, uint32_t key, uint32_t field, uint32_t value);
/* dnat to the address in reg 1 (and the port in reg 2). */
int rule_add_dnat(struct nftnl_rule *r, uint8_t nfproto, bool port);
int rule_add_masq(struct nftnl_rule *r);

#endif
