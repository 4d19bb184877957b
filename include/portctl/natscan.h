/* What other tables publish: the DNAT rules of every nftables table but
 * ours (docker's "ip nat", podman's "inet netavark", libvirt's), read from
 * the kernel, for explain and exposure. Read only. */
#ifndef PORTCTL_NATSCAN_H
#define PORTCTL_NATSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_nl;

/*
 * One DNAT rule of the simple shape runtimes write: a protocol and
 * destination port match, optionally an input interface (or "not this
 * interface") and a destination address, then "dnat to ADDR[:PORT]".
 */
struct pc_nat_entry {
	char table[64], chain[64];
	uint8_t table_family; /* NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET */
	uint64_t handle;
	uint8_t l4proto;      /* 0: any */
	uint16_t dport_lo, dport_hi; /* 0, 0: any port */
	char iifname[16];     /* "": any */
	bool iif_not;         /* "iifname != NAME" (docker's "! -i docker0") */
	uint8_t daddr_family; /* AF_INET, AF_INET6; 0: any destination */
	uint8_t daddr[16];
	uint8_t to_family;    /* AF_INET, AF_INET6 */
	uint8_t to_addr[16];
	uint16_t to_port;     /* 0: the same port */
};

struct pc_nat_scan {
	struct pc_nat_entry *items;
	size_t n, cap;
	/* DNAT rules of another shape (sets, marks, ranges of addresses):
	 * left out, and counted so that reports can say so. */
	size_t n_unknown;
};

/* Read every DNAT rule of every table except inet portctl. 0, -ENOMEM or
 * a -errno of the kernel (-EPERM without CAP_NET_ADMIN). */
int pc_nl_nat_scan(struct pc_nl *nl, struct pc_nat_scan *out);
void pc_nat_scan_free(struct pc_nat_scan *s);

/* Whether e DNATs a new connection of l4proto to port (family AF_INET or
 * AF_INET6) addressed to daddr (NULL: any of the host's) arriving on iif
 * (NULL: any interface that is not excluded). */
bool pc_nat_entry_matches(const struct pc_nat_entry *e, uint8_t family, uint8_t l4proto,
			  uint16_t port, const uint8_t *daddr, const char *iif);

/* "172.30.0.2:80", "[2001:db8::5]:80", or the address alone. */
void pc_nat_entry_to_format(const struct pc_nat_entry *e, char *buf, size_t size);

#endif
