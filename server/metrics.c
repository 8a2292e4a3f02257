/*
 * metrics.c -- counters in the Prometheus text format (version 0.0.4),
 * served by nng's HTTP server on a loopback address at /metrics.
 */
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "tallyd.h"
#include "tly_err.h"
#include "tly_log.h"

static const char *const type_names[256] = {
	[TLY_T_PING]     = "ping",
	[TLY_T_HELLO]    = "hello",
	[TLY_T_AUTH]     = "auth",
	[TLY_T_REGISTER] = "register",
	[TLY_T_PUT]      = "put",
	[TLY_T_LIST]     = "list",
	[TLY_T_FETCH]    = "fetch",
	[TLY_T_ACK]      = "ack",
	[TLY_T_APPEND]   = "append",
	[TLY_T_READ]     = "read",
	[TLY_T_WAIT]     = "wait",
	[TLY_T_INFO]     = "info",
};

static const char *const code_names[TLY_W_NCODES] = {
	[TLY_W_BADREQ]   = "bad_request",
	[TLY_W_UNAUTH]   = "unauthorized",
	[TLY_W_TOOBIG]   = "too_large",
	[TLY_W_QUOTA]    = "quota_exceeded",
	[TLY_W_RATE]     = "rate_limited",
	[TLY_W_NOTFOUND] = "not_found",
	[TLY_W_BUSY]     = "server_busy",
	[TLY_W_VERSION]  = "unsupported_version",
	[TLY_W_INTERNAL] = "internal",
	[TLY_W_EXISTS]   = "exists",
};

static int
counter(tly_buf *b, const char *name, const char *help, uint64_t v)
{
	return (tly_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n",
	    name, help, name, name, (unsigned long long) v));
}

static int
gauge(tly_buf *b, const char *name, const char *help, uint64_t v)
{
	return (tly_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n",
	    name, help, name, name, (unsigned long long) v));
}

int
tallyd_metrics_text(struct tallyd *d, tly_buf *b)
{
	struct tallyd_metrics *m = &d->m;
	uint64_t               commits, ops, queued, other = 0;
	int                    rv = 0;

	tly_store_counters(d->store, &commits, &ops, &queued);
	rv |= tly_buf_puts(b,
	    "# HELP tallyd_requests_total Requests "
	    "received, by type.\n"
	    "# TYPE tallyd_requests_total counter\n");
	for (int i = 0; i < 256; i++) {
		uint64_t v = atomic_load(&m->requests[i]);

		if (type_names[i] != NULL)
			rv |= tly_buf_printf(b,
			    "tallyd_requests_total{type=\"%s\"} %llu\n",
			    type_names[i], (unsigned long long) v);
		else
			other += v;
	}
	rv |= tly_buf_printf(b, "tallyd_requests_total{type=\"other\"} %llu\n",
	    (unsigned long long) other);
	rv |= tly_buf_puts(b,
	    "# HELP tallyd_refusals_total Requests refused, "
	    "by error code.\n"
	    "# TYPE tallyd_refusals_total counter\n");
	for (int i = 1; i < TLY_W_NCODES; i++)
		rv |= tly_buf_printf(b,
		    "tallyd_refusals_total{code=\"%s\"} %llu\n", code_names[i],
		    (unsigned long long) atomic_load(&m->refusals[i]));
	rv |= counter(b, "tallyd_received_bytes_total",
	    "Request bytes received.", atomic_load(&m->bytes_in));
	rv |= counter(b, "tallyd_sent_bytes_total", "Reply bytes sent.",
	    atomic_load(&m->bytes_out));
	rv |= counter(b, "tallyd_connections_total", "Connections accepted.",
	    atomic_load(&m->connections));
	rv |= gauge(b, "tallyd_connections", "Connections open.",
	    atomic_load(&m->connections_open));
	rv |= gauge(b, "tallyd_waits", "Long polls waiting.",
	    atomic_load(&m->waits_open));
	rv |= gauge(b, "tallyd_inflight", "Requests being handled.",
	    tallyd_front_inflight(d));
	rv |= gauge(b, "tallyd_sessions", "Live sessions.",
	    tallyd_auth_sessions(d->auth));
	rv |= counter(b, "tallyd_auth_ok_total", "Successful authentications.",
	    atomic_load(&m->auth_ok));
	rv |= counter(b, "tallyd_auth_failed_total", "Failed authentications.",
	    atomic_load(&m->auth_failed));
	rv |= counter(b, "tallyd_registrations_total", "Accounts created.",
	    atomic_load(&m->registrations));
	rv |= counter(b, "tallyd_commits_total",
	    "Durable transactions (group commits).", commits);
	rv |= counter(b, "tallyd_committed_ops_total",
	    "Write operations committed.", ops);
	rv |= gauge(
	    b, "tallyd_write_queue", "Writes waiting for a commit.", queued);
	rv |= counter(b, "tallyd_expired_total", "Envelopes expired.",
	    atomic_load(&m->expired));
	rv |= counter(b, "tallyd_probe_failures_total",
	    "Listener self-probes that failed.",
	    atomic_load(&m->probe_failures));
	rv |= counter(b, "tallyd_listener_restarts_total",
	    "Listeners re-created after failed probes.",
	    atomic_load(&m->listener_restarts));
	return (rv != 0 ? TALLY_ENOMEM : 0);
}

static void
http_cb(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct tallyd    *d = nng_http_handler_get_data(h);
	nng_http_res     *res;
	tly_buf           b = TLY_BUF_INIT;

	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	if (tallyd_metrics_text(d, &b) != 0 ||
	    nng_http_res_set_header(res, "Content-Type",
	        "text/plain; version=0.0.4; charset=utf-8") != 0 ||
	    nng_http_res_copy_data(res, b.p, b.len) != 0) {
		nng_http_res_free(res);
		tly_buf_free(&b);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	tly_buf_free(&b);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static int
loopback(const nng_url *u)
{
	return (strcmp(u->u_scheme, "http") == 0 &&
	    (strncmp(u->u_hostname, "127.", 4) == 0 ||
	        strcmp(u->u_hostname, "localhost") == 0 ||
	        strcmp(u->u_hostname, "::1") == 0));
}

int
tallyd_metrics_start(struct tallyd *d, char *err, size_t errsz)
{
	nng_url          *u;
	nng_http_server  *srv;
	nng_http_handler *h;
	int               rv;

	if (d->conf->metrics == NULL || d->conf->metrics[0] == '\0')
		return (0);
	if ((rv = nng_url_parse(&u, d->conf->metrics)) != 0) {
		snprintf(err, errsz, "metrics = %s: %s", d->conf->metrics,
		    nng_strerror(rv));
		return (TALLY_EINVAL);
	}
	if (!loopback(u)) {
		nng_url_free(u);
		snprintf(err, errsz,
		    "metrics = %s: use http:// on a loopback "
		    "address (127.0.0.1 or [::1])",
		    d->conf->metrics);
		return (TALLY_EINVAL);
	}
	rv = nng_http_server_hold(&srv, u);
	nng_url_free(u);
	if (rv != 0)
		goto fail;
	if ((rv = nng_http_handler_alloc(&h, "/metrics", http_cb)) != 0) {
		nng_http_server_release(srv);
		goto fail;
	}
	if ((rv = nng_http_handler_set_method(h, "GET")) != 0 ||
	    (rv = nng_http_handler_set_data(h, d, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(srv, h)) != 0) {
		nng_http_handler_free(h);
		nng_http_server_release(srv);
		goto fail;
	}
	if ((rv = nng_http_server_start(srv)) != 0) {
		nng_http_server_release(srv);
		goto fail;
	}
	d->http = srv;
	tly_log(TLY_LOG_INFO, "metrics on %s/metrics", d->conf->metrics);
	return (0);
fail:
	snprintf(err, errsz, "metrics = %s: %s", d->conf->metrics,
	    nng_strerror(rv));
	return (TALLY_EIO);
}

void
tallyd_metrics_stop(struct tallyd *d)
{
	if (d->http != NULL) {
		nng_http_server_stop(d->http);
		nng_http_server_release(d->http);
		d->http = NULL;
	}
}
