/* "portctl explain": a packet described in words, evaluated against the
 * compiled plan (the model the kernel gets), and the answer as JSON. */
#ifndef PORTCTL_EXPLAIN_H
#define PORTCTL_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "portctl/config.h"

struct pc_plan;

/* What the words "in|out PROTO PORT [from ADDR [port PORT]] [to ADDR]
 * [on IFACE]" say; PROTO PORT may also be "icmp [TYPE]", "icmpv6 [TYPE]"
 * (echo-request when not given) or "proto NAME|NUMBER". */
struct pc_explain_query {
	enum pc_dir dir;
	uint8_t l4proto; /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, or any other */
	uint16_t port;   /* 0 for a protocol without ports */
	uint16_t sport;  /* 0 when not given */
	uint8_t icmp_type;
	uint8_t family; /* AF_INET or AF_INET6; 0 when no address was given */
	bool have_from, have_to;
	uint8_t from[16], to[16];
	char iface[PC_IFNAME_MAX + 1]; /* "" when not given */
	/* Set by the daemon for "in" when another table DNATs the port: the
	 * kernel judges it in the forward chain, on the original port. */
	bool published;
};

/* At most this many words make a query (the longest form has 9). */
#define PC_EXPLAIN_WORDS_MAX 16

/*
 * Parse the query words (argv after "explain"). Returns 0, or -EINVAL with
 * a sentence saying what is wrong in err.
 */
int pc_explain_parse(int argc, char *const argv[], struct pc_explain_query *q, char *err,
		     size_t err_size);

/*
 * Evaluate q against cfg (validated): build the plan, run pc_plan_eval and
 * describe the answer. An address that was not given is taken as one that
 * no zone source and no rule names, and the answer says which. On success
 * *out owns a new JSON object (see portctl(8) for its keys). Returns 0,
 * -EINVAL with diagnostics in d when the plan cannot be built, or -ENOMEM.
 */
int pc_explain_eval(const struct pc_config *cfg, const struct pc_explain_query *q, json_t **out,
		    struct pc_diags *d);

/* The addresses an end not given stands for, per family (IPv4, IPv6):
 * ones nothing in the configuration names. Finding them walks the whole
 * configuration; a caller asking many questions of one keeps them here,
 * zeroed whenever the configuration changes. */
struct pc_explain_ends {
	bool known[2];
	uint8_t remote[2][16], local[2][16];
};

/* The same against plan, built from cfg earlier and kept up to date with it
 * (the daemon's plan in force), so that a question costs no compile; NULL,
 * or a plan of another configuration: one is built. ends may be NULL. */
int pc_explain_eval_plan(const struct pc_config *cfg, const struct pc_plan *plan,
			 struct pc_explain_ends *ends, const struct pc_explain_query *q,
			 json_t **out, struct pc_diags *d);

/* Print an answer of pc_explain_eval for people. */
void pc_explain_print(FILE *out, const json_t *answer);

#endif
