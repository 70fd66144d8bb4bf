/*
 * The engine tests' guest: the event is a JSON string naming what to do ("trap", "grow:40", ...),
 * covering WASI (stdout, env, clocks, random, /tmp) and every failure mode the host must survive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lambdalet.h"

static unsigned count;
static char **volatile kept; /* the "grow" action's blocks, linked through their first word */
static char reply[4096];

static int is(const char *action, const char *name) { return strcmp(action, name) == 0; }

/* INIT (instantiation) runs constructors: PROBE_INIT=trap makes INIT fail, PROBE_INIT=log logs. */
__attribute__((constructor)) static void probe_init(void) {
  const char *init = getenv("PROBE_INIT");
  if (init != NULL && strcmp(init, "trap") == 0) __builtin_trap();
  if (init != NULL && strcmp(init, "log") == 0) lambdalet_log(LAMBDALET_INFO, "probe INIT");
}

static void tmp_round_trip(lambdalet_result *result) {
  FILE *out = fopen("/tmp/probe.txt", "a");
  if (out == NULL) {
    snprintf(reply, sizeof reply, "fopen /tmp/probe.txt: %s", strerror(errno));
    lambdalet_error(result, "TmpError", reply);
    return;
  }
  fputs("line\n", out);
  fclose(out);
  FILE *in = fopen("/tmp/probe.txt", "r");
  char text[256] = {0};
  size_t n = in ? fread(text, 1, sizeof text - 1, in) : 0;
  if (in) fclose(in);
  FILE *host = fopen("/etc/passwd", "r"); /* must not exist for the guest: only /tmp is preopened */
  FILE *escape = fopen("/tmp/../etc/passwd", "r");
  snprintf(reply, sizeof reply, "{\"bytes\":%zu,\"hostPasswd\":%s,\"escape\":%s}", n, host ? "true" : "false",
           escape ? "true" : "false");
  lambdalet_ok(result, reply);
}

void lambdalet_handle(lambdalet_str event, const lambdalet_context *context, lambdalet_result *result) {
  char action[128] = {0};
  /* The event is a JSON string: drop its quotes. */
  if (event.len >= 2 && event.len - 2 < sizeof action && event.ptr[0] == '"') memcpy(action, event.ptr + 1, event.len - 2);
  count++;
  if (is(action, "count")) {
    snprintf(reply, sizeof reply, "{\"count\":%u}", count);
    lambdalet_ok(result, reply);
  } else if (is(action, "context")) {
    snprintf(reply, sizeof reply,
             "{\"requestId\":\"%.*s\",\"functionName\":\"%.*s\",\"functionVersion\":\"%.*s\",\"arn\":\"%.*s\","
             "\"memoryLimitMb\":%u,\"deadlineMs\":%llu}",
             (int)context->request_id.len, context->request_id.ptr, (int)context->function_name.len,
             context->function_name.ptr, (int)context->function_version.len, context->function_version.ptr,
             (int)context->invoked_function_arn.len, context->invoked_function_arn.ptr, context->memory_limit_mb,
             (unsigned long long)context->deadline_ms);
    lambdalet_ok(result, reply);
  } else if (is(action, "log")) {
    lambdalet_log(LAMBDALET_INFO, "via logging.log");
    lambdalet_log(LAMBDALET_ERROR, "an error line");
    printf("via stdout\nsecond stdout line\n");
    fflush(stdout);
    fprintf(stderr, "via stderr\n");
    lambdalet_ok(result, "\"logged\"");
  } else if (is(action, "env")) {
    const char *stage = getenv("STAGE");
    const char *name = getenv("AWS_LAMBDA_FUNCTION_NAME");
    snprintf(reply, sizeof reply, "{\"STAGE\":\"%s\",\"AWS_LAMBDA_FUNCTION_NAME\":\"%s\"}", stage ? stage : "",
             name ? name : "");
    lambdalet_ok(result, reply);
  } else if (is(action, "clock")) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    unsigned char bytes[16];
    int random_ok = getentropy(bytes, sizeof bytes) == 0;
    snprintf(reply, sizeof reply, "{\"nowMs\":%lld,\"random\":%s,\"byte\":%u}",
             (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, random_ok ? "true" : "false", bytes[0]);
    lambdalet_ok(result, reply);
  } else if (is(action, "tmp")) {
    tmp_round_trip(result);
  } else if (is(action, "error")) {
    lambdalet_error(result, "ValidationError", "the event was not valid");
  } else if (is(action, "bad-json")) {
    lambdalet_ok(result, "{not json");
  } else if (is(action, "trap")) {
    __builtin_trap();
  } else if (is(action, "oob")) {
    volatile int *far = (volatile int *)(uintptr_t)0xfffffff0u;
    snprintf(reply, sizeof reply, "%d", *far);
    lambdalet_ok(result, reply);
  } else if (is(action, "loop")) {
    for (volatile unsigned i = 0;; i++) {
    }
  } else if (strncmp(action, "grow:", 5) == 0) {
    /* Allocates N MB and touches it: past memoryMb, malloc fails and the guest aborts. */
    unsigned mb = (unsigned)atoi(action + 5);
    for (unsigned i = 0; i < mb; i++) {
      char **block = malloc(1024 * 1024);
      if (block == NULL) abort();
      memset(block, 1, 1024 * 1024);
      *block = (char *)kept; /* kept reachable: the compiler may not drop the allocation */
      kept = block;
    }
    snprintf(reply, sizeof reply, "{\"grew\":%u,\"heapMb\":%zu}", mb, (size_t)__builtin_wasm_memory_size(0) / 16);
    lambdalet_ok(result, reply);
  } else if (strncmp(action, "big:", 4) == 0) {
    /* A JSON string of N bytes in all (quotes included). */
    size_t n = (size_t)atol(action + 4);
    char *json = malloc(n + 1);
    if (json == NULL || n < 2) abort();
    memset(json, 'x', n);
    json[0] = json[n - 1] = '"';
    json[n] = 0;
    lambdalet_ok(result, json);
    free(json);
  } else {
    snprintf(reply, sizeof reply, "unknown action '%s'", action);
    lambdalet_error(result, "UnknownAction", reply);
  }
}
