/* Framing and JSON coding of portctl's requests and responses; the request
 * decoder is the first code untrusted bytes reach, so it checks everything. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "portctl/proto.h"

static int reasonf(char *reason, size_t size, int r, const char *fmt, ...) _printf_(4, 5);

/* Fill the reason buffer (if any) and return r, so callers fail in one line. */
static int reasonf(char *reason, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	if (reason && size > 0) {
		va_start(ap, fmt);
		vsnprintf(reason, size, fmt, ap);
		va_end(ap);
	}
	return r;
}

void pc_proto_hdr_write(uint8_t out[PC_PROTO_HDR_SIZE], uint8_t type, uint16_t flags)
{
	memcpy(out, PC_PROTO_MAGIC, 4);
	out[4] = PC_PROTO_VERSION;
	out[5] = type;
	out[6] = flags >> 8;
	out[7] = flags & 0xff;
}

int pc_proto_hdr_read(const void *msg, size_t len, struct pc_proto_hdr *hdr, char *reason,
		      size_t reason_size)
{
	const uint8_t *p = msg;

	if (len < PC_PROTO_HDR_SIZE || memcmp(p, PC_PROTO_MAGIC, 4) != 0)
		return reasonf(reason, reason_size, -EBADMSG,
			       "not a portctl message (bad or missing header)");
	hdr->version = p[4];
	hdr->type = p[5];
	hdr->flags = (uint16_t)(p[6] << 8 | p[7]);
	if (hdr->version != PC_PROTO_VERSION)
		return reasonf(reason, reason_size, -EPROTONOSUPPORT,
			       "peer speaks protocol %u, this program speaks %u: upgrade both",
			       hdr->version, PC_PROTO_VERSION);
	if (hdr->type != PC_MSG_REQUEST && hdr->type != PC_MSG_RESPONSE)
		return reasonf(reason, reason_size, -EINVAL, "unknown message type %u",
			       hdr->type);
	if (hdr->flags & ~PC_PROTO_F_MORE)
		return reasonf(reason, reason_size, -EINVAL, "unknown message flags 0x%04x",
			       hdr->flags);
	return 0;
}

/* Command names are short lowercase words, so they can be logged as is. */
static bool cmd_name_valid(const char *cmd)
{
	size_t n = strlen(cmd);

	if (n == 0 || n > PC_PROTO_CMD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((cmd[i] >= 'a' && cmd[i] <= 'z') || cmd[i] == '-'))
			return false;
	return true;
}

void pc_request_done(struct pc_request *req)
{
	json_decref(req->args);
	req->args = NULL;
	req->cmd[0] = '\0';
}

int pc_request_encode(const char *cmd, const json_t *args, uint8_t **msg, size_t *len)
{
	json_t *root;
	char *text;
	size_t n;
	uint8_t *buf;

	if (!cmd_name_valid(cmd) || (args && !json_is_object(args)))
		return -EINVAL;
	root = json_pack("{s:s}", "cmd", cmd);
	if (!root)
		return -ENOMEM;
	/* A reference, not a copy: root goes right after it is dumped. */
	if (args && json_object_set(root, "args", (json_t *)args) < 0) {
		json_decref(root);
		return -ENOMEM;
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	if (n > PC_PROTO_PAYLOAD_MAX) {
		free(text);
		return -EMSGSIZE;
	}
	buf = malloc(PC_PROTO_HDR_SIZE + n);
	if (!buf) {
		free(text);
		return -ENOMEM;
	}
	pc_proto_hdr_write(buf, PC_MSG_REQUEST, 0);
	memcpy(buf + PC_PROTO_HDR_SIZE, text, n);
	free(text);
	*msg = buf;
	*len = PC_PROTO_HDR_SIZE + n;
	return 0;
}

/* The request object may hold "cmd" and "args" and nothing else: a typo in
 * a key is refused rather than silently ignored. */
static int request_check_keys(json_t *root, char *reason, size_t reason_size)
{
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v) {
		if (!streq(key, "cmd") && !streq(key, "args"))
			return reasonf(reason, reason_size, -EINVAL,
				       "unknown key \"%.32s\" in request", key);
	}
	return 0;
}

static int request_fill(json_t *root, struct pc_request *req, char *reason, size_t reason_size)
{
	json_t *cmd = json_object_get(root, "cmd");
	json_t *args = json_object_get(root, "args");
	int r;

	r = request_check_keys(root, reason, reason_size);
	if (r < 0)
		return r;
	if (!json_is_string(cmd))
		return reasonf(reason, reason_size, -EINVAL, "request has no \"cmd\" string");
	if (json_string_length(cmd) > PC_PROTO_CMD_MAX || !cmd_name_valid(json_string_value(cmd)))
		return reasonf(reason, reason_size, -EINVAL,
			       "bad command name (lowercase letters and '-', at most %d)",
			       PC_PROTO_CMD_MAX);
	if (args && !json_is_object(args))
		return reasonf(reason, reason_size, -EINVAL, "\"args\" must be an object");
	strcpy(req->cmd, json_string_value(cmd));
	req->args = args ? json_incref(args) : json_object();
	if (!req->args)
		return -ENOMEM;
	return 0;
}

int pc_request_decode(const void *msg, size_t len, struct pc_request *req, char *reason,
		      size_t reason_size)
{
	struct pc_proto_hdr hdr;
	json_error_t err;
	json_t *root;
	int r;

	*req = (struct pc_request){0};
	if (len > PC_PROTO_MSG_MAX)
		return reasonf(reason, reason_size, -EMSGSIZE,
			       "request of %zu bytes exceeds the limit of %d bytes", len,
			       PC_PROTO_MSG_MAX);
	r = pc_proto_hdr_read(msg, len, &hdr, reason, reason_size);
	if (r == -EPROTONOSUPPORT)
		return reasonf(reason, reason_size, r,
			       "portctl speaks protocol %u, portctld speaks %u: upgrade both",
			       hdr.version, PC_PROTO_VERSION);
	if (r < 0)
		return r;
	if (hdr.type != PC_MSG_REQUEST || hdr.flags != 0)
		return reasonf(reason, reason_size, -EINVAL,
			       "expected a single request message");
	/* JSON_ALLOW_NUL stays off: a NUL inside a string is refused. */
	root = json_loadb((const char *)msg + PC_PROTO_HDR_SIZE, len - PC_PROTO_HDR_SIZE,
			  JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return reasonf(reason, reason_size, -EINVAL, "malformed JSON at byte %d: %.80s",
			       err.position, err.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return reasonf(reason, reason_size, -EINVAL, "request must be a JSON object");
	}
	r = request_fill(root, req, reason, reason_size);
	json_decref(root);
	if (r < 0)
		pc_request_done(req);
	return r;
}

void pc_response_done(struct pc_response *resp)
{
	free(resp->message);
	json_decref(resp->data);
	*resp = (struct pc_response){0};
}

int pc_outmsg_response(struct pc_outmsg *out, int status, const char *message, const json_t *data)
{
	json_t *root;

	*out = (struct pc_outmsg){0};
	if (status < 0 || status > PC_STATUS_MAX)
		return -EINVAL;
	root = json_pack("{s:i,s:s}", "status", status, "message", message ? message : "");
	if (!root)
		return -ENOMEM;
	if (data && json_object_set(root, "data", (json_t *)data) < 0) {
		json_decref(root);
		return -ENOMEM;
	}
	out->text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!out->text)
		return -ENOMEM;
	out->len = strlen(out->text);
	return 0;
}

bool pc_outmsg_frame(struct pc_outmsg *out, struct iovec iov[2])
{
	size_t n;

	/* The first frame goes out even for an empty text, so the peer always
	 * sees a final message without the MORE flag. */
	if (out->started && out->off >= out->len)
		return false;
	n = out->len - out->off;
	if (n > PC_PROTO_PAYLOAD_MAX)
		n = PC_PROTO_PAYLOAD_MAX;
	pc_proto_hdr_write(out->hdr, PC_MSG_RESPONSE,
			   out->off + n < out->len ? PC_PROTO_F_MORE : 0);
	iov[0] = (struct iovec){.iov_base = out->hdr, .iov_len = PC_PROTO_HDR_SIZE};
	iov[1] = (struct iovec){.iov_base = out->text + out->off, .iov_len = n};
	return true;
}

void pc_outmsg_advance(struct pc_outmsg *out)
{
	size_t n = out->len - out->off;

	out->started = true;
	out->off += n > PC_PROTO_PAYLOAD_MAX ? PC_PROTO_PAYLOAD_MAX : n;
}

bool pc_outmsg_done(const struct pc_outmsg *out)
{
	return out->started && out->off >= out->len;
}

void pc_outmsg_free(struct pc_outmsg *out)
{
	free(out->text);
	*out = (struct pc_outmsg){0};
}

int pc_inmsg_feed(struct pc_inmsg *in, const void *msg, size_t len, char *reason,
		  size_t reason_size)
{
	struct pc_proto_hdr hdr;
	size_t n;
	int r;

	if (in->complete)
		return reasonf(reason, reason_size, -EINVAL, "message after a complete response");
	if (len > PC_PROTO_MSG_MAX)
		return reasonf(reason, reason_size, -EMSGSIZE, "response message too large");
	r = pc_proto_hdr_read(msg, len, &hdr, reason, reason_size);
	if (r == -EPROTONOSUPPORT)
		return reasonf(reason, reason_size, r,
			       "portctl speaks protocol %u, portctld speaks %u: upgrade both",
			       PC_PROTO_VERSION, hdr.version);
	if (r < 0)
		return r;
	if (hdr.type != PC_MSG_RESPONSE)
		return reasonf(reason, reason_size, -EINVAL, "expected a response message");
	n = len - PC_PROTO_HDR_SIZE;
	if (in->text.len + n > PC_PROTO_RESPONSE_MAX)
		return reasonf(reason, reason_size, -EFBIG, "response exceeds %u bytes",
			       PC_PROTO_RESPONSE_MAX);
	r = pc_strbuf_append(&in->text, (const char *)msg + PC_PROTO_HDR_SIZE, n);
	if (r < 0)
		return reasonf(reason, reason_size, r, "out of memory");
	in->complete = !(hdr.flags & PC_PROTO_F_MORE);
	return in->complete ? 1 : 0;
}

int pc_inmsg_parse(const struct pc_inmsg *in, struct pc_response *resp, char *reason,
		   size_t reason_size)
{
	json_error_t err;
	json_t *root, *status, *message, *data;

	*resp = (struct pc_response){0};
	if (!in->complete || !in->text.buf)
		return reasonf(reason, reason_size, -EINVAL, "incomplete response");
	root = json_loadb(in->text.buf, in->text.len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return reasonf(reason, reason_size, -EINVAL, "malformed response: %.80s",
			       err.text);
	status = json_object_get(root, "status");
	message = json_object_get(root, "message");
	data = json_object_get(root, "data");
	if (!json_is_integer(status) || json_integer_value(status) < 0 ||
	    json_integer_value(status) > PC_STATUS_MAX || (message && !json_is_string(message))) {
		json_decref(root);
		return reasonf(reason, reason_size, -EINVAL, "response lacks a valid status");
	}
	resp->status = (int)json_integer_value(status);
	resp->message = strdup(message ? json_string_value(message) : "");
	resp->data = data ? json_incref(data) : NULL;
	json_decref(root);
	if (!resp->message) {
		pc_response_done(resp);
		return -ENOMEM;
	}
	return 0;
}

void pc_inmsg_free(struct pc_inmsg *in)
{
	pc_strbuf_free(&in->text);
	in->complete = false;
}
