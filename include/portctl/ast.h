/* The syntax tree: what a rules file or a command line means, before any
 * nftables object exists. Every node carries the place it was written. */
#ifndef PORTCTL_AST_H
#define PORTCTL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FILE:LINE:COL of a word. file is owned by the configuration's source list. */
struct pc_loc {
	const char *file;
	uint32_t line; /* 1-based */
	uint32_t col;  /* 1-based, in bytes */
	uint32_t len;  /* length of the offending word, for the caret line */
};

enum pc_proto {
	PC_PROTO_TCP = 1u << 0,
	PC_PROTO_UDP = 1u << 1,
	PC_PROTO_SCTP = 1u << 2,
};
/* A port with no protocol means both, as in ufw. */
#define PC_PROTO_DEFAULT (PC_PROTO_TCP | PC_PROTO_UDP)

/* One port or range, for one or more protocols: 80/tcp, 60000-61000/udp, 53. */
struct pc_port_range {
	uint16_t lo, hi; /* lo == hi for a single port */
	uint8_t protos;  /* PC_PROTO_* bits, never 0 */
	struct pc_loc loc;
};

/* An address or prefix: 10.0.0.0/8, 2001:db8::1, any. */
struct pc_prefix {
	uint8_t family; /* AF_INET, AF_INET6, or 0 for "any" */
	uint8_t len;    /* prefix length; 32 / 128 for a host */
	uint8_t addr[16];
	struct pc_loc loc;
};

/* A name as written (zone, service, interface), with its place. */
struct pc_name {
	const char *name;
	struct pc_loc loc;
};

/* PC_FORWARD and PC_MASQUERADE are NAT statements, not filter rules: they
 * live among the rules (numbered, persisted, deleted alike) but compile
 * into the nat chains, never into a zone's filter chain. */
enum pc_action { PC_ALLOW, PC_DENY, PC_REJECT, PC_LIMIT, PC_FORWARD, PC_MASQUERADE };
/* FWD: routed traffic (hook forward), its zone chosen as for IN. */
enum pc_dir { PC_DIR_IN, PC_DIR_OUT, PC_DIR_FWD };
#define PC_N_DIRS 3
enum pc_policy { PC_POLICY_UNSET, PC_POLICY_ACCEPT, PC_POLICY_DROP, PC_POLICY_REJECT };
enum pc_rate_unit { PC_PER_SECOND, PC_PER_MINUTE, PC_PER_HOUR };

struct pc_rate {
	bool set;
	uint32_t count;
	enum pc_rate_unit unit;
	uint32_t burst; /* 0: not given */
	struct pc_loc loc;
};

/* Where a definition came from: shipped ones may be replaced by the admin's.
 * DEFAULTS is defaults.rules, the one shipped file that holds rules (and
 * only rules): read after rules.d/ so that the admin's rules win. */
enum pc_origin { PC_ORIGIN_SHIPPED, PC_ORIGIN_ADMIN, PC_ORIGIN_CLI, PC_ORIGIN_DEFAULTS };

/* A named address set ("set NAME file PATH" or "set NAME ADDR,..."),
 * used as "from @NAME" / "to @NAME" and compiled into kernel sets that the
 * rules look up, so a list of 100,000 addresses is one lookup. */
struct pc_addrset {
	const char *name;
	struct pc_loc loc;  /* of the name */
	const char *file;   /* NULL: inline; else the path read (resolved) */
	struct pc_loc file_loc;
	struct pc_prefix *addrs; /* inline: as written; file: set by validation */
	size_t n_addrs;
	bool loaded;        /* a file's lines were parsed into addrs */
	bool used;
};

struct pc_rule {
	struct pc_loc loc; /* of the action word */
	enum pc_origin origin;
	enum pc_action action;
	enum pc_dir dir;

	/* Target. After validation ports holds every port of the rule, the
	 * services' ports included (with the service word's loc). Both empty:
	 * all traffic, allowed only when from or to is given. */
	struct pc_port_range *ports;
	size_t n_ports;
	/* The first n_written_ports of ports are the ones written as ports;
	 * validation rebuilds the rest, so it can run again after a change. */
	size_t n_written_ports;
	struct pc_name *services; /* as written, for display */
	size_t n_services;
	/* "icmp [TYPE,…]", "icmpv6 [TYPE,…]", "proto NAME|NUMBER": the IP
	 * protocol matched instead of ports (0: a port rule); icmp_types
	 * empty: every type. */
	uint8_t l4proto;
	uint8_t *icmp_types;
	size_t n_icmp_types;
	/* "from ADDR port PORTS": source ports, protocols as for ports. */
	struct pc_port_range *sports;
	size_t n_sports;

	struct pc_name *zones; /* empty: the default zone */
	size_t n_zones;
	struct pc_prefix *from; /* empty: any */
	size_t n_from;
	struct pc_prefix *to;
	size_t n_to;
	/* "from @NAME" / "to @NAME": a set stands alone in its list. name
	 * NULL: none; the pointer is resolved by validation. */
	struct pc_name from_set_name, to_set_name;
	const struct pc_addrset *from_set, *to_set;

	/* allow/reject/deny: global rate of matching packets;
	 * limit: new connections per source address (defaulted if not given). */
	struct pc_rate rate;
	bool log;
	/* "log level LEVEL prefix TEXT": level 0-7 as syslog's (nft's names),
	 * unset: the kernel's default, warn; prefix NULL: "portctl". */
	bool log_level_set;
	uint8_t log_level;
	const char *log_prefix; /* at most PC_LOG_PREFIX_MAX bytes */
	const char *comment; /* NULL if none; at most PC_COMMENT_MAX bytes */
	struct pc_loc comment_loc;

	/* forward: where the connection goes ("to ADDR[:PORT]"); port 0 keeps
	 * the port the client connected to. */
	struct pc_prefix fwd_addr; /* a host: len 32 or 128 */
	uint16_t fwd_port;
	/* masquerade: the interfaces its traffic leaves through ("out IF"). */
	struct pc_name *out_ifaces;
	size_t n_out_ifaces;

	/* The rule as a canonical one-line text (comment word included), the
	 * form status, delete and export print and compare. */
	const char *text;
};

#define PC_LOG_PREFIX_MAX 64 /* leaves room in the kernel's 128 for " ZONE FILE:LINE " */
#define PC_COMMENT_MAX 128 /* NFT_USERDATA_MAXLEN for a rule comment */
#define PC_NAME_MAX 32     /* zone and service names */
#define PC_IFNAME_MAX 15   /* IFNAMSIZ - 1 */

struct pc_zone {
	const char *name;
	struct pc_loc loc;
	enum pc_origin origin;
	struct pc_name *interfaces;
	size_t n_interfaces;
	struct pc_prefix *sources;
	size_t n_sources;
	enum pc_policy policy_in;  /* UNSET means drop */
	enum pc_policy policy_out; /* UNSET means accept */
	enum pc_policy policy_fwd; /* UNSET means accept */
	/* log-denied: log the packets the zone's policy drops or rejects,
	 * rate-limited like a rule's log. */
	bool log_denied;
	/* "log-denied level LEVEL prefix TEXT": as a rule's log. */
	bool log_level_set;
	uint8_t log_level;
	const char *log_prefix;
	/* Marked "default" (default_loc is where), or, with default_loc.line
	 * 0, inherited from the shipped default zone this one replaced. The
	 * zone in force is cfg->default_zone. */
	bool is_default;
	struct pc_loc default_loc;
};

struct pc_service {
	const char *name;
	struct pc_loc loc;
	enum pc_origin origin;
	struct pc_port_range *ports;
	size_t n_ports;
};

#endif
