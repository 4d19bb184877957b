/* portctl import: reading a ufw or firewalld configuration into one rules
 * file. The readers append zones and rules to a struct imp; cmd_import.c
 * checks the result with the rules parser and prints it. */
#ifndef PORTCTL_CLI_IMPORT_H
#define PORTCTL_CLI_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "portctl/util.h"

struct imp {
	const char *prog;
	struct pc_strbuf head;	/* comments on top: where it came from */
	struct pc_strbuf zones; /* zone definitions */
	struct pc_strbuf rules; /* rules, in the order they decide */
	unsigned n_skipped;	/* things reported as not converted */
	bool oom;
};

/* Append to a part; a failed allocation is remembered in im->oom. */
void imp_printf(struct imp *im, struct pc_strbuf *sb, const char *fmt, ...) _printf_(3, 4);
/* " comment "TEXT"", quoted and cut to what the grammar allows. */
void imp_comment(struct imp *im, struct pc_strbuf *sb, const char *text);
/* "portctl import: WHERE: not converted: WHAT" on stderr, counted. */
void imp_skip(struct imp *im, const char *where, const char *fmt, ...) _printf_(3, 4);
/* "portctl import: WHERE: note: WHAT" on stderr, not counted. */
void imp_note(struct imp *im, const char *where, const char *fmt, ...) _printf_(3, 4);
/* A zone name the grammar accepts, from a firewalld zone or an interface:
 * lower case, other characters as '-', a keyword ("drop") suffixed with
 * "-zone". buf must hold 33 bytes. */
const char *imp_zone_name(char *buf, const char *name, const char *prefix);

/* An interface name portctl.rules(5) accepts: 1 to 15 of [A-Za-z0-9_.:@-]
 * (no "eth+" wildcards). */
bool imp_ifname_ok(const char *name);

/* Read the configuration in dir; 0, or -errno when nothing could be read
 * (reported). */
int import_ufw(struct imp *im, const char *dir);
int import_firewalld(struct imp *im, const char *dir);

/* A tiny XML reader for firewalld's files: elements, attributes and text,
 * entities decoded; no namespaces, DTDs or CDATA, which those never use. */
struct xml_node {
	char *name;
	char **attrs; /* name, value, name, value, ..., NULL */
	char *text;   /* character data directly inside, trimmed */
	struct xml_node **kids;
	size_t n_kids, cap_kids;
	size_t line;
};
/* Parse data (NUL-terminated); NULL with *err set on malformed input. */
struct xml_node *xml_parse(const char *data, const char **err, size_t *err_line);
void xml_free(struct xml_node *n);
const char *xml_attr(const struct xml_node *n, const char *name);

/* Generated from firewalld's own files (import_firewalld_table.c). */
struct fw_shipped_service {
	const char *name;
	const char *ports;    /* "22/tcp,60000-61000/udp", may be empty */
	const char *includes; /* other services, comma-separated */
	const char *dests;    /* destination addresses, comma-separated */
	const char *other;    /* what portctl cannot express, for the report */
};
struct fw_shipped_zone {
	const char *name;
	const char *target; /* default, ACCEPT, DROP, %%REJECT%% */
	const char *services;
};
extern const struct fw_shipped_service fw_shipped_services[];
extern const size_t fw_n_shipped_services;
extern const struct fw_shipped_zone fw_shipped_zones[];
extern const size_t fw_n_shipped_zones;

#endif
