//! The lambdalet hello function in Rust, with no crates: the canonical-ABI glue for
//! lambdalet:function@0.1.0 is written by hand (as native/c/lambdalet.c is), because wit-bindgen
//! comes from crates.io, which this build does not reach. Build: native/build.ts (Debian's rustc
//! with libstd-rust-dev-wasm32, `--target wasm32-wasi --crate-type cdylib`).
//! Answers {"hello":<event>,"requestId":"...","count":n,"lang":"rust"}.

use std::alloc::{alloc, dealloc, realloc, Layout};
use std::cell::Cell;

#[link(wasm_import_module = "lambdalet:function/logging@0.1.0")]
extern "C" {
    #[link_name = "log"]
    fn import_log(level: i32, ptr: *const u8, len: usize);
}

/// logging.level: trace 0, debug 1, info 2, warn 3, error 4, fatal 5.
fn log(level: i32, message: &str) {
    unsafe { import_log(level, message.as_ptr(), message.len()) }
}

thread_local! {
    /// Module state: survives warm invocations of one environment.
    static COUNT: Cell<u32> = Cell::new(0);
}

/// The function: the event's JSON text and the request id in, the response's JSON text out.
fn handle(event: &str, request_id: &str) -> Result<String, (String, String)> {
    let count = COUNT.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    if event == "\"fail\"" {
        return Err(("ValidationError".into(), "the event was \"fail\"".into()));
    }
    log(2, &format!("rust invocation {}", count));
    Ok(format!("{{\"hello\":{},\"requestId\":\"{}\",\"count\":{},\"lang\":\"rust\"}}", event, request_id, count))
}

// ---- canonical ABI glue -------------------------------------------------------------------

extern "C" {
    fn __wasm_call_ctors();
}

/// A reactor's initialiser (the adapter and jco call it once, at instantiation). Referencing
/// __wasm_call_ctors here also stops wasm-ld from wrapping every export in a constructor call
/// (its "command" behaviour), which would run WASI imports inside the post-return.
#[export_name = "_initialize"]
pub extern "C" fn initialize() {
    unsafe { __wasm_call_ctors() }
}

/// The host allocates the strings it passes through this.
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    if new_size == 0 {
        return align as *mut u8;
    }
    let out = if old_size == 0 {
        alloc(Layout::from_size_align_unchecked(new_size, align))
    } else {
        realloc(ptr, Layout::from_size_align_unchecked(old_size, align), new_size)
    };
    if out.is_null() {
        std::process::abort();
    }
    out
}

/// Takes ownership of a string the host allocated with cabi_realloc (align 1).
unsafe fn take(ptr: *mut u8, len: usize) -> String {
    if len == 0 {
        return String::new();
    }
    String::from_utf8_unchecked(Vec::from_raw_parts(ptr, len, len))
}

/// Leaks a string for the host to read; freed in the post-return.
fn give(text: String) -> (u32, u32) {
    let bytes = text.into_bytes().into_boxed_slice();
    let len = bytes.len();
    (Box::into_raw(bytes) as *mut u8 as u32, len as u32)
}

static mut RET_AREA: [u32; 5] = [0; 5];

#[export_name = "lambdalet:function/handler@0.1.0#handle"]
pub unsafe extern "C" fn export_handle(
    event: *mut u8, event_len: usize,
    request_id: *mut u8, request_id_len: usize,
    function_name: *mut u8, function_name_len: usize,
    function_version: *mut u8, function_version_len: usize,
    arn: *mut u8, arn_len: usize,
    _memory_limit_mb: u32, _deadline_ms: u64,
) -> *mut u32 {
    let event = take(event, event_len);
    let request_id = take(request_id, request_id_len);
    drop(take(function_name, function_name_len));
    drop(take(function_version, function_version_len));
    drop(take(arn, arn_len));
    RET_AREA = [0; 5];
    match handle(&event, &request_id) {
        Ok(body) => {
            let (ptr, len) = give(body);
            RET_AREA[1] = ptr;
            RET_AREA[2] = len;
        }
        Err((error_type, message)) => {
            RET_AREA[0] = 1; // the discriminant is the low byte of word 0
            let (ptr, len) = give(error_type);
            RET_AREA[1] = ptr;
            RET_AREA[2] = len;
            let (ptr, len) = give(message);
            RET_AREA[3] = ptr;
            RET_AREA[4] = len;
        }
    }
    RET_AREA.as_mut_ptr()
}

unsafe fn free(ptr: u32, len: u32) {
    if len > 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(len as usize, 1));
    }
}

#[export_name = "cabi_post_lambdalet:function/handler@0.1.0#handle"]
pub unsafe extern "C" fn post_handle(ret: *mut u32) {
    let words = std::slice::from_raw_parts(ret, 5);
    free(words[1], words[2]);
    if words[0] & 0xff == 1 {
        free(words[3], words[4]);
    }
}
