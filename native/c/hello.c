/* The smallest lambdalet function in C: answers {"hello":<event>,"requestId":...,"count":n}. */
#include <stdio.h>
#include <stdlib.h>

#include "lambdalet.h"

static unsigned count; /* module state: survives warm invocations of one environment */

void lambdalet_handle(lambdalet_str event, const lambdalet_context *context, lambdalet_result *result) {
  count++;
  size_t size = event.len + context->request_id.len + 64;
  char *json = malloc(size);
  if (json == NULL) {
    lambdalet_error(result, "OutOfMemory", "no memory for the response");
    return;
  }
  snprintf(json, size, "{\"hello\":%.*s,\"requestId\":\"%.*s\",\"count\":%u}", (int)event.len, event.ptr,
           (int)context->request_id.len, context->request_id.ptr, count);
  lambdalet_ok(result, json);
  free(json);
}
