/* libFuzzer target for portctld's command handlers, end to end: each input
 * is read as a sequence of structured requests (a command from the table,
 * arguments built from words of the grammar, writer or reader peer) that go
 * through daemon_request, the one path and a real kernel, in a network
 * namespace of the fuzzer's own. Between inputs the daemon is put back to
 * the same start (panic off, no pending confirm, no bans, the CLI rules
 * file as it was, reloaded), so an input's effect is its own.
 *
 * Without libFuzzer (make check) it runs its seed corpus once; it needs
 * root for the namespace and skips (77) without it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/daemon/handlers.h"
#include "../../src/daemon/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const commands[] = {
	"version", "status", "zones", "services", "reload", "allow",  "deny",
	"reject",  "limit",  "insert", "delete",  "ban",    "unban",  "apply",
	"confirm", "panic",  "explain", "export", "diff",   "frob",
};

/* Words of the grammar, good and bad, that rules and arguments are made of. */
static const char *const words[] = {
	"allow", "deny", "reject", "limit", "in", "out", "22", "443/tcp", "80,443/tcp",
	"1000-2000/udp", "53", "8080/sctp", "https", "ssh", "web", "from", "to",
	"10.0.0.0/8", "10.0.0.1/8", "2001:db8::/32", "203.0.113.7", "fd99::1", "any", "zone",
	"public", "internal", "block", "nozone", "public,internal", "rate", "5/minute",
	"10/second", "burst", "3", "log", "comment", "\"x\"", "\"a b\"", "'allow 1/tcp'",
	"foo", "\\", "#", "caf\xc3\xa9", "\xff", "0", "65536", "-1", "service", "interface",
	"eth0", "policy", "default", "",
};

static struct daemon dm;
static char root[] = "/tmp/portctl-fuzz.XXXXXX";
static char path90[4300];

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct input *in, unsigned mod)
{
	unsigned v;

	if (in->n == 0)
		return 0;
	v = *in->p++;
	in->n--;
	return mod ? v % mod : v;
}

static char *words_text(struct input *in, unsigned max)
{
	unsigned n = take(in, max + 1);
	struct pc_strbuf sb = {0};

	for (unsigned i = 0; i < n; i++)
		pc_strbuf_printf(&sb, "%s%s", i ? " " : "", words[take(in, ARRAY_SIZE(words))]);
	if (!sb.buf)
		pc_strbuf_printf(&sb, "%s", "");
	return sb.buf;
}

/* Arguments for cmd from the input: the keys the handlers read, with
 * values of the right type most of the time and of the wrong one now and
 * then. */
static json_t *args_build(struct input *in, const char *cmd)
{
	json_t *args = json_object();
	unsigned flags = take(in, 0);
	char *text;

	if (!args)
		return NULL;
	text = words_text(in, 8);
	if (flags & 1) {
		/* Action commands want the rule to start with their name. */
		char *rule = NULL;

		if ((flags & 2) && asprintf(&rule, "%s %s", cmd, text) >= 0)
			json_object_set_new(args, "rule", json_string(rule));
		else
			json_object_set_new(args, "rule", json_string(text));
		free(rule);
	}
	if (flags & 4)
		json_object_set_new(args, "position", json_integer((json_int_t)take(in, 0) - 8));
	if (flags & 8)
		json_object_set_new(args, "number", json_integer((json_int_t)take(in, 12)));
	if (flags & 16)
		json_object_set_new(args, "comment", json_string(words[take(in, ARRAY_SIZE(words))]));
	if (flags & 32) {
		json_object_set_new(args, "address", json_string(words[take(in, ARRAY_SIZE(words))]));
		if (take(in, 2))
			json_object_set_new(args, "zone", json_string(words[take(in, ARRAY_SIZE(words))]));
		if (take(in, 2))
			json_object_set_new(args, "timeout", json_integer(take(in, 0)));
	}
	if (flags & 64) {
		static const char *const modes[] = {"on", "off", "x"};

		json_object_set_new(args, "mode", json_string(modes[take(in, 3)]));
		json_object_set_new(args, "all", json_boolean(take(in, 2)));
		json_object_set_new(args, "runtime", json_boolean(take(in, 2)));
	}
	if (flags & 128) {
		json_t *list = json_array();
		unsigned n = take(in, 6);

		for (unsigned i = 0; list && i < n; i++)
			json_array_append_new(list, json_string(words[take(in, ARRAY_SIZE(words))]));
		json_object_set_new(args, "words", list);
		json_object_set_new(args, "ssh_connection",
				    json_string("10.99.1.2 50000 10.99.1.1 22"));
		json_object_set_new(args, "force", json_boolean(take(in, 2)));
	}
	free(text);
	return args;
}

static void request_run(const char *cmd, json_t *args, bool may_write)
{
	struct pc_peer peer = {.pid = 1, .uid = may_write ? 0 : 65534, .may_write = may_write};
	struct pc_request req = {0};
	struct pc_reply reply = {0};

	snprintf(req.cmd, sizeof(req.cmd), "%s", cmd);
	req.args = args;
	daemon_request(&dm, &peer, &req, &reply);
	/* The server's promises: a status in range, always a message. */
	if (reply.status < PC_STATUS_OK || reply.status > PC_STATUS_MAX)
		abort();
	free(reply.message);
	json_decref(reply.data);
}

static void simple(const char *cmd, const char *key, const char *value)
{
	json_t *args = json_object();

	if (key)
		json_object_set_new(args, key, json_string(value));
	request_run(cmd, args, true);
	json_decref(args);
}

/* Back to the same start: what one input did must not leak into the next. */
static void daemon_reset(void)
{
	json_t *all = json_pack("{s:b}", "all", 1);

	if (dm.panic)
		simple("panic", "mode", "off");
	if (dm.pending)
		simple("confirm", NULL, NULL);
	request_run("unban", all, true);
	json_decref(all);
	unlink(path90);
	confirm_reload(&dm);
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static void root_remove(void)
{
	pc_state_remove_tree(root);
}

static int daemon_setup(void)
{
	static char etc[4200], rules[4200], state[4200], sock[4200];
	const char *top = getenv("top_srcdir");
	static char data[4200];
	int r;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0)
		return -EPERM;
	if (!mkdtemp(root))
		return -errno;
	atexit(root_remove);
	snprintf(etc, sizeof(etc), "%s/etc", root);
	snprintf(rules, sizeof(rules), "%s/etc/rules.d", root);
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(sock, sizeof(sock), "%s/sock", root);
	snprintf(data, sizeof(data), "%s/rules", top ? top : ".");
	snprintf(path90, sizeof(path90), "%s/90-portctl.rules", rules);
	if (mkdir(etc, 0755) < 0 || mkdir(rules, 0755) < 0)
		return -errno;
	r = write_file(etc, "portctl.conf", "socket-group = 0\n");
	if (r >= 0)
		r = write_file(rules, "10-zones.rules",
			       "zone internal interface lo0 source 10.99.0.0/16\n"
			       "allow 80/tcp\nlimit 22/tcp zone internal\n"
			       "deny from 192.0.2.0/24 log\n");
	if (r < 0)
		return r;
	pc_paths_default(&dm.paths);
	dm.paths.sysconf_dir = etc;
	dm.paths.data_dir = data;
	dm.paths.state_dir = state;
	dm.paths.socket_path = sock;
	dm.log_level_override = PC_LOG_ERR;
	log_set_max_level(PC_LOG_ERR);
	dm.cli_changes = dm.bans_allowed = true;
	r = pc_nl_open(&dm.nl);
	if (r < 0)
		return r;
	confirm_reload(&dm);
	return dm.applied ? 0 : -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct input in = {data, size};

	if (!ready) {
		int r = daemon_setup();

		if (r < 0) {
			fprintf(stderr, "fuzz_daemon: cannot set up a daemon (%s): needs root\n",
				strerror(-r));
			exit(77);
		}
		ready = 1;
	}
	/* At most 16 requests an input: deep enough, and fast. */
	for (int i = 0; i < 16 && in.n > 0; i++) {
		const char *cmd = commands[take(&in, ARRAY_SIZE(commands))];
		bool may_write = take(&in, 4) != 0;
		json_t *args = args_build(&in, cmd);

		if (args)
			request_run(cmd, args, may_write);
		json_decref(args);
	}
	daemon_reset();
	return 0;
}

#ifndef FUZZING
/* Without libFuzzer: every file of the seed corpus once. */
int main(int argc, char *argv[])
{
	const char *top = getenv("top_srcdir");
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	DIR *dp;
	int n = 0;

	(void)argc;
	(void)argv;
	if (asprintf(&dir, "%s/tests/fuzz/corpus/daemon", top ? top : ".") < 0)
		return EXIT_FAILURE;
	dp = opendir(dir);
	if (!dp) {
		perror(dir);
		return EXIT_FAILURE;
	}
	while ((de = readdir(dp))) {
		_cleanup_free_ char *path = NULL, *bytes = NULL;
		size_t len = 0;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 ||
		    pc_read_file(path, 1 << 20, &bytes, &len) < 0)
			return EXIT_FAILURE;
		LLVMFuzzerTestOneInput((const uint8_t *)bytes, len);
		n++;
	}
	closedir(dp);
	printf("%d corpus inputs ran\n", n);
	return n > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
#endif
