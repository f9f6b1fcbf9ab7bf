/* Who may change the daemon's state on the control socket: the configured admin uids and gids,
 * decided once per client on accept, with the NSS answers for admin groups kept a minute.
 * control_update's new admin lists apply to clients that connect afterwards. */
#include "control_impl.h"
#include "util.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void copy_admins(struct control *ctl, const struct control_opts *o)
{
	memset(ctl->nss, 0, sizeof(ctl->nss));   /* new admin groups: every answer is stale */
	free(ctl->admin_uids);
	free(ctl->admin_gids);
	ctl->admin_uids = NULL;
	ctl->admin_gids = NULL;
	ctl->n_admin_uids = o->admin_uids ? o->n_admin_uids : 0;
	ctl->n_admin_gids = o->admin_gids ? o->n_admin_gids : 0;
	if (ctl->n_admin_uids) {
		ctl->admin_uids = xcalloc(ctl->n_admin_uids, sizeof(uid_t));
		memcpy(ctl->admin_uids, o->admin_uids, ctl->n_admin_uids * sizeof(uid_t));
	}
	if (ctl->n_admin_gids) {
		ctl->admin_gids = xcalloc(ctl->n_admin_gids, sizeof(gid_t));
		memcpy(ctl->admin_gids, o->admin_gids, ctl->n_admin_gids * sizeof(gid_t));
	}
}

/* uid 0, an admin uid, an admin primary gid, or any group the user is a member of.
 * getpwuid/getgrouplist go through NSS; they run only when admin groups are configured, and their
 * answer is kept a minute (control->nss): with LDAP or SSSD behind NSS a look-up can take long. */
bool peer_is_admin(struct control *ctl, const struct ucred *cred)
{
	struct passwd pw, *res = NULL;
	gid_t *groups;
	char *buf;
	long bufsz;
	int ng, i;
	size_t k;
	bool admin = false;

	if (cred->uid == 0)
		return true;
	for (k = 0; k < ctl->n_admin_uids; k++)
		if (ctl->admin_uids[k] == cred->uid)
			return true;
	for (k = 0; k < ctl->n_admin_gids; k++)
		if (ctl->admin_gids[k] == cred->gid)
			return true;
	if (ctl->n_admin_gids == 0)
		return false;
	for (k = 0; k < ARRAY_LEN(ctl->nss); k++)
		if (ctl->nss[k].until_ms > now_mono_ms() && ctl->nss[k].uid == cred->uid &&
		    ctl->nss[k].gid == cred->gid)
			return ctl->nss[k].admin;

	ctl->nss_lookups++;
	bufsz = sysconf(_SC_GETPW_R_SIZE_MAX);
	if (bufsz < 1024)
		bufsz = 16384;
	buf = xmalloc((size_t)bufsz);
	if (getpwuid_r(cred->uid, &pw, buf, (size_t)bufsz, &res) != 0 || res == NULL) {
		free(buf);
		return false;
	}
	ng = 64;
	groups = xcalloc((size_t)ng, sizeof(gid_t));
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0) {
		groups = xrealloc(groups, (size_t)ng * sizeof(gid_t));
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0)
			ng = 0;
	}
	for (i = 0; i < ng && !admin; i++)
		for (k = 0; k < ctl->n_admin_gids && !admin; k++)
			admin = groups[i] == ctl->admin_gids[k];
	free(groups);
	free(buf);
	ctl->nss[ctl->nss_next].uid = cred->uid;
	ctl->nss[ctl->nss_next].gid = cred->gid;
	ctl->nss[ctl->nss_next].admin = admin;
	ctl->nss[ctl->nss_next].until_ms = now_mono_ms() + 60000;
	ctl->nss_next = (ctl->nss_next + 1) % ARRAY_LEN(ctl->nss);
	return admin;
}

unsigned long control_nss_lookups(const struct control *ctl)
{
	return ctl->nss_lookups;
}
