/* portctl explain: which zone and rule decide a packet, and why. Asks
 * portctld about its live configuration; with --offline, or when the daemon
 * cannot be reached, evaluates the files the way "portctl check" loads them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "portctl/explain.h"
#include "portctl/proto.h"

#define EXPLAIN_TIMEOUT_MS 30000

static const char explain_usage[] =
    "explain in|out|forward PROTO PORT [from ADDR [port PORT]] [to ADDR] [on IFACE] [--offline]\n"
    "        [--json]\n"
    "\n"
    "Say what the firewall does with the first packet of a new connection:\n"
    "the zone chosen and why (source address, interface or default), the rule\n"
    "that decides it as FILE:LINE with its text, or the zone's policy, and the\n"
    "verdict (accept, drop or reject). The answer comes from the same compiled\n"
    "model that is loaded into the kernel.\n"
    "\n"
    "  PROTO      tcp, udp or sctp; or icmp|icmpv6 [TYPE] (echo-request when not\n"
    "             given) or proto NAME|NUMBER, without a PORT\n"
    "  PORT       the destination port, 1-65535\n"
    "  from ADDR  the source address (inbound: the remote host); without it, an\n"
    "             address no zone and no rule names stands for \"any\"\n"
    "  port PORT  after from ADDR: the source port\n"
    "  to ADDR    the destination address (outbound: the remote host)\n"
    "  on IFACE   the interface the packet comes in on (in) or leaves by (out);\n"
    "             without it, portctld takes the interface of its route to the\n"
    "             remote address, and offline the answer names the zones bound\n"
    "             to interfaces that it did not consider\n"
    "\n"
    "Options:\n"
    "  --offline   evaluate the configuration files, not the daemon's rules;\n"
    "              also what happens when portctld cannot be reached\n"
    "  -j, --json  print the answer as JSON\n"
    "  -h, --help  show this help\n"
    "\n"
    "Example: portctl explain in tcp 22 from 203.0.113.9 on eth0\n"
    "Exit status: 0 answered, 1 failure, 2 bad usage or invalid files.\n";

struct explain_opts {
	bool offline;
	char *words[PC_EXPLAIN_WORDS_MAX];
	int n_words;
};

/* Options may come anywhere (the words look nothing like them). Returns
 * -1 with *code set when done (help, usage error), else 0. */
static int explain_opts_parse(struct cli_context *ctx, int argc, char *argv[],
			      struct explain_opts *o, int *code)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (streq(a, "-h") || streq(a, "--help")) {
			printf("usage: %s %s", ctx->prog, explain_usage);
			*code = CLI_EXIT_OK;
			return -1;
		} else if (streq(a, "-j") || streq(a, "--json")) {
			ctx->json = true;
		} else if (streq(a, "--offline")) {
			o->offline = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr,
				"%s explain: unknown option '%s'\nRun '%s explain --help' "
				"for usage.\n",
				ctx->prog, a, ctx->prog);
			*code = CLI_EXIT_USAGE;
			return -1;
		} else if (o->n_words == PC_EXPLAIN_WORDS_MAX) {
			fprintf(stderr, "%s explain: too many words\n", ctx->prog);
			*code = CLI_EXIT_USAGE;
			return -1;
		} else {
			o->words[o->n_words++] = argv[i];
		}
	}
	return 0;
}

static int answer_print(struct cli_context *ctx, json_t *answer)
{
	const char *conf = json_string_value(json_object_get(answer, "configuration"));

	if (ctx->json)
		return cli_json_envelope(CLI_EXIT_OK, "", answer);
	if (json_is_true(json_object_get(answer, "panic")))
		printf("note:    PANIC MODE is on: the kernel drops everything but loopback; "
		       "this is what the rules say once it is off\n");
	if (conf && streq(conf, "files"))
		printf("source:  the files in %s (not the daemon's live rules)\n",
		       ctx->paths.sysconf_dir);
	pc_explain_print(stdout, answer);
	return CLI_EXIT_OK;
}

static int explain_offline(struct cli_context *ctx, const struct pc_explain_query *q)
{
	struct pc_config *cfg = NULL;
	json_t *answer = NULL;
	struct pc_diags d;
	int r, code;

	pc_diags_init(&d);
	r = pc_config_load(&ctx->paths, &cfg, &d);
	if (r >= 0 && !pc_diags_has_errors(&d))
		r = pc_explain_eval(cfg, q, &answer, &d);
	if (r < 0 || !answer) {
		pc_diags_print(stderr, &d, cfg ? &cfg->sources : NULL);
		fprintf(stderr,
			"%s explain: the configuration in %s is invalid; 'portctl check' "
			"shows every problem\n",
			ctx->prog, ctx->paths.sysconf_dir);
		code = r == -ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
		if (ctx->json)
			cli_json_envelope(code,
					  "the configuration is invalid; 'portctl check' shows "
					  "every problem",
					  NULL);
	} else {
		json_object_set_new(answer, "configuration", json_string("files"));
		code = answer_print(ctx, answer);
	}
	json_decref(answer);
	pc_config_free(cfg);
	pc_diags_free(&d);
	return code;
}

static int explain_daemon(struct cli_context *ctx, int fd, const struct explain_opts *o)
{
	char reason[PC_PROTO_REASON_MAX] = "";
	struct pc_response resp;
	json_t *words = json_array(), *args;
	int r;

	for (int i = 0; words && i < o->n_words; i++)
		json_array_append_new(words, json_string(o->words[i]));
	args = json_pack("{s:o}", "words", words);
	if (!args)
		return CLI_EXIT_FAILURE;
	r = pc_client_call(fd, "explain", args, EXPLAIN_TIMEOUT_MS, &resp, reason, sizeof(reason));
	json_decref(args);
	if (r < 0)
		return cli_error(ctx, r == -EPROTONOSUPPORT ? CLI_EXIT_FAILURE : CLI_EXIT_UNREACHABLE,
				 NULL, "%s: %s", ctx->paths.socket_path, reason);
	if (resp.status != PC_STATUS_OK || !resp.data)
		return cli_response_finish(ctx, &resp);
	r = answer_print(ctx, resp.data);
	pc_response_done(&resp);
	return r;
}

int cmd_explain(struct cli_context *ctx, int argc, char *argv[])
{
	struct explain_opts o = {0};
	struct pc_explain_query q;
	char err[256];
	int code, fd, r;

	if (explain_opts_parse(ctx, argc, argv, &o, &code) < 0)
		return code;
	/* Check the words here too: a typo is reported the same way online
	 * and offline, before any connection. */
	if (pc_explain_parse(o.n_words, o.words, &q, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s explain: %s\nRun '%s explain --help' for usage.\n", ctx->prog,
			err, ctx->prog);
		return CLI_EXIT_USAGE;
	}
	if (o.offline)
		return explain_offline(ctx, &q);
	fd = pc_client_connect(ctx->paths.socket_path);
	if (fd < 0) {
		if (!ctx->json)
			fprintf(stderr,
				"%s explain: portctld is not reachable at %s (%s): "
				"explaining the files instead\n",
				ctx->prog, ctx->paths.socket_path, strerror(-fd));
		return explain_offline(ctx, &q);
	}
	r = explain_daemon(ctx, fd, &o);
	close(fd);
	return r;
}
