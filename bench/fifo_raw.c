/* fifo_raw: the raw FIFO baseline and the line counter of the fifo figure.
 *   fifo_raw gen N            N distinct 64-byte JSON lines (63 + '\n') on stdout
 *   fifo_raw write PATH       copy stdin lines into the FIFO, one write() per line
 *   fifo_raw read PATH        copy the FIFO to stdout (big reads) until EOF
 *   fifo_raw count N          read stdin until N lines; print "N SECONDS", SECONDS
 *                             from the first byte to the N-th newline (exit 1 at
 *                             EOF before N lines)
 * `write` reads all of stdin before opening the FIFO, so only the FIFO is timed. */
#include "common.h" /* first: it defines _GNU_SOURCE */

#include <fcntl.h>

static char *slurp(int fd, size_t *len) {
  size_t cap = 1 << 20, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n == cap && !(buf = realloc(buf, cap *= 2))) die("realloc");
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read");
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

static int gen(long n) {
  char line[65];
  for (long i = 0; i < n; i++) {
    /* {"seq":0000001,"pad":"..."} padded to 63 bytes */
    int k = snprintf(line, sizeof line, "{\"seq\":%ld,\"pad\":\"", i);
    while (k < 61) line[k++] = 'x';
    line[k++] = '"';
    line[k++] = '}';
    line[k++] = '\n';
    if (fwrite(line, 1, (size_t)k, stdout) != (size_t)k) return 1;
  }
  return fflush(stdout) == 0 ? 0 : 1;
}

static int write_lines(const char *path) {
  size_t len;
  char *data = slurp(0, &len);
  int fd = open(path, O_WRONLY | O_CLOEXEC); /* blocks until a reader is there */
  if (fd < 0) die(path);
  for (char *p = data, *end = data + len; p < end;) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    if (write_all(fd, p, n) != 0) die("write");
    p += n;
  }
  return close(fd) == 0 ? 0 : 1;
}

static int read_fifo(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  static char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read");
    if (r == 0) return 0;
    if (write_all(1, buf, (size_t)r) != 0) die("write stdout");
  }
}

static int count(long n) {
  static char buf[65536];
  long lines = 0;
  double t0 = 0;
  while (lines < n) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("read");
    if (r == 0) {
      fprintf(stderr, "fifo_raw: count: EOF after %ld of %ld lines\n", lines, n);
      return 1;
    }
    if (t0 == 0) t0 = now_s();
    for (char *p = buf, *end = buf + r; (p = memchr(p, '\n', (size_t)(end - p))); p++) lines++;
  }
  printf("%ld %.6f\n", lines, now_s() - t0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "gen") == 0) return gen(atol(argv[2]));
  if (argc == 3 && strcmp(argv[1], "write") == 0) return write_lines(argv[2]);
  if (argc == 3 && strcmp(argv[1], "read") == 0) return read_fifo(argv[2]);
  if (argc == 3 && strcmp(argv[1], "count") == 0) return count(atol(argv[2]));
  fprintf(stderr, "usage: fifo_raw gen N | write PATH | read PATH | count N\n");
  return 1;
}
