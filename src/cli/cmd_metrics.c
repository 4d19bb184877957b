/* portctl metrics: per-rule counters, bans, the last change and drift in
 * the Prometheus text format, on stdout or written atomically for
 * node_exporter's textfile collector. Read-only, like status. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "metrics-format.h"
#include "portctl/proto.h"

static const char metrics_usage[] =
    "metrics [--output FILE] [--json]\n"
    "\n"
    "Print the packets and bytes of every rule (labelled with its zone,\n"
    "direction, FILE:LINE, text and comment), the bans in force per zone, when\n"
    "the last change ended and whether the kernel took it, drift found and\n"
    "repaired, and when portctld started, in the Prometheus text format.\n"
    "\n"
    "  -o, --output FILE   write FILE instead, through a temporary file renamed\n"
    "                      over it, for node_exporter's textfile collector:\n"
    "                      portctl metrics -o /var/lib/prometheus/node-exporter/portctl.prom\n";

/* FILE replaced at once: the collector reads the old text or the new,
 * never a part. The temporary name does not end in ".prom", so the
 * collector never reads it. */
static int output_write(const char *path, const char *text, size_t len)
{
	_cleanup_free_ char *tmp = NULL;
	int fd, r;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	/* Readable by node_exporter's user, whoever runs this. */
	r = fchmod(fd, 0644) < 0 ? -errno : pc_write_all(fd, text, len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static int metrics_options(struct cli_context *ctx, int argc, char *argv[], const char **output,
			   int *code)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},
		{0},
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+hjo:", options, NULL)) != -1) {
		if (c == 'o') {
			*output = optarg;
			continue;
		}
		if (cli_option_common(ctx, c, argv[0], metrics_usage, code) < 0)
			return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "%s: metrics takes no arguments\n", ctx->prog);
		*code = CLI_EXIT_USAGE;
		return -1;
	}
	return 0;
}

int cmd_metrics(struct cli_context *ctx, int argc, char *argv[])
{
	struct pc_strbuf text = {0};
	struct pc_response resp;
	const char *output = NULL;
	int code, r;

	if (metrics_options(ctx, argc, argv, &output, &code) < 0)
		return code;
	/* Every rule, a page per request (portctld serves others between). */
	code = cli_daemon_call_paged(
	    ctx, "metrics", NULL,
	    &(struct cli_paged){.items = "rules", .total = "rules_total", .want = SIZE_MAX}, &resp);
	if (code != CLI_EXIT_OK)
		return code;
	if (ctx->json || resp.status != PC_STATUS_OK || !resp.data)
		return cli_response_finish(ctx, &resp);
	r = metrics_format(resp.data, &text);
	pc_response_done(&resp);
	if (r >= 0 && !output && fwrite(text.buf, 1, text.len, stdout) != text.len)
		r = -EIO;
	if (r >= 0 && output) {
		r = output_write(output, text.buf, text.len);
		if (r < 0)
			code = cli_error(ctx, CLI_EXIT_FAILURE, NULL, "cannot write %s: %s", output,
					 strerror(-r));
	} else if (r < 0) {
		code = cli_error(ctx, CLI_EXIT_FAILURE, NULL, "metrics: %s", strerror(-r));
	}
	pc_strbuf_free(&text);
	return code;
}
