/* portctl metrics: the daemon's "metrics" data as Prometheus text
 * (metrics-format.c, unit-tested on its own). */
#ifndef PORTCTL_CLI_METRICS_FORMAT_H
#define PORTCTL_CLI_METRICS_FORMAT_H

#include <jansson.h>

#include "portctl/util.h"

/* Append s as a label value goes between its quotes: \ " and newline
 * escaped as \\ \" \n, everything else as is. 0 or -ENOMEM. */
int metrics_label_escape(struct pc_strbuf *sb, const char *s);

/* Append the exposition of data (the "metrics" command's): 0 or -ENOMEM. */
int metrics_format(const json_t *data, struct pc_strbuf *out);

#endif
