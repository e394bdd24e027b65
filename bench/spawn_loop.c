/* spawn_loop PARALLEL SECONDS PROGRAM [LINE]
 *
 * The physical limit of "one process per request": PARALLEL processes each loop
 * posix_spawn(PROGRAM) with stdin and stdout on pipes, write LINE and '\n', close
 * stdin, read stdout to EOF, check it equals the line, waitpid. Prints total
 * spawns per second. glibc's posix_spawn uses clone(CLONE_VM|CLONE_VFORK), so its
 * cost does not grow with the parent's memory the way fork() does. PROGRAM is a
 * path (no PATH search). Baseline for `ipcat serve SOCK -- cat` (exec_rate). */
#include "common.h" /* first: it defines _GNU_SOURCE */

static const char *g_program;
static char g_line[4096];
static size_t g_line_len;

static int spawn_once(void) {
  char buf[8192];
  ssize_t have = spawn_roundtrip(g_program, g_line, g_line_len, buf, sizeof buf);
  if (have != (ssize_t)g_line_len || memcmp(buf, g_line, g_line_len) != 0) {
    fprintf(stderr, "spawn_loop: %s did not echo the line\n", g_program);
    return -1;
  }
  return 0;
}

static int setup(int idx) {
  (void)idx;
  for (int i = 0; i < 5; i++)
    if (spawn_once() != 0) return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: spawn_loop PARALLEL SECONDS PROGRAM [LINE]\n");
    return 1;
  }
  int parallel = atoi(argv[1]);
  double seconds = atof(argv[2]);
  g_program = argv[3];
  const char *line = argc == 5 ? argv[4] : "{\"id\":1,\"method\":\"ping\",\"params\":{\"x\":42}}";
  g_line_len = strlen(line);
  if (parallel < 1 || seconds <= 0 || g_line_len + 1 >= sizeof g_line) {
    fprintf(stderr, "spawn_loop: bad arguments\n");
    return 1;
  }
  memcpy(g_line, line, g_line_len);
  g_line[g_line_len++] = '\n';
  signal(SIGPIPE, SIG_IGN);
  double rate = run_parallel(parallel, seconds, setup, spawn_once);
  if (rate < 0) return 1;
  printf("%.0f\n", rate);
  return 0;
}
