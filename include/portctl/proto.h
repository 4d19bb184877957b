/* The wire protocol between portctl and portctld: framed JSON messages on a
 * SOCK_SEQPACKET Unix socket (doc/protocol.md is the full description). */
#ifndef PORTCTL_PROTO_H
#define PORTCTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <jansson.h>

#include "portctl/util.h"

/*
 * Every message: 4 bytes magic "PCTL", 1 byte protocol version, 1 byte
 * message type, 2 bytes flags (big endian), then JSON text. The magic and
 * the version byte keep this place in every future version, so two
 * programs of different versions can always tell each other so.
 */
#define PC_PROTO_MAGIC "PCTL"
#define PC_PROTO_VERSION 1
#define PC_PROTO_HDR_SIZE 8
/* A whole message, header included: a request never exceeds it, a response
 * is cut into as many messages of at most this size as it needs. */
#define PC_PROTO_MSG_MAX (64 * 1024)
#define PC_PROTO_PAYLOAD_MAX (PC_PROTO_MSG_MAX - PC_PROTO_HDR_SIZE)
/* What a client accepts as one reassembled response (100,000 rules with
 * counters take about 20 MiB). */
#define PC_PROTO_RESPONSE_MAX (256u * 1024 * 1024)
#define PC_PROTO_CMD_MAX 32

/* Flag: more messages of this response follow. */
#define PC_PROTO_F_MORE 0x0001u

enum pc_msg_type {
	PC_MSG_REQUEST = 1,
	PC_MSG_RESPONSE = 2,
};

/* Response status; the CLI exits with it. */
enum pc_status {
	PC_STATUS_OK = 0,
	PC_STATUS_FAILURE = 1,
	PC_STATUS_USAGE = 2,	   /* bad usage or bad rule */
	PC_STATUS_UNREACHABLE = 3, /* daemon unreachable (set by the client) */
	PC_STATUS_DENIED = 4,	   /* permission denied */
};
#define PC_STATUS_MAX PC_STATUS_DENIED

struct pc_proto_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
};

/* Room for a refusal reason, e.g. a version mismatch. */
#define PC_PROTO_REASON_MAX 160

void pc_proto_hdr_write(uint8_t out[PC_PROTO_HDR_SIZE], uint8_t type, uint16_t flags);

/*
 * Check a message's header. Returns 0, or -EBADMSG (too short or not ours),
 * -EPROTONOSUPPORT (another protocol version: hdr->version tells which) or
 * -EINVAL (unknown type or flags), with a sentence in reason.
 */
int pc_proto_hdr_read(const void *msg, size_t len, struct pc_proto_hdr *hdr, char *reason,
		      size_t reason_size);

struct pc_request {
	char cmd[PC_PROTO_CMD_MAX + 1];
	json_t *args; /* owned: always an object, empty when none was sent */
};

void pc_request_done(struct pc_request *req);

/*
 * Encode a request as one message. args may be NULL; it is not consumed.
 * Returns 0 with *msg malloc'ed (caller frees), -EMSGSIZE when it would
 * exceed PC_PROTO_MSG_MAX, -EINVAL for a bad command name, or -ENOMEM.
 */
int pc_request_encode(const char *cmd, const json_t *args, uint8_t **msg, size_t *len);

/*
 * Decode one received request message, trusting nothing in it. Returns 0
 * and fills req (release with pc_request_done), or -errno with a sentence
 * for the peer in reason: the header errors of pc_proto_hdr_read, -EMSGSIZE
 * beyond PC_PROTO_MSG_MAX, -EINVAL for JSON that is not a request.
 */
int pc_request_decode(const void *msg, size_t len, struct pc_request *req, char *reason,
		      size_t reason_size);

struct pc_response {
	int status;    /* enum pc_status */
	char *message; /* owned, never NULL ("" when none) */
	json_t *data;  /* owned, may be NULL */
};

void pc_response_done(struct pc_response *resp);

/*
 * A response being sent: its JSON text, and how much of it has gone out.
 * pc_outmsg_frame gives the next message as two iovecs (header, payload
 * slice) for sendmsg; pc_outmsg_advance moves past it once it was sent.
 */
struct pc_outmsg {
	char *text; /* owned */
	size_t len;
	size_t off;
	bool started;
	uint8_t hdr[PC_PROTO_HDR_SIZE];
};

/*
 * Serialize a response. data may be NULL and is not consumed. Returns 0,
 * -EINVAL for a status out of range, or -ENOMEM.
 */
int pc_outmsg_response(struct pc_outmsg *out, int status, const char *message, const json_t *data);
/* Builds the next frame; returns false when everything was sent. */
bool pc_outmsg_frame(struct pc_outmsg *out, struct iovec iov[2]);
void pc_outmsg_advance(struct pc_outmsg *out);
bool pc_outmsg_done(const struct pc_outmsg *out);
void pc_outmsg_free(struct pc_outmsg *out);

/* A response being received, one message at a time. */
struct pc_inmsg {
	struct pc_strbuf text;
	bool complete;
};

/*
 * Add one received message. Returns 1 when the response is complete, 0 when
 * more messages must follow, or -errno with a reason (header errors, a
 * request where a response was due, -EFBIG past PC_PROTO_RESPONSE_MAX).
 */
int pc_inmsg_feed(struct pc_inmsg *in, const void *msg, size_t len, char *reason,
		  size_t reason_size);
/* Parse the completed text. Returns 0 or -EINVAL with a reason. */
int pc_inmsg_parse(const struct pc_inmsg *in, struct pc_response *resp, char *reason,
		   size_t reason_size);
void pc_inmsg_free(struct pc_inmsg *in);

/*
 * Client side: connect to the daemon's socket. Returns the fd or -errno
 * (-ENOENT, -ECONNREFUSED: daemon not running; -EACCES: socket not ours).
 */
int pc_client_connect(const char *path);

/*
 * Send one request and wait for its whole response, at most timeout_ms per
 * message. Returns 0 with resp filled, or -errno with a reason (-ETIMEDOUT,
 * -EPROTONOSUPPORT for a daemon of another protocol version, -EPIPE when the
 * daemon closed the connection).
 */
int pc_client_call(int fd, const char *cmd, const json_t *args, int timeout_ms,
		   struct pc_response *resp, char *reason, size_t reason_size);
/* Wait for one more whole response (timeout_ms per message, -1: forever):
 * the stream of events that follows a "watch" request. Returns as
 * pc_client_call. */
int pc_client_receive(int fd, int timeout_ms, struct pc_response *resp, char *reason,
		      size_t reason_size);

#endif
