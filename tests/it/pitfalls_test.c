/*
 * pitfalls_test.c -- the nng 1.5.2 pitfalls of DESIGN.md against a real
 * tallyd: a client that disconnects in the middle of the SP handshake
 * (nng #1518), a peer that claims a huge message length, and a request
 * resent by REQ while the first copy is still being committed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "itlib.h"
#include "tt.h"

/* The SP header a REQ peer sends: 0, 'S', 'P', 0, protocol 0x30, 0 0. */
static const unsigned char sp_req[8] = { 0, 'S', 'P', 0, 0, 0x30, 0, 0 };

static int
tcp_connect(int port)
{
	struct sockaddr_in sa;
	struct timeval     tv = { 3, 0 };
	int                fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family      = AF_INET;
	sa.sin_port        = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return (fd);
}

static int
ipc_connect(const char *url)
{
	struct sockaddr_un sa;
	int                fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	assert_true(strlen(url + 6) < sizeof sa.sun_path);
	memcpy(sa.sun_path, url + 6, strlen(url + 6) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
	return (fd);
}

static void
ping_ok(const char *url)
{
	tly_relay *r = it_client(url, NULL, 5, 3000);
	int        rv;

	if ((rv = tly_relay_ping(r)) != 0)
		fail_msg(
		    "%s: ping after the attack: %s", url, tly_relay_errmsg(r));
	tly_relay_close(r);
}

static void
test_handshake_disconnect(void **state)
{
	struct it_srv s;
	char          out[16384], *p;
	int           fd, i;

	(void) state;
	it_start(&s, NULL, 1);
	/* Partial SP headers, then gone: on tcp and on ipc. */
	for (i = 0; i < 3; i++) {
		fd = tcp_connect(s.port);
		assert_int_equal(write(fd, sp_req, 4), 4);
		close(fd);
		fd = ipc_connect(s.url);
		assert_int_equal(write(fd, sp_req, 4), 4);
		close(fd);
		/* And a connection that sends nothing at all. */
		close(tcp_connect(s.port));
	}
	it_msleep(100);
	/* New clients still get through on both listeners. */
	ping_ok(s.tcp);
	ping_ok(s.url);
	{
		struct it_key k;
		tly_relay    *r;

		it_keygen(&k);
		r = it_client(s.tcp, &k, 5, 3000);
		TT_PASS(tly_relay_register(r, NULL));
		TT_PASS(tly_relay_append(r, "alive", 5, NULL, NULL));
		tly_relay_close(r);
	}
	assert_int_equal(it_admin(&s, out, sizeof out, "stats"), 0);
	if ((p = strstr(out, "tallyd_listener_restarts_total ")) != NULL)
		print_message(
		    "listener restarts: %ld\n", strtol(p + 31, NULL, 10));
	it_stop(&s);
	it_cleanup(&s);
}

static long
rss_kb(pid_t pid)
{
	char path[64], *s, *p;
	long kb = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
	if ((s = it_slurp(path)) == NULL)
		return (-1);
	if ((p = strstr(s, "VmRSS:")) != NULL)
		kb = strtol(p + 6, NULL, 10);
	free(s);
	return (kb);
}

static void
test_huge_length(void **state)
{
	struct it_srv s;
	unsigned char hdr[8], len[8 + 16];
	ssize_t       n;
	long          before, after;
	int           fd, i;

	(void) state;
	it_start(&s, NULL, 1);
	before = rss_kb(s.pid);
	for (i = 0; i < 4; i++) {
		fd = tcp_connect(s.port);
		assert_int_equal(write(fd, sp_req, 8), 8);
		assert_int_equal(read(fd, hdr, 8), 8);
		assert_int_equal(hdr[1], 'S');
		/* A message length of 2^40, then a few bytes. */
		memset(len, 'x', sizeof len);
		memset(len, 0, 8);
		len[2] = 1;
		(void) write(fd, len, sizeof len);
		/* tallyd drops the connection instead of allocating. */
		n = read(fd, hdr, 1);
		if (n > 0)
			fail_msg("tallyd answered a 2^40-byte message");
		if (n < 0 && errno != ECONNRESET)
			fail_msg("tallyd kept the connection open: %s",
			    strerror(errno));
		close(fd);
	}
	ping_ok(s.tcp);
	after = rss_kb(s.pid);
	print_message(
	    "tallyd RSS before %ld kB, after %ld kB\n", before, after);
	assert_true(after > 0 && after < 200 * 1024);
	it_stop(&s);
	it_cleanup(&s);
}

static long
stat_value(struct it_srv *s, const char *name)
{
	char out[16384], *p;

	assert_int_equal(it_admin(s, out, sizeof out, "stats"), 0);
	if ((p = strstr(out, name)) == NULL)
		fail_msg("no %s in stats:\n%s", name, out);
	return (strtol(p + strlen(name), NULL, 10));
}

static void
test_req_resend(void **state)
{
	struct it_srv           s;
	struct it_key           ka, kb;
	struct tly_relay_opts   o;
	tly_relay              *a, *b;
	struct tly_relay_mail  *items;
	struct tly_relay_entry *e;
	uint64_t                seq;
	size_t                  n;
	int                     more;

	(void) state;
	/* Each commit takes 300 ms; REQ resends every 40 ms meanwhile. */
	it_start(&s, "[testing]\ncommit_delay = 300ms\n", 0);
	it_keygen(&ka);
	it_keygen(&kb);
	b = it_client(s.url, &kb, 0, 5000);
	TT_PASS(tly_relay_register(b, NULL));
	memset(&o, 0, sizeof o);
	o.resend_ms  = 40;
	o.timeout_ms = 5000;
	o.retries    = -1;
	TT_PASS(tly_relay_open(&a, s.url, &o));
	TT_PASS(tly_relay_set_key(a, ka.pk, ka.sk));
	TT_PASS(tly_relay_register(a, NULL));

	TT_PASS(tly_relay_put(a, kb.pk, "once", 4, NULL, NULL));
	TT_PASS(tly_relay_append(a, "only once", 9, &seq, NULL));
	TT_INTEQ(seq, 1);
	/* The resends did reach tallyd... */
	assert_true(
	    stat_value(&s, "tallyd_requests_total{type=\"put\"} ") > 1);
	assert_true(
	    stat_value(&s, "tallyd_requests_total{type=\"append\"} ") > 1);
	/* ...and nothing was stored twice. */
	TT_PASS(tly_relay_list(b, 0, 100, &items, &n, &more));
	TT_INTEQ(n, 1);
	free(items);
	TT_PASS(tly_relay_read(a, 0, 100, 0, &e, &n, &more));
	TT_INTEQ(n, 1);
	tly_relay_entries_free(e, n);
	tly_relay_close(a);
	tly_relay_close(b);
	it_stop(&s);
	it_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_handshake_disconnect, it_teardown),
		cmocka_unit_test_teardown(test_huge_length, it_teardown),
		cmocka_unit_test_teardown(test_req_resend, it_teardown),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
