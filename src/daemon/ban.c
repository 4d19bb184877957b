/* Bans ("portctl ban ADDR", fail2ban's action): addresses dropped ahead of
 * every rule of their zones. The bans are part of the desired state: kept
 * in the state directory, composed into every transaction (start, reload,
 * confirm, rollback, CLI changes), lifted by unban or when they expire. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "handlers.h"

/* Ten years, as the CLI: a longer timeout is a typo, not a ban. */
#define BAN_TIMEOUT_MAX (3650u * 24 * 3600)

static int bans_refused(const struct daemon *dm, struct pc_reply *reply)
{
	if (dm->bans_allowed)
		return 0;
	reply_set(reply, PC_STATUS_DENIED,
		  "bans are turned off (bans = no in %s/portctl.conf): set bans = yes and run "
		  "'portctl reload' to allow them",
		  dm->paths.sysconf_dir);
	return -EPERM;
}

static int ban_owner_from_args(json_t *args, struct ban *b, struct pc_reply *reply)
{
	json_t *by = json_object_get(args, "by");

	if ((by && !json_is_null(by) && !json_is_string(by)) ||
	    ban_owner_set(b, json_string_value(by)) < 0)
		return reply_set(reply, PC_STATUS_USAGE,
				 "\"by\" must be up to %d letters, digits, '.', '_' or '-' "
				 "(f2b-sshd)",
				 BAN_OWNER_MAX),
		       -EINVAL;
	return 0;
}

/* Why the address of a ban was refused, in the words of a rules file's
 * error ("'10.0.0.1/8' has host bits set after the prefix"), rather than a
 * general description that leaves the user to spot the mistake. */
static int address_refused(const char *addr, struct pc_reply *reply)
{
	struct pc_prefix p;
	struct pc_diags d;

	pc_diags_init(&d);
	if (addr && pc_prefix_parse(addr, &p, &d) < 0 && d.n > 0)
		reply_set(reply, PC_STATUS_USAGE, "%s%s%s", d.items[0].message,
			  d.items[0].hint ? ": " : "", d.items[0].hint ? d.items[0].hint : "");
	else
		reply_set(reply, PC_STATUS_USAGE,
			  "\"address\" must be an IPv4 or IPv6 address, optionally with "
			  "a prefix length (203.0.113.7, 2001:db8::/64), and \"zone\" a "
			  "zone name");
	pc_diags_free(&d);
	return -EINVAL;
}

static int ban_from_args(json_t *args, struct ban *b, struct pc_reply *reply)
{
	const char *addr = json_string_value(json_object_get(args, "address"));
	json_t *zone = json_object_get(args, "zone"), *timeout = json_object_get(args, "timeout");
	uint64_t expires = 0;

	if (timeout && !json_is_null(timeout)) {
		if (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
		    json_integer_value(timeout) > BAN_TIMEOUT_MAX)
			return reply_set(reply, PC_STATUS_USAGE,
					 "\"timeout\" must be 1 to %u seconds", BAN_TIMEOUT_MAX),
			       -EINVAL;
		expires = (uint64_t)time(NULL) + (uint64_t)json_integer_value(timeout);
	}
	if (zone && !json_is_null(zone) && !json_is_string(zone))
		return reply_set(reply, PC_STATUS_USAGE,
				 "\"zone\" must be a zone name ('portctl zones' lists them)"),
		       -EINVAL;
	if (ban_parse(addr, json_is_string(zone) ? json_string_value(zone) : NULL, expires, b) <
	    0)
		return address_refused(addr, reply);
	return ban_owner_from_args(args, b, reply);
}

/* Whether the address of the claim at i is claimed by another owner too
 * (the claims on one address lie together). */
static bool ban_claimed_by_others(const struct bans *bans, size_t i)
{
	return (i > 0 && ban_same_place(&bans->items[i - 1], &bans->items[i])) ||
	       (i + 1 < bans->n && ban_same_place(&bans->items[i + 1], &bans->items[i]));
}

/* The bans become next (taken when done): in place when the model allows, else the one
 * path with everything composed. one: the ban added, changed or (unban)
 * taken away, when it is the only difference (NULL: several). */
static int bans_change(struct daemon *dm, struct bans *next, const struct ban_edit *one,
		       struct pc_reply *reply)
{
	struct next nx = {.bans = next, .panic = -1, .source = dm->source,
			  .intro = "the ban was refused, nothing changed:"};
	int r = state_bans_in_place(dm, next, one);

	if (r != 0)
		return r;
	return state_commit(dm, &nx, reply);
}

int cmd_ban(struct daemon *dm, const struct pc_peer *peer, json_t *args, struct pc_reply *reply)
{
	char summary[BAN_ADDR_MAX + PC_NAME_MAX + BAN_OWNER_MAX + 32];
	struct bans next = {0};
	struct ban b;
	struct ban_edit edit = {.ban = &b};
	ssize_t place, i;
	int r;

	if (bans_refused(dm, reply) < 0 || ban_from_args(args, &b, reply) < 0)
		return 0;
	ban_summary(&b, summary, sizeof(summary));
	place = bans_place(&dm->bans, &b);
	if (place < 0) {
		/* A new address, the common case (fail2ban): no copy. */
		edit.at = dm->bans.n;
		r = bans_view_append(&dm->bans, &b, &next);
	} else {
		edit.at = (size_t)place;
		i = bans_index(&dm->bans, &b);
		if (i >= 0 && dm->bans.items[i].expires == b.expires)
			return reply_set(reply, PC_STATUS_OK, "%s is already banned", summary);
		if (i >= 0 && !ban_claimed_by_others(&dm->bans, (size_t)i)) {
			/* Banned again with another timeout (or within a flush's
			 * grace): the new one holds, as the newest ban. */
			edit.at = dm->bans.n - 1;
			r = bans_view_renew(&dm->bans, (size_t)i, &b, &next);
		} else {
			r = bans_copy(&dm->bans, &next);
			if (r >= 0 && i >= 0)
				next.items[i].expires = b.expires;
			else if (r >= 0)
				r = bans_insert(&next, &b);
		}
	}
	if (r >= 0)
		r = bans_change(dm, &next, &edit, reply);
	bans_release(&next, &dm->bans);
	if (r >= 0)
		change_done(peer, "banned", false, summary, reply);
	return r == -ECANCELED ? 0 : r;
}

/* unban --all --by TAG [--grace SECONDS]: TAG's bans lifted, or with a
 * grace ending by then unless TAG bans them again (a restart of fail2ban,
 * whose flush cannot say whether it stops for good). */
static int unban_all_by(struct daemon *dm, const struct pc_peer *peer, const char *owner,
			uint64_t grace, struct pc_reply *reply)
{
	uint64_t end = (uint64_t)time(NULL) + grace;
	char summary[BAN_OWNER_MAX + 64];
	struct bans next = {0};
	size_t n = 0, kept = 0;
	int r = bans_copy(&dm->bans, &next);

	if (r < 0)
		return r;
	for (size_t i = 0; i < next.n; i++) {
		struct ban *b = &next.items[i];

		if (!streq(b->owner, owner)) {
			next.items[kept++] = *b;
			continue;
		}
		n++;
		if (!grace)
			continue;
		if (!b->expires || b->expires > end)
			b->expires = end;
		next.items[kept++] = *b;
	}
	next.n = kept;
	if (!n) {
		bans_clear(&next);
		return reply_set(reply, PC_STATUS_OK, "no address is banned by %s", owner);
	}
	snprintf(summary, sizeof(summary), "all %zu bans by %s", n, owner);
	r = bans_change(dm, &next, NULL, reply);
	bans_clear(&next);
	if (r >= 0 && grace) {
		char left[32];

		pc_duration_format(grace, left, sizeof(left));
		change_done(peer, "set to end", false, summary, reply);
		reply_set(reply, PC_STATUS_OK,
			  "%s end in %s unless %s bans them again ('portctl unban --all --by %s' "
			  "lifts them now)",
			  summary, left, owner, owner);
	} else if (r >= 0)
		change_done(peer, "unbanned", false, summary, reply);
	return r == -ECANCELED ? 0 : r;
}

int cmd_unban(struct daemon *dm, const struct pc_peer *peer, json_t *args,
	      struct pc_reply *reply)
{
	char summary[BAN_ADDR_MAX + PC_NAME_MAX + BAN_OWNER_MAX + 32];
	json_t *grace = json_object_get(args, "grace");
	struct bans next = {0};
	size_t end, removed;
	uint64_t left;
	struct ban b;
	ssize_t i;
	int r;

	if (bans_refused(dm, reply) < 0)
		return 0;
	if (grace && !json_is_null(grace) &&
	    (!json_is_integer(grace) || json_integer_value(grace) < 1 ||
	     json_integer_value(grace) > BAN_TIMEOUT_MAX))
		return reply_set(reply, PC_STATUS_USAGE, "\"grace\" must be 1 to %u seconds",
				 BAN_TIMEOUT_MAX);
	if (json_is_true(json_object_get(args, "all"))) {
		if (ban_owner_from_args(args, &b, reply) < 0)
			return 0;
		if (b.owner[0])
			return unban_all_by(dm, peer, b.owner,
					    grace ? (uint64_t)json_integer_value(grace) : 0, reply);
		if (grace && !json_is_null(grace))
			return reply_set(reply, PC_STATUS_USAGE,
					 "\"grace\" takes \"by\": the bans of whom");
		if (dm->bans.n == 0)
			return reply_set(reply, PC_STATUS_OK, "no address is banned");
		snprintf(summary, sizeof(summary), "all %zu bans", dm->bans.n);
		r = bans_change(dm, &next, NULL, reply);
		if (r >= 0)
			change_done(peer, "unbanned", false, summary, reply);
		return r == -ECANCELED ? 0 : r;
	}
	if (grace && !json_is_null(grace))
		return reply_set(reply, PC_STATUS_USAGE, "\"grace\" takes \"all\"");
	if (ban_from_args(args, &b, reply) < 0)
		return 0;
	ban_summary(&b, summary, sizeof(summary));
	/* By an owner: its claim only. By the administrator: every claim. */
	i = b.owner[0] ? bans_index(&dm->bans, &b) : bans_place(&dm->bans, &b);
	/* fail2ban takes any other exit than 0 for an error. */
	if (i < 0)
		return reply_set(reply, PC_STATUS_OK, "%s was not banned: nothing to do",
				 summary);
	/* The claims on one address and zone lie together. */
	for (end = (size_t)i + 1; !b.owner[0] && end < dm->bans.n &&
				  ban_same_place(&dm->bans.items[end], &b);
	     end++)
		;
	removed = end - (size_t)i;
	b.expires = dm->bans.items[i].expires;
	snprintf(b.owner, sizeof(b.owner), "%s", dm->bans.items[i].owner);
	r = bans_view_without(&dm->bans, (size_t)i, removed, &next);
	if (r < 0)
		return r;
	/* One claim: one journal record; several: the bans written whole. */
	r = bans_change(dm, &next,
			removed == 1 ? &(struct ban_edit){.ban = &b, .unban = true, .at = (size_t)i}
				     : NULL,
			reply);
	bans_release(&next, &dm->bans);
	if (r >= 0 && bans_effective(&dm->bans, &b, (size_t)i, &left)) {
		reply_set(reply, PC_STATUS_OK, "%s stays banned: another owner's ban holds it",
			  summary);
		return 0;
	}
	if (r >= 0)
		change_done(peer, "unbanned", false, summary, reply);
	return r == -ECANCELED ? 0 : r;
}

uint64_t bans_deadline(const struct daemon *dm)
{
	uint64_t next = dm->bans_expiry, now = (uint64_t)time(NULL);

	if (!next)
		return UINT64_MAX;
	return expiry_retry_hold(&dm->bans_retry,
				 pc_now_ms() + (next > now ? (next - now) * 1000 : 0));
}

/* Expiries lifted one at a time, each as an unban of its claim; more at
 * once (a flush's grace ended, a wake from suspend), all together. */
#define EXPIRE_ONE_BY_ONE 8

static bool ban_due(const struct ban *b, uint64_t now)
{
	return b->expires && b->expires <= now;
}

/* The first due claim's: an unban of it, in place when the model allows
 * (O(1) of the other bans, nothing sent: the kernel let it lapse), as
 * fail2ban's unban would be. */
static int expire_one(struct daemon *dm, uint64_t now, struct pc_reply *reply)
{
	struct bans next = {0};
	struct ban b;
	size_t i = 0;
	int r;

	while (i < dm->bans.n && !ban_due(&dm->bans.items[i], now))
		i++;
	if (i == dm->bans.n)
		return -ENOENT;
	b = dm->bans.items[i];
	r = bans_view_without(&dm->bans, i, 1, &next);
	if (r >= 0)
		r = bans_change(dm, &next, &(struct ban_edit){.ban = &b, .unban = true, .at = i},
				reply);
	bans_release(&next, &dm->bans);
	return r;
}

void bans_expire_due(struct daemon *dm)
{
	struct pc_reply reply = {0};
	struct bans next = {0};
	uint64_t now = (uint64_t)time(NULL);
	size_t due = 0, gone = 0;
	int r = 0;

	for (size_t i = 0; i < dm->bans.n; i++)
		due += ban_due(&dm->bans.items[i], now);
	/* The kernel let them lapse already; the model and the file follow. */
	if (due && due <= EXPIRE_ONE_BY_ONE) {
		for (; gone < due && r >= 0; gone += r >= 0)
			r = expire_one(dm, now, &reply);
	} else if (due) {
		r = bans_copy(&dm->bans, &next);
		if (r >= 0)
			gone = bans_expire(&next, now);
		if (r >= 0)
			r = bans_change(dm, &next, NULL, &reply);
		gone = r >= 0 ? gone : 0;
		bans_clear(&next);
	}
	if (!due)
		dm->bans_expiry = bans_next_expiry(&dm->bans);
	if (gone)
		log_notice("%zu ban(s) expired", gone);
	if (r < 0) {
		expiry_retry_failed(&dm->bans_retry);
		log_error("expired bans could not be lifted (tried again in %" PRIu64 " s): %s",
			  dm->bans_retry.wait_ms / 1000, reply.message ? reply.message : "");
	} else {
		expiry_retry_done(&dm->bans_retry);
	}
	free(reply.message);
	json_decref(reply.data);
}
