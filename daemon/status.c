#include "status.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void server_status_init(struct server_status *st)
{
	memset(st, 0, sizeof(*st));
	st->read_only = st->super_read_only = -1;
	st->log_bin = st->log_slave_updates = st->gtid_strict_mode = -1;
	st->gtid_mode_on = st->enforce_gtid_consistency = -1;
	st->have_ssl = -1;
	st->repl.seconds_behind = -1;
	st->heartbeat_lag_ms = -1;
}

void server_status_clear(struct server_status *st)
{
	free(st->gtid_current_pos);
	free(st->gtid_binlog_pos);
	free(st->gtid_slave_pos);
	free(st->gtid_executed);
	free(st->repl.gtid_io_pos);
	free(st->repl.executed_gtid);
	server_status_init(st);
}

void server_status_copy(struct server_status *dst, const struct server_status *src)
{
	*dst = *src;
	dst->gtid_current_pos = xstrdup(src->gtid_current_pos);
	dst->gtid_binlog_pos = xstrdup(src->gtid_binlog_pos);
	dst->gtid_slave_pos = xstrdup(src->gtid_slave_pos);
	dst->gtid_executed = xstrdup(src->gtid_executed);
	dst->repl.gtid_io_pos = xstrdup(src->repl.gtid_io_pos);
	dst->repl.executed_gtid = xstrdup(src->repl.executed_gtid);
}

const char *server_status_gtid(const struct server_status *st)
{
	if (st->flavor == FLAVOR_MARIADB)
		return st->gtid_current_pos;
	if (st->flavor == FLAVOR_MYSQL80 || st->flavor == FLAVOR_MYSQL84)
		return st->gtid_executed;
	return NULL;
}

const char *flavor_name(enum flavor_id f)
{
	switch (f) {
	case FLAVOR_MARIADB: return "mariadb";
	case FLAVOR_MYSQL80: return "mysql8.0";
	case FLAVOR_MYSQL84: return "mysql8.4";
	default: return "unknown";
	}
}

const char *thread_state_name(enum thread_state t)
{
	switch (t) {
	case THREAD_NO: return "No";
	case THREAD_YES: return "Yes";
	case THREAD_CONNECTING: return "Connecting";
	default: return "unknown";
	}
}
