/* portctl ban / unban: drop every packet of an address ahead of all rules
 * and established connections (fail2ban's action), or lift that again. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "portctl/proto.h"

#define BAN_USAGE                                                                                  \
	"ban ADDRESS[/PREFIX] [--zone ZONE] [--timeout DURATION] [--by TAG] [--json]\n\n"                     \
	"Drop every packet from ADDRESS (and to it), established connections and\n"                \
	"ping included, ahead of every rule. Options may come before or after the\n"              \
	"address.\n\n"                                                                             \
	"  --zone ZONE          only where the packet's zone is ZONE (default: every zone)\n"   \
	"  --timeout DURATION   lift the ban after DURATION: seconds (600) or with s, m,\n"     \
	"                       h, d or w (10m, 2h, 1d); the kernel lifts it by itself\n"      \
	"                       even if portctld misses the time\n"                             \
	"  --by TAG             the ban is TAG's (a program: f2b-sshd); without it, the\n"     \
	"                       administrator's. An address banned by several holds\n"      \
	"                       until each owner lifts its own ban\n"

#define UNBAN_USAGE                                                                                \
	"unban ADDRESS[/PREFIX] [--zone ZONE] [--by TAG] [--json]\n"                               \
	"   or: portctl unban --all [--by TAG [--grace DURATION]] [--json]\n\n"                    \
	"Lift the ban of ADDRESS (of ZONE), or every ban. Lifting a ban that is not\n"             \
	"in force succeeds too, and says so.\n\n"                                                   \
	"  --by TAG             only TAG's ban: the address stays banned while another\n"      \
	"                       owner's ban holds it. Without --by, every owner's.\n"          \
	"  --grace DURATION     with --all --by: TAG's bans end within DURATION unless\n"     \
	"                       TAG bans them again (fail2ban's restart keeps its bans)\n"

struct ban_opts {
	const char *address, *zone, *by;
	uint32_t timeout, grace; /* seconds; 0: none */
	bool all;
};

static int ban_usage_error(const struct cli_context *ctx, const char *cmd, const char *what)
{
	fprintf(stderr, "%s %s: %s; '%s %s --help' says more\n", ctx->prog, cmd, what, ctx->prog,
		cmd);
	return CLI_EXIT_USAGE;
}

/* Options anywhere among the operands ("-" in the option string: getopt
 * hands every operand over in place, whatever POSIXLY_CORRECT says), as
 * fail2ban writes "ban ADDR --zone Z". Returns -1 to stop with *code. */
static int ban_opts_parse(struct cli_context *ctx, int argc, char *argv[], bool ban,
			  struct ban_opts *o, int *code)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},
		{"zone", required_argument, NULL, 'z'},
		{"timeout", required_argument, NULL, 't'},
		{"all", no_argument, NULL, 'a'},
		{"by", required_argument, NULL, 'b'},
		{"grace", required_argument, NULL, 'g'},
		{0},
	};
	const char *cmd = argv[0];
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "-hjz:t:ab:g:", options, NULL)) != -1) {
		switch (c) {
		case 1:
			if (o->address) {
				*code = ban_usage_error(ctx, cmd, "give exactly one ADDRESS");
				return -1;
			}
			o->address = optarg;
			break;
		case 'z':
			o->zone = optarg;
			break;
		case 't':
			r = ban ? pc_duration_parse(optarg, &o->timeout) : -EINVAL;
			if (r < 0) {
				*code = ban_usage_error(
				    ctx, cmd,
				    !ban	    ? "takes no --timeout (the ban's own ends it)"
				    : r == -ERANGE ? "--timeout is at most 3650 days"
						   : "--timeout takes a duration: 600, 10m, 2h, 1d");
				return -1;
			}
			break;
		case 'b':
			o->by = optarg;
			break;
		case 'g':
			r = ban ? -EINVAL : pc_duration_parse(optarg, &o->grace);
			if (r < 0) {
				*code = ban_usage_error(
				    ctx, cmd,
				    ban	    ? "takes no --grace (it is unban --all's)"
				    : r == -ERANGE ? "--grace is at most 3650 days"
						   : "--grace takes a duration: 600, 10m, 2h, 1d");
				return -1;
			}
			break;
		case 'a':
			if (ban) {
				*code = ban_usage_error(ctx, cmd, "takes no --all");
				return -1;
			}
			o->all = true;
			break;
		default:
			if (cli_option_common(ctx, c, cmd, ban ? BAN_USAGE : UNBAN_USAGE, code) < 0)
				return -1;
		}
	}
	if (o->all && (o->address || o->zone)) {
		*code = ban_usage_error(ctx, cmd, "--all takes no ADDRESS and no --zone");
		return -1;
	}
	if (o->grace && !(o->all && o->by)) {
		*code = ban_usage_error(ctx, cmd, "--grace goes with --all --by TAG");
		return -1;
	}
	if (!o->all && !o->address) {
		*code = ban_usage_error(ctx, cmd, ban ? "give an ADDRESS" : "give an ADDRESS or --all");
		return -1;
	}
	return 0;
}

static json_t *ban_args(const struct ban_opts *o)
{
	json_t *args = json_object();

	if (!args)
		return NULL;
	if ((o->address && json_object_set_new(args, "address", json_string(o->address)) < 0) ||
	    (o->zone && json_object_set_new(args, "zone", json_string(o->zone)) < 0) ||
	    (o->timeout && json_object_set_new(args, "timeout", json_integer(o->timeout)) < 0) ||
	    (o->all && json_object_set_new(args, "all", json_true()) < 0) ||
	    (o->by && json_object_set_new(args, "by", json_string(o->by)) < 0) ||
	    (o->grace && json_object_set_new(args, "grace", json_integer(o->grace)) < 0)) {
		json_decref(args);
		return NULL;
	}
	return args;
}

static int ban_run(struct cli_context *ctx, int argc, char *argv[], bool ban)
{
	struct ban_opts o = {0};
	json_t *args;
	int code, r;

	if (ban_opts_parse(ctx, argc, argv, ban, &o, &code) < 0)
		return code;
	args = ban_args(&o);
	if (!args)
		return CLI_EXIT_FAILURE;
	r = cli_daemon_simple(ctx, argv[0], args);
	json_decref(args);
	return r;
}

int cmd_ban(struct cli_context *ctx, int argc, char *argv[])
{
	return ban_run(ctx, argc, argv, true);
}

int cmd_unban(struct cli_context *ctx, int argc, char *argv[])
{
	return ban_run(ctx, argc, argv, false);
}
