/* "Another machine" for the tests: an sshd of their own on 127.0.0.1, with a host key, a
 * client key and a config made here, that lets root in with that key only.  cutoverctl reaches
 * a daemon through it at ssh://root@127.0.0.1:PORT/PATH when $CUTOVER_SSH names the client
 * config this writes (see ctl/remote.c). */
#include "it_members.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SSHD "/usr/sbin/sshd"

bool it_sshd_available(void)
{
	return access(SSHD, X_OK) == 0 && access("/usr/bin/ssh", X_OK) == 0 && access("/usr/bin/ssh-keygen", X_OK) == 0;
}

static void keygen(const char *path)
{
	const char *argv[] = { "/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cutoverd-it", "-f", path, NULL };
	char *out = NULL;
	int rc;

	unlink(path);
	{
		char pub[320];
		snprintf(pub, sizeof(pub), "%s.pub", path);
		unlink(pub);
	}
	rc = it_run(argv, true, &out, 20000);
	ck_assert_msg(rc == 0, "ssh-keygen %s exited %d: %s", path, rc, out ? out : "");
	free(out);
}

pid_t it_sshd_start(int port, char *ssh_cmd, size_t len)
{
	char dir[300], path[400], log[300], *text = NULL, *key = NULL;
	pid_t pid;
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/sshd", it.dir);
	mkdir(dir, 0700);
	mkdir("/run/sshd", 0755);   /* sshd's privilege separation directory */
	snprintf(path, sizeof(path), "%s/host_key", dir);
	keygen(path);
	snprintf(path, sizeof(path), "%s/client_key", dir);
	keygen(path);
	snprintf(path, sizeof(path), "%s/client_key.pub", dir);
	key = it_read_text(path);
	ck_assert_ptr_nonnull(key);
	snprintf(path, sizeof(path), "%s/authorized_keys", dir);
	ck_assert_int_eq(it_write_file(path, key, 0600), 0);
	free(key);
	ck_assert_int_ge(asprintf(&text,
				  "Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_key\nPidFile %s/sshd.pid\n"
				  "AuthorizedKeysFile %s/authorized_keys\nPasswordAuthentication no\n"
				  "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\n"
				  "UsePAM no\nLogLevel VERBOSE\nAllowTcpForwarding no\nX11Forwarding no\n",
				  port, dir, dir, dir),
			 0);
	snprintf(path, sizeof(path), "%s/sshd_config", dir);
	ck_assert_int_eq(it_write_file(path, text, 0600), 0);
	free(text);
	ck_assert_int_ge(asprintf(&text,
				  "Host *\n  IdentityFile %s/client_key\n  IdentitiesOnly yes\n  UserKnownHostsFile /dev/null\n"
				  "  StrictHostKeyChecking no\n  LogLevel ERROR\n",
				  dir),
			 0);
	snprintf(path, sizeof(path), "%s/ssh_config", dir);
	ck_assert_int_eq(it_write_file(path, text, 0600), 0);
	free(text);
	snprintf(ssh_cmd, len, "/usr/bin/ssh -F %s", path);

	snprintf(log, sizeof(log), "%s.sshd.log", it.dir);
	{
		char conf[400];
		const char *argv[] = { SSHD, "-D", "-e", "-f", conf, NULL };
		snprintf(conf, sizeof(conf), "%s/sshd_config", dir);
		pid = it_spawn(argv, log);
		ck_assert_int_gt(pid, 0);
	}
	/* ready when a login runs a command */
	{
		char portarg[16], cfg[400];
		const char *argv[] = { "/usr/bin/ssh", "-F", cfg, "-o", "BatchMode=yes", "-p", portarg, "root@127.0.0.1",
				       "true", NULL };
		snprintf(portarg, sizeof(portarg), "%d", port);
		snprintf(cfg, sizeof(cfg), "%s/ssh_config", dir);
		ck_assert_msg(IT_WAIT_UNTIL(15000, ({ char *out = NULL; rc = it_run(argv, true, &out, 5000); free(out);
						      rc == 0; })),
			      "the tests' sshd on 127.0.0.1:%d does not let root in (see %s)", port, log);
	}
	return pid;
}

void it_sshd_stop(pid_t *pid)
{
	reap(pid, SIGTERM);
}
