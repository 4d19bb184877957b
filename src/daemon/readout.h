/* readout.c: status's and metrics' view of the configuration in force. */
#ifndef PORTCTL_DAEMON_READOUT_H
#define PORTCTL_DAEMON_READOUT_H

#include <jansson.h>
#include <stdint.h>

#include "model.h"

/* The counters of rules from..to-1 of the configuration in force, into
 * packets[i - from] and bytes[i - from] (zeroed by the caller), summed
 * over the kernel rules and set elements each rule became. Reads those
 * objects alone: the cost is the page's, not the configuration's. */
int rule_counters_page(struct daemon *dm, size_t from, size_t to, uint64_t *packets,
		       uint64_t *bytes);
/* A number that changes whenever the configuration in force or the table
 * does: a client reading pages starts again when it changed between them. */
uint64_t readout_generation(const struct daemon *dm);

/* The most rules (or set entries) one answer of status or metrics holds:
 * ~1 ms of the daemon's time each, the next page is asked for apart. */
#define READ_PAGE_MAX 1000
/* "offset" and "limit" of args as a window [from, to) of n items. */
void page_args(json_t *args, size_t n, size_t *from, size_t *to);
/* One rule as status shows it. */
json_t *rule_json(const struct pc_config *cfg, size_t i, uint64_t packets, uint64_t bytes);
/* Where the configuration in force came from, as status says it. */
const char *source_name(enum daemon_source source);
const char *origin_name(enum pc_origin origin);
json_t *names_json(const struct pc_name *names, size_t n);

#endif
