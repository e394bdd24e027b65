/* Shared helpers for the C baselines of scripts/bench: tiny, no dependencies. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static inline void die(const char *what) {
  fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills a sockaddr_un for PATH (or @name: abstract); returns its length. */
static inline socklen_t unix_addr(const char *path, struct sockaddr_un *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n >= sizeof sa->sun_path) {
    fprintf(stderr, "bench: %s: path too long\n", path);
    exit(1);
  }
  memcpy(sa->sun_path, path, n);
  if (path[0] == '@') sa->sun_path[0] = '\0';
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
}

/* A connected, blocking, close-on-exec Unix stream socket, or -1 with errno set. */
static inline int unix_connect(const char *path) {
  struct sockaddr_un sa;
  socklen_t len = unix_addr(path, &sa);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&sa, len) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static inline int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}


/* ---- one process per request ----------------------------------------------------
 * spawn_roundtrip() runs PROGRAM with stdin and stdout on pipes (posix_spawn:
 * clone(CLONE_VM|CLONE_VFORK), no page-table copy), writes IN, closes its stdin,
 * reads its stdout to EOF (at most CAP bytes into OUT) and reaps it. Returns the
 * bytes read, or -1 when the spawn failed or it did not exit 0. */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static inline ssize_t spawn_roundtrip(const char *program, const char *in, size_t in_len, char *out, size_t cap) {
  int ip[2], op[2];
  if (pipe2(ip, O_CLOEXEC) != 0) return -1;
  if (pipe2(op, O_CLOEXEC) != 0) {
    close(ip[0]);
    close(ip[1]);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  /* dup2 clears close-on-exec on the copy: the child keeps exactly 0 and 1. */
  posix_spawn_file_actions_adddup2(&fa, ip[0], 0);
  posix_spawn_file_actions_adddup2(&fa, op[1], 1);
  char *argv[] = {(char *)program, NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, program, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(ip[0]);
  close(op[1]);
  if (rc != 0) {
    fprintf(stderr, "bench: %s: %s\n", program, strerror(rc));
    close(ip[1]);
    close(op[0]);
    return -1;
  }
  int ok = write_all(ip[1], in, in_len) == 0;
  close(ip[1]);
  size_t have = 0;
  for (;;) {
    ssize_t r = read(op[0], out + have, cap - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
    if (have == cap) break;
  }
  close(op[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
  return (ssize_t)have;
}

/* ---- N worker processes, started together, each looping `step` for SECONDS ----
 * run_parallel() forks N children; each calls setup(idx) once (connect, warm up),
 * reports ready, waits for the common start, then calls step() until its time is
 * up. Returns the summed rate (steps per second over each child's own elapsed
 * time), or -1 if a child failed. Processes, not threads: nothing is shared, and
 * the machine's scheduler spreads them like it spreads real clients. */
#include <signal.h>

struct worker_result {
  double count;
  double elapsed;
  int ok;
};

static inline double run_parallel(int n, double seconds, int (*setup)(int idx), int (*step)(void)) {
  int ready[2], go[2], results[2];
  if (pipe(ready) || pipe(go) || pipe(results)) die("pipe");
  pid_t *pids = calloc((size_t)n, sizeof *pids);
  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] < 0) die("fork");
    if (pids[i] == 0) {
      close(ready[0]);
      close(go[1]);
      close(results[0]);
      alarm((unsigned)seconds + 30); /* a hung server must not hang the bench */
      struct worker_result res = {0, 0, 0};
      int ok = setup(i) == 0;
      char c = ok ? 'r' : 'x';
      if (write(ready[1], &c, 1) != 1) _exit(1);
      if (read(go[0], &c, 1) < 0) _exit(1); /* returns 0 when the parent closes go */
      if (ok) {
        double t0 = now_s(), t_end = t0 + seconds, t = t0;
        long count = 0;
        while (t < t_end) {
          if (step() != 0) {
            ok = 0;
            break;
          }
          count++;
          if ((count & 7) == 0 || seconds < 0.2) t = now_s();
        }
        res.count = (double)count;
        res.elapsed = now_s() - t0;
      }
      res.ok = ok;
      if (write(results[1], &res, sizeof res) != (ssize_t)sizeof res) _exit(1);
      _exit(ok ? 0 : 1);
    }
  }
  close(ready[1]);
  close(go[0]);
  close(results[1]);
  int failed = 0;
  for (int i = 0; i < n; i++) {
    char c;
    if (read(ready[0], &c, 1) != 1 || c != 'r') failed = 1;
  }
  close(go[1]); /* everyone starts now */
  double rate = 0;
  for (int i = 0; i < n; i++) {
    struct worker_result res;
    if (read(results[0], &res, sizeof res) != (ssize_t)sizeof res || !res.ok || res.elapsed <= 0) {
      failed = 1;
      continue;
    }
    rate += res.count / res.elapsed;
  }
  for (int i = 0; i < n; i++) {
    int st;
    if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) failed = 1;
  }
  free(pids);
  return failed ? -1 : rate;
}

#endif
