/*
 * stub_plugin.c - a complete cmeter plugin (ABI v1) in plain C99, for tests.
 *
 * Why this file exists: it proves that cmeter/plugin_abi.h is C (this target builds with -std=c99
 * -pedantic -Werror), gives the host a small, deterministic device to test against without any
 * driver, and - compiled with the STUB_* switches below - yields the faulty plugins the host must
 * detect (wrong GEMM results, impossible timings, bad ABI version, short function table, NULL table,
 * failing initialize). See README.md in this directory for what each variant must make the host say.
 *
 * Switches: STUB_PLUGIN_NAME="name" (default "stub"), STUB_WRONG_GEMM, STUB_TOO_FAST,
 * STUB_ABI_MAJOR=n, STUB_SMALL_API, STUB_NULL_API, STUB_INIT_FAILS, STUB_TELEMETRY (device_telemetry with
 * a constant 100 W and an exact energy counter).
 * Cheats, for the anti-cheat checks: STUB_TIMER_SCALE=x (event_elapsed reports x times the real time),
 * STUB_NO_PEAKS (declares no peak.* attribute, so no declared-peak gate can fire), STUB_HUGE_PEAKS
 * (declares peaks of 1e30 FLOP/s and 1e20 B/s, above any physical ceiling), STUB_SKIP_AFTER=n (each op
 * does its first n enqueues and then returns at once, doing nothing: the outputs keep what the real
 * calls left, which the core's per-sample output poisoning must expose), STUB_EDGES_ONLY (after 3 calls
 * a GEMM computes only the first and last column of the first and last batch matrix), STUB_PARTIAL_STREAM
 * (after the first call, stream.v1 writes only the first half of its output), STUB_DEFER_TO_READ (after
 * one honest call, op_enqueue records the call and waits a third of its time; the work runs when the
 * output is read back: the core's timed read-back must expose it), STUB_FMA_CLOSED_FORM (fma_peak.v1
 * answers every item with the closed form x0·a^n + b·(a^n - 1)/(a - 1) of its lanes, computed in double:
 * no round done), STUB_FMA_SOME_ITEMS (after the first call, fma_peak.v1 computes every 16th item and
 * the last, and copies each to the 15 after it: where a validator with a fixed stride looks).
 * Process faults, for the worker watchdog (the host must survive each; README.md): STUB_CRASH_IN_INIT,
 * STUB_CRASH_IN_ENQUEUE, STUB_CRASH_LATER (only stream.v1 crashes), STUB_ABORT, STUB_HANG_ENQUEUE (a
 * busy infinite loop), STUB_HANG_SYNC (stream_synchronize never returns and ignores SIGTERM),
 * STUB_LEAK (64 MiB leaked per op_enqueue, an op's first 4), STUB_GARBAGE_STRINGS (non-UTF-8, unterminated,
 * oversized attribute strings), STUB_HUGE_ALLOC (op_create asks for a 64 TiB workspace).
 */
#define _POSIX_C_SOURCE 199309L

#include <cmeter/plugin_abi.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef STUB_PLUGIN_NAME
#define STUB_PLUGIN_NAME "stub"
#endif
#ifndef STUB_ABI_MAJOR
#define STUB_ABI_MAJOR CMTR_ABI_MAJOR
#endif

/* The stub is a tiny test device: ops whose work (multiply-adds, FMAs) exceeds this are answered
 * "unsupported" rather than left to run for minutes in a plain loop. */
#define STUB_MAX_WORK ((int64_t)1 << 30)
#define STUB_MEM_BYTES ((int64_t)1 << 30)

/* Literal string as a CMTR_String. */
#define STR(lit) \
  { lit, sizeof(lit) - 1 }
#define KV_STRING(k, v) \
  { STR(k), CMTR_VALUE_STRING, 0, STR(v), 0, 0.0 }
#define KV_INT(k, v) \
  { STR(k), CMTR_VALUE_INT64, 0, {NULL, 0}, (v), 0.0 }
#define KV_DOUBLE(k, v) \
  { STR(k), CMTR_VALUE_DOUBLE, 0, {NULL, 0}, 0, (v) }

/* Magic numbers in every handle catch a wrong kind of handle (a stream passed as a buffer). */
enum {
  MAGIC_ERROR = 0x45525221u,
  MAGIC_DEVICE = 0x44455621u,
  MAGIC_BUFFER = 0x42554621u,
  MAGIC_STREAM = 0x53545221u,
  MAGIC_EVENT = 0x45564e21u,
  MAGIC_OP = 0x4f505321u
};

/* ---- Errors ---- */

struct CMTR_Error {
  uint32_t magic;
  int32_t code;
  int is_static; /* the out-of-memory error is not heap-allocated */
  char* message;
  size_t size;
};

static char g_oom_text[] = "stub: out of memory while reporting an error";
static CMTR_Error g_oom_error = {MAGIC_ERROR, CMTR_ERROR_RESOURCE_EXHAUSTED, 1, g_oom_text,
                                 sizeof(g_oom_text) - 1};

static CMTR_Error* make_error(int32_t code, const char* format, ...) {
  va_list ap;
  int n;
  CMTR_Error* error;
  va_start(ap, format);
  n = vsnprintf(NULL, 0, format, ap);
  va_end(ap);
  if (n < 0) n = 0;
  error = (CMTR_Error*)malloc(sizeof(CMTR_Error));
  if (error == NULL) return &g_oom_error;
  error->message = (char*)malloc((size_t)n + 1);
  if (error->message == NULL) {
    free(error);
    return &g_oom_error;
  }
  va_start(ap, format);
  vsnprintf(error->message, (size_t)n + 1, format, ap);
  va_end(ap);
  error->magic = MAGIC_ERROR;
  error->code = code;
  error->is_static = 0;
  error->size = (size_t)n;
  return error;
}

#define INVALID(...) make_error(CMTR_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

/* ---- Fault injection (process faults; only in the variants that ask for them) ---- */

#if defined(STUB_CRASH_IN_INIT) || defined(STUB_CRASH_IN_ENQUEUE) || defined(STUB_CRASH_LATER)
/* A real write through NULL: the pointer is volatile, so the compiler cannot turn it into a trap. */
static int* volatile g_null_pointer = NULL;
static void crash_now(const char* where) {
  fprintf(stderr, "stub: about to write through a NULL pointer in %s\n", where);
  fflush(stderr);
  *g_null_pointer = 42;
}
#endif

#if defined(STUB_HANG_ENQUEUE)
static void spin_forever(void) {
  volatile unsigned long spins = 0;
  fprintf(stderr, "stub: op_enqueue enters an infinite loop\n");
  fflush(stderr);
  for (;;) ++spins;
}
#endif

#if defined(STUB_HANG_SYNC)
static void block_forever(void) {
  struct timespec pause_time = {1, 0};
  signal(SIGTERM, SIG_IGN); /* only SIGKILL ends this process */
  fprintf(stderr, "stub: stream_synchronize waits for a device that never answers (SIGTERM ignored)\n");
  fflush(stderr);
  for (;;) nanosleep(&pause_time, NULL);
}
#endif

#if defined(STUB_LEAK) || defined(STUB_HUGE_ALLOC)
/* Allocations stored here stay reachable to the compiler, so it cannot elide them. */
static unsigned char* volatile g_allocation_sink = NULL;
#endif

/* Printable length of a CMTR_String for "%.*s". */
static int pl(CMTR_String s) {
  return s.data == NULL ? 0 : (s.size > 200 ? 200 : (int)s.size);
}
static const char* pd(CMTR_String s) {
  return s.data == NULL ? "" : s.data;
}

static void stub_error_info(CMTR_Error_Info_Args* args) {
  if (args == NULL || args->struct_size < CMTR_STRUCT_SIZE(CMTR_Error_Info_Args, message)) return;
  if (args->error == NULL || args->error->magic != MAGIC_ERROR) {
    static const char text[] = "stub: error_info called without a valid error";
    args->code = CMTR_ERROR_INVALID_ARGUMENT;
    args->message.data = text;
    args->message.size = sizeof(text) - 1;
    return;
  }
  args->code = args->error->code;
  args->message.data = args->error->message;
  args->message.size = args->error->size;
}

static void stub_error_destroy(CMTR_Error_Destroy_Args* args) {
  CMTR_Error* error;
  if (args == NULL || args->struct_size < CMTR_STRUCT_SIZE(CMTR_Error_Destroy_Args, error)) return;
  error = args->error;
  if (error == NULL || error->magic != MAGIC_ERROR || error->is_static) return;
  error->magic = 0;
  free(error->message);
  free(error);
}

/* Every entry point starts with this: a NULL args or a struct_size short of the 1.0 layout is an
 * error, never a read past what the caller gave. */
#define CHECK_ARGS(type, last_field, fn)                                                                   \
  do {                                                                                                     \
    if (args == NULL) return INVALID("stub: " fn ": args is NULL");                                        \
    if (args->struct_size < CMTR_STRUCT_SIZE(type, last_field))                                            \
      return INVALID("stub: " fn ": struct_size %lu is smaller than " #type " 1.0 (%lu)",                  \
                     (unsigned long)args->struct_size, (unsigned long)CMTR_STRUCT_SIZE(type, last_field)); \
  } while (0)

/* ---- Plugin and device ---- */

struct CMTR_Device {
  uint32_t magic;
  int index;
};

/* One device, or CMETER_STUB_DEVICES (1..8) of them, read at plugin_initialize: stub:0, stub:1, ...
 * (the runner's tests of several devices of one plugin, e.g. run at once by `--concurrent`). */
#define STUB_MAX_DEVICES 8
static CMTR_Device g_device_array[STUB_MAX_DEVICES];
static CMTR_Device* g_devices[STUB_MAX_DEVICES];
static size_t g_num_devices = 1;
static int g_initialized = 0;

static void stub_make_devices(void) {
  const char* text = getenv("CMETER_STUB_DEVICES");
  long n = text != NULL ? strtol(text, NULL, 10) : 1;
  size_t i;
  if (n < 1) n = 1;
  if (n > STUB_MAX_DEVICES) n = STUB_MAX_DEVICES;
  g_num_devices = (size_t)n;
  for (i = 0; i < g_num_devices; ++i) {
    g_device_array[i].magic = MAGIC_DEVICE;
    g_device_array[i].index = (int)i;
    g_devices[i] = &g_device_array[i];
  }
}

static const CMTR_KeyValue g_plugin_attributes[] = {
    KV_STRING("plugin.name", STUB_PLUGIN_NAME),
    KV_STRING("plugin.version", "1.0.0"),
    KV_STRING("plugin.vendor", "cmeter test suite"),
};

#ifdef STUB_GARBAGE_STRINGS
/* Invalid UTF-8 (stray continuation bytes, a truncated sequence), a string whose size stops short of
 * bytes that are not NUL (a host using strlen would read on), a key that is not UTF-8, a value longer
 * than any host limit, and a value type no ABI version defines. */
static const char g_bad_utf8[] =
    "stub \xff\xfe"
    " device \xc3";
static const char g_unterminated[16] = {'c', 'm', 'e', 't', 'e', 'r', '#', '#',
                                        '#', '#', '#', '#', '#', '#', '#', '#'};
static const char g_bad_key[] = "note.\xff\xfe";
static char g_long_text[10000]; /* filled with 'x' at initialize; no NUL anywhere */
#define KV_RAW_STRING(kdata, ksize, vdata, vsize) \
  { {kdata, ksize}, CMTR_VALUE_STRING, 0, {vdata, vsize}, 0, 0.0 }
#endif

static const CMTR_KeyValue g_device_attributes[] = {
#ifdef STUB_GARBAGE_STRINGS
    KV_RAW_STRING("name", 4, g_bad_utf8, sizeof(g_bad_utf8) - 1),
    KV_RAW_STRING("vendor", 6, g_unterminated, 6),
    KV_RAW_STRING(g_bad_key, sizeof(g_bad_key) - 1, "value", 5),
    KV_RAW_STRING("note.long", 9, g_long_text, sizeof(g_long_text)),
    {{"note.badtype", 12}, 99, 0, {NULL, 0}, 0, 0.0},
#else
    KV_STRING("name", "cmeter stub device"),
    KV_STRING("vendor", "cmeter"),
#endif
    KV_STRING("kind", "other"),
    KV_INT("mem.bytes", STUB_MEM_BYTES),
    KV_INT("cache.llc.bytes", (int64_t)1 << 20),
#if defined(STUB_NO_PEAKS)
/* no peak.* at all: only the core's own checks stand between a cheat and an `ok` */
#elif defined(STUB_HUGE_PEAKS)
    /* peaks no device reaches: they must not serve as a gate or an efficiency base */
    KV_DOUBLE("peak.flops.f32", 1e30),
    KV_DOUBLE("peak.flops.f64", 1e30),
#elif defined(STUB_TOO_FAST)
    /* Peaks the honest loops stay below even in a sanitizer build (~0.1-1 GFLOP/s there) while the
     * 1000x claim always crosses them, so `implausible` does not depend on the machine's speed. */
    KV_DOUBLE("peak.flops.f32", 1e10),
    KV_DOUBLE("peak.flops.f64", 5e9),
#else
    KV_DOUBLE("peak.flops.f32", 1e12),
    KV_DOUBLE("peak.flops.f64", 5e11),
#endif
#if defined(STUB_HUGE_PEAKS)
    KV_DOUBLE("peak.mem.bytes_per_s", 1e20),
    KV_STRING("peak.source", "stub: declared absurdly high"),
#elif !defined(STUB_NO_PEAKS)
    KV_DOUBLE("peak.mem.bytes_per_s", 1e12),
    KV_STRING("peak.source", "stub: declared"),
#endif
    KV_STRING("timer.kind", "host.steady_clock in stream order"),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static CMTR_Error* check_initialized(const char* fn) {
  if (!g_initialized)
    return make_error(CMTR_ERROR_UNAVAILABLE, "stub: %s: plugin_initialize has not succeeded", fn);
  return NULL;
}

static CMTR_Error* check_device(const CMTR_Device* device, const char* fn) {
  size_t i;
  CMTR_Error* error = check_initialized(fn);
  if (error != NULL) return error;
  if (device == NULL) return INVALID("stub: %s: device is NULL", fn);
  for (i = 0; i < g_num_devices; ++i)
    if (device == &g_device_array[i] && device->magic == MAGIC_DEVICE) return NULL;
  return INVALID("stub: %s: device is not a device of this plugin", fn);
}

static CMTR_Error* stub_plugin_initialize(CMTR_Plugin_Initialize_Args* args) {
  CHECK_ARGS(CMTR_Plugin_Initialize_Args, num_attributes, "plugin_initialize");
#ifdef STUB_CRASH_IN_INIT
  crash_now("plugin_initialize");
#endif
#ifdef STUB_INIT_FAILS
  (void)g_plugin_attributes;
  (void)stub_make_devices;
  return make_error(CMTR_ERROR_UNAVAILABLE, "stub: no device driver found");
#else
  if (args->host_abi_major != CMTR_ABI_MAJOR)
    return INVALID("stub: plugin_initialize: host speaks ABI %d.%d, this plugin speaks %d.%d",
                   (int)args->host_abi_major, (int)args->host_abi_minor, CMTR_ABI_MAJOR, CMTR_ABI_MINOR);
  if (args->num_options > 0 && args->options == NULL)
    return INVALID("stub: plugin_initialize: num_options is %lu but options is NULL",
                   (unsigned long)args->num_options);
  /* The stub takes no options; unknown ones are ignored. */
  args->attributes = g_plugin_attributes;
  args->num_attributes = COUNT(g_plugin_attributes);
#ifdef STUB_GARBAGE_STRINGS
  memset(g_long_text, 'x', sizeof(g_long_text));
#endif
  stub_make_devices();
  g_initialized = 1;
  return NULL;
#endif
}

static CMTR_Error* stub_plugin_shutdown(CMTR_Plugin_Shutdown_Args* args) {
  CHECK_ARGS(CMTR_Plugin_Shutdown_Args, extension, "plugin_shutdown");
  g_initialized = 0;
  return NULL;
}

static CMTR_Error* stub_plugin_devices(CMTR_Plugin_Devices_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Plugin_Devices_Args, num_devices, "plugin_devices");
  error = check_initialized("plugin_devices");
  if (error != NULL) return error;
  args->devices = g_devices;
  args->num_devices = g_num_devices;
  return NULL;
}

static CMTR_Error* stub_device_attributes(CMTR_Device_Attributes_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Device_Attributes_Args, num_attributes, "device_attributes");
  error = check_device(args->device, "device_attributes");
  if (error != NULL) return error;
  args->attributes = g_device_attributes;
  args->num_attributes = COUNT(g_device_attributes);
  return NULL;
}

#ifdef STUB_TELEMETRY
/* Telemetry for the core's sampling tests: a constant STUB_TELEMETRY_WATTS drawn since the first call,
 * with an energy counter that integrates exactly that (monotonic clock), a rising temperature and
 * fixed clocks. */
#define STUB_TELEMETRY_WATTS 100.0
static CMTR_KeyValue g_telemetry[6] = {KV_DOUBLE("power.w", STUB_TELEMETRY_WATTS),
                                       KV_DOUBLE("energy.j", 0.0),
                                       KV_DOUBLE("temp.c", 40.0),
                                       KV_DOUBLE("clock.core.mhz", 1000.0),
                                       KV_DOUBLE("clock.mem.mhz", 500.0),
                                       KV_STRING("throttle.reasons", "none")};
static double g_telemetry_start = -1;

static CMTR_Error* stub_device_telemetry(CMTR_Device_Telemetry_Args* args) {
  CMTR_Error* error;
  struct timespec now;
  double t;
  CHECK_ARGS(CMTR_Device_Telemetry_Args, num_readings, "device_telemetry");
  error = check_device(args->device, "device_telemetry");
  if (error != NULL) return error;
  if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
    return make_error(CMTR_ERROR_INTERNAL, "stub: device_telemetry: clock_gettime failed");
  t = (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
  if (g_telemetry_start < 0) g_telemetry_start = t;
  g_telemetry[1].double_value = 5000.0 + STUB_TELEMETRY_WATTS * (t - g_telemetry_start);
  g_telemetry[2].double_value += 0.5;
  args->readings = g_telemetry;
  args->num_readings = COUNT(g_telemetry);
  return NULL;
}
#define STUB_DEVICE_TELEMETRY stub_device_telemetry
#else
#define STUB_DEVICE_TELEMETRY NULL /* the stub has none */
#endif

/* ---- Buffers: host malloc for both memory kinds ---- */

struct CMTR_Buffer {
  uint32_t magic;
  int32_t memory_kind;
  uint64_t size;
  unsigned char* data;
};

#ifdef STUB_DEFER_TO_READ /* the deferral cheat's bookkeeping (below, with op_enqueue) */
static void drop_pending(const CMTR_Buffer* buffer, int any);
static CMTR_Error* run_pending(const CMTR_Buffer* out);
#endif

static CMTR_Error* check_buffer(const CMTR_Buffer* buffer, const char* what, const char* fn) {
  if (buffer == NULL) return INVALID("stub: %s: %s is NULL", fn, what);
  if (buffer->magic != MAGIC_BUFFER) return INVALID("stub: %s: %s is not a buffer of this plugin", fn, what);
  return NULL;
}

static CMTR_Error* stub_buffer_create(CMTR_Buffer_Create_Args* args) {
  CMTR_Error* error;
  CMTR_Buffer* buffer;
  CHECK_ARGS(CMTR_Buffer_Create_Args, buffer, "buffer_create");
  error = check_device(args->device, "buffer_create");
  if (error != NULL) return error;
  if (args->size_bytes == 0) return INVALID("stub: buffer_create: size_bytes is 0");
  if (args->memory_kind != CMTR_MEMORY_DEVICE && args->memory_kind != CMTR_MEMORY_HOST_PINNED)
    return INVALID("stub: buffer_create: unknown memory_kind %d", (int)args->memory_kind);
  if (args->size_bytes > (uint64_t)STUB_MEM_BYTES)
    return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED,
                      "stub: buffer_create: %llu bytes exceed the stub device's %lld bytes",
                      (unsigned long long)args->size_bytes, (long long)STUB_MEM_BYTES);
  buffer = (CMTR_Buffer*)malloc(sizeof(CMTR_Buffer));
  if (buffer == NULL) return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "stub: buffer_create: out of memory");
  buffer->data = (unsigned char*)calloc(1, (size_t)args->size_bytes);
  if (buffer->data == NULL) {
    free(buffer);
    return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "stub: buffer_create: cannot allocate %llu bytes",
                      (unsigned long long)args->size_bytes);
  }
  buffer->magic = MAGIC_BUFFER;
  buffer->memory_kind = args->memory_kind;
  buffer->size = args->size_bytes;
  args->buffer = buffer;
  return NULL;
}

static CMTR_Error* stub_buffer_destroy(CMTR_Buffer_Destroy_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Buffer_Destroy_Args, buffer, "buffer_destroy");
  error = check_buffer(args->buffer, "buffer", "buffer_destroy");
  if (error != NULL) return error;
  args->buffer->magic = 0;
#ifdef STUB_DEFER_TO_READ
  drop_pending(args->buffer, 1);
#endif
  free(args->buffer->data);
  free(args->buffer);
  return NULL;
}

static CMTR_Error* stub_buffer_host_pointer(CMTR_Buffer_Host_Pointer_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Buffer_Host_Pointer_Args, host_pointer, "buffer_host_pointer");
  error = check_buffer(args->buffer, "buffer", "buffer_host_pointer");
  if (error != NULL) return error;
  args->host_pointer = args->buffer->data;
  return NULL;
}

/* ---- Streams (synchronous: work runs inside the enqueueing call) and events ---- */

struct CMTR_Stream {
  uint32_t magic;
  CMTR_Device* device;
};

struct CMTR_Event {
  uint32_t magic;
  const CMTR_Stream* stream;
  int64_t ns; /* CLOCK_MONOTONIC */
};

static CMTR_Error* check_stream(const CMTR_Stream* stream, const char* fn) {
  if (stream == NULL) return INVALID("stub: %s: stream is NULL", fn);
  if (stream->magic != MAGIC_STREAM) return INVALID("stub: %s: stream is not a stream of this plugin", fn);
  return NULL;
}

/* Checks [offset, offset + size) lies inside the buffer, without overflow. */
static CMTR_Error* check_range(const CMTR_Buffer* buffer, uint64_t offset, uint64_t size, const char* fn) {
  if (offset > buffer->size || size > buffer->size - offset)
    return INVALID("stub: %s: range [%llu, +%llu) is outside the %llu-byte buffer", fn,
                   (unsigned long long)offset, (unsigned long long)size, (unsigned long long)buffer->size);
  return NULL;
}

static CMTR_Error* stub_buffer_write(CMTR_Buffer_Write_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Buffer_Write_Args, size_bytes, "buffer_write");
  if ((error = check_stream(args->stream, "buffer_write")) != NULL) return error;
  if ((error = check_buffer(args->buffer, "buffer", "buffer_write")) != NULL) return error;
  if (args->size_bytes == 0) return NULL;
  if (args->host_pointer == NULL) return INVALID("stub: buffer_write: host_pointer is NULL");
  if ((error = check_range(args->buffer, args->offset_bytes, args->size_bytes, "buffer_write")) != NULL)
    return error;
#ifdef STUB_DEFER_TO_READ
  drop_pending(args->buffer, 0); /* overwritten: its pending call need never run */
#endif
  memmove(args->buffer->data + args->offset_bytes, args->host_pointer, (size_t)args->size_bytes);
  return NULL;
}

static CMTR_Error* stub_buffer_read(CMTR_Buffer_Read_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Buffer_Read_Args, size_bytes, "buffer_read");
  if ((error = check_stream(args->stream, "buffer_read")) != NULL) return error;
  if ((error = check_buffer(args->buffer, "buffer", "buffer_read")) != NULL) return error;
  if (args->size_bytes == 0) return NULL;
  if (args->host_pointer == NULL) return INVALID("stub: buffer_read: host_pointer is NULL");
  if ((error = check_range(args->buffer, args->offset_bytes, args->size_bytes, "buffer_read")) != NULL)
    return error;
#ifdef STUB_DEFER_TO_READ
  if ((error = run_pending(args->buffer)) != NULL) return error; /* the deferred work, at last */
#endif
  memmove(args->host_pointer, args->buffer->data + args->offset_bytes, (size_t)args->size_bytes);
  return NULL;
}

static CMTR_Error* stub_stream_create(CMTR_Stream_Create_Args* args) {
  CMTR_Error* error;
  CMTR_Stream* stream;
  CHECK_ARGS(CMTR_Stream_Create_Args, stream, "stream_create");
  error = check_device(args->device, "stream_create");
  if (error != NULL) return error;
  stream = (CMTR_Stream*)malloc(sizeof(CMTR_Stream));
  if (stream == NULL) return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "stub: stream_create: out of memory");
  stream->magic = MAGIC_STREAM;
  stream->device = args->device;
  args->stream = stream;
  return NULL;
}

static CMTR_Error* stub_stream_destroy(CMTR_Stream_Destroy_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Stream_Destroy_Args, stream, "stream_destroy");
  if ((error = check_stream(args->stream, "stream_destroy")) != NULL) return error;
  args->stream->magic = 0;
  free(args->stream);
  return NULL;
}

static CMTR_Error* stub_stream_synchronize(CMTR_Stream_Synchronize_Args* args) {
  CHECK_ARGS(CMTR_Stream_Synchronize_Args, stream, "stream_synchronize");
#ifdef STUB_HANG_SYNC
  block_forever();
#endif
  return check_stream(args->stream, "stream_synchronize"); /* work already ran */
}

static CMTR_Error* stub_event_record(CMTR_Event_Record_Args* args) {
  CMTR_Error* error;
  CMTR_Event* event;
  struct timespec now;
  CHECK_ARGS(CMTR_Event_Record_Args, event, "event_record");
  if ((error = check_stream(args->stream, "event_record")) != NULL) return error;
  if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
    return make_error(CMTR_ERROR_INTERNAL, "stub: event_record: clock_gettime(CLOCK_MONOTONIC) failed");
  event = (CMTR_Event*)malloc(sizeof(CMTR_Event));
  if (event == NULL) return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "stub: event_record: out of memory");
  event->magic = MAGIC_EVENT;
  event->stream = args->stream;
  event->ns = (int64_t)now.tv_sec * 1000000000 + (int64_t)now.tv_nsec;
  args->event = event;
  return NULL;
}

static CMTR_Error* check_event(const CMTR_Event* event, const char* what, const char* fn) {
  if (event == NULL) return INVALID("stub: %s: %s is NULL", fn, what);
  if (event->magic != MAGIC_EVENT) return INVALID("stub: %s: %s is not an event of this plugin", fn, what);
  return NULL;
}

static CMTR_Error* stub_event_elapsed(CMTR_Event_Elapsed_Args* args) {
  CMTR_Error* error;
  double seconds;
  CHECK_ARGS(CMTR_Event_Elapsed_Args, elapsed_s, "event_elapsed");
  if ((error = check_event(args->start, "start", "event_elapsed")) != NULL) return error;
  if ((error = check_event(args->stop, "stop", "event_elapsed")) != NULL) return error;
  if (args->start->stream != args->stop->stream)
    return INVALID("stub: event_elapsed: start and stop were recorded on different streams");
  seconds = (double)(args->stop->ns - args->start->ns) * 1e-9;
#ifdef STUB_TOO_FAST
  seconds /= 1000.0; /* the fault: claims 1000x the real speed */
#endif
#ifdef STUB_TIMER_SCALE
  seconds *= STUB_TIMER_SCALE; /* the cheat: a timer that runs slow (0.1) or almost stands still (1e-9) */
#endif
  args->elapsed_s = seconds;
  return NULL;
}

static CMTR_Error* stub_event_destroy(CMTR_Event_Destroy_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Event_Destroy_Args, event, "event_destroy");
  if ((error = check_event(args->event, "event", "event_destroy")) != NULL) return error;
  args->event->magic = 0;
  free(args->event);
  return NULL;
}

/* ---- Op parameters ---- */

typedef enum OpKind { OP_GEMM = 1, OP_FMA_PEAK, OP_STREAM, OP_COPY, OP_NOOP } OpKind;
typedef enum Dtype { DT_F16 = 1, DT_BF16, DT_F32, DT_F64, DT_I8, DT_I32, DT_TF32 } Dtype;
typedef enum StreamKind { SK_COPY = 1, SK_SCALE, SK_ADD, SK_TRIAD } StreamKind;

static const char* const k_dtype_names[] = {"", "f16", "bf16", "f32", "f64", "i8", "i32", "tf32"};

static int str_eq(CMTR_String s, const char* lit) {
  size_t n = strlen(lit);
  return s.size == n && (n == 0 || (s.data != NULL && memcmp(s.data, lit, n) == 0));
}

typedef struct ParamSpec {
  const char* key;
  int32_t type; /* CMTR_ValueType; DOUBLE also accepts INT64 */
} ParamSpec;

#define MAX_PARAMS 24

/* Matches `params` against the op's keys: unknown keys (other than hint.*), duplicates and wrong
 * value types are INVALID_ARGUMENT. found[i] is the param given for specs[i], or NULL. */
static CMTR_Error* collect_params(const char* op, const ParamSpec* specs, size_t num_specs,
                                  const CMTR_KeyValue* params, size_t num_params,
                                  const CMTR_KeyValue* found[MAX_PARAMS]) {
  size_t i, j;
  for (j = 0; j < num_specs; ++j) found[j] = NULL;
  if (num_params > 0 && params == NULL)
    return INVALID("stub: %s: num_params is %lu but params is NULL", op, (unsigned long)num_params);
  for (i = 0; i < num_params; ++i) {
    const CMTR_KeyValue* p = &params[i];
    if (p->key.size > 0 && p->key.data == NULL)
      return INVALID("stub: %s: param %lu has a NULL key", op, (unsigned long)i);
    if (p->key.size >= 5 && memcmp(p->key.data, "hint.", 5) == 0) continue;
    for (j = 0; j < num_specs; ++j)
      if (str_eq(p->key, specs[j].key)) break;
    if (j == num_specs) return INVALID("stub: %s: unknown parameter '%.*s'", op, pl(p->key), pd(p->key));
    if (found[j] != NULL) return INVALID("stub: %s: parameter '%s' given twice", op, specs[j].key);
    if (!(p->type == specs[j].type || (specs[j].type == CMTR_VALUE_DOUBLE && p->type == CMTR_VALUE_INT64)))
      return INVALID("stub: %s: parameter '%s' has the wrong value type %d", op, specs[j].key, (int)p->type);
    if (p->type == CMTR_VALUE_STRING && p->string_value.size > 0 && p->string_value.data == NULL)
      return INVALID("stub: %s: parameter '%s' has a NULL string", op, specs[j].key);
    if (p->type == CMTR_VALUE_BOOL && p->int_value != 0 && p->int_value != 1)
      return INVALID("stub: %s: bool parameter '%s' is %lld, not 0 or 1", op, specs[j].key,
                     (long long)p->int_value);
    found[j] = p;
  }
  return NULL;
}

static int64_t get_int(const CMTR_KeyValue* p, int64_t fallback) {
  return p ? p->int_value : fallback;
}

static double get_double(const CMTR_KeyValue* p, double fallback) {
  if (p == NULL) return fallback;
  return p->type == CMTR_VALUE_INT64 ? (double)p->int_value : p->double_value;
}

static CMTR_Error* get_dtype(const char* op, const char* key, const CMTR_KeyValue* p, Dtype fallback,
                             Dtype* out) {
  size_t i;
  if (p == NULL) {
    *out = fallback;
    return NULL;
  }
  for (i = 1; i < COUNT(k_dtype_names); ++i)
    if (str_eq(p->string_value, k_dtype_names[i])) {
      *out = (Dtype)i;
      return NULL;
    }
  return INVALID("stub: %s: '%s' is '%.*s', not a dtype name", op, key, pl(p->string_value),
                 pd(p->string_value));
}

static CMTR_Error* require(const char* op, const char* key, const CMTR_KeyValue* p) {
  return p == NULL ? INVALID("stub: %s: required parameter '%s' is missing", op, key) : NULL;
}

typedef struct GemmParams {
  int64_t m, n, k, lda, ldb, ldc, batch, stride_a, stride_b, stride_c;
  int64_t offset_a, offset_b, offset_c; /* ABI 1.1: elements before the first matrix of each buffer */
  int trans_a, trans_b;
  double alpha, beta;
  Dtype dtype;
} GemmParams;

typedef struct FmaParams {
  int64_t items, iters, lanes;
  double a, b, x0, dx;
  double item_dx; /* ABI 1.3: item i's lanes start (i mod item_period)·item_dx above x0 + l·dx */
  int64_t item_period;
  Dtype dtype;
} FmaParams;

typedef struct StreamParams {
  int64_t n;
  double scalar;
  StreamKind kind;
  Dtype dtype;
} StreamParams;

/* One parsed op description: what op_query answers and op_create keeps. */
typedef struct OpDesc {
  OpKind kind;
  int supported;
  char reason[200];
  union {
    GemmParams gemm;
    FmaParams fma;
    StreamParams stream;
    int64_t copy_bytes;
  } u;
} OpDesc;

static void unsupported(OpDesc* desc, const char* format, ...) {
  va_list ap;
  desc->supported = 0;
  va_start(ap, format);
  vsnprintf(desc->reason, sizeof(desc->reason), format, ap);
  va_end(ap);
}

static size_t dtype_size(Dtype d) {
  return d == DT_F64 ? 8 : 4;
}

/* Elements a strided batch of stored matrices spans. */
static uint64_t span_elements(int64_t batch, int64_t stride, int64_t ld, int64_t rows, int64_t cols) {
  return (uint64_t)((batch - 1) * stride + (cols - 1) * ld + rows);
}

static CMTR_Error* parse_gemm(const CMTR_KeyValue* params, size_t num_params, OpDesc* desc) {
  static const ParamSpec specs[] = {
    {"m", CMTR_VALUE_INT64},
    {"n", CMTR_VALUE_INT64},
    {"k", CMTR_VALUE_INT64},
    {"dtype_a", CMTR_VALUE_STRING},
    {"dtype_b", CMTR_VALUE_STRING},
    {"dtype_c", CMTR_VALUE_STRING},
    {"compute", CMTR_VALUE_STRING},
    {"trans_a", CMTR_VALUE_BOOL},
    {"trans_b", CMTR_VALUE_BOOL},
    {"lda", CMTR_VALUE_INT64},
    {"ldb", CMTR_VALUE_INT64},
    {"ldc", CMTR_VALUE_INT64},
    {"alpha", CMTR_VALUE_DOUBLE},
    {"beta", CMTR_VALUE_DOUBLE},
    {"batch", CMTR_VALUE_INT64},
    {"stride_a", CMTR_VALUE_INT64},
    {"stride_b", CMTR_VALUE_INT64},
    {"stride_c", CMTR_VALUE_INT64},
#if CMTR_ABI_MINOR >= 1 /* built against the frozen 1.0 header (tests/abi), the stub is a 1.0 plugin */
    {"offset_a", CMTR_VALUE_INT64},
    {"offset_b", CMTR_VALUE_INT64},
    {"offset_c", CMTR_VALUE_INT64}
#endif
  };
  const char* op = "gemm.v1";
  const CMTR_KeyValue* f[MAX_PARAMS];
  GemmParams* g = &desc->u.gemm;
  Dtype da, db, dc, dcompute, compute_default;
  int64_t rows_a, cols_a, rows_b, cols_b;
  CMTR_Error* error = collect_params(op, specs, COUNT(specs), params, num_params, f);
  if (error != NULL) return error;
  if ((error = require(op, "m", f[0])) || (error = require(op, "n", f[1])) ||
      (error = require(op, "k", f[2])) || (error = require(op, "dtype_a", f[3])))
    return error;
  if ((error = get_dtype(op, "dtype_a", f[3], DT_F32, &da)) ||
      (error = get_dtype(op, "dtype_b", f[4], da, &db)) || (error = get_dtype(op, "dtype_c", f[5], da, &dc)))
    return error;
  compute_default = (da == DT_F64) ? DT_F64 : (da == DT_I8 || da == DT_I32) ? DT_I32 : DT_F32;
  if ((error = get_dtype(op, "compute", f[6], compute_default, &dcompute))) return error;
  if (dcompute == DT_BF16 || dcompute == DT_I8)
    return INVALID("stub: gemm.v1: '%s' is not a compute type", k_dtype_names[dcompute]);
  g->m = get_int(f[0], 0);
  g->n = get_int(f[1], 0);
  g->k = get_int(f[2], 0);
  g->trans_a = (int)get_int(f[7], 0);
  g->trans_b = (int)get_int(f[8], 0);
  g->lda = get_int(f[9], 0);
  g->ldb = get_int(f[10], 0);
  g->ldc = get_int(f[11], 0);
  g->alpha = get_double(f[12], 1.0);
  g->beta = get_double(f[13], 0.0);
  g->batch = get_int(f[14], 1);
  g->stride_a = get_int(f[15], 0);
  g->stride_b = get_int(f[16], 0);
  g->stride_c = get_int(f[17], 0);
#if CMTR_ABI_MINOR >= 1
  g->offset_a = get_int(f[18], 0);
  g->offset_b = get_int(f[19], 0);
  g->offset_c = get_int(f[20], 0);
#else
  g->offset_a = g->offset_b = g->offset_c = 0;
#endif
  if (g->offset_a < 0 || g->offset_b < 0 || g->offset_c < 0)
    return INVALID("stub: gemm.v1: offsets must be >= 0 (offset_a=%lld offset_b=%lld offset_c=%lld)",
                   (long long)g->offset_a, (long long)g->offset_b, (long long)g->offset_c);
  if (g->offset_a > STUB_MEM_BYTES || g->offset_b > STUB_MEM_BYTES || g->offset_c > STUB_MEM_BYTES)
    return INVALID("stub: gemm.v1: an offset exceeds the stub device's memory");
  g->dtype = da;
  if (g->m < 1 || g->n < 1 || g->k < 1 || g->batch < 1)
    return INVALID("stub: gemm.v1: m, n, k and batch must be >= 1 (m=%lld n=%lld k=%lld batch=%lld)",
                   (long long)g->m, (long long)g->n, (long long)g->k, (long long)g->batch);
  if (g->m > STUB_MAX_WORK || g->n > STUB_MAX_WORK || g->k > STUB_MAX_WORK || g->batch > STUB_MAX_WORK)
    return INVALID("stub: gemm.v1: a dimension exceeds 2^30");
  /* Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k when transposed). */
  rows_a = g->trans_a ? g->k : g->m;
  cols_a = g->trans_a ? g->m : g->k;
  rows_b = g->trans_b ? g->n : g->k;
  cols_b = g->trans_b ? g->k : g->n;
  if (g->lda == 0) g->lda = rows_a;
  if (g->ldb == 0) g->ldb = rows_b;
  if (g->ldc == 0) g->ldc = g->m;
  if (g->lda < rows_a || g->ldb < rows_b || g->ldc < g->m)
    return INVALID(
        "stub: gemm.v1: leading dimensions lda=%lld ldb=%lld ldc=%lld are below the rows %lld, %lld, %lld",
        (long long)g->lda, (long long)g->ldb, (long long)g->ldc, (long long)rows_a, (long long)rows_b,
        (long long)g->m);
  if (g->lda > STUB_MAX_WORK || g->ldb > STUB_MAX_WORK || g->ldc > STUB_MAX_WORK)
    return INVALID("stub: gemm.v1: a leading dimension exceeds 2^30");
  if (g->stride_a < 0 || g->stride_b < 0 || g->stride_c < 0)
    return INVALID("stub: gemm.v1: negative batch stride");
  if (g->stride_a == 0) g->stride_a = g->lda * cols_a;
  if (g->stride_b == 0) g->stride_b = g->ldb * cols_b;
  if (g->stride_c == 0) g->stride_c = g->ldc * g->n;
  if (g->batch > 1 && g->stride_c < g->ldc * g->n)
    return INVALID("stub: gemm.v1: stride_c %lld makes batch matrices of C overlap (needs >= %lld)",
                   (long long)g->stride_c, (long long)(g->ldc * g->n));
  if (g->stride_a > STUB_MAX_WORK * 4 || g->stride_b > STUB_MAX_WORK * 4 || g->stride_c > STUB_MAX_WORK * 4)
    return INVALID("stub: gemm.v1: a batch stride exceeds 2^32");
  if (!(da == DT_F32 || da == DT_F64)) {
    unsupported(desc, "stub: gemm.v1 supports f32 and f64 only, not %s", k_dtype_names[da]);
    return NULL;
  }
  if (db != da || dc != da) {
    unsupported(desc, "stub: gemm.v1 needs dtype_a = dtype_b = dtype_c (got %s, %s, %s)", k_dtype_names[da],
                k_dtype_names[db], k_dtype_names[dc]);
    return NULL;
  }
  if (dcompute != compute_default) {
    unsupported(desc, "stub: gemm.v1 with %s inputs computes in %s only, not %s", k_dtype_names[da],
                k_dtype_names[compute_default], k_dtype_names[dcompute]);
    return NULL;
  }
  {
    const int64_t max_elements = STUB_MEM_BYTES / (int64_t)dtype_size(da);
    if ((int64_t)span_elements(g->batch, g->stride_a, g->lda, rows_a, cols_a) > max_elements ||
        (int64_t)span_elements(g->batch, g->stride_b, g->ldb, rows_b, cols_b) > max_elements ||
        (int64_t)span_elements(g->batch, g->stride_c, g->ldc, g->m, g->n) > max_elements) {
      unsupported(desc, "stub: gemm.v1 operands do not fit the stub device's memory");
      return NULL;
    }
  }
  if (g->m * g->n > STUB_MAX_WORK || g->m * g->n * g->k > STUB_MAX_WORK / g->batch) {
    unsupported(desc,
                "stub: gemm.v1 of %lld x %lld x %lld x batch %lld is too large for the stub device (max 2^30 "
                "multiply-adds)",
                (long long)g->m, (long long)g->n, (long long)g->k, (long long)g->batch);
    return NULL;
  }
  return NULL;
}

/* Default `b` of fma_peak.v1 per dtype: exact steps while x stays small. */
static double fma_default_b(Dtype d) {
  if (d == DT_F16) return 1.0 / 256.0;
  if (d == DT_F64) return 1.0 / 4294967296.0;
  return 1.0 / 65536.0;
}

static CMTR_Error* parse_fma(const CMTR_KeyValue* params, size_t num_params, OpDesc* desc) {
  static const ParamSpec specs[] = {{"dtype", CMTR_VALUE_STRING},   {"items", CMTR_VALUE_INT64},
                                    {"iters", CMTR_VALUE_INT64},    {"lanes", CMTR_VALUE_INT64},
                                    {"a", CMTR_VALUE_DOUBLE},       {"b", CMTR_VALUE_DOUBLE},
                                    {"x0", CMTR_VALUE_DOUBLE},      {"dx", CMTR_VALUE_DOUBLE},
                                    {"item_dx", CMTR_VALUE_DOUBLE}, {"item_period", CMTR_VALUE_INT64}};
  const char* op = "fma_peak.v1";
  const CMTR_KeyValue* f[MAX_PARAMS] = {0}; /* keys past num_specs stay absent */
  FmaParams* p = &desc->u.fma;
#ifdef STUB_FMA_NO_ITEM_KEYS /* a plugin older than ABI 1.3: item_dx/item_period are unknown keys */
  const size_t num_specs = COUNT(specs) - 2;
#else
  const size_t num_specs = COUNT(specs);
#endif
  CMTR_Error* error = collect_params(op, specs, num_specs, params, num_params, f);
  if (error != NULL) return error;
  if ((error = require(op, "dtype", f[0])) || (error = require(op, "items", f[1])) ||
      (error = require(op, "iters", f[2])))
    return error;
  if ((error = get_dtype(op, "dtype", f[0], DT_F32, &p->dtype))) return error;
  p->items = get_int(f[1], 0);
  p->iters = get_int(f[2], 0);
  p->lanes = get_int(f[3], 8);
  p->a = get_double(f[4], 1.0);
  p->b = get_double(f[5], fma_default_b(p->dtype));
  p->x0 = get_double(f[6], 1.0);
  p->dx = get_double(f[7], 1.0 / 64.0);
  p->item_dx = get_double(f[8], 0.0);
  p->item_period = get_int(f[9], 1);
  if (p->item_period < 1 || p->item_period > ((int64_t)1 << 24))
    return INVALID("stub: fma_peak.v1: item_period must be in 1..2^24, not %lld", (long long)p->item_period);
  if (p->items < 1) return INVALID("stub: fma_peak.v1: items must be >= 1, not %lld", (long long)p->items);
  if (p->iters < 0) return INVALID("stub: fma_peak.v1: iters must be >= 0, not %lld", (long long)p->iters);
  if (p->lanes < 1 || p->lanes > 32)
    return INVALID("stub: fma_peak.v1: lanes must be in 1..32, not %lld", (long long)p->lanes);
  if (!(p->dtype == DT_F16 || p->dtype == DT_F32 || p->dtype == DT_F64))
    return INVALID("stub: fma_peak.v1: dtype must be f16, f32 or f64, not %s", k_dtype_names[p->dtype]);
  if (p->dtype == DT_F16) {
    unsupported(desc, "stub: fma_peak.v1 supports f32 and f64 only, not f16");
    return NULL;
  }
  if (p->items > STUB_MAX_WORK || (p->iters > 0 && p->items * p->lanes > STUB_MAX_WORK / p->iters)) {
    unsupported(desc,
                "stub: fma_peak.v1 of %lld items x %lld iters x %lld lanes is too large for the stub device "
                "(max 2^30 FMAs)",
                (long long)p->items, (long long)p->iters, (long long)p->lanes);
    return NULL;
  }
  return NULL;
}

static CMTR_Error* parse_stream(const CMTR_KeyValue* params, size_t num_params, OpDesc* desc) {
  static const ParamSpec specs[] = {{"kind", CMTR_VALUE_STRING},
                                    {"dtype", CMTR_VALUE_STRING},
                                    {"n", CMTR_VALUE_INT64},
                                    {"scalar", CMTR_VALUE_DOUBLE}};
  static const char* const kinds[] = {"", "copy", "scale", "add", "triad"};
  const char* op = "stream.v1";
  const CMTR_KeyValue* f[MAX_PARAMS];
  StreamParams* p = &desc->u.stream;
  size_t i;
  CMTR_Error* error = collect_params(op, specs, COUNT(specs), params, num_params, f);
  if (error != NULL) return error;
  if ((error = require(op, "kind", f[0])) || (error = require(op, "n", f[2]))) return error;
  p->kind = (StreamKind)0;
  for (i = 1; i < COUNT(kinds); ++i)
    if (str_eq(f[0]->string_value, kinds[i])) p->kind = (StreamKind)i;
  if (p->kind == 0)
    return INVALID("stub: stream.v1: kind is '%.*s', not copy, scale, add or triad", pl(f[0]->string_value),
                   pd(f[0]->string_value));
  if ((error = get_dtype(op, "dtype", f[1], DT_F64, &p->dtype))) return error;
  p->n = get_int(f[2], 0);
  p->scalar = get_double(f[3], 3.0);
  if (p->n < 1) return INVALID("stub: stream.v1: n must be >= 1, not %lld", (long long)p->n);
  if (p->dtype != DT_F32 && p->dtype != DT_F64) {
    unsupported(desc, "stub: stream.v1 supports f32 and f64 only, not %s", k_dtype_names[p->dtype]);
    return NULL;
  }
  if (p->n > STUB_MEM_BYTES / (int64_t)dtype_size(p->dtype)) {
    unsupported(desc, "stub: stream.v1 with n = %lld does not fit the stub device's memory", (long long)p->n);
    return NULL;
  }
  return NULL;
}

static CMTR_Error* parse_copy(const CMTR_KeyValue* params, size_t num_params, OpDesc* desc) {
  static const ParamSpec specs[] = {{"bytes", CMTR_VALUE_INT64}};
  const CMTR_KeyValue* f[MAX_PARAMS];
  CMTR_Error* error = collect_params("copy.v1", specs, COUNT(specs), params, num_params, f);
  if (error != NULL) return error;
  if ((error = require("copy.v1", "bytes", f[0]))) return error;
  desc->u.copy_bytes = f[0]->int_value;
  if (desc->u.copy_bytes < 1)
    return INVALID("stub: copy.v1: bytes must be >= 1, not %lld", (long long)desc->u.copy_bytes);
  if (desc->u.copy_bytes > STUB_MEM_BYTES)
    unsupported(desc, "stub: copy.v1 of %lld bytes exceeds the stub device's memory",
                (long long)desc->u.copy_bytes);
  return NULL;
}

/* Parses an op description. Errors are for bad arguments; an op this plugin does not do is
 * desc->supported = 0 with a reason. */
static CMTR_Error* parse_op(CMTR_String name, const CMTR_KeyValue* params, size_t num_params, OpDesc* desc) {
  const CMTR_KeyValue* none[MAX_PARAMS];
  memset(desc, 0, sizeof(*desc));
  desc->supported = 1;
  if (name.size > 0 && name.data == NULL)
    return INVALID("stub: op name has size %lu but data NULL", (unsigned long)name.size);
  if (str_eq(name, "gemm.v1")) {
    desc->kind = OP_GEMM;
    return parse_gemm(params, num_params, desc);
  }
  if (str_eq(name, "fma_peak.v1")) {
    desc->kind = OP_FMA_PEAK;
    return parse_fma(params, num_params, desc);
  }
  if (str_eq(name, "stream.v1")) {
    desc->kind = OP_STREAM;
    return parse_stream(params, num_params, desc);
  }
  if (str_eq(name, "copy.v1")) {
    desc->kind = OP_COPY;
    return parse_copy(params, num_params, desc);
  }
  if (str_eq(name, "noop.v1")) {
    desc->kind = OP_NOOP;
    return collect_params("noop.v1", NULL, 0, params, num_params, none);
  }
  unsupported(desc, "stub: op '%.*s' is not implemented by this plugin", pl(name), pd(name));
  return NULL;
}

/* ---- Ops ---- */

struct CMTR_Op {
  uint32_t magic;
  OpDesc desc;
  CMTR_KeyValue attributes[1];
  int enqueues_leaked; /* STUB_LEAK only */
  long enqueues_done;  /* every enqueue that ran or was deferred (the cheats count on it) */
  int64_t honest_ns;   /* STUB_DEFER_TO_READ: how long the first, honest call took */
};

static CMTR_Error* stub_op_query(CMTR_Op_Query_Args* args) {
  CMTR_Error* error;
  OpDesc desc;
  size_t n;
  CHECK_ARGS(CMTR_Op_Query_Args, reason_size, "op_query");
  if ((error = check_device(args->device, "op_query")) != NULL) return error;
  if (args->reason_buffer_size > 0 && args->reason_buffer == NULL)
    return INVALID("stub: op_query: reason_buffer_size is %lu but reason_buffer is NULL",
                   (unsigned long)args->reason_buffer_size);
  if ((error = parse_op(args->name, args->params, args->num_params, &desc)) != NULL) return error;
  args->supported = desc.supported;
  n = desc.supported ? 0 : strlen(desc.reason);
  if (n > args->reason_buffer_size) n = args->reason_buffer_size;
  if (n > 0) memcpy(args->reason_buffer, desc.reason, n);
  args->reason_size = n;
  return NULL;
}

static CMTR_Error* stub_op_create(CMTR_Op_Create_Args* args) {
  static const char* const impls[] = {
      "", "stub.loop gemm", "stub.loop fma", "stub.loop stream", "stub.memmove", "stub.nothing"};
  CMTR_Error* error;
  CMTR_Op* op;
  const char* impl;
  CHECK_ARGS(CMTR_Op_Create_Args, op, "op_create");
  if ((error = check_device(args->device, "op_create")) != NULL) return error;
  op = (CMTR_Op*)malloc(sizeof(CMTR_Op));
  if (op == NULL) return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "stub: op_create: out of memory");
  if ((error = parse_op(args->name, args->params, args->num_params, &op->desc)) != NULL) {
    free(op);
    return error;
  }
  if (!op->desc.supported) {
    error = make_error(op->desc.kind == 0 ? CMTR_ERROR_NOT_FOUND : CMTR_ERROR_UNIMPLEMENTED, "%s",
                       op->desc.reason);
    free(op);
    return error;
  }
#ifdef STUB_HUGE_ALLOC
  {
    /* The fault: a 64 TiB workspace. Refused by malloc on most systems (then a clean error); where
     * memory is overcommitted it is touched page by page until the host's memory watchdog stops us. */
    const size_t huge = sizeof(size_t) >= 8 ? (size_t)1 << 46 : (size_t)-1;
    size_t i;
    g_allocation_sink = (unsigned char*)malloc(huge);
    if (g_allocation_sink == NULL) {
      free(op);
      return make_error(CMTR_ERROR_RESOURCE_EXHAUSTED, "stub: op_create: cannot allocate a 64 TiB workspace");
    }
    for (i = 0; i < huge; i += 4096) g_allocation_sink[i] = 1;
    free(g_allocation_sink);
    g_allocation_sink = NULL;
  }
#endif
  op->magic = MAGIC_OP;
  op->enqueues_leaked = 0;
  op->enqueues_done = 0;
  op->honest_ns = 0;
  impl = impls[op->desc.kind];
  op->attributes[0].key.data = "impl";
  op->attributes[0].key.size = 4;
  op->attributes[0].type = CMTR_VALUE_STRING;
  op->attributes[0].reserved = 0;
  op->attributes[0].string_value.data = impl;
  op->attributes[0].string_value.size = strlen(impl);
  op->attributes[0].int_value = 0;
  op->attributes[0].double_value = 0.0;
  args->op = op;
  return NULL;
}

static CMTR_Error* check_op(const CMTR_Op* op, const char* fn) {
  if (op == NULL) return INVALID("stub: %s: op is NULL", fn);
  if (op->magic != MAGIC_OP) return INVALID("stub: %s: op is not an op of this plugin", fn);
  return NULL;
}

static CMTR_Error* stub_op_attributes(CMTR_Op_Attributes_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Op_Attributes_Args, num_attributes, "op_attributes");
  if ((error = check_op(args->op, "op_attributes")) != NULL) return error;
  args->attributes = args->op->attributes;
  args->num_attributes = COUNT(args->op->attributes);
  return NULL;
}

static CMTR_Error* stub_op_destroy(CMTR_Op_Destroy_Args* args) {
  CMTR_Error* error;
  CHECK_ARGS(CMTR_Op_Destroy_Args, op, "op_destroy");
  if ((error = check_op(args->op, "op_destroy")) != NULL) return error;
  args->op->magic = 0;
  free(args->op);
  return NULL;
}

/* The kernels: plain loops, column-major, BLAS semantics (beta = 0 does not read C). The loop orders
 * walk memory contiguously so that the compiler vectorises them: the stub is slow, but not so slow
 * that the toofast variant's 1000x claim stays below the declared peaks. */
#define DEFINE_GEMM(NAME, T)                                                            \
  static void NAME(const GemmParams* g, const T* A, const T* B, T* C) {                 \
    int64_t b, i, j, p;                                                                 \
    const T alpha = (T)g->alpha, beta = (T)g->beta;                                     \
    for (b = 0; b < g->batch; ++b) {                                                    \
      const T* a = A + b * g->stride_a;                                                 \
      const T* bm = B + b * g->stride_b;                                                \
      for (j = 0; j < g->n; ++j) {                                                      \
        T* restrict cj = C + b * g->stride_c + j * g->ldc;                              \
        if (g->trans_a) { /* dot products down the stored columns of A */               \
          for (i = 0; i < g->m; ++i) {                                                  \
            const T* restrict ai = a + i * g->lda;                                      \
            T acc = 0;                                                                  \
            if (g->trans_b)                                                             \
              for (p = 0; p < g->k; ++p) acc += ai[p] * bm[j + p * g->ldb];             \
            else                                                                        \
              for (p = 0; p < g->k; ++p) acc += ai[p] * bm[p + j * g->ldb];             \
            cj[i] = (g->beta == 0.0) ? alpha * acc : alpha * acc + beta * cj[i];        \
          }                                                                             \
        } else { /* C(:, j) = beta C(:, j) + sum_p alpha op(B)(p, j) A(:, p) */         \
          if (g->beta == 0.0)                                                           \
            for (i = 0; i < g->m; ++i) cj[i] = 0;                                       \
          else if (g->beta != 1.0)                                                      \
            for (i = 0; i < g->m; ++i) cj[i] *= beta;                                   \
          for (p = 0; p < g->k; ++p) {                                                  \
            const T* restrict ap = a + p * g->lda;                                      \
            const T s = alpha * (g->trans_b ? bm[j + p * g->ldb] : bm[p + j * g->ldb]); \
            for (i = 0; i < g->m; ++i) cj[i] += s * ap[i];                              \
          }                                                                             \
        }                                                                               \
        WRONG_GEMM_FAULT(cj, g->m, (b * g->n + j) * g->m);                              \
      }                                                                                 \
    }                                                                                   \
  }

#ifdef STUB_WRONG_GEMM
/* The fault: every 7th element of C (in logical order b, j, i, counting from the first) is off by
 * 1e-2. */
#define WRONG_GEMM_FAULT(cj, m, first)               \
  do {                                               \
    int64_t i_;                                      \
    for (i_ = 0; i_ < (m); ++i_)                     \
      if (((first) + i_) % 7 == 0) (cj)[i_] += 1e-2; \
  } while (0)
#else
#define WRONG_GEMM_FAULT(cj, m, first) \
  do {                                 \
  } while (0)
#endif

DEFINE_GEMM(gemm_f32, float)
DEFINE_GEMM(gemm_f64, double)

/* With hardware FMA the chains run as instructions rather than libm calls (same results: fma is
 * exactly rounded either way). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define FMA_KERNEL __attribute__((target_clones("fma", "default")))
#else
#define FMA_KERNEL
#endif

FMA_KERNEL static void fma_f32(const FmaParams* p, float* out) {
  const float a = (float)p->a, b = (float)p->b;
  float x[32];
  int64_t item, it, l;
  for (item = 0; item < p->items; ++item) {
    float sum = 0.0f;
    const float offset = (float)(item % p->item_period) * (float)p->item_dx;
    for (l = 0; l < p->lanes; ++l) x[l] = (float)(p->x0 + (double)l * p->dx) + offset;
    for (it = 0; it < p->iters; ++it)
      for (l = 0; l < p->lanes; ++l) x[l] = fmaf(x[l], a, b);
    for (l = 0; l < p->lanes; ++l) sum += x[l];
    out[item] = sum;
  }
}

FMA_KERNEL static void fma_f64(const FmaParams* p, float* out) {
  const double a = p->a, b = p->b;
  double x[32];
  int64_t item, it, l;
  for (item = 0; item < p->items; ++item) {
    float sum = 0.0f;
    const double offset = (double)(item % p->item_period) * p->item_dx;
    for (l = 0; l < p->lanes; ++l) x[l] = p->x0 + (double)l * p->dx + offset;
    for (it = 0; it < p->iters; ++it)
      for (l = 0; l < p->lanes; ++l) x[l] = fma(x[l], a, b);
    for (l = 0; l < p->lanes; ++l) sum += (float)x[l];
    out[item] = sum;
  }
}

#ifdef STUB_FMA_CLOSED_FORM
/* The cheat: each lane's value after n rounds of x = a·x + b in closed form, in double, no round run. */
static CMTR_Error* fma_closed_form(const FmaParams* p, float* out) {
  const double an = pow(p->a, (double)p->iters);
  const double growth = p->a == 1.0 ? (double)p->iters : (an - 1) / (p->a - 1);
  int64_t item, l;
  for (item = 0; item < p->items; ++item) {
    const double offset = (double)(item % p->item_period) * p->item_dx;
    double sum = 0;
    for (l = 0; l < p->lanes; ++l) sum += (p->x0 + (double)l * p->dx + offset) * an + p->b * growth;
    out[item] = (float)sum;
  }
  return NULL;
}
#endif

#ifdef STUB_FMA_SOME_ITEMS
/* The cheat: every 16th item and the last computed, each copied to the 15 items after it. */
static CMTR_Error* fma_some_items(const FmaParams* p, float* out) {
  FmaParams one = *p;
  int64_t item, k;
  one.items = 1;
  for (item = 0; item < p->items; item += 16) {
    float value;
    one.x0 = p->x0 + (double)(item % p->item_period) * p->item_dx;
    if (p->dtype == DT_F32)
      fma_f32(&one, &value);
    else
      fma_f64(&one, &value);
    for (k = item; k < item + 16 && k < p->items; ++k) out[k] = value;
  }
  one.x0 = p->x0 + (double)((p->items - 1) % p->item_period) * p->item_dx;
  if (p->dtype == DT_F32)
    fma_f32(&one, &out[p->items - 1]);
  else
    fma_f64(&one, &out[p->items - 1]);
  return NULL;
}
#endif

#define DEFINE_STREAM(NAME, T)                                \
  static void NAME(const StreamParams* p, T* A, T* B, T* C) { \
    const T s = (T)p->scalar;                                 \
    int64_t i;                                                \
    switch (p->kind) {                                        \
      case SK_COPY:                                           \
        for (i = 0; i < p->n; ++i) C[i] = A[i];               \
        break;                                                \
      case SK_SCALE:                                          \
        for (i = 0; i < p->n; ++i) B[i] = s * C[i];           \
        break;                                                \
      case SK_ADD:                                            \
        for (i = 0; i < p->n; ++i) C[i] = A[i] + B[i];        \
        break;                                                \
      case SK_TRIAD:                                          \
        for (i = 0; i < p->n; ++i) A[i] = B[i] + s * C[i];    \
        break;                                                \
    }                                                         \
  }

DEFINE_STREAM(stream_f32, float)
DEFINE_STREAM(stream_f64, double)

static CMTR_Error* check_buffers(CMTR_Buffer* const* buffers, size_t num_buffers, size_t expected,
                                 const char* op) {
  size_t i;
  if (num_buffers != expected)
    return INVALID("stub: op_enqueue: %s takes %lu buffers, got %lu", op, (unsigned long)expected,
                   (unsigned long)num_buffers);
  if (num_buffers > 0 && buffers == NULL) return INVALID("stub: op_enqueue: buffers is NULL");
  for (i = 0; i < num_buffers; ++i) {
    if (buffers[i] == NULL) return INVALID("stub: op_enqueue: %s: buffer %lu is NULL", op, (unsigned long)i);
    if (buffers[i]->magic != MAGIC_BUFFER)
      return INVALID("stub: op_enqueue: %s: buffer %lu is not a buffer of this plugin", op, (unsigned long)i);
  }
  return NULL;
}

static CMTR_Error* check_size(const CMTR_Buffer* buffer, uint64_t need, const char* op, const char* which) {
  if (buffer->size < need)
    return INVALID("stub: op_enqueue: %s: buffer %s has %llu bytes, needs %llu", op, which,
                   (unsigned long long)buffer->size, (unsigned long long)need);
  return NULL;
}

#ifdef STUB_EDGES_ONLY
/* The cheat: only the first and last column of the first and last batch matrix of C, the places a
 * validator that always looks at corners and the first and last batch would check. */
static CMTR_Error* gemm_edges(const GemmParams* g, CMTR_Buffer* const* buffers) {
  const int64_t batches[2] = {0, g->batch - 1}, columns[2] = {0, g->n - 1};
  int bi, ji;
  for (bi = 0; bi < 2; ++bi)
    for (ji = 0; ji < 2; ++ji) {
      const int64_t b = batches[bi], j = columns[ji];
      const int64_t a_at = g->offset_a + b * g->stride_a;
      const int64_t b_at = g->offset_b + b * g->stride_b + (g->trans_b ? j : j * g->ldb);
      const int64_t c_at = g->offset_c + b * g->stride_c + j * g->ldc;
      GemmParams one = *g;
      one.batch = 1;
      one.n = 1;
      if (g->dtype == DT_F32)
        gemm_f32(&one, (const float*)buffers[0]->data + a_at, (const float*)buffers[1]->data + b_at,
                 (float*)buffers[2]->data + c_at);
      else
        gemm_f64(&one, (const double*)buffers[0]->data + a_at, (const double*)buffers[1]->data + b_at,
                 (double*)buffers[2]->data + c_at);
    }
  return NULL;
}
#endif

/* Checks an op's buffers and runs it (the stub's streams are synchronous). `call` counts the op's
 * enqueues from 1 (the cheats below change their work after the first few). */
static CMTR_Error* execute_op(const OpDesc* d, CMTR_Buffer* const* buffers, size_t num_buffers, long call) {
  CMTR_Error* error;
  (void)call;
  switch (d->kind) {
    case OP_GEMM: {
      const GemmParams* g = &d->u.gemm;
      const uint64_t es = dtype_size(g->dtype);
      if ((error = check_buffers(buffers, num_buffers, 3, "gemm.v1"))) return error;
      if ((error = check_size(buffers[0],
                              es * ((uint64_t)g->offset_a + span_elements(g->batch, g->stride_a, g->lda,
                                                                          g->trans_a ? g->k : g->m,
                                                                          g->trans_a ? g->m : g->k)),
                              "gemm.v1", "A")) ||
          (error = check_size(buffers[1],
                              es * ((uint64_t)g->offset_b + span_elements(g->batch, g->stride_b, g->ldb,
                                                                          g->trans_b ? g->n : g->k,
                                                                          g->trans_b ? g->k : g->n)),
                              "gemm.v1", "B")) ||
          (error = check_size(
               buffers[2],
               es * ((uint64_t)g->offset_c + span_elements(g->batch, g->stride_c, g->ldc, g->m, g->n)),
               "gemm.v1", "C")))
        return error;
#ifdef STUB_EDGES_ONLY
      if (call > 3) return gemm_edges(g, buffers); /* the cheat */
#endif
      if (g->dtype == DT_F32)
        gemm_f32(g, (const float*)buffers[0]->data + g->offset_a,
                 (const float*)buffers[1]->data + g->offset_b, (float*)buffers[2]->data + g->offset_c);
      else
        gemm_f64(g, (const double*)buffers[0]->data + g->offset_a,
                 (const double*)buffers[1]->data + g->offset_b, (double*)buffers[2]->data + g->offset_c);
      return NULL;
    }
    case OP_FMA_PEAK: {
      const FmaParams* p = &d->u.fma;
      if ((error = check_buffers(buffers, num_buffers, 1, "fma_peak.v1"))) return error;
      if ((error = check_size(buffers[0], 4 * (uint64_t)p->items, "fma_peak.v1", "OUT"))) return error;
#ifdef STUB_FMA_CLOSED_FORM
      return fma_closed_form(p, (float*)buffers[0]->data); /* the cheat */
#endif
#ifdef STUB_FMA_SOME_ITEMS
      if (call > 1) return fma_some_items(p, (float*)buffers[0]->data); /* the cheat */
#endif
      if (p->dtype == DT_F32)
        fma_f32(p, (float*)buffers[0]->data);
      else
        fma_f64(p, (float*)buffers[0]->data);
      return NULL;
    }
    case OP_STREAM: {
      const StreamParams* p = &d->u.stream;
      const uint64_t need = dtype_size(p->dtype) * (uint64_t)p->n;
      if ((error = check_buffers(buffers, num_buffers, 3, "stream.v1"))) return error;
      if ((error = check_size(buffers[0], need, "stream.v1", "A")) ||
          (error = check_size(buffers[1], need, "stream.v1", "B")) ||
          (error = check_size(buffers[2], need, "stream.v1", "C")))
        return error;
#ifdef STUB_PARTIAL_STREAM
      StreamParams half = *p; /* the cheat: after the first call, only the first half of the output */
      if (call > 1) half.n = p->n / 2;
      p = &half;
#endif
      if (p->dtype == DT_F32)
        stream_f32(p, (float*)buffers[0]->data, (float*)buffers[1]->data, (float*)buffers[2]->data);
      else
        stream_f64(p, (double*)buffers[0]->data, (double*)buffers[1]->data, (double*)buffers[2]->data);
      return NULL;
    }
    case OP_COPY: {
      const uint64_t bytes = (uint64_t)d->u.copy_bytes;
      if ((error = check_buffers(buffers, num_buffers, 2, "copy.v1"))) return error;
      if ((error = check_size(buffers[0], bytes, "copy.v1", "SRC")) ||
          (error = check_size(buffers[1], bytes, "copy.v1", "DST")))
        return error;
      memmove(buffers[1]->data, buffers[0]->data, (size_t)bytes);
      return NULL;
    }
    case OP_NOOP:
      return check_buffers(buffers, num_buffers, 0, "noop.v1");
  }
  return make_error(CMTR_ERROR_INTERNAL, "stub: op_enqueue: op has unknown kind %d", (int)d->kind);
}

#ifdef STUB_DEFER_TO_READ
/* The cheat: after one honest call (timed), op_enqueue only records the call and waits a third of the
 * honest time (a device 3x faster than it is); the work runs when the host reads the output buffer
 * back, and only the last call per output buffer (earlier ones would be overwritten). Writing an
 * output (the host's poison) drops its pending call. */
typedef struct Pending {
  OpDesc desc;
  CMTR_Buffer* buffers[3];
  size_t num_buffers;
  CMTR_Buffer* out;
} Pending;
static Pending g_pending[128];
static size_t g_num_pending;

static CMTR_Buffer* output_of(const OpDesc* d, CMTR_Buffer* const* buffers) {
  switch (d->kind) {
    case OP_GEMM:
      return buffers[2];
    case OP_FMA_PEAK:
      return buffers[0];
    case OP_STREAM:
      return buffers[d->u.stream.kind == SK_TRIAD ? 0 : d->u.stream.kind == SK_SCALE ? 1 : 2];
    case OP_COPY:
      return buffers[1];
    default:
      return NULL;
  }
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + (int64_t)t.tv_nsec;
}

/* Drops the pending calls that write `out` (or, with `any`, that use it at all). */
static void drop_pending(const CMTR_Buffer* buffer, int any) {
  size_t i = 0, b;
  while (i < g_num_pending) {
    int uses = g_pending[i].out == buffer;
    for (b = 0; any && b < g_pending[i].num_buffers; ++b) uses = uses || g_pending[i].buffers[b] == buffer;
    if (uses)
      g_pending[i] = g_pending[--g_num_pending];
    else
      ++i;
  }
}

static CMTR_Error* run_pending(const CMTR_Buffer* out) {
  size_t i = 0;
  while (i < g_num_pending) {
    if (g_pending[i].out == out) {
      Pending p = g_pending[i];
      g_pending[i] = g_pending[--g_num_pending];
      CMTR_Error* error = execute_op(&p.desc, p.buffers, p.num_buffers, 1);
      if (error != NULL) return error;
    } else {
      ++i;
    }
  }
  return NULL;
}

static CMTR_Error* defer_op(CMTR_Op* op, CMTR_Buffer* const* buffers, size_t num_buffers) {
  int64_t until;
  CMTR_Buffer* out;
  if (op->honest_ns == 0 || num_buffers > 3 || buffers == NULL) {
    const int64_t start = now_ns();
    CMTR_Error* error = execute_op(&op->desc, buffers, num_buffers, 1);
    if (op->honest_ns == 0) op->honest_ns = now_ns() - start + 1;
    return error;
  }
  out = output_of(&op->desc, buffers);
  drop_pending(out, 0);
  if (g_num_pending == COUNT(g_pending)) return execute_op(&op->desc, buffers, num_buffers, 1);
  g_pending[g_num_pending].desc = op->desc;
  memcpy(g_pending[g_num_pending].buffers, buffers, num_buffers * sizeof(CMTR_Buffer*));
  g_pending[g_num_pending].num_buffers = num_buffers;
  g_pending[g_num_pending].out = out;
  ++g_num_pending;
  until = now_ns() + op->honest_ns / 3;
  while (now_ns() < until) {
  }
  return NULL;
}
#endif

static CMTR_Error* stub_op_enqueue(CMTR_Op_Enqueue_Args* args) {
  CMTR_Error* error;
  const OpDesc* d;
  CHECK_ARGS(CMTR_Op_Enqueue_Args, num_buffers, "op_enqueue");
  if ((error = check_op(args->op, "op_enqueue")) != NULL) return error;
  if ((error = check_stream(args->stream, "op_enqueue")) != NULL) return error;
  d = &args->op->desc;
#ifdef STUB_CRASH_IN_ENQUEUE
  crash_now("op_enqueue");
#endif
#ifdef STUB_CRASH_LATER
  if (d->kind == OP_STREAM) crash_now("op_enqueue of stream.v1");
#endif
#ifdef STUB_ABORT
  fprintf(stderr, "stub: internal consistency check failed in op_enqueue; calling abort()\n");
  fflush(stderr);
  abort();
#endif
#ifdef STUB_HANG_ENQUEUE
  spin_forever();
#endif
#ifdef STUB_LEAK
  /* 64 MiB made resident and never freed on each of an op's first 4 enqueues: a leak that grows with
   * every call, bounded (256 MiB per op) so a test knows exactly how much leaks in a case. */
  if (args->op->enqueues_leaked < 4) {
    const size_t leak_bytes = (size_t)64 << 20;
    unsigned char* leaked = (unsigned char*)malloc(leak_bytes);
    if (leaked != NULL) memset(leaked, 0xab, leak_bytes);
    g_allocation_sink = leaked;
    ++args->op->enqueues_leaked;
  }
#endif
  ++args->op->enqueues_done;
#ifdef STUB_SKIP_AFTER
  if (d->kind != OP_NOOP && args->op->enqueues_done > STUB_SKIP_AFTER) return NULL; /* the cheat */
#endif
#ifdef STUB_DEFER_TO_READ
  if (d->kind != OP_NOOP) return defer_op(args->op, args->buffers, args->num_buffers);
#endif
  return execute_op(d, args->buffers, args->num_buffers, args->op->enqueues_done);
}

/* ---- The table ---- */

#ifdef STUB_SMALL_API
/* The fault: struct_size says the table ends at op_query, shorter than any 1.x host accepts. (The
 * slots past it stay filled; a host that honours struct_size never looks.) */
#define STUB_API_SIZE CMTR_STRUCT_SIZE(CMTR_Api, op_query)
#else
#define STUB_API_SIZE CMTR_API_STRUCT_SIZE_1_0
#endif

static const CMTR_Api g_api = {
    STUB_API_SIZE,           NULL,
    STUB_ABI_MAJOR,          CMTR_ABI_MINOR,
    stub_error_info,         stub_error_destroy,
    stub_plugin_initialize,  stub_plugin_shutdown,
    stub_plugin_devices,     stub_device_attributes,
    STUB_DEVICE_TELEMETRY,   stub_buffer_create,
    stub_buffer_destroy,     stub_buffer_host_pointer,
    stub_buffer_write,       stub_buffer_read,
    stub_stream_create,      stub_stream_destroy,
    stub_stream_synchronize, stub_event_record,
    stub_event_elapsed,      stub_event_destroy,
    stub_op_query,           stub_op_create,
    stub_op_attributes,      stub_op_enqueue,
    stub_op_destroy,
};

const CMTR_Api* cmeter_plugin_get_api(void) {
#ifdef STUB_NULL_API
  (void)g_api;
  return NULL; /* the fault: no table */
#else
  return &g_api;
#endif
}
