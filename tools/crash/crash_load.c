/* crash_load: WebSocket and REST writers that ledger every acknowledgement. */
#include "tools/crash/crash_load.h"
#include "protocol/proto_msg.h"
#include "tools/client/cli_client.h"
#include "tools/client/cli_http.h"
#include "tools/client/cli_txn.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS      64  /* transactions in flight per client (max_pending is capped to this) */
#define SLOT_BYTES 512 /* encoded size of the largest transaction this load builds */

/* ---- Ledger ----------------------------------------------------------------------------- */

void crash_ledger_init(crash_ledger *l) {
  memset(l, 0, sizeof *l);
  pthread_mutex_init(&l->lock, NULL);
}

void crash_ledger_deinit(crash_ledger *l) {
  for (size_t i = 0; i < l->n_acks; i++)
    free(l->acks[i].data);
  free(l->acks);
  pthread_mutex_destroy(&l->lock);
  memset(l, 0, sizeof *l);
}

bool crash_ledger_add(crash_ledger *l, const crash_ack *a, const void *data) {
  unsigned char *copy = malloc(a->len ? a->len : 1);
  if (!copy) return false;
  memcpy(copy, data, a->len);
  pthread_mutex_lock(&l->lock);
  if (l->n_acks == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 1024;
    crash_ack *acks = realloc(l->acks, cap * sizeof *acks);
    if (!acks) {
      pthread_mutex_unlock(&l->lock);
      free(copy);
      return false;
    }
    l->acks = acks, l->cap = cap;
  }
  crash_ack *e = &l->acks[l->n_acks++];
  *e = *a;
  e->data = copy;
  if (a->seq > l->max_seq) l->max_seq = a->seq;
  pthread_mutex_unlock(&l->lock);
  return true;
}

static int by_seq(const void *a, const void *b) {
  uint64_t x = ((const crash_ack *) a)->seq, y = ((const crash_ack *) b)->seq;
  return x < y ? -1 : x > y;
}

void crash_ledger_sort(crash_ledger *l) {
  pthread_mutex_lock(&l->lock);
  qsort(l->acks, l->n_acks, sizeof *l->acks, by_seq);
  pthread_mutex_unlock(&l->lock);
}

/* ---- Workers ------------------------------------------------------------------------------ */

typedef struct slot {
  uint32_t local_id; /* 0 = free */
  uint32_t len;
  uint64_t t0;
  unsigned char txn[SLOT_BYTES];
} slot;

typedef struct worker {
  crash_load *load;
  cli_client *c;
  uint32_t client_id;
  unsigned seed;
  pthread_t thread;
  bool started;
  pthread_mutex_t mu; /* guards slots and n_used; taken around submit so that an ACK */
  pthread_cond_t cv;  /* never arrives before its slot is filled */
  slot slots[SLOTS];
  int n_used;
  mdl_project *view; /* the worker thread's copy of the client's view */
} worker;

struct crash_load {
  crash_load_config cfg;
  crash_ledger *ledger;
  worker *workers; /* cfg.n_clients */
  pthread_t rest_thread;
  bool rest_started;
  atomic_bool stop;
  atomic_uint_fast64_t n_acks;
};

crash_load_config crash_load_config_default(void) {
  crash_load_config c;
  memset(&c, 0, sizeof c);
  c.n_clients = 4;
  c.rest = true;
  c.max_pending = 16;
  c.seed = 1;
  c.connect_ms = 5000;
  return c;
}

static void on_ack(void *ud, cli_client *c, uint32_t local_id, uint64_t seq, uint64_t t_ns) {
  (void) c;
  worker *w = ud;
  pthread_mutex_lock(&w->mu);
  for (int i = 0; i < SLOTS; i++) {
    slot *s = &w->slots[i];
    if (s->local_id != local_id) continue;
    crash_ack a = {seq, w->client_id, false, s->len, NULL, t_ns - s->t0};
    if (crash_ledger_add(w->load->ledger, &a, s->txn)) atomic_fetch_add(&w->load->n_acks, 1);
    s->local_id = 0;
    w->n_used--;
    break;
  }
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void on_reject(void *ud, cli_client *c, uint32_t local_id, int code, const char *reason,
                      uint64_t t_ns) {
  (void) c, (void) code, (void) reason, (void) t_ns;
  worker *w = ud;
  pthread_mutex_lock(&w->mu);
  for (int i = 0; i < SLOTS && local_id; i++) {
    slot *s = &w->slots[i];
    if (s->local_id != local_id) continue;
    s->local_id = 0;
    w->n_used--;
    break;
  }
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_mutex_lock(&w->load->ledger->lock);
  w->load->ledger->n_rejects++;
  pthread_mutex_unlock(&w->load->ledger->lock);
}

static double frand(unsigned *seed, double lo, double hi) {
  return lo + (hi - lo) * (rand_r(seed) % 10001) / 10000.0;
}

/* One random transaction that is valid against the view V. */
static void build(worker *w, const mdl_project *v, cli_txn *t) {
  unsigned *seed = &w->seed;
  int r = rand_r(seed) % 100;
  char name[40];
  cli_txn_init(t);
  mdl_id tracks[64];
  uint32_t n_tracks = mdl_tracks(v, tracks, 64);
  if (n_tracks > 64) n_tracks = 64;
  if (n_tracks == 0 || (n_tracks < CRASH_TRACKS_TARGET && r < 50)) {
    mdl_id id = cli_client_new_id(w->c);
    snprintf(name, sizeof name, "C%u-%u", w->client_id, (unsigned) (id & 0xffffffu));
    cli_txn_create_track(t, id, name);
    if (r % 2) cli_txn_set_real(t, id, MDL_PROP_GAIN, frand(seed, 0, 4));
    return;
  }
  mdl_id id = tracks[rand_r(seed) % n_tracks];
  r = rand_r(seed) % 100;
  if (r < 35) {
    cli_txn_set_real(t, id, MDL_PROP_GAIN, frand(seed, 0, 4));
  } else if (r < 55) {
    cli_txn_set_real(t, id, MDL_PROP_PAN, frand(seed, -1, 1));
  } else if (r < 63) {
    snprintf(name, sizeof name, "N%u-%d", w->client_id, rand_r(seed) % 10000);
    cli_txn_set_str(t, id, MDL_PROP_NAME, name);
  } else if (r < 72) {
    cli_txn_set_bool(t, id, MDL_PROP_MUTE, rand_r(seed) % 2);
  } else if (r < 80) {
    cli_txn_set_int(t, id, MDL_PROP_COLOUR, rand_r(seed) % 0x1000000);
  } else if (r < 88) {
    mdl_id after = tracks[rand_r(seed) % n_tracks];
    cli_txn_move(t, id, after == id ? MDL_ID_NONE : after);
  } else if (r < 91 && n_tracks > 4) {
    cli_txn_delete(t, id);
  } else {
    cli_txn_set_real(t, id, MDL_PROP_GAIN, frand(seed, 0, 4));
    cli_txn_set_real(t, id, MDL_PROP_PAN, frand(seed, -1, 1));
    cli_txn_set_bool(t, id, MDL_PROP_SOLO, rand_r(seed) % 2);
    cli_txn_set_int(t, id, MDL_PROP_COLOUR, rand_r(seed) % 0x1000000);
  }
}

static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, long ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += ms * 1000000L;
  if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_cond_timedwait(cv, mu, &until);
}

static void *ws_main(void *arg) {
  worker *w = arg;
  crash_load *l = w->load;
  int max_pending = l->cfg.max_pending < 1 ? 1 : l->cfg.max_pending;
  if (max_pending > SLOTS) max_pending = SLOTS;
  cli_txn *t = malloc(sizeof *t);
  if (!t) return NULL;
  while (!atomic_load(&l->stop)) {
    pthread_mutex_lock(&w->mu);
    while (w->n_used >= max_pending && !atomic_load(&l->stop))
      timed_wait(&w->cv, &w->mu, 20);
    pthread_mutex_unlock(&w->mu);
    if (atomic_load(&l->stop)) break;
    cli_stats st = cli_client_stats(w->c);
    if (st.closed) break;                         /* the server went away */
    if (cli_client_view(w->c, w->view)) continue; /* out of memory: try again */
    build(w, w->view, t);
    const mdl_txn *txn = cli_txn_get(t);
    pthread_mutex_lock(&w->mu);
    slot *s = NULL;
    for (int i = 0; i < SLOTS && !s; i++)
      if (!w->slots[i].local_id) s = &w->slots[i];
    int n = txn && s ? proto_encode_txn(txn, s->txn, SLOT_BYTES) : -1;
    uint32_t local_id = 0;
    uint64_t t0 = cli_now_ns();
    int rc = n > 0 ? cli_client_submit(w->c, txn, &local_id, NULL) : -1;
    if (rc == 0) {
      s->local_id = local_id, s->len = (uint32_t) n, s->t0 = t0;
      w->n_used++;
    }
    pthread_mutex_unlock(&w->mu);
    if (rc) {
      pthread_mutex_lock(&l->ledger->lock);
      l->ledger->n_local_refused++;
      pthread_mutex_unlock(&l->ledger->lock);
      if (rc == CLI_ERR_CLOSED) break;
      struct timespec ts = {0, 1000000L}; /* a rebase made the view stale, or too much pending */
      nanosleep(&ts, NULL);
    }
  }
  free(t);
  return NULL;
}

static void *rest_main(void *arg) {
  crash_load *l = arg;
  unsigned seed = l->cfg.seed * 7919u + 17u;
  char json[256];
  while (!atomic_load(&l->stop)) {
    if (rand_r(&seed) % 8 == 0)
      snprintf(json, sizeof json,
               "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"name\",\"value\":\"Crash "
               "%d\"}]}",
               rand_r(&seed) % 100000);
    else
      snprintf(json, sizeof json,
               "{\"ops\":[{\"op\":\"set\",\"id\":\"project\",\"prop\":\"tempo\",\"value\":%d},"
               "{\"op\":\"set\",\"id\":\"project\",\"prop\":\"metronome\",\"value\":%s}]}",
               60 + rand_r(&seed) % 120, rand_r(&seed) % 2 ? "true" : "false");
    int status = 0;
    uint64_t seq = 0, t0 = cli_now_ns();
    int rc = cli_rest_ops(l->cfg.port, l->cfg.project, json, &status, &seq, NULL);
    if (rc == 0 && status == 200) {
      crash_ack a = {seq, 0, true, (uint32_t) strlen(json), NULL, cli_now_ns() - t0};
      if (crash_ledger_add(l->ledger, &a, json)) atomic_fetch_add(&l->n_acks, 1);
      continue;
    }
    pthread_mutex_lock(&l->ledger->lock);
    if (rc)
      l->ledger->n_rest_errors++;
    else
      l->ledger->n_rejects++;
    pthread_mutex_unlock(&l->ledger->lock);
    if (rc) {
      struct timespec ts = {0, 5000000L}; /* the server is gone: do not spin */
      nanosleep(&ts, NULL);
    }
  }
  return NULL;
}

/* ---- Lifecycle ------------------------------------------------------------------------------ */

int crash_load_start(const crash_load_config *cfg, crash_ledger *ledger, crash_load **out,
                     char *err, size_t err_len) {
  *out = NULL;
  if (!cfg || !ledger || cfg->n_clients < 0 || cfg->n_clients > CRASH_MAX_CLIENTS) {
    snprintf(err, err_len, "invalid load configuration");
    return CLI_ERR_INVALID;
  }
  crash_load *l = calloc(1, sizeof *l);
  worker *ws = calloc(cfg->n_clients ? (size_t) cfg->n_clients : 1, sizeof *ws);
  if (!l || !ws) {
    free(l), free(ws);
    snprintf(err, err_len, "out of memory");
    return CLI_ERR_NOMEM;
  }
  l->cfg = *cfg;
  l->ledger = ledger;
  l->workers = ws;
  int rc = 0;
  for (int i = 0; i < cfg->n_clients; i++) {
    worker *w = &ws[i];
    w->load = l;
    w->seed = cfg->seed * 1000003u + (unsigned) i;
    w->view = mdl_project_create(&cli_heap, NULL);
    if (!w->view) rc = CLI_ERR_NOMEM, snprintf(err, err_len, "out of memory");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
  }
  for (int i = 0; i < cfg->n_clients && !rc; i++) {
    worker *w = &ws[i];
    char user[32];
    snprintf(user, sizeof user, "crash-%d", i);
    cli_config cc = cli_config_default();
    cc.port = cfg->port;
    cc.project = cfg->project;
    cc.user = user;
    cc.timeout_ms = cfg->connect_ms > 0 ? cfg->connect_ms : 5000;
    cc.events.ud = w;
    cc.events.on_ack = on_ack;
    cc.events.on_reject = on_reject;
    rc = cli_client_connect_cfg(&cc, &w->c, err, err_len);
    if (!rc) w->client_id = cli_client_stats(w->c).client_id;
  }
  for (int i = 0; i < cfg->n_clients && !rc; i++) {
    if (pthread_create(&ws[i].thread, NULL, ws_main, &ws[i]) == 0)
      ws[i].started = true;
    else
      rc = CLI_ERR_NOMEM, snprintf(err, err_len, "cannot start a load thread");
  }
  if (!rc && cfg->rest) {
    if (pthread_create(&l->rest_thread, NULL, rest_main, l) == 0)
      l->rest_started = true;
    else
      rc = CLI_ERR_NOMEM, snprintf(err, err_len, "cannot start the REST thread");
  }
  if (rc) {
    crash_load_stop(l, 0, NULL);
    return rc;
  }
  *out = l;
  return 0;
}

uint64_t crash_load_acks(crash_load *l) {
  return l ? atomic_load(&l->n_acks) : 0;
}

void crash_load_stop(crash_load *l, int wait_ms, crash_client_end *ends) {
  if (!l) return;
  atomic_store(&l->stop, true);
  for (int i = 0; i < l->cfg.n_clients; i++) {
    worker *w = &l->workers[i];
    pthread_mutex_lock(&w->mu);
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->started) pthread_join(w->thread, NULL);
  }
  if (l->rest_started) pthread_join(l->rest_thread, NULL);
  for (int i = 0; i < l->cfg.n_clients; i++) {
    worker *w = &l->workers[i];
    if (!w->c) continue;
    /* Idle: every submit answered. Closed: the server died; whatever it sent
     * before has been read and ledgered. */
    if (wait_ms > 0) cli_client_wait_idle(w->c, wait_ms);
    if (ends) {
      cli_stats st = cli_client_stats(w->c);
      ends[i].client_id = w->client_id;
      ends[i].hash = cli_client_hash(w->c, &ends[i].seq);
      ends[i].out_of_step = st.out_of_step != 0;
    }
  }
  for (int i = 0; i < l->cfg.n_clients; i++) {
    worker *w = &l->workers[i];
    cli_client_close(w->c);
    mdl_project_destroy(w->view);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
  }
  free(l->workers);
  free(l);
}
