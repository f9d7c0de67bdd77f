/*
 * http.c - requests in, responses out, over libfcgi. See http.h.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "cors.h"
#include "validate.h"

static const char *param(FCGX_Request *fcgi, const char *name)
{
    return FCGX_GetParam(name, fcgi->envp);
}

bool http_read_request(FCGX_Request *fcgi, http_request_t *req)
{
    const char *uri = param(fcgi, "REQUEST_URI");
    const char *method = param(fcgi, "REQUEST_METHOD");
    const char *length = param(fcgi, "CONTENT_LENGTH");

    memset(req, 0, sizeof(*req));
    req->method = method ? method : "GET";
    req->path = strdup(uri ? uri : "/");
    if (req->path == NULL) {
        return false;
    }
    char *q = strchr(req->path, '?');
    if (q != NULL) {
        *q = '\0';
        req->query = q + 1;
    } else {
        req->query = "";
    }
    req->content_type = param(fcgi, "CONTENT_TYPE");
    if (req->content_type != NULL && req->content_type[0] == '\0') {
        req->content_type = NULL;
    }
    req->authorization = param(fcgi, "HTTP_AUTHORIZATION");
    req->accept = param(fcgi, "HTTP_ACCEPT");
    req->client_addr = param(fcgi, "REMOTE_ADDR");
    req->origin = param(fcgi, "HTTP_ORIGIN");
    req->cors_method = param(fcgi, "HTTP_ACCESS_CONTROL_REQUEST_METHOD");
    req->request_id = param(fcgi, "REQUEST_ID");
    if (req->request_id == NULL || req->request_id[0] == '\0') {
        req->request_id = "-";
    }

    long declared = length ? strtol(length, NULL, 10) : 0;
    if (declared > HTTP_BODY_MAX) {
        req->body_too_large = true;
        return true;
    }
    if (declared <= 0) {
        return true;
    }
    req->body = malloc((size_t) declared + 1);
    if (req->body == NULL) {
        return false;
    }
    int n = FCGX_GetStr(req->body, (int) declared, fcgi->in);
    req->body_len = n > 0 ? (size_t) n : 0;
    req->body[req->body_len] = '\0';
    return true;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default:  return "Unknown";
    }
}

/* Room for every answer but the largest lists; those are allocated. */
#define HTTP_SEND_BUF 8192

void http_send(FCGX_Request *fcgi, const http_response_t *res)
{
    char buf[HTTP_SEND_BUF];
    char head[1024 + 2 * CONFIG_CORS_MAX];
    char *body = res->text;
    const char *type = res->content_type;
    size_t len;
    bool no_body = res->status == 204;

    if (no_body) {
        body = NULL;
        len = 0;
    } else if (body == NULL) {
        /* Into buf when it fits: no allocation, no copy. */
        type = "application/json; charset=utf-8";
        len = json_dumpb(res->json, buf, sizeof(buf), VALIDATE_JSON_FLAGS);
        if (len > 0 && len <= sizeof(buf)) {
            body = buf;
        } else {
            body = json_dumps(res->json, VALIDATE_JSON_FLAGS);
            len = body ? strlen(body) : 0;
        }
    } else {
        len = strlen(body);
    }

    /*
     * One formatted block: libfcgi's own printf is slow. Every piece is a
     * short constant or an origin from the allow-list (at most
     * CONFIG_CORS_MAX), so head always has room.
     */
    char cors[256 + 2 * CONFIG_CORS_MAX] = "";
    if (res->cors_origin != NULL && res->cors_methods != NULL) {
        snprintf(cors, sizeof(cors), "Access-Control-Allow-Origin: %s\r\n"
                 "Access-Control-Allow-Methods: %s\r\n"
                 "Access-Control-Allow-Headers: " CORS_ALLOW_HEADERS "\r\n"
                 "Access-Control-Max-Age: " CORS_MAX_AGE "\r\n",
                 res->cors_origin, res->cors_methods);
    } else if (res->cors_origin != NULL) {
        snprintf(cors, sizeof(cors), "Access-Control-Allow-Origin: %s\r\n"
                 "Access-Control-Expose-Headers: " CORS_EXPOSE_HEADERS
                 "\r\n", res->cors_origin);
    }
    char length[256] = "";
    if (!no_body) {
        snprintf(length, sizeof(length), "Content-Type: %s\r\n"
                 "Content-Length: %zu\r\n", type, len);
    }
    int n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
                     "Cache-Control: no-store\r\n"
                     "%s%s%s%s%s%s%s"
                     "%s\r\n",
                     res->status, http_status_text(res->status),
                     res->allow ? "Allow: " : "",
                     res->allow ? res->allow : "",
                     res->allow ? "\r\n" : "",
                     !res->www_authenticate ? ""
                     : res->invalid_token
                     ? "WWW-Authenticate: Bearer error=\"invalid_token\"\r\n"
                     : "WWW-Authenticate: Bearer\r\n",
                     res->retry_after ? "Retry-After: 1\r\n" : "",
                     cors, res->vary_origin ? "Vary: Origin\r\n" : "",
                     length);
    if (n > 0 && (size_t) n < sizeof(head)) {
        FCGX_PutStr(head, n, fcgi->out);
    }
    if (len > 0) {
        FCGX_PutStr(body, (int) len, fcgi->out);
    }
    if (body != res->text && body != buf) {
        free(body);
    }
}

void http_request_free(http_request_t *req)
{
    free(req->path);
    free(req->body);
    req->path = NULL;
    req->body = NULL;
}

void http_response_free(http_response_t *res)
{
    json_decref(res->json);
    free(res->text);
    res->json = NULL;
    res->text = NULL;
}

json_t *http_ok(http_response_t *res, int status)
{
    json_decref(res->json);
    res->status = status;
    res->json = json_pack("{s:b}", "success", 1);
    return res->json;
}

json_t *http_error(http_response_t *res, int status, const char *reason,
                   const char *message)
{
    json_decref(res->json);
    res->status = status;
    res->reason = reason;
    res->json = json_pack("{s:b, s:s, s:s}", "success", 0, "reason", reason,
                          "message", message);
    return res->json;
}

void http_validation_error(http_response_t *res, json_t *errors)
{
    json_t *body = http_error(res, 400, "validation_error",
                              "Some fields are missing or invalid");

    json_object_set(body, "errors", errors);
}

void http_unavailable(http_response_t *res, const char *message)
{
    http_error(res, 503, "service_unavailable", message);
    res->retry_after = true;
}

/* True when the media type (before any ';') of content_type is type. */
static bool media_type_is(const char *content_type, const char *type)
{
    size_t n = strlen(type);

    while (*content_type == ' ') {
        content_type++;
    }
    if (strncasecmp(content_type, type, n) != 0) {
        return false;
    }
    char next = content_type[n];
    return next == '\0' || next == ';' || next == ' ';
}

/* Most numbers out of a double's or an integer's range one body may
 * hold; past this the body is refused as a whole. */
#define OUT_OF_RANGE_MAX 16

/*
 * Parses text as JSON, duplicate keys refused. A string may hold \u0000
 * and a number may be out of range (1e400, a 30-digit integer): both are
 * valid JSON, so they are bad field values, not a bad body. jansson
 * refuses such a number, so it is replaced by [] (padded to its length)
 * and the field's own check then refuses it by name.
 */
static json_t *load_json(const char *text, size_t len)
{
    char *copy = NULL;
    json_t *obj = NULL;

    for (int i = 0; i <= OUT_OF_RANGE_MAX; i++) {
        json_error_t error;

        obj = json_loadb(copy ? copy : text, len,
                         JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);
        if (obj != NULL || (strstr(error.text, "real number overflow") == NULL
                            && strstr(error.text, "too big") == NULL))
        {
            break;
        }
        if (copy == NULL && (copy = malloc(len)) == NULL) {
            break;
        }
        if (i == 0) {
            memcpy(copy, text, len);
        }
        /* error.position is the byte after the number. */
        size_t end = (size_t) error.position, start = end;
        while (start > 0 && strchr("0123456789+-.eE", copy[start - 1])
               && copy[start - 1] != '\0') {
            start--;
        }
        if (end > len || end - start < 2) {
            break;
        }
        memset(copy + start, ' ', end - start);
        copy[start] = '[';
        copy[start + 1] = ']';
    }
    free(copy);
    return obj;
}

json_t *http_json_body(const http_request_t *req, http_response_t *res)
{
    if (req->content_type != NULL
        && !media_type_is(req->content_type, "application/json")
        && !media_type_is(req->content_type, "text/plain"))
    {
        http_error(res, 415, "unsupported_media_type",
                   "Send the body as JSON with "
                   "Content-Type: application/json");
        return NULL;
    }
    if (req->body_too_large) {
        http_error(res, 413, "payload_too_large",
                   "The request body is larger than 16 KiB");
        return NULL;
    }
    if (req->body == NULL || req->body_len == 0) {
        http_error(res, 400, "invalid_json", "The request body is empty");
        return NULL;
    }

    json_t *obj = load_json(req->body, req->body_len);
    if (obj == NULL) {
        http_error(res, 400, "invalid_json",
                   "The request body is not valid JSON");
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        http_error(res, 400, "invalid_json",
                   "The request body must be a JSON object");
        return NULL;
    }
    return obj;
}
