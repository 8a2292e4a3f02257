/*
 * ops_test.c -- running a relay: invite-only registration, the admin
 * commands through the admin socket and on a stopped server, online
 * backup, Prometheus metrics over HTTP, TLS, and configuration errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "itlib.h"
#include "tt.h"

static void
hex(char *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void
test_invites_and_accounts(void **state)
{
	struct it_srv s;
	struct it_key ka, kb, kc;
	tly_relay    *a, *b, *c;
	char          out[8192], code[64], cmd[600], key[65];
	struct stat   st;

	(void) state;
	it_start(&s, "registration = invite\n", 0);
	it_keygen(&ka);
	it_keygen(&kb);
	it_keygen(&kc);
	a = it_client(s.url, &ka, -1, 5000);
	b = it_client(s.url, &kb, -1, 5000);
	c = it_client(s.url, &kc, -1, 5000);
	/* No invite, a wrong one. */
	TT_FAIL(tly_relay_register(a, NULL), TALLY_EAUTH);
	TT_FAIL(tly_relay_register(a, "nosuchcode"), TALLY_EAUTH);
	/* One code, two uses. */
	assert_int_equal(
	    it_admin(&s, out, sizeof out, "invite create --uses 2"), 0);
	assert_int_equal(sscanf(out, "%63s", code), 1);
	TT_PASS(tly_relay_register(a, code));
	TT_PASS(tly_relay_register(a, code)); /* again: no second use */
	TT_PASS(tly_relay_register(b, code));
	TT_FAIL(tly_relay_register(c, code), TALLY_EAUTH);
	/* An expired code. */
	assert_int_equal(it_admin(&s, out, sizeof out,
	                     "invite create --expires 2001-01-01"),
	    0);
	assert_int_equal(sscanf(out, "%63s", code), 1);
	TT_FAIL(tly_relay_register(c, code), TALLY_EAUTH);
	assert_int_not_equal(
	    it_admin(&s, out, sizeof out, "invite create --uses zero"), 0);

	/* accounts list shows both keys. */
	assert_int_equal(it_admin(&s, out, sizeof out, "accounts list"), 0);
	hex(key, ka.pk, 32);
	assert_non_null(strstr(out, key));
	hex(key, kb.pk, 32);
	assert_non_null(strstr(out, key));

	/* Disabling b ends its session and its sign-ins. */
	TT_PASS(tly_relay_append(b, "before", 6, NULL, NULL));
	snprintf(cmd, sizeof cmd, "accounts disable %s", key);
	assert_int_equal(it_admin(&s, out, sizeof out, cmd), 0);
	TT_FAIL(tly_relay_append(b, "after", 5, NULL, NULL), TALLY_EAUTH);
	TT_FAIL(tly_relay_put(a, kb.pk, "x", 1, NULL, NULL), TALLY_ENOENT);
	assert_int_not_equal(
	    it_admin(&s, out, sizeof out, "accounts disable 00"), 0);

	/* Online backup. */
	snprintf(cmd, sizeof cmd, "backup %s/copy.db", s.dir);
	assert_int_equal(it_admin(&s, out, sizeof out, cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/copy.db", s.dir);
	assert_int_equal(stat(cmd, &st), 0);
	{
		sqlite3      *db;
		sqlite3_stmt *q;

		assert_int_equal(
		    sqlite3_open_v2(cmd, &db, SQLITE_OPEN_READONLY, NULL),
		    SQLITE_OK);
		assert_int_equal(
		    sqlite3_prepare_v2(
		        db, "SELECT count(*) FROM account", -1, &q, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		TT_INTEQ(sqlite3_column_int(q, 0), 2);
		sqlite3_finalize(q);
		sqlite3_close(db);
	}
	/* Not over an existing file. */
	snprintf(cmd, sizeof cmd, "backup %s/copy.db", s.dir);
	assert_int_not_equal(it_admin(&s, out, sizeof out, cmd), 0);

	/* The admin socket is the owner's only. */
	snprintf(cmd, sizeof cmd, "%s/admin.sock", s.dir);
	assert_int_equal(stat(cmd, &st), 0);
	TT_INTEQ(st.st_mode & 0777, 0600);

	/* Stopped: the same commands work on the files. */
	it_stop(&s);
	assert_int_equal(it_admin(&s, out, sizeof out, "stats"), 0);
	assert_non_null(strstr(out, "running no"));
	assert_non_null(strstr(out, "accounts 2"));
	assert_int_equal(it_admin(&s, out, sizeof out, "accounts list"), 0);
	assert_non_null(strstr(out, "disabled"));
	tly_relay_close(a);
	tly_relay_close(b);
	tly_relay_close(c);
	it_cleanup(&s);
}

static void
test_metrics(void **state)
{
	struct it_srv      s;
	struct it_key      k;
	tly_relay         *r;
	struct sockaddr_in sa;
	struct timeval     tv = { 5, 0 };
	char               extra[256], buf[65536];
	size_t             n = 0;
	ssize_t            got;
	int                port = it_free_port(), fd;

	(void) state;
	snprintf(extra, sizeof extra, "metrics = http://127.0.0.1:%d\n", port);
	it_start(&s, extra, 0);
	it_keygen(&k);
	r = it_client(s.url, &k, -1, 5000);
	TT_PASS(tly_relay_register(r, NULL));
	TT_PASS(tly_relay_append(r, "x", 1, NULL, NULL));
	tly_relay_close(r);

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family      = AF_INET;
	sa.sin_port        = htons((uint16_t) port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	{
		const char req[] =
		    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		    "Connection: close\r\n\r\n";

		assert_int_equal(
		    write(fd, req, sizeof req - 1), (ssize_t) sizeof req - 1);
	}
	while (n + 1 < sizeof buf &&
	    (got = read(fd, buf + n, sizeof buf - n - 1)) > 0)
		n += (size_t) got;
	buf[n] = '\0';
	close(fd);
	if (strstr(buf, "200") == NULL ||
	    strstr(buf, "tallyd_requests_total{type=\"append\"} 1") == NULL ||
	    strstr(buf, "# TYPE tallyd_refusals_total counter") == NULL ||
	    strstr(buf, "tallyd_registrations_total 1") == NULL)
		fail_msg("unexpected metrics:\n%s", buf);
	it_stop(&s);
	it_cleanup(&s);
}

static void
test_tls(void **state)
{
	struct it_srv s;
	struct it_key k;
	tly_relay    *r;
	char          dir[] = "/tmp/tly-tls-XXXXXX", cmd[1024];
	char          extra[1024], url[64];
	int           port = it_free_port();

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd,
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout %s/key.pem -out %s/cert.pem -days 2 "
	    "-subj /CN=localhost >/dev/null 2>&1",
	    dir, dir);
	if (system(cmd) != 0) {
		print_message("openssl is not installed: TLS not tested\n");
		skip();
	}
	snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d", port);
	snprintf(extra, sizeof extra,
	    "listen = %s\n[tls]\ncert = %s/cert.pem\nkey = %s/key.pem\n", url,
	    dir, dir);
	it_start(&s, extra, 0);
	it_keygen(&k);
	r = it_client(url, &k, 3, 5000);
	TT_PASS(tly_relay_register(r, NULL));
	TT_PASS(tly_relay_append(r, "over tls", 8, NULL, NULL));
	tly_relay_close(r);
	/* With the certificate as CA, the client verifies the relay. */
	{
		struct tly_relay_opts o;
		char                  ca[300];

		memset(&o, 0, sizeof o);
		snprintf(ca, sizeof ca, "%s/cert.pem", dir);
		o.tls_ca     = ca;
		o.tls_name   = "localhost";
		o.timeout_ms = 5000;
		TT_PASS(tly_relay_open(&r, url, &o));
		TT_PASS(tly_relay_set_key(r, k.pk, k.sk));
		TT_PASS(tly_relay_ping(r));
		tly_relay_close(r);
	}
	it_stop(&s);
	it_cleanup(&s);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	(void) system(cmd);
}

static void
test_bad_config(void **state)
{
	struct it_srv s;
	char          out[4096];
	FILE         *fp;

	(void) state;
	it_start(&s, NULL, 0);
	it_stop(&s);
	/* An unknown key is an error, not a silent default. */
	fp = fopen(s.conf, "a");
	assert_non_null(fp);
	fprintf(fp, "[limits]\nqouta = 1M\n");
	fclose(fp);
	assert_int_equal(it_admin(&s, out, sizeof out, "stats"), 2);
	assert_non_null(strstr(out, "qouta"));
	it_cleanup(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
		    test_invites_and_accounts, it_teardown),
		cmocka_unit_test_teardown(test_metrics, it_teardown),
		cmocka_unit_test_teardown(test_tls, it_teardown),
		cmocka_unit_test_teardown(test_bad_config, it_teardown),
	};

	if (sodium_init() < 0)
		return (1);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
