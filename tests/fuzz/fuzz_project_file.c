/* fuzz_project_file: arbitrary bytes as a project file.
 *
 * The bytes are written to a file in a private temporary folder (in
 * /dev/shm when there is one, so fsync is cheap) and opened with
 * sto_project_open. A refusal is a known sto_err with a sentence, and the
 * file is left byte for byte as it was (after a refused upgrade, but for
 * its SQLite header). An opened file (which may now be
 * upgraded: from there on it may be written) is loaded with
 * sto_project_load_model: a refusal has a sentence and leaves a new empty
 * model ("Untitled": project and master) and *seq 0; a project that loads
 * satisfies the model checker, its seq is the log's last (the next append
 * must fit), and a second load gives the same hash and object count. */
#include "tests/fuzz/fuzz_check.h"
#include "storage/sto_err.h"
#include "storage/sto_project.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], path[128];
static unsigned char back[1 << 20];

static void remove_files(void) {
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  char p[160];
  for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
    snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
    unlink(p);
  }
}

static void at_exit(void) {
  remove_files();
  rmdir(dir);
}

static void write_file(const uint8_t *data, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FUZZ_REQUIRE(fd >= 0, "cannot create %s", path);
  FUZZ_REQUIRE(write(fd, data, size) == (ssize_t) size, "cannot write %s", path);
  close(fd);
}

/* True if the file at PATH holds DATA, but for its first SKIP bytes. */
static bool file_is(const uint8_t *data, size_t size, size_t skip) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, back, sizeof back);
  close(fd);
  if (skip > size) skip = size;
  return n == (ssize_t) size && memcmp(back + skip, data + skip, size - skip) == 0;
}

static void require_sentence(const char *err, size_t cap, int rc) {
  FUZZ_REQUIRE(memchr(err, 0, cap) != NULL && err[0] != '\0', "refused (%d) without a sentence",
               rc);
  FUZZ_REQUIRE(rc < 0 && strcmp(sto_strerror(rc), "unknown error") != 0, "unknown code %d", rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "%s/fuzz_project_XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    FUZZ_REQUIRE(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
    snprintf(path, sizeof path, "%s/p.db", dir);
    atexit(at_exit);
  }
  if (size > sizeof back) return 0;
  remove_files();
  write_file(data, size);

  char err[700];
  sto_project *sp = (sto_project *) 1;
  memset(err, 0x5A, sizeof err);
  int rc = sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err);
  if (rc) {
    require_sentence(err, sizeof err, rc);
    FUZZ_REQUIRE(sp == NULL, "a refused open left *out set");
    /* Until the file shows it is a project, open only reads. After that
     * (STO_ERR_IO: e.g. a damaged file that fails its upgrade) it may have
     * switched the file to WAL, which rewrites the 100-byte SQLite header,
     * but the upgrade rolls back: no page may change. */
    FUZZ_REQUIRE(file_is(data, size, rc == STO_ERR_IO ? 100 : 0),
                 "a refused open (%d: %s) changed the file", rc, err);
    return 0;
  }

  static mdl_project *model, *again, *fresh;
  if (!model) {
    model = fuzz_project_new(NULL);
    again = fuzz_project_new(NULL);
    fresh = fuzz_project_new(NULL);
  }
  uint64_t seq = 1;
  memset(err, 0x5A, sizeof err);
  rc = sto_project_load_model(sp, model, &seq, err, sizeof err);
  if (rc) {
    require_sentence(err, sizeof err, rc);
    FUZZ_REQUIRE(mdl_project_hash(model) == mdl_project_hash(fresh) && mdl_count(model, 0) == 2,
                 "a refused load left a model (%u objects)", mdl_count(model, 0));
    FUZZ_REQUIRE(seq == 0, "a refused load set seq %llu", (unsigned long long) seq);
  } else {
    fuzz_require_valid(model, "a loaded project");
    FUZZ_REQUIRE(seq == sto_project_last_seq(sp),
                 "loaded at seq %llu but the log ends at %llu: the next append is refused",
                 (unsigned long long) seq, (unsigned long long) sto_project_last_seq(sp));
    uint64_t seq2;
    rc = sto_project_load_model(sp, again, &seq2, err, sizeof err);
    FUZZ_REQUIRE(rc == 0 && seq2 == seq && mdl_project_hash(model) == mdl_project_hash(again) &&
                     mdl_count(model, 0) == mdl_count(again, 0),
                 "a second load differs (%d: %s)", rc, err);
  }
  sto_project_close(sp);
  return 0;
}
