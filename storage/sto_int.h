/* sto_int: implementation details shared by the storage modules (sto_asset,
 * sto_library, sto_archive); these may change. The public API is in the
 * modules' own headers. Not thread-safe where noted. */
#ifndef STO_INT_H
#define STO_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/* Test hook: makes the Nth fallible step (allocation, write, fsync, rename,
 * SQLite statement) from now on fail, once; 0 turns it off. Tests loop
 * N = 1, 2, ... until an operation succeeds and check that each failure left
 * nothing behind. Not thread-safe; for tests only. */
void sto__fault_after(long n);
bool sto__fault(void); /* true if this step must fail */

/* Formats one sentence into ERR (when not NULL) and returns CODE. */
int sto__fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes all LEN bytes to FD (retrying short writes and EINTR); 0 or -1
 * with errno set. A fault step. */
int sto__write_all(int fd, const void *buf, size_t len);

/* fsync of FD, and of the file or folder at PATH; 0 or -1 with errno set.
 * Fault steps. */
int sto__sync_fd(int fd);
int sto__sync_path(const char *path, bool is_dir);

/* sqlite3_exec without callbacks; a fault step (SQLITE_IOERR). */
int sto__exec(sqlite3 *db, const char *sql);

struct mdl_alloc;
/* malloc and free, for the models storage loads to check them */
extern const struct mdl_alloc sto__alloc;

#endif
