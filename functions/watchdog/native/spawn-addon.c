/*
 * posix_spawn for the watchdog, as a Node-API addon: the watchdog's own thread
 * starts each request's process with clone(CLONE_VM|CLONE_VFORK) (no copy of
 * Node's address space, unlike libuv's fork), and reads its pipes itself: no
 * process in between, so a request costs no more hand-offs than in the Go
 * watchdog.
 *
 * Built with -nostdlib: it names no libc, and the symbols it uses (the
 * Node-API functions, posix_spawn & co.) are resolved from the node process
 * that loads it, so one build per architecture loads into Node on musl
 * (Alpine) and on glibc alike. The libc types it uses are opaque to it
 * (posix_spawn_*_t get room enough for either library) or have one layout in
 * both (sigset_t: 128 bytes).
 *
 * The Node-API declarations below are written from the API's documentation
 * (nodejs.org/api/n-api.html); the ABI is stable across Node versions.
 *
 * exports.spawn(header: Buffer) -> [pid, stdin fd, stdout fd, stderr fd], or [-errno]
 *   header: u32 argc, u32 envc, then NUL-terminated strings: the program (a
 *   path, or a name looked up in PATH), argv, the environment (as the spawner's).
 * exports.reap(pid) -> -1 while it runs, else its status: the exit code, or
 *   256 + the signal that killed it; -2 when it is not our child (any more).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

extern napi_status napi_get_cb_info(napi_env, napi_callback_info, size_t *, napi_value *, napi_value *, void **);
extern napi_status napi_get_buffer_info(napi_env, napi_value, void **, size_t *);
extern napi_status napi_get_value_int32(napi_env, napi_value, int32_t *);
extern napi_status napi_create_int32(napi_env, int32_t, napi_value *);
extern napi_status napi_create_array_with_length(napi_env, size_t, napi_value *);
extern napi_status napi_set_element(napi_env, napi_value, uint32_t, napi_value);
extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_throw_error(napi_env, const char *, const char *);

#define MAX_STRINGS 4096

/* Room for glibc's and musl's layouts of the opaque spawn types. */
typedef union { posix_spawn_file_actions_t t; char room[512]; } file_actions;
typedef union { posix_spawnattr_t t; char room[1024]; } spawn_attr;

/* Signals Node ignores (SIGPIPE...): ignored dispositions survive exec, so the child gets them back. */
static sigset_t ignored;

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static napi_value numbers(napi_env env, const int32_t *values, uint32_t count) {
  napi_value array, item;
  napi_create_array_with_length(env, count, &array);
  for (uint32_t i = 0; i < count; i++) {
    napi_create_int32(env, values[i], &item);
    napi_set_element(env, array, i, item);
  }
  return array;
}

static const char *next_string(const char **p, const char *end) {
  const char *s = *p;
  while (*p < end && **p) (*p)++;
  if (*p >= end) return NULL;
  (*p)++;
  return s;
}

static napi_value spawn_process(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  void *data;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != 0 || argc < 1 ||
      napi_get_buffer_info(env, arg, &data, &length) != 0 || length < 8) {
    napi_throw_error(env, NULL, "spawn(header: Buffer)");
    return NULL;
  }
  const char *p = (const char *)data, *end = p + length;
  uint32_t nargs = get32((const unsigned char *)p), nenv = get32((const unsigned char *)p + 4);
  p += 8;
  if (nargs == 0 || nargs + nenv + 2 > MAX_STRINGS) {
    napi_throw_error(env, NULL, "spawn: too many strings");
    return NULL;
  }
  static char *strings[MAX_STRINGS];
  const char *file = next_string(&p, end);
  for (uint32_t i = 0; file && i < nargs + nenv; i++) {
    const char *s = next_string(&p, end);
    if (!s) { file = NULL; break; }
    strings[i < nargs ? i : i + 1] = (char *)s;
  }
  if (!file) {
    napi_throw_error(env, NULL, "spawn: malformed header");
    return NULL;
  }
  char **argv = strings, **envp = strings + nargs + 1;
  argv[nargs] = NULL;
  envp[nenv] = NULL;

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int e = 0;
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) e = errno;
  pid_t pid = 0;
  if (!e) {
    file_actions fa;
    spawn_attr attr;
    sigset_t none;
    posix_spawn_file_actions_init(&fa.t);
    posix_spawn_file_actions_adddup2(&fa.t, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa.t, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa.t, err[1], 2);
    posix_spawnattr_init(&attr.t);
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr.t, &none);
    posix_spawnattr_setsigdefault(&attr.t, &ignored);
    posix_spawnattr_setflags(&attr.t, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    e = posix_spawnp(&pid, file, &fa.t, &attr.t, argv, envp);
    posix_spawn_file_actions_destroy(&fa.t);
    posix_spawnattr_destroy(&attr.t);
  }
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  if (e) {
    if (in[1] >= 0) close(in[1]);
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    int32_t failed = -e;
    return numbers(env, &failed, 1);
  }
  int32_t result[4] = {pid, in[1], out[0], err[0]};
  return numbers(env, result, 4);
}

static napi_value reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  int32_t pid = 0;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != 0 || argc < 1 || napi_get_value_int32(env, arg, &pid) != 0 || pid <= 0) {
    napi_throw_error(env, NULL, "reap(pid: number)");
    return NULL;
  }
  int status;
  int32_t state;
  pid_t got;
  do got = waitpid(pid, &status, WNOHANG); while (got < 0 && errno == EINTR);
  if (got == 0) state = -1;
  else if (got < 0) state = -2;
  else state = WIFSIGNALED(status) ? 256 + WTERMSIG(status) : WEXITSTATUS(status);
  napi_value value;
  napi_create_int32(env, state, &value);
  return value;
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  sigemptyset(&ignored);
  for (int s = 1; s < 65; s++) {
    struct sigaction now;
    if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &now) == 0 && now.sa_handler == SIG_IGN) sigaddset(&ignored, s);
  }
  napi_value fn;
  napi_create_function(env, "spawn", 5, spawn_process, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "reap", 4, reap, NULL, &fn);
  napi_set_named_property(env, exports, "reap", fn);
  return exports;
}
