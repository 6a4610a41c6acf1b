/* Status messages and the per-thread detailed error message. */
#include "matscreen/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MS_ERROR_MESSAGE_MAX 1024

static const char *const status_messages[MS_STATUS_COUNT] = {
    [MS_SUCCESS] = "success",
    [MS_ERR_NOMEM] = "out of memory",
    [MS_ERR_IO] = "input/output error",
    [MS_ERR_PARSE] = "syntax error in input",
    [MS_ERR_INVALID] = "invalid value in input",
    [MS_ERR_NOT_FOUND] = "not found",
    [MS_ERR_NO_STRUCTURE] = "input holds no crystal structure",
    [MS_ERR_UNKNOWN_ELEMENT] = "unknown element symbol",
    [MS_ERR_LIMIT] = "size limit exceeded",
    [MS_ERR_UNSUPPORTED] = "unsupported input feature",
    [MS_ERR_SYMMETRY] = "symmetry error",
    [MS_ERR_USAGE] = "invalid usage",
    [MS_ERR_INTERNAL] = "internal error (a bug in matscreen)",
};

/* thread_local, as spglib does, so readers may run in threads without sharing messages. */
static _Thread_local char error_message[MS_ERROR_MESSAGE_MAX];

const char *ms_strerror(ms_status status)
{
    if ((int)status < 0 || status >= MS_STATUS_COUNT || !status_messages[status])
        return "unknown status code";
    return status_messages[status];
}

const char *ms_error_message(void) { return error_message; }

void ms_error_clear(void) { error_message[0] = '\0'; }

ms_status ms_error_set(ms_status code, const char *fmt, ...)
{
    /* Formatted apart first: callers pass ms_error_message() itself as an argument
     * ("writing results failed: %s"), and vsnprintf must not read the buffer it writes. */
    char msg[MS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(error_message, msg, sizeof msg);
    return code;
}

void ms_error_prefix(const char *fmt, ...)
{
    char prefix[MS_ERROR_MESSAGE_MAX];
    char old[MS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, error_message, sizeof old);
    snprintf(error_message, sizeof error_message, "%s: %s", prefix, old);
}
