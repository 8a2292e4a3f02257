/*
 * config.c -- tallyd's INI configuration (libinih) and its defaults.
 *
 * Unknown sections or keys are errors, so that a typo does not silently
 * leave a limit at its default.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "tallyd.h"
#include "tly_err.h"
#include "tly_log.h"

void
tallyd_conf_defaults(struct tallyd_conf *c)
{
	memset(c, 0, sizeof *c);
	c->open_reg        = 1;
	c->workers         = 256;
	c->readers         = 4;
	c->max_message     = 1u << 20;
	c->quota           = 100u << 20;
	c->rate            = 50;
	c->burst           = 200;
	c->auth_rate       = 10;
	c->auth_burst      = 40;
	c->mail_expiry     = 30 * 86400;
	c->max_wait        = 300;
	c->session_ttl     = 86400;
	c->probe_ms        = 10000;
	c->housekeep_ms    = 60000;
	c->commit_delay_ms = 0;
	c->log_level       = TLY_LOG_INFO;
}

int
tallyd_parse_size(const char *s, uint64_t *out)
{
	char              *end;
	unsigned long long v;
	uint64_t           mul = 1;

	if (s == NULL || !isdigit((unsigned char) *s))
		return (TALLY_EINVAL);
	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0)
		return (TALLY_EINVAL);
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mul = 1u << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mul = 1u << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mul = 1u << 30;
		end++;
		break;
	default:
		return (TALLY_EINVAL);
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mul)
		return (TALLY_EINVAL);
	*out = (uint64_t) v * mul;
	return (0);
}

int
tallyd_parse_duration(const char *s, int64_t *out)
{
	char              *end;
	unsigned long long v;
	int64_t            mul = 1;

	if (s == NULL || !isdigit((unsigned char) *s))
		return (TALLY_EINVAL);
	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0)
		return (TALLY_EINVAL);
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	case 'w':
		mul = 7 * 86400;
		break;
	default:
		return (TALLY_EINVAL);
	}
	if (*end != '\0')
		end++;
	if (*end != '\0' || v > (unsigned long long) (INT64_MAX / mul))
		return (TALLY_EINVAL);
	*out = (int64_t) v * mul;
	return (0);
}

int
tallyd_conf_listen(struct tallyd_conf *c, const char *url, int reset)
{
	char *u;

	if (reset) {
		for (int i = 0; i < c->nlisten; i++)
			free(c->listen[i]);
		c->nlisten = 0;
	}
	if (c->nlisten >= TALLYD_MAX_LISTEN)
		return (TALLY_EINVAL);
	if ((u = strdup(url)) == NULL)
		return (TALLY_ENOMEM);
	c->listen[c->nlisten++] = u;
	return (0);
}

struct load {
	struct tallyd_conf *c;
	char               *err;
	size_t              errsz;
	int                 listen_seen;
};

static int
set_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return (0);
	free(*dst);
	*dst = s;
	return (1);
}

static int
set_u32(uint32_t *dst, const char *v, uint32_t min, uint32_t max)
{
	uint64_t x;

	if (tallyd_parse_size(v, &x) != 0 || x < min || x > max)
		return (0);
	*dst = (uint32_t) x;
	return (1);
}

static int
set_int_ms(int *dst, const char *v)
{
	int64_t secs;
	char   *end;
	long    ms;

	/* "250ms" or a duration in seconds. */
	ms = strtol(v, &end, 10);
	if (end != v && strcmp(end, "ms") == 0 && ms >= 0 && ms < 86400000) {
		*dst = (int) ms;
		return (1);
	}
	if (tallyd_parse_duration(v, &secs) != 0 || secs > 86400)
		return (0);
	*dst = (int) (secs * 1000);
	return (1);
}

static int
handler(void *user, const char *sec, const char *key, const char *v)
{
	struct load        *l = user;
	struct tallyd_conf *c = l->c;
	uint64_t            sz;
	uint32_t            u;
	int                 ok = 0;

	if (strcmp(sec, "server") == 0) {
		if (strcmp(key, "listen") == 0) {
			ok = tallyd_conf_listen(c, v, !l->listen_seen) == 0;
			l->listen_seen = 1;
		} else if (strcmp(key, "data") == 0) {
			ok = set_str(&c->data, v);
		} else if (strcmp(key, "metrics") == 0) {
			ok = set_str(&c->metrics, v);
		} else if (strcmp(key, "registration") == 0) {
			ok =
			    strcmp(v, "open") == 0 || strcmp(v, "invite") == 0;
			c->open_reg = strcmp(v, "open") == 0;
		} else if (strcmp(key, "workers") == 0) {
			ok         = set_u32(&u, v, 1, 65536);
			c->workers = ok ? (int) u : c->workers;
		} else if (strcmp(key, "readers") == 0) {
			ok         = set_u32(&u, v, 1, 16);
			c->readers = ok ? (int) u : c->readers;
		} else if (strcmp(key, "probe_interval") == 0) {
			ok = set_int_ms(&c->probe_ms, v);
		} else if (strcmp(key, "housekeeping_interval") == 0) {
			ok = set_int_ms(&c->housekeep_ms, v) &&
			    c->housekeep_ms > 0;
		} else if (strcmp(key, "session_ttl") == 0) {
			ok = tallyd_parse_duration(v, &c->session_ttl) == 0 &&
			    c->session_ttl > 0;
		} else if (strcmp(key, "log_level") == 0) {
			ok = 1;
			if (strcmp(v, "error") == 0)
				c->log_level = TLY_LOG_ERROR;
			else if (strcmp(v, "warning") == 0)
				c->log_level = TLY_LOG_WARN;
			else if (strcmp(v, "info") == 0)
				c->log_level = TLY_LOG_INFO;
			else if (strcmp(v, "debug") == 0)
				c->log_level = TLY_LOG_DEBUG;
			else
				ok = 0;
		}
	} else if (strcmp(sec, "tls") == 0) {
		if (strcmp(key, "cert") == 0)
			ok = set_str(&c->tls_cert, v);
		else if (strcmp(key, "key") == 0)
			ok = set_str(&c->tls_key, v);
	} else if (strcmp(sec, "limits") == 0) {
		if (strcmp(key, "max_message") == 0) {
			ok = tallyd_parse_size(v, &sz) == 0 && sz >= 1024 &&
			    sz <= TLY_FRAME_MAX / 2;
			c->max_message = ok ? sz : c->max_message;
		} else if (strcmp(key, "quota") == 0) {
			ok = tallyd_parse_size(v, &c->quota) == 0;
		} else if (strcmp(key, "rate") == 0) {
			ok = set_u32(&c->rate, v, 0, 1000000);
		} else if (strcmp(key, "burst") == 0) {
			ok = set_u32(&c->burst, v, 1, 1000000);
		} else if (strcmp(key, "auth_rate") == 0) {
			ok = set_u32(&c->auth_rate, v, 0, 1000000);
		} else if (strcmp(key, "auth_burst") == 0) {
			ok = set_u32(&c->auth_burst, v, 1, 1000000);
		} else if (strcmp(key, "mail_expiry") == 0) {
			ok = tallyd_parse_duration(v, &c->mail_expiry) == 0;
		} else if (strcmp(key, "max_wait") == 0) {
			int64_t w;

			ok = tallyd_parse_duration(v, &w) == 0 && w <= 3600;
			c->max_wait = ok ? (uint32_t) w : c->max_wait;
		}
	} else if (strcmp(sec, "testing") == 0) {
		if (strcmp(key, "commit_delay") == 0)
			ok = set_int_ms(&c->commit_delay_ms, v);
		else if (strcmp(key, "discard_writes") == 0) {
			ok = strcmp(v, "yes") == 0 || strcmp(v, "no") == 0;
			c->discard_writes = strcmp(v, "yes") == 0;
		}
	}
	if (!ok && l->err[0] == '\0')
		snprintf(l->err, l->errsz, "[%s] %s = %s: not understood", sec,
		    key, v);
	return (ok);
}

int
tallyd_conf_load(
    struct tallyd_conf *c, const char *path, char *err, size_t errsz)
{
	struct load l = { c, err, errsz, 0 };
	int         r;

	err[0] = '\0';
	r      = ini_parse(path, handler, &l);
	if (r == -1) {
		snprintf(
		    err, errsz, "%s: cannot open: %s", path, strerror(errno));
		return (TALLY_EIO);
	}
	if (r != 0) {
		char tmp[256];

		snprintf(tmp, sizeof tmp, "%s:%d: %s", path, r,
		    err[0] != '\0' ? err : "syntax error");
		snprintf(err, errsz, "%s", tmp);
		return (TALLY_EINVAL);
	}
	return (0);
}

void
tallyd_conf_free(struct tallyd_conf *c)
{
	for (int i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	c->nlisten = 0;
	free(c->data);
	free(c->metrics);
	free(c->tls_cert);
	free(c->tls_key);
	c->data = c->metrics = c->tls_cert = c->tls_key = NULL;
}
