/* Load, compile and apply a configuration as one step, shared by
 * `portctld --apply-once`, `--check` and the daemon's reloads. */
#ifndef PORTCTL_APPLY_H
#define PORTCTL_APPLY_H

#include "portctl/compile.h"
#include "portctl/config.h"
#include "portctl/diag.h"
#include "portctl/netlink.h"
#include "portctl/plan.h"

/* Where an apply stopped: decides the exit code (2 config, 1 the rest). */
enum pc_apply_stage {
	PC_APPLY_OK,
	PC_APPLY_CONFIG, /* the files are invalid (load or compile) */
	PC_APPLY_KERNEL, /* the kernel refused or could not be reached */
	PC_APPLY_STATE,  /* applied, but saving the last good copy failed */
};

/* A configuration with the ruleset compiled from it. The ruleset's objects
 * point into cfg's rules and zones, so both live and die together. */
struct pc_applied {
	struct pc_config *cfg;
	struct pc_ruleset *ruleset;
	/* The plan ruleset was lowered from, kept so that a CLI rule can be
	 * appended without compiling everything again; may be NULL. */
	struct pc_plan *plan;
	enum pc_apply_stage stage;
};

void pc_applied_free(struct pc_applied *a);

/*
 * Load (pc_config_load) and compile (pc_compile), touching no kernel.
 * *out is set even on failure when files were read, so that diagnostics can
 * show their lines (out->cfg->sources). Returns 0 or -errno (-EINVAL: the
 * configuration has errors, all in d).
 */
int pc_apply_prepare(const struct pc_paths *paths, struct pc_applied **out, struct pc_diags *d);

/*
 * Load, compile and apply in one transaction (pc_nl_apply); previous (may
 * be NULL) is what nl applied last and allows an element-only change. On
 * any error nothing changes in the kernel and d names FILE:LINE:COL. After a
 * clean apply the sources are saved under paths->state_dir (see
 * pc_state_save). *out as for pc_apply_prepare; (*out)->stage says where it
 * stopped. Returns 0 or -errno.
 */
int pc_apply_config(const struct pc_paths *paths, struct pc_nl *nl,
		    const struct pc_applied *previous, struct pc_applied **out,
		    struct pc_diags *d);

/*
 * The last configuration that applied cleanly is kept as a copy of the
 * files it was read from, laid out as a configuration directory:
 *   STATE/last-good/etc/   what came from paths->sysconf_dir (portctl.conf,
 *                          rules.d/ *.rules, overriding zone/service files)
 *   STATE/last-good/share/ what came from paths->data_dir (shipped files)
 * so loading it needs nothing but paths pointing there (pc_state_paths).
 * cfg is compared with what the copy holds (a length and a hash per file,
 * kept in memory), and only the files that differ are written: one replaced by a rename, more in a new
 * copy (unchanged files hard-linked) swapped in with one rename, so a crash
 * leaves either the old copy or the new one. The write is not made here but
 * STATE_SAVE_DELAY_MS later (pc_state_save_due, pc_state_flush), off the
 * request's path; a crash before it leaves the previous copy. Returns 0 or
 * -errno.
 */
int pc_state_save(const struct pc_paths *paths, const struct pc_config *cfg);
/* When the copy's pending write is due (CLOCK_MONOTONIC ms; UINT64_MAX:
 * none), and that write made now (0, nothing pending, or -errno). */
uint64_t pc_state_save_due(void);
int pc_state_flush(void);

/* Paths that load the saved copy; strings are kept in buf (PATH_MAX * 2). */
int pc_state_paths(const struct pc_paths *paths, struct pc_paths *out, char *buf, size_t size);

/*
 * The same kind of copy under another name in the state directory (e.g. the
 * configuration a pending "apply --confirm" rolls back to). from tells
 * where cfg's sources were read (their names start with its sysconf_dir or
 * data_dir); paths->state_dir is where the copy goes. Returns 0 or -errno.
 */
int pc_state_save_named(const struct pc_paths *paths, const struct pc_paths *from,
			const char *name, const struct pc_config *cfg);
int pc_state_paths_named(const struct pc_paths *paths, const char *name, struct pc_paths *out,
			 char *buf, size_t size);
/* Remove a directory tree; a missing one is fine. Returns 0 or -errno. */
int pc_state_remove_tree(const char *path);

#endif
