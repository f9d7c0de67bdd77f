/*
 * http.h - requests in, responses out.
 *
 * http.c is the only file that knows libfcgi. Handlers see a plain
 * http_request_t and fill an http_response_t; the helpers below build the
 * JSON bodies every route shares.
 */
#ifndef SLOTLOCK_HTTP_H
#define SLOTLOCK_HTTP_H

#include <fcgiapp.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_BODY_MAX (16 * 1024)

typedef struct http_request_s {
    const char *method;
    char *path;                 /* owned; the URI up to '?' */
    const char *query;          /* into path's buffer; "" when none */
    const char *content_type;   /* NULL when none */
    const char *authorization;
    const char *accept;
    const char *request_id;     /* "-" when nginx sent none */
    const char *client_addr;    /* REMOTE_ADDR; NULL when none */
    const char *origin;         /* Origin; NULL when none */
    const char *cors_method;    /* Access-Control-Request-Method; NULL */
    char *body;                 /* owned, NUL-terminated; NULL when empty */
    size_t body_len;
    bool body_too_large;
} http_request_t;

typedef struct http_response_s {
    int status;
    json_t *json;               /* owned; the body unless text is set */
    char *text;                 /* owned; a non-JSON body (Prometheus) */
    const char *content_type;   /* for text */
    const char *allow;          /* Allow header of a 405 */
    bool www_authenticate;      /* 401: WWW-Authenticate: Bearer */
    bool invalid_token;         /* ... with error="invalid_token" */
    const char *cors_origin;    /* Access-Control-Allow-Origin; NULL: none */
    const char *cors_methods;   /* a preflight's Access-Control-Allow-Methods */
    bool vary_origin;           /* Vary: Origin (CORS is configured) */
    bool retry_after;           /* 503: Retry-After: 1 */
    const char *reason;         /* error reason, for the log */
} http_response_t;

/* Reads the request's parameters and body (at most HTTP_BODY_MAX bytes). */
bool http_read_request(FCGX_Request *fcgi, http_request_t *req);

/* Writes res to the client. */
void http_send(FCGX_Request *fcgi, const http_response_t *res);

void http_request_free(http_request_t *req);
void http_response_free(http_response_t *res);

/* Starts a success body {"success": true} with status; returns the body. */
json_t *http_ok(http_response_t *res, int status);

/*
 * Starts an error body {"success": false, "reason", "message"} with status;
 * returns the body so that a caller can add fields.
 */
json_t *http_error(http_response_t *res, int status, const char *reason,
                   const char *message);

/* 400 validation_error listing errors (takes its reference). */
void http_validation_error(http_response_t *res, json_t *errors);

/* 503 service_unavailable with Retry-After: 1. */
void http_unavailable(http_response_t *res, const char *message);

/*
 * Checks that a body-carrying request is JSON (415, 413 or 400 otherwise)
 * and parses it. Returns the object (caller owns), or NULL with res filled.
 */
json_t *http_json_body(const http_request_t *req, http_response_t *res);

/* The reason phrase of a status code. */
const char *http_status_text(int status);

#endif
