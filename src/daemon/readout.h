/* readout.c: status's and metrics' view of the configuration in force. */
#ifndef PORTCTL_DAEMON_READOUT_H
#define PORTCTL_DAEMON_READOUT_H

#include <jansson.h>
#include <stdint.h>

#include "model.h"

/* Per-rule counters (indexed like the rules in force), summed over the
 * kernel rules and set elements each rule became. */
int rule_counters(struct daemon *dm, uint64_t *packets, uint64_t *bytes);
/* One rule as status shows it. */
json_t *rule_json(const struct pc_config *cfg, size_t i, uint64_t packets, uint64_t bytes);
/* Where the configuration in force came from, as status says it. */
const char *source_name(enum daemon_source source);
const char *origin_name(enum pc_origin origin);
json_t *names_json(const struct pc_name *names, size_t n);

#endif
