/*
 * Canonical-ABI glue for lambdalet:function@0.1.0, written by hand (wit-bindgen's C generator is a
 * Rust tool that does not install here). Layouts follow the Component Model's canonical ABI:
 * handle() takes 12 flat parameters (two i32 per string, u32, u64) and returns a pointer to
 * result<string, function-error>: a u8 discriminant at offset 0, the payload at offset 4.
 */
#include "lambdalet.h"

#include <stdlib.h>
#include <string.h>

__attribute__((import_module("lambdalet:function/logging@0.1.0"), import_name("log")))
extern void lambdalet_import_log(int32_t level, const char *ptr, size_t len);

void lambdalet_log(lambdalet_level level, const char *message) {
  lambdalet_import_log((int32_t)level, message, strlen(message));
}

static char *copy(const char *text, size_t *len) {
  *len = strlen(text);
  char *out = malloc(*len + 1);
  if (out == NULL) abort();
  memcpy(out, text, *len + 1);
  return out;
}

void lambdalet_ok(lambdalet_result *result, const char *json) {
  result->is_error = 0;
  result->body = copy(json, &result->body_len);
}

void lambdalet_error(lambdalet_result *result, const char *error_type, const char *error_message) {
  result->is_error = 1;
  result->body = copy(error_type, &result->body_len);
  result->message = copy(error_message, &result->message_len);
}

/* The host allocates the strings it passes through this (the canonical ABI's realloc). */
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *ptr, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
  if (new_size == 0) return (void *)align;
  void *out = realloc(ptr, new_size);
  if (out == NULL) abort();
  return out;
}

static void release(const char *ptr, size_t len) {
  if (len > 0) free((void *)ptr);
}

static _Alignas(4) uint8_t ret_area[20];

__attribute__((export_name("lambdalet:function/handler@0.1.0#handle")))
uint8_t *lambdalet_export_handle(const char *event, size_t event_len, const char *request_id, size_t request_id_len,
                                 const char *function_name, size_t function_name_len, const char *function_version,
                                 size_t function_version_len, const char *arn, size_t arn_len, uint32_t memory_limit_mb,
                                 uint64_t deadline_ms) {
  lambdalet_context context = {
      {request_id, request_id_len}, {function_name, function_name_len}, {function_version, function_version_len},
      {arn, arn_len},              memory_limit_mb,                   deadline_ms,
  };
  lambdalet_result result = {0};
  lambdalet_handle((lambdalet_str){event, event_len}, &context, &result);
  release(event, event_len);
  release(request_id, request_id_len);
  release(function_name, function_name_len);
  release(function_version, function_version_len);
  release(arn, arn_len);
  if (result.body == NULL) lambdalet_ok(&result, "null");
  memset(ret_area, 0, sizeof ret_area);
  ret_area[0] = result.is_error ? 1 : 0;
  uint32_t *words = (uint32_t *)(ret_area + 4);
  words[0] = (uint32_t)(uintptr_t)result.body;
  words[1] = (uint32_t)result.body_len;
  if (result.is_error) {
    words[2] = (uint32_t)(uintptr_t)result.message;
    words[3] = (uint32_t)result.message_len;
  }
  return ret_area;
}

/* Called by the host once it has copied the result out. */
__attribute__((export_name("cabi_post_lambdalet:function/handler@0.1.0#handle")))
void lambdalet_post_handle(uint8_t *ret) {
  uint32_t *words = (uint32_t *)(ret + 4);
  free((void *)(uintptr_t)words[0]);
  if (ret[0] == 1) free((void *)(uintptr_t)words[2]);
}
