/* mdl_time: the tempo and meter map (see mdl_time.h). */
#include "shared/mdl_time.h"

#include <math.h>

/* Seconds for DT ticks from the start of segment I. */
static double seg_seconds(const mdl_time_map *m, uint32_t i, double dt) {
  double b0 = m->bpm[i];
  if (i + 1 >= m->n || m->end_bpm[i] == b0) return dt * 60.0 / (b0 * MDL_PPQ);
  /* A linear glide in BPM over the segment's L ticks: b(t) = b0 + k t,
   * seconds = 60/PPQ * ln(b(dt)/b0) / k. */
  double len = (double) (m->at[i + 1] - m->at[i]);
  double k = (m->end_bpm[i] - b0) / len;
  return 60.0 / MDL_PPQ * log((b0 + k * dt) / b0) / k;
}

static uint32_t seg_of(const mdl_time_map *m, int64_t tick) {
  uint32_t lo = 0, hi = m->n;
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    if (m->at[mid] <= tick)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

static void sort_changes(int64_t *at, double *bpm, bool *ramp, uint32_t n) {
  for (uint32_t i = 1; i < n; i++)
    for (uint32_t k = i; k > 0 && at[k - 1] > at[k]; k--) {
      int64_t ta = at[k];
      double tb = bpm[k];
      bool tr = ramp[k];
      at[k] = at[k - 1], bpm[k] = bpm[k - 1], ramp[k] = ramp[k - 1];
      at[k - 1] = ta, bpm[k - 1] = tb, ramp[k - 1] = tr;
    }
}

void mdl_time_map_build(const mdl_project *p, mdl_time_map *m) {
  mdl_id ids[MDL_TEMPO_MAX];
  bool ramp[MDL_TEMPO_MAX];
  m->n = 1;
  m->at[0] = 0;
  m->bpm[0] = mdl_get_real(p, MDL_ID_PROJECT, MDL_PROP_TEMPO);
  ramp[0] = false;
  uint32_t n = mdl_children(p, MDL_ID_PROJECT, MDL_TYPE_TEMPO, NULL, 0);
  if (n < MDL_TEMPO_MAX) mdl_children(p, MDL_ID_PROJECT, MDL_TYPE_TEMPO, ids, MDL_TEMPO_MAX);
  for (uint32_t i = 0; i < n && i + 1 < MDL_TEMPO_MAX; i++) {
    m->at[m->n] = mdl_get_int(p, ids[i], MDL_PROP_START);
    m->bpm[m->n] = mdl_get_real(p, ids[i], MDL_PROP_TEMPO);
    ramp[m->n] = mdl_get_bool(p, ids[i], MDL_PROP_RAMP);
    m->n++;
  }
  sort_changes(m->at + 1, m->bpm + 1, ramp + 1, m->n - 1);
  /* The project's own tempo holds from tick 0, ramping if the first change says so. */
  for (uint32_t i = 0; i < m->n; i++)
    m->end_bpm[i] = i + 1 < m->n && ramp[i] ? m->bpm[i + 1] : m->bpm[i];
  m->sec[0] = 0;
  for (uint32_t i = 1; i < m->n; i++)
    m->sec[i] = m->sec[i - 1] + seg_seconds(m, i - 1, (double) (m->at[i] - m->at[i - 1]));

  /* Meters: by bar; each segment's first tick follows from the ones before. */
  m->n_meters = 1;
  m->bar[0] = 0, m->bar_tick[0] = 0;
  m->num[0] = (uint8_t) mdl_get_int(p, MDL_ID_PROJECT, MDL_PROP_TS_NUM);
  m->den[0] = (uint8_t) mdl_get_int(p, MDL_ID_PROJECT, MDL_PROP_TS_DEN);
  n = mdl_children(p, MDL_ID_PROJECT, MDL_TYPE_METER, NULL, 0);
  if (n < MDL_METER_MAX) mdl_children(p, MDL_ID_PROJECT, MDL_TYPE_METER, ids, MDL_METER_MAX);
  for (uint32_t i = 0; i < n && i + 1 < MDL_METER_MAX; i++) {
    int64_t bar = mdl_get_int(p, ids[i], MDL_PROP_BAR);
    uint32_t k = m->n_meters - 1;
    if (bar <= m->bar[k]) continue; /* two changes on one bar: the first (by id) wins */
    int64_t bar_ticks = (int64_t) m->num[k] * 4 * MDL_PPQ / m->den[k];
    m->bar[k + 1] = bar;
    m->bar_tick[k + 1] = m->bar_tick[k] + (bar - m->bar[k]) * bar_ticks;
    m->num[k + 1] = (uint8_t) mdl_get_int(p, ids[i], MDL_PROP_TS_NUM);
    m->den[k + 1] = (uint8_t) mdl_get_int(p, ids[i], MDL_PROP_TS_DEN);
    m->n_meters++;
  }
}

double mdl_time_seconds(const mdl_time_map *m, int64_t tick) {
  uint32_t i = seg_of(m, tick);
  return m->sec[i] + seg_seconds(m, i, (double) (tick - m->at[i]));
}

int64_t mdl_time_tick(const mdl_time_map *m, double seconds) {
  uint32_t i = 0;
  while (i + 1 < m->n && m->sec[i + 1] <= seconds)
    i++;
  double s = seconds - m->sec[i], b0 = m->bpm[i];
  if (i + 1 >= m->n || m->end_bpm[i] == b0) return m->at[i] + (int64_t) (s * b0 * MDL_PPQ / 60.0);
  double k = (m->end_bpm[i] - b0) / (double) (m->at[i + 1] - m->at[i]);
  return m->at[i] + (int64_t) ((b0 * exp(s * k * MDL_PPQ / 60.0) - b0) / k);
}

double mdl_time_bpm(const mdl_time_map *m, int64_t tick) {
  uint32_t i = seg_of(m, tick);
  if (i + 1 >= m->n) return m->bpm[i];
  double f = (double) (tick - m->at[i]) / (double) (m->at[i + 1] - m->at[i]);
  return m->bpm[i] + (m->end_bpm[i] - m->bpm[i]) * f;
}

static uint32_t meter_of_tick(const mdl_time_map *m, int64_t tick) {
  uint32_t k = 0;
  while (k + 1 < m->n_meters && m->bar_tick[k + 1] <= tick)
    k++;
  return k;
}

void mdl_time_bbt(const mdl_time_map *m, int64_t tick, int64_t *bar, int *beat, int *ticks) {
  uint32_t k = meter_of_tick(m, tick);
  int64_t beat_ticks = 4 * MDL_PPQ / m->den[k], bar_ticks = beat_ticks * m->num[k];
  int64_t in = tick - m->bar_tick[k];
  *bar = m->bar[k] + in / bar_ticks;
  *beat = (int) (in % bar_ticks / beat_ticks);
  *ticks = (int) (in % beat_ticks);
}

int64_t mdl_time_bar_tick(const mdl_time_map *m, int64_t bar) {
  uint32_t k = 0;
  while (k + 1 < m->n_meters && m->bar[k + 1] <= bar)
    k++;
  return m->bar_tick[k] + (bar - m->bar[k]) * ((int64_t) m->num[k] * 4 * MDL_PPQ / m->den[k]);
}
