/* A configuration as rules-file text (portctl export) and the difference
 * between two configurations in rule-file words (portctl diff). */
#ifndef PORTCTL_EXPORT_H
#define PORTCTL_EXPORT_H

#include <stddef.h>

#include "portctl/config.h"
#include "portctl/util.h"

/* Canonical one-line text of a zone or service definition, appended to sb. */
int pc_zone_text(const struct pc_zone *z, struct pc_strbuf *sb);
int pc_service_text(const struct pc_service *s, struct pc_strbuf *sb);
int pc_set_text(const struct pc_addrset *s, struct pc_strbuf *sb);

/*
 * Append cfg as one valid rules file to sb: the zones and services the
 * administrator defined (shipped ones are left to the data directory), then
 * every rule in order, each line followed by a comment naming its source
 * FILE:LINE. Loaded alone (with the same portctl.conf and shipped files) it
 * gives the same configuration. Returns 0 or -ENOMEM.
 */
int pc_config_export(const struct pc_config *cfg, struct pc_strbuf *sb);
/* The same text cut after rule to - 1 and, from > 0, begun at rule from:
 * the pages of a big export, in order, make pc_config_export's text. */
int pc_config_export_page(const struct pc_config *cfg, size_t from, size_t to,
			  struct pc_strbuf *sb);

/* One line of a difference: what a reload from "to" would add or remove. */
struct pc_change {
	char op;		  /* '+' added, '-' removed */
	const char *kind;	  /* "zone", "service", "set", "set entry", "default-zone", "rule" */
	char *text;		  /* owned: the line in rule-file words */
	const struct pc_loc *loc; /* borrowed from the configuration it is in */
};

struct pc_changes {
	struct pc_change *items;
	size_t n, cap;
};

/*
 * What changes from configuration "from" (the one in force) to "to" (the
 * files): zone and service definitions by name, the default zone, and the
 * rules as an ordered list (first match wins, so a move is a removal and an
 * addition). Both configurations must outlive out. Returns 0 or -ENOMEM.
 */
int pc_config_diff(const struct pc_config *from, const struct pc_config *to,
		   struct pc_changes *out);
void pc_changes_free(struct pc_changes *c);

#endif
