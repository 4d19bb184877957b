/* portctld's metrics data in the Prometheus text exposition format
 * (0.0.4), the one node_exporter's textfile collector and "promtool check
 * metrics" read. Not OpenMetrics: the textfile collector refuses its
 * "info" type and would not join its counter families (named without
 * "_total") to their "_total" samples. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "metrics-format.h"

int metrics_label_escape(struct pc_strbuf *sb, const char *s)
{
	int r = 0;

	for (const char *p = s; r >= 0 && *p; p++) {
		size_t run = strcspn(p, "\\\"\n");

		r = pc_strbuf_append(sb, p, run);
		p += run;
		if (r < 0 || !*p)
			break;
		r = pc_strbuf_append(sb, *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n", 2);
	}
	return r;
}

static int family(struct pc_strbuf *sb, const char *name, const char *type, const char *help)
{
	return pc_strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int sample(struct pc_strbuf *sb, const char *name, json_int_t value)
{
	return pc_strbuf_printf(sb, "%s %" JSON_INTEGER_FORMAT "\n", name, value);
}

static json_int_t int_at(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *str_at(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* name{label="value",...}: pairs of label name and (unescaped) value. */
static int labelled(struct pc_strbuf *sb, const char *name, const char *const *labels,
		    size_t n_labels, json_int_t value)
{
	int r = pc_strbuf_printf(sb, "%s{", name);

	for (size_t i = 0; r >= 0 && i + 1 < n_labels; i += 2) {
		r = pc_strbuf_printf(sb, "%s%s=\"", i ? "," : "", labels[i]);
		if (r >= 0)
			r = metrics_label_escape(sb, labels[i + 1]);
		if (r >= 0)
			r = pc_strbuf_append(sb, "\"", 1);
	}
	if (r >= 0)
		r = pc_strbuf_printf(sb, "} %" JSON_INTEGER_FORMAT "\n", value);
	return r;
}

/* A rule's zones as one label value: "public", or "lab,office". */
static int zones_join(const json_t *zones, struct pc_strbuf *out)
{
	size_t i;
	json_t *z;
	int r = 0;

	out->len = 0;
	r = pc_strbuf_append(out, "", 0);
	json_array_foreach(zones, i, z) {
		if (r >= 0 && i)
			r = pc_strbuf_append(out, ",", 1);
		if (r >= 0)
			r = pc_strbuf_append(out, json_string_value(z), strlen(json_string_value(z)));
	}
	return r;
}

/* One sample per rule of what (packets or bytes); linear in the rules. */
static int rules_samples(struct pc_strbuf *sb, const json_t *rules, const char *name,
			 const char *what)
{
	struct pc_strbuf zones = {0}, source = {0};
	size_t i;
	json_t *rule;
	int r = 0;

	json_array_foreach(rules, i, rule) {
		const char *labels[10];

		r = zones_join(json_object_get(rule, "zones"), &zones);
		if (r < 0)
			break;
		source.len = 0;
		r = json_is_string(json_object_get(rule, "file"))
			? pc_strbuf_printf(&source, "%s:%" JSON_INTEGER_FORMAT, str_at(rule, "file"),
					   int_at(rule, "line"))
			: pc_strbuf_append(&source, "", 0);
		if (r < 0)
			break;
		labels[0] = "zone", labels[1] = zones.buf;
		labels[2] = "direction", labels[3] = str_at(rule, "direction");
		labels[4] = "source", labels[5] = source.buf;
		labels[6] = "rule", labels[7] = str_at(rule, "text");
		labels[8] = "comment", labels[9] = str_at(rule, "comment");
		r = labelled(sb, name, labels, ARRAY_SIZE(labels), int_at(rule, what));
		if (r < 0)
			break;
	}
	pc_strbuf_free(&zones);
	pc_strbuf_free(&source);
	return r;
}

static int rules_format(struct pc_strbuf *sb, const json_t *rules)
{
	int r;

	/* Absent when the counters could not be read: a 0 would read as a
	 * counter reset. */
	if (!json_is_array(rules))
		return 0;
	r = family(sb, "portctl_rule_packets_total", "counter",
		   "Packets the rule decided, from the kernel's counters (kept across "
		   "changes that leave the rule alone).");
	if (r >= 0)
		r = rules_samples(sb, rules, "portctl_rule_packets_total", "packets");
	if (r >= 0)
		r = family(sb, "portctl_rule_bytes_total", "counter",
			   "Bytes of the packets the rule decided.");
	if (r >= 0)
		r = rules_samples(sb, rules, "portctl_rule_bytes_total", "bytes");
	return r;
}

static int bans_format(struct pc_strbuf *sb, const json_t *bans)
{
	const char *zone;
	json_t *n;
	int r;

	r = family(sb, "portctl_bans", "gauge",
		   "Addresses banned (portctl ban) in force, by zone; zone \"*\": in every zone.");
	json_object_foreach((json_t *)bans, zone, n) {
		const char *labels[] = {"zone", zone};

		if (r >= 0)
			r = labelled(sb, "portctl_bans", labels, ARRAY_SIZE(labels),
				     json_integer_value(n));
	}
	return r;
}

static int daemon_format(struct pc_strbuf *sb, const json_t *data)
{
	const json_t *applies = json_object_get(data, "applies");
	const json_t *drift = json_object_get(data, "drift");
	const char *info[] = {"version", str_at(data, "version"), "source", str_at(data, "source")};
	const char *ok[] = {"result", "ok"}, *failed[] = {"result", "failed"};
	int r;

	r = family(sb, "portctl_info", "gauge",
		   "Always 1: portctld's version, and where the rules in force come from "
		   "(files, last-good, safe-policy, kernel, rolled-back).");
	if (r >= 0)
		r = labelled(sb, "portctl_info", info, ARRAY_SIZE(info), 1);
	if (r >= 0)
		r = family(sb, "portctl_start_time_seconds", "gauge",
			   "When portctld started, in seconds since the epoch.");
	if (r >= 0)
		r = sample(sb, "portctl_start_time_seconds", int_at(data, "started"));
	if (r >= 0)
		r = family(sb, "portctl_panic", "gauge",
			   "1 while panic mode drops everything but loopback.");
	if (r >= 0)
		r = sample(sb, "portctl_panic", json_is_true(json_object_get(data, "panic")));
	if (r >= 0)
		r = family(sb, "portctl_last_apply_timestamp_seconds", "gauge",
			   "When the last change of the rules or bans ended, in seconds since "
			   "the epoch; 0: none since portctld started.");
	if (r >= 0)
		r = sample(sb, "portctl_last_apply_timestamp_seconds", int_at(data, "last_apply"));
	if (r >= 0)
		r = family(sb, "portctl_last_apply_success", "gauge",
			   "1 when the kernel took the last change; 0 when it was refused or "
			   "failed, and the rules before it stay in force.");
	if (r >= 0)
		r = sample(sb, "portctl_last_apply_success",
			   json_is_true(json_object_get(data, "last_apply_ok")));
	if (r >= 0)
		r = family(sb, "portctl_applies_total", "counter",
			   "Changes of the rules or bans since portctld started, by result.");
	if (r >= 0)
		r = labelled(sb, "portctl_applies_total", ok, ARRAY_SIZE(ok), int_at(applies, "ok"));
	if (r >= 0)
		r = labelled(sb, "portctl_applies_total", failed, ARRAY_SIZE(failed),
			     int_at(applies, "failed"));
	if (r >= 0)
		r = family(sb, "portctl_drift_detected_total", "counter",
			   "Times table inet portctl was found changed by another program.");
	if (r >= 0)
		r = sample(sb, "portctl_drift_detected_total", int_at(drift, "found"));
	if (r >= 0)
		r = family(sb, "portctl_drift_repairs_total", "counter",
			   "Times portctld put its rules back after such a change (drift = repair).");
	if (r >= 0)
		r = sample(sb, "portctl_drift_repairs_total", int_at(drift, "repairs"));
	return r;
}

int metrics_format(const json_t *data, struct pc_strbuf *out)
{
	int r = daemon_format(out, data);

	if (r >= 0)
		r = bans_format(out, json_object_get(data, "bans"));
	if (r >= 0)
		r = rules_format(out, json_object_get(data, "rules"));
	return r < 0 ? -ENOMEM : 0;
}
