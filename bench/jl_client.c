/* jl_client SOCK CLIENTS SECONDS persistent|connect [BODY]
 *
 * Load generator: CLIENTS processes each do JSON-line ping-pong with SOCK for
 * SECONDS (one request in flight per client: send BODY, read one reply line,
 * check it equals BODY, repeat) and the total requests per second is printed.
 *   persistent  one connection per client for the whole run
 *   connect     a new connection per request (codechu-ipc style)
 * The same client drives ipcat and the C baseline server, so the ratio is fair.
 * Exit 1 (and no figure) if any reply is missing or differs. */
#include "common.h"

static const char *g_path;
static int g_connect_each;
static char g_req[4096];
static size_t g_req_len;
static int g_fd = -1;
static char g_buf[65536];

/* Sends the request on g_fd and reads exactly one reply line; 0 if it echoed. */
static int ping(int fd) {
  if (write_all(fd, g_req, g_req_len) != 0) return -1;
  size_t have = 0;
  for (;;) {
    ssize_t r = read(fd, g_buf + have, sizeof g_buf - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      fprintf(stderr, "jl_client: %s: %s\n", g_path, r == 0 ? "connection closed before a reply" : strerror(errno));
      return -1;
    }
    have += (size_t)r;
    if (g_buf[have - 1] == '\n') break; /* one request in flight: the reply ends the read */
    if (have == sizeof g_buf) return -1;
  }
  if (have != g_req_len || memcmp(g_buf, g_req, have) != 0) {
    fprintf(stderr, "jl_client: unexpected reply: %.*s\n", (int)have, g_buf);
    return -1;
  }
  return 0;
}

static int one_request(void) {
  if (!g_connect_each) return ping(g_fd);
  int fd = unix_connect(g_path);
  if (fd < 0) {
    fprintf(stderr, "jl_client: connect %s: %s\n", g_path, strerror(errno));
    return -1;
  }
  int rc = ping(fd);
  close(fd);
  return rc;
}

static int setup(int idx) {
  (void)idx;
  if (!g_connect_each) {
    g_fd = unix_connect(g_path);
    if (g_fd < 0) {
      fprintf(stderr, "jl_client: connect %s: %s\n", g_path, strerror(errno));
      return -1;
    }
  }
  /* Warm up (and check the server answers right) before the clock starts. */
  for (int i = 0; i < 20; i++)
    if (one_request() != 0) return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 5 || argc > 6) {
    fprintf(stderr, "usage: jl_client SOCK CLIENTS SECONDS persistent|connect [BODY]\n");
    return 1;
  }
  g_path = argv[1];
  int clients = atoi(argv[2]);
  double seconds = atof(argv[3]);
  g_connect_each = strcmp(argv[4], "connect") == 0;
  const char *body = argc == 6 ? argv[5] : "{\"id\":1,\"method\":\"ping\",\"params\":{\"x\":42}}";
  g_req_len = strlen(body);
  if (clients < 1 || seconds <= 0 || g_req_len + 1 >= sizeof g_req) {
    fprintf(stderr, "jl_client: bad arguments\n");
    return 1;
  }
  memcpy(g_req, body, g_req_len);
  g_req[g_req_len++] = '\n';
  signal(SIGPIPE, SIG_IGN);
  double rate = run_parallel(clients, seconds, setup, one_request);
  if (rate < 0) return 1;
  printf("%.0f\n", rate);
  return 0;
}
