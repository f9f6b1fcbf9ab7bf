/* etcd's v3 JSON gateway (see etcd.h). */
#include "etcd.h"
#include "log.h"
#include "util.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct etcd {
	struct event_base *base;
	char **urls, **hosts;             /* owned */
	int *ports;
	size_t n, cur;
	int timeout_ms;
	/* the call running */
	bool busy;
	char path[48];
	char *body;                       /* owned: the request body */
	etcd_cb cb;
	void *arg;
	int64_t deadline_us;
	size_t tried;
	struct evhttp_connection *conn;
	struct evhttp_request *req;       /* while it is out */
	int status;                       /* its answer: HTTP status, 0 = none */
	char *answer;                     /* owned: its body */
	size_t answer_len;
	struct event *step;               /* deferred: what follows an answer (out of evhttp's callback) */
	struct event *deadline;
	char lasterr[200];
	char *source;                     /* owned: the local address connections leave from, or NULL */
};

/* ------------------------------------------------------------------------------------------ */
/* base64 */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *etcd_b64(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

char *etcd_unb64(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = xmalloc(n / 4 * 3 + 4);
	unsigned v = 0;
	int bits = 0;

	for (i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(b64chars, s[i]);
		if (!p || !s[i]) {
			free(out);
			return NULL;
		}
		v = (v << 6) | (unsigned)(p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((v >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return out;
}

/* ------------------------------------------------------------------------------------------ */
/* bodies */

static json_t *b64_string(const char *s)
{
	char *b = etcd_b64(s);
	json_t *j = json_string(b);
	free(b);
	return j;
}

static json_t *num_string(long long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", v);
	return json_string(buf);
}

json_t *etcd_body_create(const char *key, const char *value, long long lease)
{
	json_t *put = json_pack("{s:o, s:o}", "key", b64_string(key), "value", b64_string(value));

	if (lease)
		json_object_set_new(put, "lease", num_string(lease));
	return json_pack("{s:[{s:o, s:s, s:s}], s:[{s:o}], s:[{s:{s:o}}]}", "compare", "key", b64_string(key), "target",
			 "CREATE", "create_revision", "0", "success", "requestPut", put, "failure", "requestRange", "key",
			 b64_string(key));
}

json_t *etcd_body_guarded_put(const char *guard, long long rev, const char *guard_value, const char *key,
			      const char *value)
{
	json_t *b = json_pack("{s:[{s:o, s:s, s:o}], s:[{s:{s:o, s:o}}], s:[{s:{s:o}}]}", "compare", "key",
			      b64_string(guard), "target", "CREATE", "create_revision", num_string(rev), "success",
			      "requestPut", "key", b64_string(key), "value", b64_string(value), "failure",
			      "requestRange", "key", b64_string(guard));

	/* the key as this member wrote it: one rewritten by hand keeps its create_revision */
	if (guard_value)
		json_array_append_new(json_object_get(b, "compare"),
				      json_pack("{s:o, s:s, s:o}", "key", b64_string(guard), "target", "VALUE", "value",
						b64_string(guard_value)));
	return b;
}

/* Every key that starts with prefix: range_end is prefix with its last byte plus one. */
json_t *etcd_body_prefix(const char *prefix)
{
	char *end = xstrdup(prefix);
	size_t n = strlen(end);
	json_t *j;

	while (n && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n)
		end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	j = json_pack("{s:o, s:o}", "key", b64_string(prefix), "range_end", n ? b64_string(end) : json_string("AA=="));
	free(end);
	return j;
}

json_t *etcd_body_guarded_delete(const char *key, long long rev)
{
	return json_pack("{s:[{s:o, s:s, s:o}], s:[{s:{s:o}}]}", "compare", "key", b64_string(key), "target", "CREATE",
			 "create_revision", num_string(rev), "success", "requestDeleteRange", "key", b64_string(key));
}

/* ------------------------------------------------------------------------------------------ */
/* answers */

void etcd_result_clear(struct etcd_result *r)
{
	size_t i;
	for (i = 0; i < r->n_kvs; i++) {
		free(r->kvs[i].key);
		free(r->kvs[i].value);
	}
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

/* A 64-bit number the gateway writes as a string (or, rarely, a number); absent: 0. */
static long long num_of(const json_t *j)
{
	if (json_is_integer(j))
		return json_integer_value(j);
	if (json_is_string(j))
		return strtoll(json_string_value(j), NULL, 10);
	return 0;
}

static int add_kvs(struct etcd_result *r, const json_t *kvs)
{
	size_t i;
	const json_t *kv;

	json_array_foreach(kvs, i, kv) {
		struct etcd_kv *x;
		const char *k = json_string_value(json_object_get(kv, "key"));
		const char *v = json_string_value(json_object_get(kv, "value"));
		r->kvs = xrealloc(r->kvs, (r->n_kvs + 1) * sizeof(*r->kvs));
		x = &r->kvs[r->n_kvs++];
		memset(x, 0, sizeof(*x));
		x->key = etcd_unb64(k ? k : "");
		x->value = etcd_unb64(v ? v : "");
		if (!x->key || !x->value) {
			snprintf(r->errmsg, sizeof(r->errmsg), "a key or value that is not base64");
			return -1;
		}
		x->create_revision = num_of(json_object_get(kv, "create_revision"));
		x->mod_revision = num_of(json_object_get(kv, "mod_revision"));
		x->lease = num_of(json_object_get(kv, "lease"));
	}
	return 0;
}

int etcd_parse(const char *path, const char *body, size_t len, struct etcd_result *r)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, &je), *x;
	size_t i;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(j)) {
		snprintf(r->errmsg, sizeof(r->errmsg), "an answer that is not JSON: %s", je.text);
		json_decref(j);
		r->err = -1;
		return -1;
	}
	if (json_object_get(j, "error") || (json_object_get(j, "code") && json_object_get(j, "message"))) {
		const char *m = json_string_value(json_object_get(j, "message"));
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", m ? m : json_string_value(json_object_get(j, "error")) ?: "error");
		json_decref(j);
		r->err = -1;
		return -1;
	}
	if (json_object_get(j, "result"))   /* keepalive: a stream of {"result": …} */
		x = json_object_get(j, "result");
	else
		x = j;
	r->revision = num_of(json_object_get(json_object_get(x, "header"), "revision"));
	if (!strcmp(path, "/v3/lease/grant") || !strcmp(path, "/v3/lease/keepalive")) {
		r->lease_id = num_of(json_object_get(x, "ID"));
		r->ttl = num_of(json_object_get(x, "TTL"));
	} else if (!strcmp(path, "/v3/kv/txn")) {
		const json_t *resp;
		r->succeeded = json_is_true(json_object_get(x, "succeeded"));
		json_array_foreach(json_object_get(x, "responses"), i, resp) {
			const json_t *rr = json_object_get(resp, "response_range");
			if (rr && add_kvs(r, json_object_get(rr, "kvs")) < 0)
				rc = -1;
		}
	} else if (!strcmp(path, "/v3/kv/range")) {
		if (add_kvs(r, json_object_get(x, "kvs")) < 0)
			rc = -1;
	}
	json_decref(j);
	if (rc < 0)
		r->err = -1;
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* the calls */

static int parse_url(const char *url, char **host, int *port)
{
	const char *p = url, *colon;
	unsigned char buf[16];
	long long v;
	char h[64];

	if (strncmp(p, "http://", 7))
		return -1;
	p += 7;
	colon = strrchr(p, ':');
	if (!colon || (size_t)(colon - p) >= sizeof(h) || !parse_ll(colon + 1, 1, 65535, &v))
		return -1;
	memcpy(h, p, (size_t)(colon - p));
	h[colon - p] = '\0';
	if (inet_pton(AF_INET, h, buf) != 1)
		return -1;
	*host = xstrdup(h);
	*port = (int)v;
	return 0;
}

static void step_cb(evutil_socket_t fd, short what, void *arg);
static void deadline_cb(evutil_socket_t fd, short what, void *arg);

struct etcd *etcd_new(struct event_base *base, const char *const *endpoints, size_t n, int timeout_ms, char *err,
		      size_t errlen)
{
	struct etcd *e = xcalloc(1, sizeof(*e));
	size_t i;

	e->base = base;
	e->timeout_ms = timeout_ms;
	e->urls = xcalloc(n ? n : 1, sizeof(*e->urls));
	e->hosts = xcalloc(n ? n : 1, sizeof(*e->hosts));
	e->ports = xcalloc(n ? n : 1, sizeof(*e->ports));
	for (i = 0; i < n; i++) {
		if (parse_url(endpoints[i], &e->hosts[i], &e->ports[i]) < 0) {
			snprintf(err, errlen, "etcd endpoint '%s': not http://ADDRESS:PORT with a numeric IPv4 address",
				 endpoints[i]);
			e->n = i;
			etcd_free(e);
			return NULL;
		}
		e->urls[i] = xstrdup(endpoints[i]);
		e->n = i + 1;
	}
	if (!n) {
		snprintf(err, errlen, "no etcd endpoint");
		etcd_free(e);
		return NULL;
	}
	e->step = event_new(base, -1, 0, step_cb, e);
	e->deadline = evtimer_new(base, deadline_cb, e);
	return e;
}

const char *etcd_endpoint(const struct etcd *e)
{
	return e->urls[e->cur];
}

bool etcd_busy(const struct etcd *e)
{
	return e->busy;
}

static void drop_conn(struct etcd *e)
{
	if (e->req) {
		evhttp_cancel_request(e->req);
		e->req = NULL;
	}
	if (e->conn) {
		evhttp_connection_free(e->conn);
		e->conn = NULL;
	}
}

static void complete(struct etcd *e, int err, const char *msg)
{
	struct etcd_result r;
	etcd_cb cb = e->cb;
	void *arg = e->arg;

	evtimer_del(e->deadline);
	drop_conn(e);
	memset(&r, 0, sizeof(r));
	if (err) {
		r.err = -1;
		snprintf(r.errmsg, sizeof(r.errmsg), "%s", msg);
	} else if (etcd_parse(e->path, e->answer ? e->answer : "", e->answer_len, &r) < 0) {
		r.err = -1;
	}
	free(e->body);
	e->body = NULL;
	free(e->answer);
	e->answer = NULL;
	e->busy = false;
	cb(e, &r, arg);
	etcd_result_clear(&r);
}

static void send_one(struct etcd *e);

static void answered(struct evhttp_request *req, void *arg)
{
	struct etcd *e = arg;

	e->req = NULL;   /* evhttp frees it after this callback */
	e->status = req ? evhttp_request_get_response_code(req) : 0;
	free(e->answer);
	e->answer = NULL;
	e->answer_len = 0;
	if (req && e->status) {
		struct evbuffer *b = evhttp_request_get_input_buffer(req);
		e->answer_len = evbuffer_get_length(b);
		e->answer = xmalloc(e->answer_len + 1);
		evbuffer_copyout(b, e->answer, e->answer_len);
		e->answer[e->answer_len] = '\0';
	}
	/* the connection is freed out of its own callback */
	event_active(e->step, 0, 0);
}

static void step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcd *e = arg;

	(void)fd;
	(void)what;
	if (!e->busy)
		return;
	if (e->status >= 200 && e->status < 500) {
		complete(e, 0, NULL);
		return;
	}
	snprintf(e->lasterr, sizeof(e->lasterr), "%s: %s", e->urls[e->cur],
		 e->status ? "an HTTP error" : "no answer (refused, reset or timed out)");
	if (e->status)
		snprintf(e->lasterr + strlen(e->lasterr), sizeof(e->lasterr) - strlen(e->lasterr), " %d", e->status);
	drop_conn(e);
	e->cur = (e->cur + 1) % e->n;
	send_one(e);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcd *e = arg;
	char msg[300];

	(void)fd;
	(void)what;
	snprintf(msg, sizeof(msg), "no etcd endpoint answered within %d ms; %s%s", e->timeout_ms,
		 *e->lasterr ? "last: " : "asked last: ", *e->lasterr ? e->lasterr : e->urls[e->cur]);
	e->cur = (e->cur + 1) % e->n;   /* the one that kept silent is not the first asked next time */
	complete(e, -1, msg);
}

static void send_one(struct etcd *e)
{
	int64_t left = e->deadline_us - now_mono_us();
	struct timeval tv;
	struct evkeyvalq *h;
	char hostport[80], msg[300];

	if (e->tried >= e->n || left <= 0) {
		snprintf(msg, sizeof(msg), "no etcd endpoint answered: %s", *e->lasterr ? e->lasterr : "?");
		complete(e, -1, msg);
		return;
	}
	e->tried++;
	e->status = 0;
	e->conn = evhttp_connection_base_new(e->base, NULL, e->hosts[e->cur], (unsigned short)e->ports[e->cur]);
	if (!e->conn) {
		snprintf(e->lasterr, sizeof(e->lasterr), "%s: cannot make a connection", e->urls[e->cur]);
		e->cur = (e->cur + 1) % e->n;
		event_active(e->step, 0, 0);
		return;
	}
	tv.tv_sec = left / 1000000;
	tv.tv_usec = left % 1000000;
	if (e->source)
		evhttp_connection_set_local_address(e->conn, e->source);
	evhttp_connection_set_timeout_tv(e->conn, &tv);
	evhttp_connection_set_retries(e->conn, 0);
	e->req = evhttp_request_new(answered, e);
	h = evhttp_request_get_output_headers(e->req);
	snprintf(hostport, sizeof(hostport), "%s:%d", e->hosts[e->cur], e->ports[e->cur]);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Connection", "close");
	evbuffer_add(evhttp_request_get_output_buffer(e->req), e->body, strlen(e->body));
	if (evhttp_make_request(e->conn, e->req, EVHTTP_REQ_POST, e->path) < 0) {
		e->req = NULL;   /* freed by evhttp on failure */
		snprintf(e->lasterr, sizeof(e->lasterr), "%s: the request could not be sent", e->urls[e->cur]);
		e->status = 0;
		event_active(e->step, 0, 0);
	}
}

static int call(struct etcd *e, const char *path, json_t *body, etcd_cb cb, void *arg)
{
	struct timeval tv = { e->timeout_ms / 1000, (e->timeout_ms % 1000) * 1000 };

	if (e->busy) {
		json_decref(body);
		return -1;
	}
	e->busy = true;
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	e->cb = cb;
	e->arg = arg;
	e->tried = 0;
	e->lasterr[0] = '\0';
	e->deadline_us = now_mono_us() + (int64_t)e->timeout_ms * 1000;
	evtimer_add(e->deadline, &tv);
	send_one(e);
	return 0;
}

int etcd_lease_grant(struct etcd *e, int ttl_s, etcd_cb cb, void *arg)
{
	return call(e, "/v3/lease/grant", json_pack("{s:i}", "TTL", ttl_s), cb, arg);
}

int etcd_lease_keepalive(struct etcd *e, long long lease, etcd_cb cb, void *arg)
{
	return call(e, "/v3/lease/keepalive", json_pack("{s:o}", "ID", num_string(lease)), cb, arg);
}

int etcd_lease_revoke(struct etcd *e, long long lease, etcd_cb cb, void *arg)
{
	return call(e, "/v3/lease/revoke", json_pack("{s:o}", "ID", num_string(lease)), cb, arg);
}

int etcd_create(struct etcd *e, const char *key, const char *value, long long lease, etcd_cb cb, void *arg)
{
	return call(e, "/v3/kv/txn", etcd_body_create(key, value, lease), cb, arg);
}

int etcd_get(struct etcd *e, const char *key, etcd_cb cb, void *arg)
{
	return call(e, "/v3/kv/range", json_pack("{s:o}", "key", b64_string(key)), cb, arg);
}

int etcd_put_guarded(struct etcd *e, const char *guard, long long rev, const char *guard_value, const char *key,
		     const char *value, etcd_cb cb, void *arg)
{
	return call(e, "/v3/kv/txn", etcd_body_guarded_put(guard, rev, guard_value, key, value), cb, arg);
}

int etcd_get_prefix(struct etcd *e, const char *prefix, etcd_cb cb, void *arg)
{
	return call(e, "/v3/kv/range", etcd_body_prefix(prefix), cb, arg);
}

void etcd_set_source(struct etcd *e, const char *address)
{
	free(e->source);
	e->source = address && *address ? xstrdup(address) : NULL;
}

int etcd_delete_guarded(struct etcd *e, const char *key, long long rev, etcd_cb cb, void *arg)
{
	return call(e, "/v3/kv/txn", etcd_body_guarded_delete(key, rev), cb, arg);
}

void etcd_free(struct etcd *e)
{
	size_t i;

	if (!e)
		return;
	drop_conn(e);
	if (e->step)
		event_free(e->step);
	if (e->deadline)
		event_free(e->deadline);
	for (i = 0; i < e->n; i++) {
		free(e->urls[i]);
		free(e->hosts[i]);
	}
	free(e->urls);
	free(e->hosts);
	free(e->ports);
	free(e->body);
	free(e->answer);
	free(e->source);
	free(e);
}
