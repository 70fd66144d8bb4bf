/*
 * lambdalet's function world (native/wit/function.wit, lambdalet:function@0.1.0) for C guests.
 *
 * Implement lambdalet_handle(); link with lambdalet.c, which holds the canonical-ABI glue (the
 * export the host calls, cabi_realloc, the post-return that frees the result, the log import).
 * Build: native/build.sh (clang --target=wasm32-wasi, a reactor, then a component).
 */
#ifndef LAMBDALET_H
#define LAMBDALET_H

#include <stddef.h>
#include <stdint.h>

/* A string as the host passes it: UTF-8, NOT NUL-terminated. */
typedef struct {
  const char *ptr;
  size_t len;
} lambdalet_str;

/* The invocation's context (WIT record `types.context`). */
typedef struct {
  lambdalet_str request_id;
  lambdalet_str function_name;
  lambdalet_str function_version;
  lambdalet_str invoked_function_arn;
  uint32_t memory_limit_mb;
  uint64_t deadline_ms; /* ms since the Unix epoch */
} lambdalet_context;

/* What the handler returns: set it with lambdalet_ok() or lambdalet_error(). */
typedef struct {
  int is_error;
  char *body; /* ok: the response as JSON text; error: the errorType */
  size_t body_len;
  char *message; /* error: the errorMessage */
  size_t message_len;
} lambdalet_result;

typedef enum {
  LAMBDALET_TRACE,
  LAMBDALET_DEBUG,
  LAMBDALET_INFO,
  LAMBDALET_WARN,
  LAMBDALET_ERROR,
  LAMBDALET_FATAL,
} lambdalet_level;

/* The function: called once per invocation, on the same instance (state persists while warm). */
void lambdalet_handle(lambdalet_str event, const lambdalet_context *context, lambdalet_result *result);

/* Copies `json` (NUL-terminated) as the response. */
void lambdalet_ok(lambdalet_result *result, const char *json);
/* Copies the error's type and message: Lambda reports them as errorType and errorMessage. */
void lambdalet_error(lambdalet_result *result, const char *error_type, const char *error_message);
/* One line in the function's log at `level` (imported from the host: logging.log). */
void lambdalet_log(lambdalet_level level, const char *message);

#endif
