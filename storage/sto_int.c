/* sto_int: helpers shared by the storage modules (see sto_int.h). */
#include "storage/sto_int.h"
#include "shared/mdl_libc.h"
#include "shared/mdl_alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static long fault_countdown;

void sto__fault_after(long n) {
  fault_countdown = n;
}

bool sto__fault(void) {
  if (fault_countdown <= 0) return false;
  return --fault_countdown == 0;
}

int sto__fail(char *err, size_t err_len, int code, const char *fmt, ...) {
  if (err && err_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return code;
}

int sto__write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    if (sto__fault()) return errno = EIO, -1;
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0 ? (errno = EIO, -1) : -1;
    p += n, len -= (size_t) n;
  }
  return 0;
}

int sto__sync_fd(int fd) {
  if (sto__fault()) return errno = EIO, -1;
  return fsync(fd);
}

int sto__sync_path(const char *path, bool is_dir) {
  if (sto__fault()) return errno = EIO, -1;
  int fd = open(path, (is_dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int sto__exec(sqlite3 *db, const char *sql) {
  if (sto__fault()) return SQLITE_IOERR;
  return sqlite3_exec(db, sql, 0, 0, 0);
}

const mdl_alloc sto__alloc = MDL_LIBC_ALLOC;
