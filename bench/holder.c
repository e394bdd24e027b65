/* holder SOCK N [BODY]: opens up to N connections to SOCK and holds them idle.
 * With BODY, each connection first does one request/reply exchange (a connection
 * that has talked, then went quiet: the realistic idle one). Raises its own fd
 * limit to the hard limit; stops early at EMFILE or a connect that blocks 5 s
 * (server not accepting), then prints "held K" (K connections open) on stdout and
 * waits until stdin closes or a signal ends it. */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <sys/resource.h>
#include <sys/time.h>

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: holder SOCK N [BODY]\n");
    return 1;
  }
  const char *path = argv[1];
  long n = atol(argv[2]);
  const char *body = argc == 4 ? argv[3] : NULL;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  char req[4096], buf[4096];
  size_t req_len = 0;
  if (body) {
    req_len = strlen(body);
    if (req_len + 1 >= sizeof req) return 1;
    memcpy(req, body, req_len);
    req[req_len++] = '\n';
  }
  struct sockaddr_un sa;
  socklen_t len = unix_addr(path, &sa);
  struct timeval tv = {.tv_sec = 5};
  long held = 0;
  const char *why = NULL;
  for (; held < n; held++) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      why = strerror(errno);
      break;
    }
    /* Unix connect blocks while the backlog is full; bound it. */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, len) != 0) {
      why = strerror(errno);
      close(fd);
      break;
    }
    if (body) {
      size_t have = 0;
      if (write_all(fd, req, req_len) != 0) {
        why = "write failed";
        close(fd);
        break;
      }
      while (have == 0 || buf[have - 1] != '\n') {
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0 || (have += (size_t)r) == sizeof buf) break;
      }
      if (have == 0 || buf[have - 1] != '\n') {
        why = "no reply";
        close(fd);
        break;
      }
    }
  }
  if (why) fprintf(stderr, "holder: stopped at %ld connections: %s\n", held, why);
  printf("held %ld\n", held);
  fflush(stdout);
  /* Hold until told: stdin closes (or a signal kills us; the kernel closes all). */
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
