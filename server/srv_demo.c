/* srv_demo: the song a new studio starts with (see srv_demo.h).
 *
 * Eight bars in A minor at 112 BPM: drums (a one-bar pattern in a looping
 * clip, with a 16th swing groove and a compressor), a synth bass (EQ; its
 * filter opens over the eight bars by automation), a pad playing the chords
 * (chorus), and a reverb return the drums and the pad send to. Patterns are written as text, one
 * character per 16th. */
#include "server/srv_demo.h"
#include "shared/mdl_device.h"
#include "shared/mdl_err.h"

#include <string.h>

#define STEP    (MDL_PPQ / 4) /* a 16th note */
#define BAR     (16 * STEP)
#define BARS    8
#define MAX_OPS 256

typedef struct builder {
  mdl_op ops[MAX_OPS];
  mdl_prop_value props[MAX_OPS * 4];
  uint32_t n, n_props, counter, origin;
} builder;

static mdl_id make(builder *b, int type, mdl_id parent) {
  mdl_id id = MDL_ID_MAKE(b->origin, b->counter++);
  b->ops[b->n++] = (mdl_op){.kind = MDL_OP_CREATE,
                            .type = (uint8_t) type,
                            .id = id,
                            .parent = parent,
                            .props = &b->props[b->n_props]};
  return id;
}

static void prop(builder *b, int p, mdl_value v) {
  b->props[b->n_props++] = (mdl_prop_value){(uint8_t) p, v};
  b->ops[b->n - 1].n_props++;
}

static mdl_value num(double x) {
  return (mdl_value){.kind = MDL_VAL_REAL, .u.r = x};
}
static mdl_value integer(int64_t x) {
  return (mdl_value){.kind = MDL_VAL_INT, .u.i = x};
}
static mdl_value text(const char *s) {
  return (mdl_value){.kind = MDL_VAL_STR, .u.s = {s, (uint32_t) strlen(s)}};
}

static mdl_id track(builder *b, const char *name, int kind, uint32_t colour, double gain) {
  mdl_id t = make(b, MDL_TYPE_TRACK, MDL_ID_PROJECT);
  prop(b, MDL_PROP_NAME, text(name));
  prop(b, MDL_PROP_KIND, integer(kind));
  prop(b, MDL_PROP_COLOUR, integer(colour));
  prop(b, MDL_PROP_GAIN, num(gain));
  return t;
}

/* A device with up to three parameters set (index, value pairs; -1 ends). */
static mdl_id device(builder *b, mdl_id on, int kind, int p0, double v0, int p1, double v1, int p2,
                     double v2) {
  mdl_id d = make(b, MDL_TYPE_DEVICE, on);
  prop(b, MDL_PROP_KIND, integer(kind));
  if (p0 >= 0) prop(b, MDL_PROP_PARAM0 + p0, num(v0));
  if (p1 >= 0) prop(b, MDL_PROP_PARAM0 + p1, num(v1));
  if (p2 >= 0) prop(b, MDL_PROP_PARAM0 + p2, num(v2));
  return d;
}

/* A clip of LENGTH ticks; LOOP > 0 makes its first LOOP ticks repeat. */
static mdl_id clip(builder *b, mdl_id on, const char *name, int64_t length, int64_t loop) {
  mdl_id c = make(b, MDL_TYPE_CLIP, on);
  prop(b, MDL_PROP_NAME, text(name));
  prop(b, MDL_PROP_LENGTH, integer(length));
  prop(b, MDL_PROP_LOOP_END, integer(loop ? loop : length));
  if (loop) prop(b, MDL_PROP_LOOP, (mdl_value){.kind = MDL_VAL_BOOL, .u.b = true});
  return c;
}

static void note(builder *b, mdl_id c, int pitch, int64_t start, int64_t length, int velocity) {
  make(b, MDL_TYPE_NOTE, c);
  prop(b, MDL_PROP_PITCH, integer(pitch));
  prop(b, MDL_PROP_START, integer(start));
  prop(b, MDL_PROP_LENGTH, integer(length));
  prop(b, MDL_PROP_VELOCITY, integer(velocity));
}

/* One drum voice over a bar: 'X' accent, 'x' normal, '.' rest. */
static void pattern(builder *b, mdl_id c, int key, const char *steps) {
  for (int i = 0; steps[i]; i++)
    if (steps[i] != '.') note(b, c, key, i * STEP, STEP, steps[i] == 'X' ? 120 : 85);
}

static int commit(builder *b, srv_demo_apply_fn apply, void *ud, char *err, size_t err_len) {
  mdl_txn txn = {b->n, b->ops};
  int rc = b->n ? apply(ud, &txn, err, err_len) : 0;
  b->n = 0, b->n_props = 0;
  return rc;
}

int srv_demo_build(uint32_t origin, srv_demo_apply_fn apply, void *ud, char *err, size_t err_len) {
  static builder b; /* large; the control thread is the only caller */
  memset(&b, 0, sizeof b);
  b.origin = origin, b.counter = 1;

  /* Tracks and their devices. */
  b.ops[b.n++] =
      (mdl_op){.kind = MDL_OP_SET, .id = MDL_ID_PROJECT, .prop = MDL_PROP_TEMPO, .value = num(112)};
  b.ops[b.n++] =
      (mdl_op){.kind = MDL_OP_SET, .id = MDL_ID_MASTER, .prop = MDL_PROP_GAIN, .value = num(0.8)};
  mdl_id drums = track(&b, "Drums", MDL_TRACK_INSTRUMENT, 0xE5484D, 0.45);
  mdl_id bass = track(&b, "Bass", MDL_TRACK_INSTRUMENT, 0x0090FF, 0.6);
  mdl_id keys = track(&b, "Keys", MDL_TRACK_INSTRUMENT, 0x46A758, 0.5);
  mdl_id verb = track(&b, "Reverb", MDL_TRACK_RETURN, 0x8E4EC6, 0.6);
  device(&b, drums, MDL_DEV_DRUMS, 0, 0.9, -1, 0, -1, 0);
  device(&b, drums, MDL_DEV_COMPRESSOR, 0, -18, 1, 3, 5, 3); /* threshold, ratio, makeup */
  /* Bass: one saw, low cutoff with a short filter envelope. */
  mdl_id bass_synth = device(&b, bass, MDL_DEV_SYNTH, 7, 380, 9, 2.5, 12, 180);
  /* The bass filter opens over the eight bars, on an S curve. */
  mdl_id sweep = make(&b, MDL_TYPE_LANE, bass_synth);
  prop(&b, MDL_PROP_PARAM, integer(7)); /* cutoff */
  make(&b, MDL_TYPE_POINT, sweep);
  prop(&b, MDL_PROP_VALUE, num(260));
  prop(&b, MDL_PROP_CURVE, integer(MDL_CURVE_S));
  make(&b, MDL_TYPE_POINT, sweep);
  prop(&b, MDL_PROP_START, integer(BARS * BAR));
  prop(&b, MDL_PROP_VALUE, num(1400));
  device(&b, bass, MDL_DEV_EQ, 1, 3, 10, -4, -1, 0); /* low shelf up, high shelf down */
  /* Keys: two detuned saws, slow attack and release: a pad. */
  device(&b, keys, MDL_DEV_SYNTH, 5, 0.6, 15, 400, 18, 900);
  device(&b, keys, MDL_DEV_CHORUS, 3, 0.6, -1, 0, -1, 0);
  device(&b, verb, MDL_DEV_REVERB, 0, 0.8, 3, 1.0, -1, 0); /* a return is all wet */
  make(&b, MDL_TYPE_SEND, drums);
  prop(&b, MDL_PROP_TARGET, integer((int64_t) verb));
  prop(&b, MDL_PROP_LEVEL, num(0.15));
  make(&b, MDL_TYPE_SEND, keys);
  prop(&b, MDL_PROP_TARGET, integer((int64_t) verb));
  prop(&b, MDL_PROP_LEVEL, num(0.5));
  mdl_id swing = make(&b, MDL_TYPE_GROOVE, MDL_ID_PROJECT);
  prop(&b, MDL_PROP_NAME, text("Swing 16ths"));
  prop(&b, MDL_PROP_STEPS, integer(2));
  prop(&b, MDL_PROP_SHIFT0 + 1, num(0.16)); /* every second 16th a little late */
  make(&b, MDL_TYPE_MARKER, MDL_ID_PROJECT);
  prop(&b, MDL_PROP_NAME, text("Verse"));
  int rc = commit(&b, apply, ud, err, err_len);
  if (rc) return rc;

  /* Drums: one bar, looping for eight. */
  mdl_id beat = clip(&b, drums, "Beat", BARS * BAR, BAR);
  prop(&b, MDL_PROP_GROOVE, integer((int64_t) swing));
  pattern(&b, beat, 36, "X.....x...X.....");
  pattern(&b, beat, 38, "....X.......X...");
  pattern(&b, beat, 42, "x.x.x.x.x.x.x.x.");
  pattern(&b, beat, 46, "..............x.");
  rc = commit(&b, apply, ud, err, err_len);
  if (rc) return rc;

  /* Am F C G, two bars each: the bass plays roots in eighths, the pad the triads. */
  static const int roots[4] = {45, 41, 48, 43};
  static const int triads[4][3] = {{57, 60, 64}, {53, 57, 60}, {55, 60, 64}, {55, 59, 62}};
  mdl_id line = clip(&b, bass, "Bass line", BARS * BAR, 0);
  mdl_id chords = clip(&b, keys, "Chords", BARS * BAR, 0);
  for (int c = 0; c < 4; c++) {
    int64_t at = c * 2 * BAR;
    for (int e = 0; e < 16; e++)
      note(&b, line, roots[c] - (e % 4 == 3 ? 0 : 12) + (e == 14 ? 12 : 0), at + e * 2 * STEP,
           2 * STEP - STEP / 4, e % 4 == 0 ? 115 : 90);
    for (int k = 0; k < 3; k++)
      note(&b, chords, triads[c][k], at, 2 * BAR - STEP, 80);
  }
  return commit(&b, apply, ud, err, err_len);
}
