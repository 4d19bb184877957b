/* Unit tests for the wire protocol: round trips of requests and responses,
 * multi-message responses, and every way a request can be malformed. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "portctl/proto.h"

/* A request message with a valid header and the given payload. */
static size_t make_msg(uint8_t *buf, size_t size, uint8_t type, uint16_t flags, const char *payload,
		       size_t n)
{
	ck_assert_uint_le(PC_PROTO_HDR_SIZE + n, size);
	pc_proto_hdr_write(buf, type, flags);
	memcpy(buf + PC_PROTO_HDR_SIZE, payload, n);
	return PC_PROTO_HDR_SIZE + n;
}

/* Decode payload as a request; returns the decoder's result and reason. */
static int decode_payload(const char *payload, char *reason)
{
	static uint8_t buf[PC_PROTO_MSG_MAX + 16];
	struct pc_request req;
	size_t len = make_msg(buf, sizeof(buf), PC_MSG_REQUEST, 0, payload, strlen(payload));
	int r = pc_request_decode(buf, len, &req, reason, PC_PROTO_REASON_MAX);

	if (r == 0)
		pc_request_done(&req);
	return r;
}

START_TEST(test_request_roundtrip)
{
	json_t *args = json_pack("{s:s,s:b}", "rule", "allow 443/tcp comment \"ü\"", "runtime", 1);
	struct pc_request req;
	uint8_t *msg;
	size_t len;
	char reason[PC_PROTO_REASON_MAX];

	ck_assert_int_eq(pc_request_encode("allow", args, &msg, &len), 0);
	ck_assert_mem_eq(msg, PC_PROTO_MAGIC, 4);
	ck_assert_int_eq(msg[4], PC_PROTO_VERSION);
	ck_assert_int_eq(pc_request_decode(msg, len, &req, reason, sizeof(reason)), 0);
	ck_assert_str_eq(req.cmd, "allow");
	ck_assert(json_equal(req.args, args));
	pc_request_done(&req);
	free(msg);
	json_decref(args);
}
END_TEST

START_TEST(test_request_no_args_gives_empty_object)
{
	struct pc_request req;
	uint8_t *msg;
	size_t len;
	char reason[PC_PROTO_REASON_MAX];

	ck_assert_int_eq(pc_request_encode("status", NULL, &msg, &len), 0);
	ck_assert_int_eq(pc_request_decode(msg, len, &req, reason, sizeof(reason)), 0);
	ck_assert_str_eq(req.cmd, "status");
	ck_assert(json_is_object(req.args));
	ck_assert_uint_eq(json_object_size(req.args), 0);
	pc_request_done(&req);
	free(msg);
}
END_TEST

START_TEST(test_request_encode_refuses)
{
	json_t *big = json_object();
	json_t *arr = json_array();
	uint8_t *msg = NULL;
	size_t len;
	char *s = malloc(PC_PROTO_MSG_MAX);

	memset(s, 'a', PC_PROTO_MSG_MAX - 1);
	s[PC_PROTO_MSG_MAX - 1] = '\0';
	json_object_set_new(big, "rule", json_string(s));
	ck_assert_int_eq(pc_request_encode("allow", big, &msg, &len), -EMSGSIZE);
	ck_assert_int_eq(pc_request_encode("Allow", NULL, &msg, &len), -EINVAL);
	ck_assert_int_eq(pc_request_encode("", NULL, &msg, &len), -EINVAL);
	ck_assert_int_eq(pc_request_encode("allow", arr, &msg, &len), -EINVAL);
	ck_assert_ptr_null(msg);
	free(s);
	json_decref(big);
	json_decref(arr);
}
END_TEST

START_TEST(test_request_largest_fits)
{
	/* A payload of exactly PC_PROTO_PAYLOAD_MAX bytes is accepted. */
	const char *pre = "{\"cmd\":\"allow\",\"args\":{\"rule\":\"";
	const char *post = "\"}}";
	size_t fill = PC_PROTO_PAYLOAD_MAX - strlen(pre) - strlen(post);
	char *p = malloc(PC_PROTO_PAYLOAD_MAX + 1);
	char reason[PC_PROTO_REASON_MAX];

	strcpy(p, pre);
	memset(p + strlen(pre), 'x', fill);
	strcpy(p + strlen(pre) + fill, post);
	ck_assert_uint_eq(strlen(p), PC_PROTO_PAYLOAD_MAX);
	ck_assert_int_eq(decode_payload(p, reason), 0);
	free(p);
}
END_TEST

START_TEST(test_request_too_large)
{
	size_t len = PC_PROTO_MSG_MAX + 1;
	uint8_t *buf = calloc(1, len);
	struct pc_request req;
	char reason[PC_PROTO_REASON_MAX];

	pc_proto_hdr_write(buf, PC_MSG_REQUEST, 0);
	ck_assert_int_eq(pc_request_decode(buf, len, &req, reason, sizeof(reason)), -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(reason, "limit"));
	free(buf);
}
END_TEST

START_TEST(test_request_bad_header)
{
	uint8_t buf[64] = {0};
	struct pc_request req;
	char reason[PC_PROTO_REASON_MAX];

	ck_assert_int_eq(pc_request_decode(buf, 0, &req, reason, sizeof(reason)), -EBADMSG);
	ck_assert_int_eq(pc_request_decode("PCT", 3, &req, reason, sizeof(reason)), -EBADMSG);
	ck_assert_int_eq(pc_request_decode("XCTL\1\1\0\0{}", 10, &req, reason, sizeof(reason)),
			 -EBADMSG);
	ck_assert_ptr_nonnull(strstr(reason, "not a portctl message"));
	/* Header only: empty JSON. */
	pc_proto_hdr_write(buf, PC_MSG_REQUEST, 0);
	ck_assert_int_eq(pc_request_decode(buf, PC_PROTO_HDR_SIZE, &req, reason, sizeof(reason)),
			 -EINVAL);
	/* A response where a request was due, a MORE flag, unknown flags and type. */
	size_t n = make_msg(buf, sizeof(buf), PC_MSG_RESPONSE, 0, "{\"cmd\":\"a\"}", 11);
	ck_assert_int_eq(pc_request_decode(buf, n, &req, reason, sizeof(reason)), -EINVAL);
	n = make_msg(buf, sizeof(buf), PC_MSG_REQUEST, PC_PROTO_F_MORE, "{\"cmd\":\"a\"}", 11);
	ck_assert_int_eq(pc_request_decode(buf, n, &req, reason, sizeof(reason)), -EINVAL);
	n = make_msg(buf, sizeof(buf), PC_MSG_REQUEST, 0x8000, "{\"cmd\":\"a\"}", 11);
	ck_assert_int_eq(pc_request_decode(buf, n, &req, reason, sizeof(reason)), -EINVAL);
	n = make_msg(buf, sizeof(buf), 7, 0, "{\"cmd\":\"a\"}", 11);
	ck_assert_int_eq(pc_request_decode(buf, n, &req, reason, sizeof(reason)), -EINVAL);
}
END_TEST

START_TEST(test_request_other_version)
{
	uint8_t buf[64];
	struct pc_request req;
	char reason[PC_PROTO_REASON_MAX];
	size_t n = make_msg(buf, sizeof(buf), PC_MSG_REQUEST, 0, "{\"cmd\":\"status\"}", 16);

	buf[4] = PC_PROTO_VERSION + 1;
	ck_assert_int_eq(pc_request_decode(buf, n, &req, reason, sizeof(reason)),
			 -EPROTONOSUPPORT);
	char expect[PC_PROTO_REASON_MAX];
	snprintf(expect, sizeof(expect),
		 "portctl speaks protocol %d, portctld speaks %d: upgrade both",
		 PC_PROTO_VERSION + 1, PC_PROTO_VERSION);
	ck_assert_str_eq(reason, expect);
}
END_TEST

/* Each of these payloads must be refused with -EINVAL and a reason. */
static const char *const bad_payloads[] = {
	"",
	"{",
	"null",
	"[]",
	"\"status\"",
	"42",
	"{}",
	"{\"cmd\":1}",
	"{\"cmd\":null}",
	"{\"cmd\":\"\"}",
	"{\"cmd\":\"STATUS\"}",
	"{\"cmd\":\"sta tus\"}",
	"{\"cmd\":\"st\\u0000atus\"}",
	"{\"cmd\":\"abcdefghijklmnopqrstuvwxyzabcdefg\"}",
	"{\"cmd\":\"status\",\"args\":[]}",
	"{\"cmd\":\"status\",\"args\":\"x\"}",
	"{\"cmd\":\"status\",\"args\":null}",
	"{\"cmd\":\"status\",\"extra\":1}",
	"{\"cmd\":\"status\",\"cmd\":\"reload\"}",
	"{\"cmd\":\"status\",\"args\":{\"a\":1,\"a\":2}}",
	"{\"cmd\":\"status\"} trailing",
	"{\"cmd\":\"status\",\"args\":{\"s\":\"\xff\xfe\"}}",
	"{\"cmd\":\"status\",\"args\":{\"s\":\"a\\u0000b\"}}",
};

START_TEST(test_request_malformed)
{
	char reason[PC_PROTO_REASON_MAX];

	reason[0] = '\0';
	ck_assert_msg(decode_payload(bad_payloads[_i], reason) == -EINVAL, "accepted: %s",
		      bad_payloads[_i]);
	ck_assert_msg(reason[0] != '\0', "no reason for: %s", bad_payloads[_i]);
}
END_TEST

START_TEST(test_request_deep_nesting)
{
	/* Deep nesting must be refused without exhausting the stack. */
	size_t depth = 20000;
	char *p = malloc(40 + 2 * depth);
	char reason[PC_PROTO_REASON_MAX];
	size_t o = 0;

	o += sprintf(p, "{\"cmd\":\"status\",\"args\":{\"a\":");
	for (size_t i = 0; i < depth; i++)
		p[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		p[o++] = ']';
	p[o++] = '}';
	p[o++] = '}';
	p[o] = '\0';
	ck_assert_int_eq(decode_payload(p, reason), -EINVAL);
	free(p);
}
END_TEST

/* Send out through the frames and feed them to an inmsg, as over a socket. */
static int transfer(struct pc_outmsg *out, struct pc_inmsg *in, size_t *n_msgs)
{
	static uint8_t buf[PC_PROTO_MSG_MAX];
	struct iovec iov[2];
	char reason[PC_PROTO_REASON_MAX];
	int r = 0;

	*n_msgs = 0;
	while (pc_outmsg_frame(out, iov)) {
		ck_assert_uint_le(iov[0].iov_len + iov[1].iov_len, PC_PROTO_MSG_MAX);
		memcpy(buf, iov[0].iov_base, iov[0].iov_len);
		memcpy(buf + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
		pc_outmsg_advance(out);
		(*n_msgs)++;
		r = pc_inmsg_feed(in, buf, iov[0].iov_len + iov[1].iov_len, reason,
				  sizeof(reason));
		if (r != 0)
			break;
	}
	return r;
}

START_TEST(test_response_roundtrip_small)
{
	json_t *data = json_pack("{s:[i,i]}", "rules", 1, 2);
	struct pc_outmsg out;
	struct pc_inmsg in = {0};
	struct pc_response resp;
	char reason[PC_PROTO_REASON_MAX];
	size_t n;

	ck_assert_int_eq(pc_outmsg_response(&out, PC_STATUS_DENIED, "no", data), 0);
	ck_assert_int_eq(transfer(&out, &in, &n), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert(pc_outmsg_done(&out));
	ck_assert_int_eq(pc_inmsg_parse(&in, &resp, reason, sizeof(reason)), 0);
	ck_assert_int_eq(resp.status, PC_STATUS_DENIED);
	ck_assert_str_eq(resp.message, "no");
	ck_assert(json_equal(resp.data, data));
	pc_response_done(&resp);
	pc_inmsg_free(&in);
	pc_outmsg_free(&out);
	json_decref(data);
}
END_TEST

START_TEST(test_response_roundtrip_large)
{
	/* 100,000 rules' worth of status: many messages, one response. */
	json_t *rules = json_array();
	json_t *data;
	struct pc_outmsg out;
	struct pc_inmsg in = {0};
	struct pc_response resp;
	char reason[PC_PROTO_REASON_MAX];
	char text[64];
	size_t n;

	for (int i = 0; i < 100000; i++) {
		snprintf(text, sizeof(text), "allow %d/tcp", 1 + i % 65535);
		json_array_append_new(rules, json_pack("{s:i,s:s,s:I,s:I}", "number", i + 1,
						       "text", text, "packets", (json_int_t)i,
						       "bytes", (json_int_t)i * 60));
	}
	data = json_pack("{s:o}", "rules", rules);
	ck_assert_int_eq(pc_outmsg_response(&out, 0, NULL, data), 0);
	ck_assert_uint_gt(out.len, 4 * PC_PROTO_PAYLOAD_MAX);
	ck_assert_int_eq(transfer(&out, &in, &n), 1);
	ck_assert_uint_eq(n, (out.len + PC_PROTO_PAYLOAD_MAX - 1) / PC_PROTO_PAYLOAD_MAX);
	ck_assert_int_eq(pc_inmsg_parse(&in, &resp, reason, sizeof(reason)), 0);
	ck_assert_str_eq(resp.message, "");
	ck_assert(json_equal(resp.data, data));
	pc_response_done(&resp);
	pc_inmsg_free(&in);
	pc_outmsg_free(&out);
	json_decref(data);
}
END_TEST

START_TEST(test_response_exact_payload_boundary)
{
	/* A text of exactly one payload goes in one message, one byte more in two. */
	struct pc_outmsg out = {0};
	struct iovec iov[2];
	size_t n = 0;

	out.text = malloc(PC_PROTO_PAYLOAD_MAX + 1);
	out.len = PC_PROTO_PAYLOAD_MAX;
	while (pc_outmsg_frame(&out, iov)) {
		pc_outmsg_advance(&out);
		n++;
	}
	ck_assert_uint_eq(n, 1);
	out.off = 0;
	out.started = false;
	out.len = PC_PROTO_PAYLOAD_MAX + 1;
	n = 0;
	while (pc_outmsg_frame(&out, iov)) {
		ck_assert_int_eq(((uint8_t *)iov[0].iov_base)[7] & PC_PROTO_F_MORE, n == 0);
		pc_outmsg_advance(&out);
		n++;
	}
	ck_assert_uint_eq(n, 2);
	pc_outmsg_free(&out);
}
END_TEST

START_TEST(test_response_refusals)
{
	struct pc_outmsg out;
	struct pc_inmsg in = {0};
	struct pc_response resp;
	char reason[PC_PROTO_REASON_MAX];
	uint8_t buf[128];
	size_t n;

	ck_assert_int_eq(pc_outmsg_response(&out, 5, "x", NULL), -EINVAL);
	ck_assert_int_eq(pc_outmsg_response(&out, -1, "x", NULL), -EINVAL);

	/* A request where a response is due. */
	n = make_msg(buf, sizeof(buf), PC_MSG_REQUEST, 0, "{}", 2);
	ck_assert_int_eq(pc_inmsg_feed(&in, buf, n, reason, sizeof(reason)), -EINVAL);

	/* A daemon of another version: the client's wording. */
	n = make_msg(buf, sizeof(buf), PC_MSG_RESPONSE, 0, "{}", 2);
	buf[4] = PC_PROTO_VERSION + 1;
	ck_assert_int_eq(pc_inmsg_feed(&in, buf, n, reason, sizeof(reason)), -EPROTONOSUPPORT);
	char expect[PC_PROTO_REASON_MAX];
	snprintf(expect, sizeof(expect),
		 "portctl speaks protocol %d, portctld speaks %d: upgrade both", PC_PROTO_VERSION,
		 PC_PROTO_VERSION + 1);
	ck_assert_str_eq(reason, expect);

	/* Parsing before completion, and a bad status. */
	ck_assert_int_eq(pc_inmsg_parse(&in, &resp, reason, sizeof(reason)), -EINVAL);
	n = make_msg(buf, sizeof(buf), PC_MSG_RESPONSE, 0, "{\"status\":9}", 12);
	ck_assert_int_eq(pc_inmsg_feed(&in, buf, n, reason, sizeof(reason)), 1);
	ck_assert_int_eq(pc_inmsg_parse(&in, &resp, reason, sizeof(reason)), -EINVAL);
	/* Nothing may follow a complete response. */
	ck_assert_int_eq(pc_inmsg_feed(&in, buf, n, reason, sizeof(reason)), -EINVAL);
	pc_inmsg_free(&in);
}
END_TEST

START_TEST(test_client_call_socketpair)
{
	/* The client against a scripted peer that answers in two messages. */
	int sv[2];
	struct pc_response resp;
	char reason[PC_PROTO_REASON_MAX];
	uint8_t buf[PC_PROTO_MSG_MAX];
	struct pc_request req;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		n = recv(sv[1], buf, sizeof(buf), 0);
		if (n <= 0 || pc_request_decode(buf, n, &req, reason, sizeof(reason)) < 0)
			_exit(1);
		size_t m = make_msg(buf, sizeof(buf), PC_MSG_RESPONSE, PC_PROTO_F_MORE,
				    "{\"status\":0,", 12);
		send(sv[1], buf, m, 0);
		m = make_msg(buf, sizeof(buf), PC_MSG_RESPONSE, 0, "\"message\":\"ok\"}", 15);
		send(sv[1], buf, m, 0);
		_exit(streq(req.cmd, "version") ? 0 : 1);
	}
	close(sv[1]);
	ck_assert_int_eq(pc_client_call(sv[0], "version", NULL, 2000, &resp, reason,
					sizeof(reason)),
			 0);
	ck_assert_int_eq(resp.status, 0);
	ck_assert_str_eq(resp.message, "ok");
	pc_response_done(&resp);
	/* The peer is gone now: the next call reports a closed connection. */
	ck_assert_int_lt(pc_client_call(sv[0], "version", NULL, 2000, &resp, reason,
					sizeof(reason)),
			 0);
	close(sv[0]);
}
END_TEST

START_TEST(test_client_call_timeout)
{
	int sv[2];
	struct pc_response resp;
	char reason[PC_PROTO_REASON_MAX];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	ck_assert_int_eq(pc_client_call(sv[0], "status", NULL, 50, &resp, reason,
					sizeof(reason)),
			 -ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(reason, "in time"));
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_client_connect_missing)
{
	ck_assert_int_eq(pc_client_connect("/nonexistent/portctl.sock"), -ENOENT);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("request");

	tcase_add_test(tc, test_request_roundtrip);
	tcase_add_test(tc, test_request_no_args_gives_empty_object);
	tcase_add_test(tc, test_request_encode_refuses);
	tcase_add_test(tc, test_request_largest_fits);
	tcase_add_test(tc, test_request_too_large);
	tcase_add_test(tc, test_request_bad_header);
	tcase_add_test(tc, test_request_other_version);
	tcase_add_loop_test(tc, test_request_malformed, 0, ARRAY_SIZE(bad_payloads));
	tcase_add_test(tc, test_request_deep_nesting);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_test(tc, test_response_roundtrip_small);
	tcase_add_test(tc, test_response_roundtrip_large);
	tcase_add_test(tc, test_response_exact_payload_boundary);
	tcase_add_test(tc, test_response_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("client");
	tcase_add_test(tc, test_client_call_socketpair);
	tcase_add_test(tc, test_client_call_timeout);
	tcase_add_test(tc, test_client_connect_missing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
