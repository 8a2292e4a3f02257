/*
 * tly_log.h -- one line per event on stderr: "prog: level: message".
 * Never pass a secret, a key or a message body to these.
 */
#ifndef TLY_LOG_H
#define TLY_LOG_H

enum tly_log_level { TLY_LOG_ERROR, TLY_LOG_WARN, TLY_LOG_INFO, TLY_LOG_DEBUG };

/* Sets the program name shown and the most verbose level printed. */
void tly_log_init(const char *prog, int level);
/* Prints one line if level is enabled. */
void tly_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TLY_LOG_H */
