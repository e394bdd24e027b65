/* oneshot SOCK BODY: the least a one-shot JSON-line client can do.
 * connect, send BODY and '\n', half-close, print the reply line, exit.
 * Exit 0 with a reply, 1 on any failure. Baseline for `ipcat request SOCK BODY`. */
#include "common.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: oneshot SOCK BODY\n");
    return 1;
  }
  int fd = unix_connect(argv[1]);
  if (fd < 0) die(argv[1]);
  size_t n = strlen(argv[2]);
  char out[4096];
  if (n + 1 > sizeof out) return 1;
  memcpy(out, argv[2], n);
  out[n++] = '\n';
  if (write_all(fd, out, n) != 0) die("write");
  shutdown(fd, SHUT_WR);
  char buf[65536];
  size_t have = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof buf - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += (size_t)r;
    if (memchr(buf, '\n', have) || have == sizeof buf) break;
  }
  if (have == 0) return 1;
  char *nl = memchr(buf, '\n', have);
  size_t len = nl ? (size_t)(nl - buf) + 1 : have;
  return write_all(1, buf, len) == 0 ? 0 : 1;
}
