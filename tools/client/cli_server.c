/* cli_server: fork/exec of the server, health polling, temporary folders. */
#include "tools/client/cli_server.h"
#include "tools/client/cli_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cli_server {
  pid_t pid;
  int port;
  bool exited; /* reaped; status holds the waitpid status */
  int status;
  char log[4096];
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

const char *cli_server_bin(const char *fallback) {
  const char *env = getenv("BACKLINE_BIN");
  return env && env[0] ? env : fallback;
}

/* A loopback port nobody listens on right now (the kernel's choice). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  int port = -1;
  if (bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0 &&
      getsockname(fd, (struct sockaddr *) &sa, &len) == 0)
    port = ntohs(sa.sin_port);
  close(fd);
  return port;
}

/* Appends the last ~600 bytes of the log to err. */
static void log_tail(const char *log, char *err, size_t err_len) {
  FILE *f = fopen(log, "rb");
  if (!f) return;
  char tail[600];
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, size > (long) sizeof tail - 1 ? size - (long) sizeof tail + 1 : 0, SEEK_SET);
  size_t n = fread(tail, 1, sizeof tail - 1, f);
  tail[n] = 0;
  fclose(f);
  size_t used = strlen(err);
  if (used < err_len) snprintf(err + used, err_len - used, "; log tail: %s", tail);
}

bool cli_server_alive(cli_server *s) {
  if (s->exited) return false;
  int st;
  pid_t r = waitpid(s->pid, &st, WNOHANG);
  if (r == s->pid) {
    s->exited = true;
    s->status = st;
    return false;
  }
  return true;
}

static int spawn(cli_server *s, const char *bin, const char *data_dir) {
  char port_s[16];
  snprintf(port_s, sizeof port_s, "%d", s->port);
  int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    if (logfd >= 0) close(logfd);
    return CLI_ERR_SPAWN;
  }
  if (pid == 0) {
    /* Die with the parent: a test that aborts must not leave a server behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (logfd >= 0) {
      dup2(logfd, 1);
      dup2(logfd, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execl(bin, bin, "--data", data_dir, "--port", port_s, "--https-port", "0", "--ops-port", "0",
          "--headless", (char *) NULL);
    fprintf(stderr, "cli_server: exec %s: %s\n", bin, strerror(errno));
    _exit(127);
  }
  if (logfd >= 0) close(logfd);
  s->pid = pid;
  s->exited = false;
  return 0;
}

int cli_server_start(const char *bin, const char *data_dir, cli_server **out, char *err,
                     size_t err_len) {
  char dummy[8];
  if (!err) err = dummy, err_len = sizeof dummy;
  err[0] = 0;
  *out = NULL;
  if (!bin || !data_dir) return CLI_ERR_INVALID;
  if (access(bin, X_OK) != 0) {
    snprintf(err, err_len, "server binary %s is not executable", bin);
    return CLI_ERR_SPAWN;
  }
  cli_server *s = calloc(1, sizeof *s);
  if (!s) return CLI_ERR_NOMEM;
  snprintf(s->log, sizeof s->log, "%s.log", data_dir);
  for (int attempt = 0; attempt < 5; attempt++) {
    s->port = free_port();
    if (s->port <= 0 || spawn(s, bin, data_dir)) {
      snprintf(err, err_len, "could not start %s", bin);
      free(s);
      return CLI_ERR_SPAWN;
    }
    int64_t deadline = now_ms() + CLI_SERVER_START_MS;
    while (now_ms() < deadline && cli_server_alive(s)) {
      int status = 0;
      char *body = NULL;
      int rc = cli_http_ex(s->port, "GET", "/api/health", NULL, 0, 1000, &status, &body, NULL);
      free(body);
      if (rc == 0 && status == 200) {
        *out = s;
        return 0;
      }
      sleep_ms(20);
    }
    if (cli_server_alive(s)) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, NULL, 0);
      snprintf(err, err_len, "%s did not answer /api/health on port %d within %d ms", bin, s->port,
               CLI_SERVER_START_MS);
      log_tail(s->log, err, err_len);
      free(s);
      return CLI_ERR_TIMEOUT;
    }
    /* It exited: perhaps the port was taken meanwhile; try another. */
    snprintf(err, err_len, "%s exited during start (status 0x%x)", bin, (unsigned) s->status);
  }
  log_tail(s->log, err, err_len);
  free(s);
  return CLI_ERR_SPAWN;
}

int cli_server_port(const cli_server *s) {
  return s->port;
}
pid_t cli_server_pid(const cli_server *s) {
  return s->pid;
}
const char *cli_server_log(const cli_server *s) {
  return s->log;
}

int cli_server_stop(cli_server *s, int sig, int timeout_ms, int *status, int *elapsed_ms) {
  if (status) *status = 0;
  if (elapsed_ms) *elapsed_ms = 0;
  if (!s) return 0;
  int64_t t0 = now_ms();
  int rc = 0;
  if (cli_server_alive(s)) {
    kill(s->pid, sig);
    while (cli_server_alive(s) && now_ms() - t0 < timeout_ms)
      sleep_ms(5);
    if (!s->exited) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &s->status, 0);
      s->exited = true;
      rc = CLI_ERR_TIMEOUT;
    }
  }
  if (status) *status = s->status;
  if (elapsed_ms) *elapsed_ms = (int) (now_ms() - t0);
  free(s);
  return rc;
}

int cli_tempdir(const char *prefix, char *out, size_t cap) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !tmp[0]) tmp = "/tmp";
  int n = snprintf(out, cap, "%s/%s-XXXXXX", tmp, prefix ? prefix : "backline");
  if (n < 0 || (size_t) n >= cap || !mkdtemp(out)) {
    if (cap) out[0] = 0;
    return CLI_ERR_SPAWN;
  }
  return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void) sb, (void) flag, (void) ftw;
  remove(path);
  return 0;
}

void cli_rmtree(const char *path) {
  if (path && path[0]) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
