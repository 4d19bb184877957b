/* What every command that talks to portctld shares: one request over the
 * socket, exit codes from the response, and errors that say what to do. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* The page at offset of a paged answer: its items, and how many there are
 * in all (the container of both is data itself, or its member "in"). */
struct page_view {
	json_t *items;
	size_t total;
	json_int_t generation;
};

static struct page_view page_view(const json_t *data, const struct cli_paged *p)
{
	const json_t *c = p->in ? json_object_get(data, p->in) : data;

	return (struct page_view){
		.items = json_object_get(c, p->items),
		.total = (size_t)json_integer_value(json_object_get(c, p->total)),
		.generation = json_integer_value(json_object_get(data, "generation")),
	};
}

/* How many items a page holds: an array's size, or a text's count. */
static size_t page_count(const json_t *data, const struct page_view *v, const struct cli_paged *p)
{
	if (p->count)
		return json_is_string(v->items)
			       ? (size_t)json_integer_value(json_object_get(data, p->count))
			       : 0;
	return json_is_array(v->items) ? json_array_size(v->items) : 0;
}

/* A later page's items after the first page's. */
static int page_join(struct page_view *first, const struct page_view *v, struct pc_strbuf *text)
{
	if (json_is_array(first->items))
		return json_array_extend(first->items, v->items) < 0 ? -ENOMEM : 0;
	return pc_strbuf_append(text, json_string_value(v->items),
				json_string_length(v->items));
}

/* Pages asked for one after another on one connection, until want items
 * (SIZE_MAX: all) or the end: between two, portctld serves its other
 * clients. When the configuration changed in between (its generation),
 * the reading starts again, so that the items are of one configuration. */
#define PAGED_RESTARTS_MAX 20

static int page_ask(int fd, const char *cmd, json_t *a, json_int_t offset, size_t limit,
		    struct pc_response *page, char *reason, size_t reason_size)
{
	if (json_object_set_new(a, "offset", json_integer(offset)) < 0 ||
	    (limit != SIZE_MAX && json_object_set_new(a, "limit", json_integer((json_int_t)limit)) < 0))
		return -ENOMEM;
	return pc_client_call(fd, cmd, a, CLI_TIMEOUT_MS, page, reason, reason_size);
}

static int paged_read(int fd, const char *cmd, const json_t *args, const struct cli_paged *p,
		      struct pc_response *resp, char *reason, size_t reason_size)
{
	json_int_t offset = json_integer_value(json_object_get(args, "offset"));
	_cleanup_(json_decrefp) json_t *a = args ? json_deep_copy(args) : json_object();
	struct page_view first = {0};
	struct pc_strbuf text = {0};
	size_t got = 0;
	int restarts = 0, r;

	if (!a)
		return -ENOMEM;
	*resp = (struct pc_response){0};
	for (;;) {
		struct pc_response page;
		struct page_view v;
		size_t n;

		r = page_ask(fd, cmd, a, offset + (json_int_t)got,
			     p->want == SIZE_MAX ? SIZE_MAX : p->want - got, &page, reason,
			     reason_size);
		if (r < 0)
			break;
		v = page_view(page.data, p);
		n = page_count(page.data, &v, p);
		if (got > 0 && page.status == PC_STATUS_OK && v.generation != first.generation) {
			/* Another configuration since the first page: again. */
			pc_response_done(&page);
			pc_response_done(resp);
			pc_strbuf_free(&text);
			got = 0;
			if (++restarts > PAGED_RESTARTS_MAX) {
				snprintf(reason, reason_size,
					 "the configuration changed while being read, %d times",
					 restarts);
				r = -EAGAIN;
				break;
			}
			continue;
		}
		if (got == 0 || page.status != PC_STATUS_OK) {
			pc_response_done(resp);
			pc_strbuf_free(&text);
			*resp = page;
			first = v;
			if (json_is_string(v.items))
				r = pc_strbuf_append(&text, json_string_value(v.items),
						     json_string_length(v.items));
		} else {
			r = page_join(&first, &v, &text);
			pc_response_done(&page);
		}
		if (r < 0 || resp->status != PC_STATUS_OK || n == 0)
			break;
		got += n;
		if (got >= p->want || (size_t)offset + got >= v.total)
			break;
	}
	/* The texts joined, in place of the first page's. */
	if (r >= 0 && text.buf && resp->data && json_is_string(first.items) &&
	    json_string_setn(first.items, text.buf, text.len) < 0)
		r = -ENOMEM;
	pc_strbuf_free(&text);
	if (r < 0)
		pc_response_done(resp);
	return r < 0 ? r : 0;
}

int cli_daemon_call_paged(struct cli_context *ctx, const char *cmd, const json_t *args,
			  const struct cli_paged *p, struct pc_response *resp)
{
	const char *path = ctx->paths.socket_path;
	char reason[PC_PROTO_REASON_MAX] = "";
	int fd = pc_client_connect(path);
	int r;

	if (fd < 0)
		return unreachable(ctx, path, fd);
	r = paged_read(fd, cmd, args, p, resp, reason, sizeof(reason));
	close(fd);
	if (r == -ENOMEM)
		snprintf(reason, sizeof(reason), "%s", strerror(-r));
	if (r == -EPROTONOSUPPORT || r == -EAGAIN || r == -ENOMEM)
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
