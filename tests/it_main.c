/* The integration-test runner: the suites of tests/it_*.c against a real sandbox (see it_lib.h).
 * Suites are listed here, not collected by the Makefile: it_lib.c and this file match the same
 * wildcard.  it_proxysql.c adds one suite per ProxySQL binary it finds ("proxysql-<version>"),
 * or a "proxysql" suite that says it is skipped; it_upgrade.c builds the Debian 13 root it needs
 * (tests/roots.sh) or adds an "upgrade" suite that says it is skipped.  Skipped suites are
 * counted at the end.
 * CK_RUN_SUITE / CK_RUN_CASE pick tests.  Tests always run in this process (CK_NOFORK):
 * the sandbox, the daemon and the cluster's state outlive a single test.  IT_TIME_LIMIT_S (1200)
 * bounds the whole run; past it everything started is stopped and the run fails. */
#include "it_lib.h"

#include <stdio.h>
#include <stdlib.h>

Suite *it_foundation_suite(void);
Suite *it_switchover_suite(void);
Suite *it_metrics_suite(void);
Suite *it_watchdog_suite(void);
Suite *it_safety_suite(void);
Suite *it_window_suite(void);
Suite *it_datacheck_suite(void);
Suite *it_ha_suite(void);
Suite *it_fleet_suite(void);
void it_proxysql_add_suites(SRunner *sr);
void it_upgrade_add_suites(SRunner *sr);
void it_mysql_add_suites(SRunner *sr);

int main(void)
{
	const char *limit = getenv("IT_TIME_LIMIT_S");
	SRunner *sr;
	int failed;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* about five minutes of suites, three more for two ProxySQL versions, and up to five for the
	 * upgrade suite: its Debian 13 root is built once (about two minutes, then cached) */
	it_install_guards(limit && atoi(limit) > 0 ? atoi(limit) : 1200);
	sr = srunner_create(it_foundation_suite());
	srunner_add_suite(sr, it_switchover_suite());
	srunner_add_suite(sr, it_metrics_suite());
	srunner_add_suite(sr, it_watchdog_suite());
	srunner_add_suite(sr, it_safety_suite());
	srunner_add_suite(sr, it_window_suite());
	srunner_add_suite(sr, it_datacheck_suite());
	srunner_add_suite(sr, it_ha_suite());
	srunner_add_suite(sr, it_fleet_suite());
	it_proxysql_add_suites(sr);
	it_upgrade_add_suites(sr);
	it_mysql_add_suites(sr);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	it_shutdown();
	failed = srunner_ntests_failed(sr);
	if (it_suites_skipped())
		printf("it: %d suite(s) SKIPPED (see the SKIPPED lines above)\n", it_suites_skipped());
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
