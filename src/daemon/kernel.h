/* The daemon's only caller of the kernel (kernel.c), called from state.c
 * alone. */
#ifndef PORTCTL_DAEMON_KERNEL_H
#define PORTCTL_DAEMON_KERNEL_H

#include <stdbool.h>

#include "portctl/compile.h"
#include "portctl/natscan.h"
#include "portctl/netlink.h"

int kernel_install(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
		   unsigned flags, struct pc_diags *d);
/* rs, made from old in place, carries element changes its plan has not
 * taken yet (rs->shared): only a difference against old installs it;
 * -ESTALE when the kernel no longer holds old. */
int kernel_install_edit(struct pc_nl *nl, const struct pc_ruleset *rs, const struct pc_ruleset *old,
			unsigned flags, struct pc_diags *d);
int kernel_remove(struct pc_nl *nl, struct pc_diags *d);
int kernel_install_elements(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_rule_append *app, bool add, struct pc_diags *d);
int kernel_install_elem_change(struct pc_nl *nl, const struct pc_ruleset *rs,
			       const struct pc_rule_append *del, const struct pc_rule_append *add,
			       struct pc_diags *d);
int kernel_read_counters_of(struct pc_nl *nl, const struct pc_ruleset *rs,
			    const struct pc_nl_counter_ref *refs, size_t n, uint64_t *packets,
			    uint64_t *bytes);
int kernel_verify(struct pc_nl *nl, const struct pc_ruleset *rs, struct pc_nl_mismatches *out);
int kernel_table_exists(struct pc_nl *nl);
int kernel_genid(struct pc_nl *nl, uint32_t *genid);
/* fn(data): did every commit of others since the last look leave table
 * inet portctl alone (drift_quiet)? With it, a transaction refused for
 * such a commit is sent again on what we applied, without a read-back. */
void kernel_quiet_hook(bool (*fn)(void *), void *data);
/* Another program's commit touched table inet portctl (or events were
 * lost): until our next install, nothing is built on what we applied. */
void kernel_table_touched(void);
/* A clean stop's memo of what the kernel holds (rs, installed last), and
 * the next start's taking it: see pc_nl_memo_make and pc_nl_memo_take. */
int kernel_memo_make(struct pc_nl *nl, const struct pc_ruleset *rs, char **out, size_t *len);
int kernel_memo_take(struct pc_nl *nl, const char *text, size_t len);
/* Other tables' DNAT rules (read only), for explain. */
int kernel_nat_scan(struct pc_nl *nl, struct pc_nat_scan *out);

#endif
