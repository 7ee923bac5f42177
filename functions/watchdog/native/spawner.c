/*
 * The watchdog's process starter for classic mode: a small resident helper,
 * started once by the watchdog, that starts each request's process with
 * posix_spawn (clone(CLONE_VM|CLONE_VFORK): no copy of a large address
 * space, unlike libuv's fork of the whole Node process) and relays its pipes.
 * Node's HTTP work and the spawning then run in two processes, on both cores.
 *
 *   spawner SOCKET_PATH
 *
 * It listens on SOCKET_PATH (a Unix socket in a directory only the watchdog's
 * user can enter) and writes "ready\n" to stdout. It exits when its stdin (a
 * pipe from the watchdog) reaches end of file, killing what is still running.
 *
 * One connection per request. The watchdog sends
 *   u32 length, then that many bytes: u32 argc, u32 envc, then 1 + argc +
 *   envc NUL-terminated strings: the program (a path, or a name looked up in
 *   PATH), argv, then the whole environment ("NAME=value")
 * and then the request body; its half-close is the end of the body (stdin's
 * end of file). The spawner answers with frames: u8 type, u32 length, payload:
 *   'O'  a chunk of stdout
 *   'X'  the process ended and its stdout and stderr are closed:
 *        i32 exit code (-1 when killed), i32 signal (0 when exited),
 *        u32 stderr bytes dropped, then the first 64 KiB of stderr
 *   'F'  the process could not be started: "CODE: message" (errno's name)
 * After 'X' or 'F' it stops writing and waits for the watchdog to close.
 * A connection closed before that (timeout, client gone) kills the process
 * group (each process leads a session of its own, as Node's detached spawn).
 * Integers are little-endian. Each process gets pipes (not the socket) as
 * stdin, stdout and stderr, default signal handling and an empty signal mask.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 65536
#define STDERR_LIMIT 65536
#define HEADER_LIMIT (4u << 20)

enum { W_CONN, W_IN, W_OUT, W_ERR, W_COUNT };
enum { P_LENGTH, P_HEADER, P_BODY };

struct req;
struct watch {
  struct req *r;
  int kind;
};

struct req {
  struct watch w[W_COUNT];
  int fd[W_COUNT];
  uint32_t ev[W_COUNT]; /* events registered with epoll */
  int phase;
  unsigned char lenbuf[4];
  uint32_t lengot, hlen, hgot;
  char *hbuf;
  pid_t pid;
  int reaped, status;
  char *ibuf; /* body bytes not yet written to stdin */
  size_t ilen, ioff;
  int conn_eof;
  char *obuf; /* frame bytes not yet written to the connection */
  size_t olen, ooff;
  char *sbuf; /* stdout held: 5 bytes of room for the frame head, then up to CHUNK */
  size_t slen;
  char *ebuf;
  size_t elen;
  uint32_t edropped;
  int finished; /* 'X' or 'F' queued: nothing more to say */
  int shut;     /* our half of the connection is shut, after the last frame went out */
  int dead;     /* connection gone: free once reaped */
  struct req *prev, *next, *grave_next;
};

static int ep, listen_fd, sig_fd;
static struct req *active;
static struct req *graveyard; /* freed after each batch of events, which may still name them */
static char scratch[CHUNK + 5];
static const char *socket_path;
static struct watch listen_watch = {0, -1}, sig_watch = {0, -2}, control_watch = {0, -3};

static void die(const char *what) {
  fprintf(stderr, "spawner: %s: %s\n", what, strerror(errno));
  if (socket_path) unlink(socket_path);
  exit(1);
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * A pipe that is paused leaves epoll altogether (its hang-up would otherwise
 * be reported over and over); the connection stays registered, with no
 * events while paused, so that the watchdog's close is always noticed.
 */
static void set_events(struct req *r, int k, uint32_t events) {
  if (r->fd[k] < 0 || r->ev[k] == events) return;
  struct epoll_event e = {.events = events, .data.ptr = &r->w[k]};
  int op = k == W_CONN ? EPOLL_CTL_MOD : !events ? EPOLL_CTL_DEL : !r->ev[k] ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(ep, op, r->fd[k], &e) < 0) die("epoll_ctl");
  r->ev[k] = events;
}

static void watch_fd(struct req *r, int k, int fd, uint32_t events) {
  r->fd[k] = fd;
  r->ev[k] = events;
  struct epoll_event e = {.events = events, .data.ptr = &r->w[k]};
  if ((events || k == W_CONN) && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl");
}

static void close_fd(struct req *r, int k) {
  if (r->fd[k] < 0) return;
  if (r->ev[k] || k == W_CONN) epoll_ctl(ep, EPOLL_CTL_DEL, r->fd[k], NULL);
  close(r->fd[k]);
  r->fd[k] = -1;
  r->ev[k] = 0;
}

static void bury(struct req *r) {
  if (r->dead == 2) return;
  r->dead = 2;
  r->grave_next = graveyard;
  graveyard = r;
}

/* Frees a request once its connection is gone and its process reaped (or never started). */
static void maybe_free(struct req *r) {
  if (r->dead && (r->pid <= 0 || r->reaped)) bury(r);
}

static void release(struct req *r) {
  for (int k = 0; k < W_COUNT; k++) close_fd(r, k);
  if (r->prev) r->prev->next = r->next; else active = r->next;
  if (r->next) r->next->prev = r->prev;
  free(r->hbuf); free(r->ibuf); free(r->obuf); free(r->sbuf); free(r->ebuf);
  free(r);
}

/* The watchdog closed the connection, or it failed: stop everything of this request. */
static void abort_req(struct req *r) {
  if (r->pid > 0 && !r->finished) kill(-r->pid, SIGKILL);
  for (int k = 0; k < W_COUNT; k++) close_fd(r, k);
  free(r->ibuf); r->ibuf = NULL; r->ilen = r->ioff = 0;
  free(r->obuf); r->obuf = NULL; r->olen = r->ooff = 0;
  r->dead = 1;
  maybe_free(r);
}

/* Sends what is pending on the connection; returns 0 when everything went out. */
static int flush_out(struct req *r) {
  while (r->ooff < r->olen) {
    ssize_t n = send(r->fd[W_CONN], r->obuf + r->ooff, r->olen - r->ooff, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        set_events(r, W_CONN, (r->conn_eof ? 0 : (r->phase == P_BODY && r->ilen ? 0 : EPOLLIN)) | EPOLLOUT);
        return 1;
      }
      abort_req(r);
      return -1;
    }
    r->ooff += n;
  }
  free(r->obuf); r->obuf = NULL; r->olen = r->ooff = 0;
  if (r->finished && !r->shut) {
    /* Nothing more to say; keep reading (and dropping) until the watchdog closes. */
    shutdown(r->fd[W_CONN], SHUT_WR);
    r->shut = 1;
  }
  return 0;
}

/* Sends a frame, keeping whatever the socket does not take now. */
static int send_frame(struct req *r, char type, const void *a, size_t alen, const void *b, size_t blen) {
  size_t total = 5 + alen + blen;
  char *buf = r->olen ? NULL : (total <= sizeof scratch ? scratch : NULL);
  if (!buf) {
    char *grown = realloc(r->obuf, r->olen + total);
    if (!grown) die("out of memory");
    r->obuf = grown;
    buf = grown + r->olen;
  }
  buf[0] = type;
  put32((unsigned char *)buf + 1, alen + blen);
  if (alen) memcpy(buf + 5, a, alen);
  if (blen) memcpy(buf + 5 + alen, b, blen);
  if (buf != scratch) {
    r->olen += total;
    return flush_out(r);
  }
  size_t off = 0;
  while (off < total) {
    ssize_t n = send(r->fd[W_CONN], buf + off, total - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) { abort_req(r); return -1; }
    if (n < 0) break;
    off += n;
  }
  if (off == total) {
    if (r->finished && !r->shut) {
      shutdown(r->fd[W_CONN], SHUT_WR);
      r->shut = 1;
    }
    return 0;
  }
  r->obuf = malloc(total - off);
  if (!r->obuf) die("out of memory");
  memcpy(r->obuf, buf + off, total - off);
  r->olen = total - off;
  r->ooff = 0;
  return flush_out(r);
}

/* Makes the held stdout an 'O' frame at the end of what is pending for the connection. */
static void take_stdout(struct req *r) {
  if (!r->slen) return;
  r->sbuf[0] = 'O';
  put32((unsigned char *)r->sbuf + 1, r->slen);
  if (!r->olen) {
    free(r->obuf);
    r->obuf = r->sbuf;
    r->olen = r->slen + 5;
    r->ooff = 0;
    r->sbuf = NULL;
  } else {
    char *grown = realloc(r->obuf, r->olen + r->slen + 5);
    if (!grown) die("out of memory");
    memcpy(grown + r->olen, r->sbuf, r->slen + 5);
    r->obuf = grown;
    r->olen += r->slen + 5;
  }
  r->slen = 0;
}

/* 'X' once the process has exited and both its output pipes are closed. */
static void maybe_finish(struct req *r) {
  if (r->finished || r->dead || !r->reaped || r->fd[W_OUT] >= 0 || r->fd[W_ERR] >= 0) return;
  unsigned char head[12];
  int32_t code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
  int32_t sig = WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;
  put32(head, (uint32_t)code);
  put32(head + 4, (uint32_t)sig);
  put32(head + 8, r->edropped);
  r->finished = 1;
  close_fd(r, W_IN);
  take_stdout(r);
  send_frame(r, 'X', head, sizeof head, r->ebuf, r->elen);
}

static const char *errno_name(int e) {
  switch (e) {
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case ENOEXEC: return "ENOEXEC";
  case ENOTDIR: return "ENOTDIR";
  case ELOOP: return "ELOOP";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case E2BIG: return "E2BIG";
  case ENOMEM: return "ENOMEM";
  case ETXTBSY: return "ETXTBSY";
  case EMFILE: return "EMFILE";
  case ENFILE: return "ENFILE";
  case EAGAIN: return "EAGAIN";
  case EPERM: return "EPERM";
  case EISDIR: return "EISDIR";
  case EINVAL: return "EINVAL";
  default: return "ERROR";
  }
}

static void fail(struct req *r, int e) {
  char text[256];
  int n = snprintf(text, sizeof text, "%s: %s", errno_name(e), strerror(e));
  r->finished = 1;
  r->phase = P_BODY; /* what else arrives is dropped */
  free(r->hbuf);
  r->hbuf = NULL;
  send_frame(r, 'F', text, n, NULL, 0);
}

static int nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void start_process(struct req *r) {
  const char *p = r->hbuf, *end = r->hbuf + r->hlen;
  if (r->hlen < 8) { fail(r, EINVAL); return; }
  uint32_t argc = get32((const unsigned char *)p), envc = get32((const unsigned char *)p + 4);
  p += 8;
  if (argc == 0 || argc > r->hlen || envc > r->hlen) { fail(r, EINVAL); return; }
  const char *file = p;
  const char *nul = memchr(p, 0, end - p);
  if (!nul) { fail(r, EINVAL); return; }
  p = nul + 1;
  char **argv = malloc(sizeof(char *) * (argc + envc + 2));
  if (!argv) die("out of memory");
  char **envp = argv + argc + 1;
  for (uint32_t i = 0; i < argc + envc; i++) {
    nul = memchr(p, 0, end - p);
    if (!nul) { free(argv); fail(r, EINVAL); return; }
    if (i < argc) argv[i] = (char *)p; else envp[i - argc] = (char *)p;
    p = nul + 1;
  }
  argv[argc] = NULL;
  envp[envc] = NULL;

  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  int e = 0;
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) e = errno;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  if (!e) {
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_init(&attr);
    /* The spawner ignores only SIGPIPE (it was started with default dispositions,
       and handled signals are reset by exec anyway): that one goes back to default. */
    sigset_t none, ignored;
    sigemptyset(&none);
    sigemptyset(&ignored);
    sigaddset(&ignored, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &ignored);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
    e = posix_spawnp(&r->pid, file, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  free(argv);
  free(r->hbuf);
  r->hbuf = NULL;
  /* The child's ends are its own now. */
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  if (e) {
    r->pid = 0;
    if (in[1] >= 0) close(in[1]);
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    fail(r, e);
    return;
  }
  nonblocking(in[1]);
  nonblocking(out[0]);
  nonblocking(err[0]);
  watch_fd(r, W_IN, in[1], 0);
  watch_fd(r, W_OUT, out[0], EPOLLIN);
  watch_fd(r, W_ERR, err[0], EPOLLIN);
  r->phase = P_BODY;
}

/* Writes pending body bytes to stdin; a process that stopped reading is not an error. */
static void feed_stdin(struct req *r, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) close_fd(r, W_IN); /* the reader is gone */
  while (r->fd[W_IN] >= 0 && r->ioff < r->ilen) {
    ssize_t n = write(r->fd[W_IN], r->ibuf + r->ioff, r->ilen - r->ioff);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      set_events(r, W_IN, EPOLLOUT);
      set_events(r, W_CONN, r->olen ? EPOLLOUT : 0);
      return;
    }
    if (n < 0) { /* EPIPE: drop the rest of the body */
      close_fd(r, W_IN);
      break;
    }
    r->ioff += n;
  }
  r->ilen = r->ioff = 0;
  set_events(r, W_IN, 0);
  if (r->conn_eof) close_fd(r, W_IN);
  else set_events(r, W_CONN, EPOLLIN | (r->olen ? EPOLLOUT : 0));
}

static void on_conn(struct req *r, uint32_t events) {
  if (events & EPOLLOUT) {
    if (flush_out(r) != 0) return;
    if (r->fd[W_OUT] >= 0) set_events(r, W_OUT, EPOLLIN);
    set_events(r, W_CONN, r->conn_eof || r->ilen ? 0 : EPOLLIN);
    maybe_finish(r);
    if (r->dead) return;
  }
  if (events & EPOLLIN) {
    for (;;) {
      ssize_t n;
      if (r->phase == P_LENGTH) {
        n = read(r->fd[W_CONN], r->lenbuf + r->lengot, 4 - r->lengot);
      } else if (r->phase == P_HEADER) {
        n = read(r->fd[W_CONN], r->hbuf + r->hgot, r->hlen - r->hgot);
      } else {
        n = read(r->fd[W_CONN], scratch, CHUNK);
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) { abort_req(r); return; }
      if (n == 0) {
        if (r->phase != P_BODY) { abort_req(r); return; }
        r->conn_eof = 1;
        set_events(r, W_CONN, r->olen ? EPOLLOUT : 0);
        if (!r->ilen) close_fd(r, W_IN);
        break;
      }
      if (r->phase == P_LENGTH) {
        r->lengot += n;
        if (r->lengot < 4) continue;
        r->hlen = get32(r->lenbuf);
        if (r->hlen > HEADER_LIMIT) { abort_req(r); return; }
        r->hbuf = malloc(r->hlen + 1);
        if (!r->hbuf) die("out of memory");
        r->phase = P_HEADER;
        if (r->hlen == 0) { start_process(r); if (r->dead) return; }
      } else if (r->phase == P_HEADER) {
        r->hgot += n;
        if (r->hgot == r->hlen) { start_process(r); if (r->dead) return; }
      } else if (r->fd[W_IN] >= 0 && !r->finished) {
        r->ibuf = realloc(r->ibuf, n);
        if (!r->ibuf) die("out of memory");
        memcpy(r->ibuf, scratch, n);
        r->ilen = n;
        r->ioff = 0;
        feed_stdin(r, 0);
        if (r->ilen) break; /* stdin is full: wait for it */
      } /* else: the process no longer reads stdin, or has ended: drop */
    }
  }
  if (events & (EPOLLHUP | EPOLLERR)) {
    /* HUP after our own shutdown and the peer's close: the exchange is over. */
    abort_req(r);
  }
}

/*
 * stdout is held here up to CHUNK bytes: the watchdog keeps the whole output
 * until the exit status is known anyway, and a small output then goes out
 * with the exit status in one write (one wake-up of the watchdog, not two).
 */
static void on_stdout(struct req *r) {
  for (;;) {
    if (!r->sbuf && !(r->sbuf = malloc(CHUNK + 5))) die("out of memory");
    ssize_t n = read(r->fd[W_OUT], r->sbuf + 5 + r->slen, CHUNK - r->slen);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close_fd(r, W_OUT);
      maybe_finish(r);
      return;
    }
    r->slen += n;
    if (r->slen < CHUNK) continue;
    /* A full chunk: it goes out now (nothing else is pending while stdout is read). */
    take_stdout(r);
    if (flush_out(r) != 0) {
      if (!r->dead) set_events(r, W_OUT, 0); /* the watchdog is slower than the process */
      return;
    }
  }
}

static void on_stderr(struct req *r) {
  for (;;) {
    ssize_t n = read(r->fd[W_ERR], scratch, CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close_fd(r, W_ERR);
      maybe_finish(r);
      return;
    }
    size_t keep = r->elen < STDERR_LIMIT ? STDERR_LIMIT - r->elen : 0;
    if (keep > (size_t)n) keep = n;
    if (keep) {
      if (!r->ebuf) r->ebuf = malloc(STDERR_LIMIT);
      if (!r->ebuf) die("out of memory");
      memcpy(r->ebuf + r->elen, scratch, keep);
      r->elen += keep;
    }
    r->edropped += n - keep;
  }
}

static void on_children(void) {
  struct signalfd_siginfo info;
  while (read(sig_fd, &info, sizeof info) == sizeof info) {}
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (struct req *r = active; r; r = r->next) {
      if (r->pid == pid && !r->reaped) {
        r->reaped = 1;
        r->status = status;
        if (r->dead) maybe_free(r);
        else maybe_finish(r);
        break;
      }
    }
  }
}

static void on_accept(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE) return; /* the watchdog sees its connection wait, then fail */
      die("accept");
    }
    struct req *r = calloc(1, sizeof *r);
    if (!r) die("out of memory");
    for (int k = 0; k < W_COUNT; k++) {
      r->w[k].r = r;
      r->w[k].kind = k;
      r->fd[k] = -1;
    }
    r->next = active;
    if (active) active->prev = r;
    active = r;
    watch_fd(r, W_CONN, fd, EPOLLIN);
  }
}

static void stop_all(void) {
  for (struct req *r = active; r; r = r->next)
    if (r->pid > 0 && !r->reaped) kill(-r->pid, SIGKILL);
  unlink(socket_path);
  exit(0);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: spawner SOCKET_PATH\n");
    return 2;
  }
  socket_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  if ((sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) die("signalfd");

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) { errno = ENAMETOOLONG; die(socket_path); }
  strcpy(addr.sun_path, socket_path);
  unlink(socket_path);
  if ((listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) die("socket");
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  chmod(socket_path, 0600);
  if (listen(listen_fd, 4096) < 0) die("listen");

  if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1");
  struct epoll_event e = {.events = EPOLLIN, .data.ptr = &listen_watch};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &e) < 0) die("epoll_ctl");
  e.data.ptr = &sig_watch;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, sig_fd, &e) < 0) die("epoll_ctl");
  e.data.ptr = &control_watch;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &e) < 0) die("epoll_ctl on stdin");
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);
  if (write(1, "ready\n", 6) != 6) die("write");

  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct watch *w = events[i].data.ptr;
      uint32_t ev = events[i].events;
      if (w == &listen_watch) on_accept();
      else if (w == &sig_watch) on_children();
      else if (w == &control_watch) {
        char buf[64];
        ssize_t got = read(0, buf, sizeof buf);
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) stop_all();
      } else {
        struct req *r = w->r;
        if (r->dead) continue;
        if (w->kind == W_CONN) on_conn(r, ev);
        else if (w->kind == W_IN) feed_stdin(r, ev);
        else if (w->kind == W_OUT) on_stdout(r);
        else on_stderr(r);
      }
    }
    while (graveyard) {
      struct req *r = graveyard;
      graveyard = r->grave_next;
      release(r);
    }
  }
}
