/* Test helper: apply a configuration, then bans read from stdin, the way
 * the daemon does: the ban sets of a second compiled ruleset remade from
 * the bans (pc_ruleset_bans_update), sent as a difference to the applied
 * one. Each input line "bans [ADDR[/LEN][@ZONE][+SECONDS]]..." replaces the
 * bans; the answer line is "ok incremental|full MESSAGES" or "error ...".
 * Prints "ready" after the first apply. */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "portctl/apply.h"

static int ban_parse(struct pc_config *cfg, char *word)
{
	struct pc_prefix p = { 0 };
	char *secs = strchr(word, '+'), *zone, *slash;
	uint64_t expires = 0;

	if (secs) {
		*secs++ = '\0';
		expires = (uint64_t)time(NULL) + strtoull(secs, NULL, 10);
	}
	zone = strchr(word, '@');
	if (zone)
		*zone++ = '\0';
	slash = strchr(word, '/');
	if (slash)
		*slash++ = '\0';
	p.family = strchr(word, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p.family, word, p.addr) != 1)
		return -EINVAL;
	p.len = slash ? (uint8_t)atoi(slash) : p.family == AF_INET ? 32 : 128;
	return pc_config_ban_add(cfg, &p, zone, expires);
}

static int bans_set(struct pc_config *cfg, char *line, struct pc_diags *d)
{
	char *save = NULL;
	int r = 0;

	cfg->n_bans = 0;
	for (char *w = strtok_r(line, " \n", &save); r >= 0 && w; w = strtok_r(NULL, " \n", &save))
		r = ban_parse(cfg, w);
	for (size_t i = 0; r >= 0 && i < cfg->n_bans; i++)
		r = pc_config_validate_ban(cfg, i, d);
	return r;
}

int main(int argc, char *argv[])
{
	struct pc_paths paths = { 0 };
	struct pc_applied *a = NULL;
	struct pc_ruleset *spare = NULL, *cur;
	struct pc_nl *nl = NULL;
	struct pc_diags d;
	char line[4096];
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: banapply CONFIG_DIR DATA_DIR STATE_DIR\n");
		return 2;
	}
	paths.sysconf_dir = argv[1];
	paths.data_dir = argv[2];
	paths.state_dir = argv[3];
	setvbuf(stdout, NULL, _IOLBF, 0);
	pc_diags_init(&d);
	r = pc_nl_open(&nl);
	if (r >= 0)
		r = pc_apply_prepare(&paths, &a, &d);
	if (r >= 0)
		r = pc_compile(a->cfg, &spare, &d);
	if (r >= 0)
		r = pc_nl_apply(nl, a->ruleset, NULL, 0, &d);
	if (r < 0) {
		pc_diags_print(stderr, &d, a && a->cfg ? &a->cfg->sources : NULL);
		fprintf(stderr, "banapply: %s\n", strerror(-r));
		return 1;
	}
	cur = a->ruleset;
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "bans", 4) != 0) {
			printf("error: unknown command\n");
			continue;
		}
		pc_diags_free(&d);
		pc_diags_init(&d);
		r = bans_set(a->cfg, line + 4, &d);
		if (r >= 0)
			r = pc_ruleset_bans_update(spare, a->cfg);
		if (r >= 0)
			r = pc_nl_apply(nl, spare, cur, 0, &d);
		if (r < 0) {
			pc_diags_print(stdout, &d, &a->cfg->sources);
			printf("error: %s\n", strerror(-r));
			continue;
		}
		/* The applied one becomes the spare, whose ban sets the next
		 * line remakes. */
		a->ruleset = spare;
		spare = cur;
		cur = a->ruleset;
		printf("ok %s %zu\n", pc_nl_last_stats(nl)->incremental ? "incremental" : "full",
		       pc_nl_last_stats(nl)->n_msgs);
	}
	pc_ruleset_free(spare);
	pc_applied_free(a);
	pc_diags_free(&d);
	pc_nl_close(nl);
	return 0;
}
