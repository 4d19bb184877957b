/* What every command that talks to portctld shares: one request over the
 * socket, exit codes from the response, and errors that say what to do. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "portctl/proto.h"

/* Generous: a reload of 100,000 rules takes a second or two. */
#define CLI_TIMEOUT_MS 30000

int cli_error(const struct cli_context *ctx, int status, const char *hint, const char *fmt, ...)
{
	_cleanup_free_ char *message = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0)
		return CLI_EXIT_FAILURE;
	fprintf(stderr, "%s: %s\n%s%s", ctx->prog, message, hint ? hint : "", hint ? "\n" : "");
	/* A script reading --json gets the same envelope as a daemon's answer. */
	if (ctx->json)
		cli_json_envelope(status, message, NULL);
	return status;
}

static int unreachable(const struct cli_context *ctx, const char *path, int r)
{
	/* The socket's mode or group shut us out: that is a permission
	 * problem (exit 4), not a missing daemon. */
	if (r == -EACCES || r == -EPERM)
		return cli_error(ctx, CLI_EXIT_PERMISSION,
				 "Ask an administrator to add you to the socket's group "
				 "(socket-group in portctl.conf).",
				 "permission denied on %s", path);
	return cli_error(ctx, CLI_EXIT_UNREACHABLE,
			 "Is the daemon running? Start it with 'systemctl start portctld'.",
			 "cannot reach portctld at %s: %s", path, strerror(-r));
}

int cli_daemon_call(struct cli_context *ctx, const char *cmd, const json_t *args,
		    struct pc_response *resp)
{
	const char *path = ctx->paths.socket_path;
	char reason[PC_PROTO_REASON_MAX] = "";
	int fd = pc_client_connect(path);
	int r;

	if (fd < 0)
		return unreachable(ctx, path, fd);
	r = pc_client_call(fd, cmd, args, CLI_TIMEOUT_MS, resp, reason, sizeof(reason));
	close(fd);
	if (r == -EPROTONOSUPPORT)
		return cli_error(ctx, CLI_EXIT_FAILURE, NULL, "%s", reason);
	if (r < 0)
		return cli_error(ctx, CLI_EXIT_UNREACHABLE, NULL, "%s: %s", path, reason);
	return CLI_EXIT_OK;
}

int cli_json_print(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return CLI_EXIT_FAILURE;
	putchar('\n');
	return CLI_EXIT_OK;
}

int cli_json_envelope(int status, const char *message, const json_t *data)
{
	json_t *j = json_pack("{s:i,s:s,s:O?}", "status", status, "message", message ? message : "",
			      "data", data);
	int r = j ? cli_json_print(j) : CLI_EXIT_FAILURE;

	json_decref(j);
	return r;
}

int cli_response_finish(struct cli_context *ctx, struct pc_response *resp)
{
	int status = resp->status;

	if (ctx->json) {
		if (cli_json_envelope(resp->status, resp->message, resp->data) != CLI_EXIT_OK)
			status = CLI_EXIT_FAILURE;
	} else if (resp->message[0]) {
		fprintf(status == PC_STATUS_OK ? stdout : stderr, "%s%s%s\n",
			status == PC_STATUS_OK ? "" : ctx->prog, status == PC_STATUS_OK ? "" : ": ",
			resp->message);
	}
	pc_response_done(resp);
	return status;
}

int cli_daemon_simple(struct cli_context *ctx, const char *cmd, const json_t *args)
{
	struct pc_response resp;
	int r = cli_daemon_call(ctx, cmd, args, &resp);

	if (r != CLI_EXIT_OK)
		return r;
	return cli_response_finish(ctx, &resp);
}
