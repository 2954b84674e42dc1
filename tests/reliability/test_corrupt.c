/* Corrupt or foreign files in DATA/projects/.
 *
 * What a studio engineer expects: the studio starts and serves the good
 * projects; each bad file is skipped with one log line that names it and
 * says why; the bad files stay exactly as they were, for someone to look at
 * (or restore from a backup). Bad files here: a text file, a truncated
 * project, random bytes, an empty file, a SQLite database of another
 * program, and a project from a newer Backline. */
#include "storage/sto_err.h"
#include "storage/sto_project.h"
#include "tests/reliability/rel_util.h"
#include "tools/client/cli_http.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rel_fixture fx;

static void free_bad(void);

static void teardown(void) {
  rel_deinit(&fx);
  free_bad();
}

typedef struct bad_file {
  const char *id;     /* file name without .backline */
  const char *reason; /* what its log line must say */
  char path[800];
  char *bytes; /* content when made */
  size_t len;
} bad_file;

static bad_file bad[] = {
    {"notes", "is not a Backline project", "", NULL, 0},
    {"truncated", "", "", NULL, 0}, /* any reason: depends on where the cut falls */
    {"noise", "is not a Backline project", "", NULL, 0},
    {"empty", "is not a Backline project", "", NULL, 0},
    {"foreign", "is not a Backline project", "", NULL, 0},
    {"newer", "newer Backline", "", NULL, 0},
};
#define N_BAD (sizeof bad / sizeof bad[0])

static void free_bad(void) {
  for (size_t i = 0; i < N_BAD; i++)
    free(bad[i].bytes), bad[i].bytes = NULL;
}

static void sql(const char *path, const char *statements) {
  sqlite3 *db;
  cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec(db, statements, NULL, NULL, &msg);
  cr_assert_eq(rc, SQLITE_OK, "%s: %s", statements, msg ? msg : "");
  sqlite3_close(db);
}

static void copy_file(const char *from, const char *to, size_t max) {
  size_t len;
  char *bytes = rel_slurp(from, &len);
  cr_assert(bytes, "cannot read %s", from);
  rel_write(to, bytes, len < max ? len : max);
  free(bytes);
}

/* A data folder with one good project (the default one) and the bad files;
 * returns the good project's id in fx.project. */
static void make_folder(uint64_t *seq, uint64_t *hash) {
  rel_init(&fx, "backline-corrupt");
  rel_start(&fx);
  char *list = NULL;
  int status;
  cr_assert_eq(cli_http(fx.port, "GET", "/api/projects", NULL, &status, &list), 0);
  cJSON *j = cJSON_Parse(list);
  const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "projects"), 0);
  const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "id"));
  cr_assert(id, "no default project in %s", list);
  snprintf(fx.project, sizeof fx.project, "%s", id);
  snprintf(fx.path, sizeof fx.path, "%s/projects/%s.backline", fx.data, id);
  cJSON_Delete(j);
  free(list);
  rel_state(&fx, seq, hash);
  rel_stop(&fx, SIGTERM); /* a clean stop folds the WAL into the file */

  for (size_t i = 0; i < N_BAD; i++)
    snprintf(bad[i].path, sizeof bad[i].path, "%s/projects/%s.backline", fx.data, bad[i].id);
  const char *text = "Setlist for Friday:\n1. Intro\n2. Bass solo\n";
  rel_write(bad[0].path, text, strlen(text));
  copy_file(fx.path, bad[1].path, (size_t) rel_file_size(fx.path) / 2 + 100);
  unsigned seed = 42;
  unsigned char noise[65536];
  for (size_t i = 0; i < sizeof noise; i++)
    noise[i] = (unsigned char) rand_r(&seed);
  rel_write(bad[2].path, noise, sizeof noise);
  rel_write(bad[3].path, "", 0);
  sql(bad[4].path, "CREATE TABLE songs(title TEXT, bpm REAL);"
                   "INSERT INTO songs VALUES('Intro', 96), ('Outro', 120);");
  copy_file(fx.path, bad[5].path, (size_t) -1);
  sql(bad[5].path, "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
  for (size_t i = 0; i < N_BAD; i++) {
    free(bad[i].bytes);
    bad[i].bytes = rel_slurp(bad[i].path, &bad[i].len);
    cr_assert(bad[i].bytes);
  }
}

Test(reliability, bad_project_files_are_skipped_with_a_clear_line, .fini = teardown) {
  uint64_t seq0, hash0;
  make_folder(&seq0, &hash0);
  char log[700];
  snprintf(log, sizeof log, "%s.log", fx.data);
  long long log_before = rel_file_size(log);

  char err[1024];
  int rc = rel_try_start(&fx, err, sizeof err);
  cr_assert_eq(rc, 0, "the server refused to start because of bad project files: %s", err);

  /* The good project is served as it was, and only it. */
  char *list = NULL;
  int status;
  cr_assert_eq(cli_http(fx.port, "GET", "/api/projects", NULL, &status, &list), 0);
  cJSON *j = cJSON_Parse(list);
  const cJSON *projects = cJSON_GetObjectItemCaseSensitive(j, "projects");
  cr_assert_eq(cJSON_GetArraySize(projects), 1, "projects: %s", list);
  cJSON_Delete(j);
  free(list);
  uint64_t seq, hash;
  rel_state(&fx, &seq, &hash);
  cr_assert_eq(seq, seq0);
  cr_assert_eq(hash, hash0);
  char id[PROTO_PROJECT_ID_MAX + 1];
  cr_assert_eq(cli_rest_create_project(fx.port, "After the bad files", id), 0);

  /* One line per bad file, naming it and saying why. */
  char *text = rel_slurp(log, NULL);
  cr_assert(text);
  const char *fresh = text + log_before;
  for (size_t i = 0; i < N_BAD; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.backline", bad[i].id);
    cr_assert_eq(rel_count_lines(fresh, name), 1, "%s: log lines naming it: %d\n%s", name,
                 rel_count_lines(fresh, name), fresh);
    const char *line = strstr(fresh, name);
    while (line > fresh && line[-1] != '\n')
      line--;
    int len = (int) strcspn(line, "\n");
    rel_note("%s: %.*s", bad[i].id, len, line);
    char *copy = strndup(line, (size_t) len);
    cr_assert(strstr(copy, bad[i].reason), "%s: expected \"%s\" in: %s", bad[i].id, bad[i].reason,
              copy);
    free(copy);
  }
  cr_assert_eq(rel_count_lines(fresh, "AddressSanitizer"), 0, "%s", fresh);
  cr_assert_eq(rel_count_lines(fresh, "runtime error"), 0, "%s", fresh);
  free(text);
}

/* The bad files after the server has looked at them: byte for byte as they
 * were, and no -wal beside them. */
Test(reliability, bad_project_files_are_left_untouched, .fini = teardown) {
  uint64_t seq0, hash0;
  make_folder(&seq0, &hash0);
  rel_start(&fx);
  rel_stop(&fx, SIGTERM);
  char changed[4096] = "";
  for (size_t i = 0; i < N_BAD; i++) {
    size_t len, used = strlen(changed);
    char *now = rel_slurp(bad[i].path, &len), side[900], what[1000] = "";
    snprintf(side, sizeof side, "%s-wal", bad[i].path);
    if (!now || len != bad[i].len || memcmp(now, bad[i].bytes, len) != 0)
      snprintf(what, sizeof what, "%s.backline changed (%zu bytes before, %zu after)", bad[i].id,
               bad[i].len, now ? len : 0);
    else if (access(side, F_OK) == 0)
      snprintf(what, sizeof what, "%s left behind", side);
    free(now);
    if (what[0]) snprintf(changed + used, sizeof changed - used, " %s;", what);
  }
  cr_assert_str_empty(changed, "changed:%s", changed);
}
