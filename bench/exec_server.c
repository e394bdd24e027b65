/* exec_server SOCK PROGRAM: the physical limit of a server that runs one process
 * per request — ipcat's `serve SOCK -- PROGRAM` without anything else. A thread per
 * connection, blocking I/O: read a line, posix_spawn PROGRAM with the line on its
 * stdin (spawn_roundtrip: no stderr pipe, no process group, no signal reset, no
 * timeout, no output limit, no JSON check), send back what it printed. Context for
 * exec_rate: what is left between ipcat and spawn_loop once a server hop is paid.
 * SIGTERM/SIGINT: unlink SOCK and exit 0. */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <pthread.h>
#include <signal.h>

static const char *g_program;

static void *serve_connection(void *arg) {
  int fd = (int)(intptr_t)arg;
  char in[8192], out[8192];
  size_t have = 0;
  for (;;) {
    char *nl = memchr(in, '\n', have);
    if (nl == NULL) {
      if (have == sizeof in) break; /* a line longer than the buffer: drop the client */
      ssize_t r = read(fd, in + have, sizeof in - have);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      have += (size_t)r;
      continue;
    }
    size_t len = (size_t)(nl - in) + 1;
    ssize_t n = spawn_roundtrip(g_program, in, len, out, sizeof out);
    if (n < 0 || write_all(fd, out, (size_t)n) != 0) break;
    memmove(in, in + len, have - len);
    have -= len;
  }
  close(fd);
  return NULL;
}

static const char *g_path;
static void on_signal(int sig) {
  (void)sig;
  if (g_path[0] != '@') unlink(g_path);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: exec_server SOCK PROGRAM\n");
    return 1;
  }
  g_path = argv[1];
  g_program = argv[2];
  struct sockaddr_un sa;
  socklen_t len = unix_addr(g_path, &sa);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  if (g_path[0] != '@') unlink(g_path);
  if (bind(lfd, (struct sockaddr *)&sa, len) != 0) die(g_path);
  if (listen(lfd, 128) != 0) die("listen");
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    pthread_t t;
    if (pthread_create(&t, NULL, serve_connection, (void *)(intptr_t)fd) != 0) die("pthread_create");
    pthread_detach(t);
  }
}
