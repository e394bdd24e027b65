/* echo_server SOCK: a single-threaded epoll JSON-line echo server, the physical
 * limit of one core answering line by line. Each complete line read is written
 * back as is (no JSON parsing: the cheapest possible handler). Partial lines wait
 * in a per-connection buffer; an idle connection holds one small struct and no
 * buffer. SIGTERM/SIGINT: unlink SOCK and exit 0. */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>

struct conn {
  int fd;
  char *in; /* unterminated tail of the input, or NULL */
  size_t in_len;
  char *out; /* unsent replies (the peer is slow), or NULL */
  size_t out_len, out_off;
};

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void drop(int ep, struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
}

static int append(char **buf, size_t *len, const char *p, size_t n) {
  char *b = realloc(*buf, *len + n);
  if (!b) return -1;
  memcpy(b + *len, p, n);
  *buf = b;
  *len += n;
  return 0;
}

/* Writes what it can; keeps the rest and asks for EPOLLOUT. -1: drop. */
static int send_out(int ep, struct conn *c, const char *p, size_t n) {
  if (c->out) return append(&c->out, &c->out_len, p, n);
  while (n > 0) {
    ssize_t w = write(c->fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) break;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  if (n == 0) return 0;
  if (append(&c->out, &c->out_len, p, n) != 0) return -1;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int on_readable(int ep, struct conn *c, char *buf, size_t cap) {
  for (;;) {
    ssize_t r = read(c->fd, buf, cap);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    if (r <= 0) return -1; /* EOF or error: done with this client */
    const char *p = buf;
    size_t n = (size_t)r;
    const char *last_nl = memrchr(p, '\n', n);
    if (!last_nl) {
      if (append(&c->in, &c->in_len, p, n) != 0) return -1;
      continue;
    }
    size_t whole = (size_t)(last_nl - p) + 1;
    if (c->in) { /* complete the buffered partial line first */
      if (append(&c->in, &c->in_len, p, whole) != 0 || send_out(ep, c, c->in, c->in_len) != 0) return -1;
      free(c->in);
      c->in = NULL;
      c->in_len = 0;
    } else if (send_out(ep, c, p, whole) != 0) {
      return -1;
    }
    if (whole < n && append(&c->in, &c->in_len, p + whole, n - whole) != 0) return -1;
    if ((size_t)r < cap) return 0;
  }
}

static int on_writable(int ep, struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return 0;
    if (w < 0) return -1;
    c->out_off += (size_t)w;
  }
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: echo_server SOCK\n");
    return 1;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  struct sockaddr_un addr;
  socklen_t len = unix_addr(argv[1], &addr);
  if (argv[1][0] != '@') unlink(argv[1]);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (lfd < 0) die("socket");
  if (bind(lfd, (struct sockaddr *)&addr, len) != 0) die(argv[1]);
  if (listen(lfd, 4096) != 0) die("listen");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) die("epoll_ctl");

  static char buf[65536];
  struct epoll_event events[256];
  while (!g_stop) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (!c) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (fd < 0) break;
          c = calloc(1, sizeof *c);
          if (!c) {
            close(fd);
            continue;
          }
          c->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
          }
        }
        continue;
      }
      int rc = 0;
      if (events[i].events & EPOLLOUT) rc = on_writable(ep, c);
      if (rc == 0 && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) rc = on_readable(ep, c, buf, sizeof buf);
      if (rc != 0) drop(ep, c);
    }
  }
  if (argv[1][0] != '@') unlink(argv[1]);
  return 0;
}
