/*
 * log.h - one line per request, and errors with their cause, on stderr
 * (journald keeps them under systemd). Never logs customer data or tokens.
 */
#ifndef SLOTLOCK_LOG_H
#define SLOTLOCK_LOG_H

/* "2026-01-02T03:04:05.678Z level message", written with one write(2). */
void log_line(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_info(...) log_line("info", __VA_ARGS__)
#define log_error(...) log_line("error", __VA_ARGS__)

#endif
