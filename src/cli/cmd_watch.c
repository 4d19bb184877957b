/* portctl watch: a live view of the packets the rules deny, as portctld
 * reads them from the watch nflog group, until interrupted. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "portctl/proto.h"

static const char watch_usage[] =
    "watch [--json]\n"
    "\n"
    "Show, as they happen, the packets dropped or rejected by rules with 'log'\n"
    "and by the policy of zones with 'log-denied', one line each: the zone,\n"
    "what decided (the rule's FILE:LINE, or 'policy' and the direction), and\n"
    "the packet. Logging is rate-limited per rule, and portctld passes on at\n"
    "most 50 packets a second (then a count of those missed). --json prints\n"
    "one JSON object a line: first portctld's answer, then one per packet.\n"
    "Stop with Ctrl-C.\n";

static const char *str(const json_t *ev, const char *key)
{
	const char *s = json_string_value(json_object_get(ev, key));

	return s ? s : "?";
}

static void event_print(const json_t *ev)
{
	const json_t *port = json_object_get(ev, "port"), *proto = json_object_get(ev, "protocol");
	char decided[160], what[32] = "";

	if (json_object_get(ev, "missed")) {
		printf("(%" JSON_INTEGER_FORMAT " more packets not shown)\n",
		       json_integer_value(json_object_get(ev, "missed")));
		return;
	}
	if (strcmp(str(ev, "decided_by"), "policy") == 0)
		snprintf(decided, sizeof(decided), "policy %s", str(ev, "direction"));
	else
		snprintf(decided, sizeof(decided), "%s", str(ev, "rule"));
	if (json_is_string(proto))
		snprintf(what, sizeof(what), "%s", json_string_value(proto));
	else if (json_is_integer(proto))
		snprintf(what, sizeof(what), "proto %" JSON_INTEGER_FORMAT,
			 json_integer_value(proto));
	printf("%-10s %-24s %-6s %s -> %s", str(ev, "zone"), decided, what, str(ev, "source"),
	       str(ev, "destination"));
	if (json_is_integer(port))
		printf(" port %" JSON_INTEGER_FORMAT, json_integer_value(port));
	if (json_object_get(ev, "interface"))
		printf(" on %s", str(ev, "interface"));
	putchar('\n');
}

static void line_print(const struct cli_context *ctx, const struct pc_response *resp)
{
	if (ctx->json) {
		json_t *j = json_pack("{s:i,s:s,s:O?}", "status", resp->status, "message",
				      resp->message, "data", resp->data);

		if (j)
			json_dumpf(resp->data && !*resp->message ? resp->data : j, stdout,
				   JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else if (resp->data) {
		event_print(resp->data);
	} else {
		fprintf(stderr, "%s\n", resp->message);
	}
	fflush(stdout);
}

int cmd_watch(struct cli_context *ctx, int argc, char *argv[])
{
	char reason[PC_PROTO_REASON_MAX] = "";
	struct pc_response resp;
	const char *path = ctx->paths.socket_path;
	int code, fd, r;

	r = cli_options_parse(ctx, argc, argv, watch_usage, &code);
	if (r < 0)
		return code;
	if (r != argc) {
		fprintf(stderr, "%s: watch takes no arguments\n", ctx->prog);
		return CLI_EXIT_USAGE;
	}
	fd = pc_client_connect(path);
	if (fd < 0)
		return cli_error(ctx, fd == -EACCES ? CLI_EXIT_PERMISSION : CLI_EXIT_UNREACHABLE,
				 NULL, "cannot reach portctld at %s: %s", path, strerror(-fd));
	r = pc_client_call(fd, "watch", NULL, 30000, &resp, reason, sizeof(reason));
	if (r < 0) {
		close(fd);
		return cli_error(ctx, CLI_EXIT_UNREACHABLE, NULL, "%s: %s", path, reason);
	}
	code = resp.status;
	line_print(ctx, &resp);
	pc_response_done(&resp);
	while (code == CLI_EXIT_OK) {
		r = pc_client_receive(fd, -1, &resp, reason, sizeof(reason));
		if (r < 0) {
			code = cli_error(ctx, CLI_EXIT_FAILURE, NULL, "%s", reason);
			break;
		}
		line_print(ctx, &resp);
		pc_response_done(&resp);
	}
	close(fd);
	return code;
}
