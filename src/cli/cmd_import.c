/* portctl import ufw|firewalld [DIR]: another firewall's configuration as
 * one portctl rules file on standard output, what could not be converted
 * on standard error. Needs neither the daemon nor root; the output is
 * checked with the rules parser before it is printed. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "import.h"
#include "portctl/config.h"
#include "portctl/diag.h"

static const char import_usage[] =
    "import ufw|firewalld [DIR]\n\n"
    "Read a ufw (DIR: /etc/ufw) or firewalld (DIR: /etc/firewalld)\n"
    "configuration and print it as one portctl rules file, e.g.\n"
    "  portctl import ufw > /etc/portctl/rules.d/50-from-ufw.rules\n"
    "What cannot be converted is reported on standard error. Exit status:\n"
    "0 all converted, 1 some parts not converted or DIR unreadable.\n";

/* Parse the text as portctl check would, the shipped zones and services
 * included: an import that portctl would refuse is a bug here, not the
 * administrator's to find. */
static int import_validate(struct cli_context *ctx, const char *text, size_t len)
{
	_cleanup_close_ int fd = memfd_create("portctl-import", MFD_CLOEXEC);
	_cleanup_free_ char *path = NULL;
	struct pc_config *cfg = NULL;
	struct pc_diags d;
	char *files[1];
	int r;

	/* A memfd is created 0777, which the loader rightly refuses. */
	if (fd < 0 || fchmod(fd, 0600) < 0)
		return -errno;
	r = pc_write_all(fd, text, len);
	if (r < 0)
		return r;
	if (asprintf(&path, "/proc/self/fd/%d", fd) < 0)
		return -ENOMEM;
	files[0] = path;
	pc_diags_init(&d);
	r = pc_config_load_files(&ctx->paths, files, 1, &cfg, &d);
	if (r < 0 || pc_diags_has_errors(&d)) {
		fprintf(stderr, "%s import: the result does not pass 'portctl check' (a bug):\n",
			ctx->prog);
		pc_diags_print(stderr, &d, cfg ? &cfg->sources : NULL);
		if (r >= 0)
			r = -EINVAL;
	}
	pc_config_free(cfg);
	pc_diags_free(&d);
	return r;
}

int cmd_import(struct cli_context *ctx, int argc, char *argv[])
{
	struct imp im = {.prog = ctx->prog};
	struct pc_strbuf out = {0};
	const char *from, *dir;
	int code, i, r;

	i = cli_options_parse(ctx, argc, argv, import_usage, &code);
	if (i < 0)
		return code;
	if (i == argc || argc - i > 2 || (!streq(argv[i], "ufw") && !streq(argv[i], "firewalld"))) {
		fprintf(stderr,
			"%s import: which firewall? 'ufw' or 'firewalld', then DIR if not %s\n"
			"Run '%s import --help' for usage.\n",
			ctx->prog,
			i < argc && streq(argv[i], "firewalld") ? "/etc/firewalld" : "/etc/ufw",
			ctx->prog);
		return CLI_EXIT_USAGE;
	}
	from = argv[i];
	dir = i + 1 < argc ? argv[i + 1] : streq(from, "ufw") ? "/etc/ufw" : "/etc/firewalld";

	r = streq(from, "ufw") ? import_ufw(&im, dir) : import_firewalld(&im, dir);
	if (r == 0 && !im.oom) {
		imp_printf(&im, &out,
			   "# Imported from %s's configuration in %s by 'portctl import %s'.\n",
			   from, dir, from);
		imp_printf(&im, &out, "%.*s", (int)im.head.len, im.head.buf ? im.head.buf : "");
		imp_printf(
		    &im, &out,
		    "# Check it ('portctl check'), then put it in /etc/portctl/rules.d/.\n"
		    "# portctl's defaults.rules ('allow ssh' in the default zone) still comes\n"
		    "# after these rules; an empty /etc/portctl/defaults.rules removes it.\n\n");
		imp_printf(&im, &out, "%.*s\n%.*s", (int)im.zones.len,
			   im.zones.buf ? im.zones.buf : "", (int)im.rules.len,
			   im.rules.buf ? im.rules.buf : "");
	}
	if (im.oom)
		r = -ENOMEM;
	if (r == 0)
		r = import_validate(ctx, out.buf, out.len);
	if (r == 0) {
		fwrite(out.buf, 1, out.len, stdout);
		if (fflush(stdout) != 0)
			r = -errno;
	}
	if (r == -ENOMEM)
		fprintf(stderr, "%s import: out of memory\n", ctx->prog);
	if (r == 0 && im.n_skipped > 0)
		fprintf(
		    stderr,
		    "%s import: %u item%s not converted (above); the rest is on standard output\n",
		    ctx->prog, im.n_skipped, im.n_skipped == 1 ? "" : "s");
	pc_strbuf_free(&im.head);
	pc_strbuf_free(&im.zones);
	pc_strbuf_free(&im.rules);
	pc_strbuf_free(&out);
	return r < 0 || im.n_skipped > 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
