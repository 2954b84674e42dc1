/* eng_plan.h: the engine's input. A plain description compiled into an
 * immutable plan.
 *
 * The engine never sees the project model. The server's control thread
 * fills an eng_plan_desc from its model, compiles it with eng_plan_create and
 * hands the plan to the engine with eng_engine_set_plan (eng_engine.h). Once
 * compiled a plan is never modified, so the RT thread reads it without locks.
 *
 * Graph: eng_plan_create compiles the description into a topologically
 * sorted flat array of nodes (STYLE.md §6 "compile, don't traverse"):
 * per track a source (the track's instrument, or the test-tone voice), its
 * effects in order (processed in place on the track's buffer), a fader
 * (gain, pan, mute/solo, track meter); then the metronome click and the
 * master bus. A compressor or gate with a sidechain depends on the key
 * track's fader, so the sort puts that track first. A bus track's source is
 * a bus node that sums the tracks routed to it (post-fader) and the sends to
 * it (pre- or post-fader, times the send level); it depends on those tracks'
 * faders. Master sums only the tracks whose output is master. A cycle of
 * routing, sends and sidechains is refused with a message naming it. Each
 * node carries a deterministic flag (false for live instrument tracks and
 * anything downstream of them) and its dependencies, for the cohort
 * scheduler; its process step renders a time range (start frame, n frames).
 *
 * Test-tone tracks (no instrument): each track is ONE test-tone voice. Its pitch comes
 * from the track's index in the plan (major pentatonic upward from A3, 220 Hz,
 * wrapping after three octaves); a soft pluck is retriggered on every beat while
 * the transport plays. Signal path per track: voice -> gain -> pan -> mute/solo
 * -> master bus; the metronome click is added to the master bus; then master
 * gain. Pan law: constant power, L = cos(theta), R = sin(theta) with
 * theta = (pan + 1) * pi / 4, so each side is -3 dB at centre and the far side
 * is exactly 0 at hard left/right.
 *
 * Mute and solo: mute always wins (on a bus it silences the bus's output).
 * If any track is soloed, a track sounds if it is soloed, or if its output
 * is routed (directly or through buses) into a soloed bus, or if it is a bus
 * fed (by routing or a send, directly or through buses) by a track that
 * sounds for one of those reasons: soloing a track keeps its buses and
 * returns audible (solo-safe buses), soloing a bus keeps what is routed into
 * it audible. Pre-fader sends follow their track's mute/solo too.
 *
 * Latency: compensated across paths. Each node declares its latency (only
 * the limiter has one: its 1 ms look-ahead, 48 frames at 48 kHz; 0 when
 * bypassed). A track's latency is the sum over its devices, plus for a bus
 * the latest arrival among its inputs. Every input of a summing point (a
 * bus, or master) is delayed by what it lacks to that latest arrival, so an
 * impulse through a limiter and one around it reach master on the same
 * frame. Delays are read from each fader's history of its output (and of
 * its pre-fader copy), kept across plan swaps. The click is delayed by
 * master's latency too (eng_plan_info.latency_frames). A delay is at most
 * ENG_MAX_LATENCY frames (longer ones are cut, and `why` says so). A
 * sidechain key is taken undelayed, and the whole mix reaches the output
 * latency_frames late: there is no pre-roll of sources yet.
 *
 * Recorded audio: sampler zones (eng_zone_desc, eng_node.h) and audio clips
 * (eng_clip_desc, below) name float PCM that the plan BORROWS until it is
 * freed; eng_plan_desc.on_free says when. A zone or clip without data is
 * silent, and eng_plan_compile's `why` says so on success. An audio track's
 * source is a clip player instead of an instrument.
 *
 * Threads: create/destroy on the control thread (they allocate/free). */
#ifndef ENG_PLAN_H
#define ENG_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/eng_node.h"

#define ENG_MAX_TRACKS        128                  /* tracks per plan; more is ENG_ERR_INVALID */
#define ENG_MAX_METERS        (ENG_MAX_TRACKS + 1) /* one meter per track plus master */
#define ENG_MAX_GAIN          4.0f                 /* largest linear gain (about +12 dB) */
#define ENG_MIN_TEMPO         20.0                 /* beats per minute */
#define ENG_MAX_TEMPO         999.0                /* beats per minute */
#define ENG_MAX_BEATS_PER_BAR 32                   /* time-signature numerator */
#define ENG_MAX_SENDS         8                    /* sends per track */
#define ENG_MIN_SAMPLE_RATE   8000                 /* Hz */
#define ENG_MAX_SAMPLE_RATE   192000               /* Hz */
#define ENG_MAX_CLIPS         65536                /* audio clips per track */
#define ENG_MIN_STRETCH       0.25       /* clip time ratio (0 = none), see eng_clip_desc */
#define ENG_MAX_STRETCH       4.0        /* clip time ratio */
#define ENG_MAX_LATENCY       2048       /* frames of latency compensation per path; more is cut */
#define ENG_MAX_SLOTS         256        /* session slots per track */
#define ENG_MAX_BEATS         (1u << 22) /* beats listed in a beat grid (eng_plan_desc.beats) */

/* One beat of the tempo map (eng_plan_desc.beats): where the metronome
 * clicks and the test tone plucks. A grid lists every beat up to the tempo
 * map's last change (ramps included, each beat on its own frame), then the
 * beats go on at a constant spacing in the last beat's meter. */
typedef struct eng_beat {
  uint64_t frame;     /* first frame of the beat; beats[0].frame = 0, strictly increasing */
  uint16_t in_bar;    /* position in its bar: 0 = the bar's first beat (accented) */
  uint16_t bar_beats; /* beats in its bar (the numerator in force), 1..ENG_MAX_BEATS_PER_BAR */
} eng_beat;

/* A send from a track to a bus track (a "return" is a bus fed by sends). */
typedef struct eng_send_desc {
  uint64_t bus_track_id; /* a track of the plan with bus = true, not the sender itself */
  float level;           /* linear amplitude, 0..ENG_MAX_GAIN (0.5 = -6.02 dB) */
  bool pre_fader;        /* true: taps before the fader (ignores gain and pan, obeys
                            mute/solo); false: taps the fader's output */
} eng_send_desc;

/* An audio clip on an audio track's timeline. The clip sounds on transport
 * frames [start_frame, start_frame + length_frames), sample-accurately; its
 * first frame plays source frame offset_frames. Output = source * gain *
 * fade, where the fades are EQUAL-POWER (quarter sine): at clip frame t
 * (0 = start_frame) the fade-in gain is sin(pi/2 * t / fade_in_frames) for
 * t < fade_in_frames (0 on the first frame, 1/sqrt 2 halfway, 1 from
 * fade_in_frames on), and the fade-out gain is sin(pi/2 * u /
 * fade_out_frames) with u = length_frames - 1 - t frames left (0 on the
 * last frame). Equal power keeps the loudness of a crossfade between two
 * overlapping, unrelated clips level; both gains multiply where they
 * overlap. Past the source's end the clip is silent unless it loops.
 *
 * Rate: a source at another sample rate is played resampled (4-point
 * Hermite). stretch != 0 and != 1 warps the clip in time with Rubber Band
 * (offline engine, pitch kept, rendered when the plan is compiled: about
 * a third of a second per 10 s of stereo; with eng_plan_desc.stretch_cache
 * a plan reuses what an earlier plan stretched from the same audio at the
 * same ratio). stretch = 2 plays the
 * material at half speed; for a clip recorded at bpm_clip on a project at
 * bpm_project, stretch = bpm_clip / bpm_project. The result is a pure
 * function of the transport position: locate and offline renders are
 * deterministic. */
typedef struct eng_clip_desc {
  uint64_t start_frame;     /* transport frame of the clip's first frame */
  uint64_t length_frames;   /* >= 1: frames the clip lasts on the timeline */
  eng_sample sample;        /* source audio, borrowed until the plan is freed (eng_node.h) */
  uint64_t offset_frames;   /* source frame heard at start_frame (< sample.n_frames) */
  float gain;               /* linear, 0..ENG_MAX_GAIN */
  uint64_t fade_in_frames;  /* 0..length_frames, fade_in + fade_out <= length_frames */
  uint64_t fade_out_frames; /* 0..length_frames */
  bool loop;                /* repeat source frames [offset, offset + loop_frames) */
  uint64_t loop_frames;     /* loop: >= 1 and offset + loop_frames <= sample.n_frames */
  double stretch;           /* 0 or 1: as recorded; else ENG_MIN..ENG_MAX_STRETCH (time ratio,
                               applies to loop_frames too) */
} eng_clip_desc;

/* Automation: a curve of breakpoints that drives one parameter over time.
 *
 * Targets: a parameter of one of the track's devices (any id of its kind's
 * eng_param_info table), the track's gain or pan, or the level of one of
 * its sends (glides and follows the curve as gain does, per frame, in the
 * bus that takes the send). Points are in transport
 * frames, sorted (equal frames allowed: the later point wins from that frame
 * on, a vertical step). The value at frame f:
 *   - f at or before the first point: the first point's value; at or after
 *     the last point: the last point's value;
 *   - between point i and point i + 1, with t = (f - f_i) / (f_i+1 - f_i)
 *     in [0, 1): v_i + (v_i+1 - v_i) * s(t), where point i's curve gives s:
 *     ENG_CURVE_LINEAR s = t; ENG_CURVE_HOLD s = 0 (v_i holds, the step to
 *     v_i+1 lands exactly on frame f_i+1); ENG_CURVE_EXP
 *     s = (e^(k t) - 1) / (e^k - 1) with k = 4 + 4 * tension (a slow start and
 *     fast end; tension -1 is a straight line, 1 the steepest); ENG_CURVE_S
 *     s = t^a / (t^a + (1 - t)^a) with a = 2^(1 + tension) (symmetric: the
 *     midpoint is exactly halfway; tension -1 is a line, 1 the steepest).
 * The curve is computed in double per frame, a pure function of the position.
 *
 * How it sounds: the RT thread evaluates the curve over each chunk's time
 * range and feeds the parameter's smoother (eng_dsp_int.h). A curve that
 * moves continuously is followed exactly (its own slope is the change); a
 * jump (a hold step, a vertical step, a locate, a plan swap or
 * eng_engine_set_param moving the value off the curve) glides over the
 * parameter's smooth_ms, so no frame-to-frame change exceeds
 * |jump| / ramp frames plus the curve's slope. SAMPLE parameters (and gain
 * and pan: the fader's 20 ms glide) follow it every frame, BLOCK parameters
 * every ENG_CONTROL_FRAMES, NONE parameters (choices, counts) take the value
 * at each chunk's start (up to ENG_CHUNK = 256 frames late).
 * While playing the curve overrides the static value (eng_device_desc params,
 * eng_track_desc gain and pan) and eng_engine_set_param; when stopped the
 * value at the transport position holds (before the first point: the first
 * point's value). A fresh plan starts at the curve's value at frame 0.
 *
 * Validation (eng_plan_compile): a lane with an unknown target, device or
 * parameter, no points, points not sorted, or a value not finite or outside
 * the target's range (eng_param_info min..max; gain 0..ENG_MAX_GAIN; pan
 * -1..1), a curve other than the four, a tension not finite or outside
 * -1..1, or a second lane on the same target, is IGNORED: the plan compiles,
 * the static value applies, and `why` names the lane ("track 7 automation 2
 * (effect 1 (eq) parameter 3 (mid1_freq)): point 4 = 30000 is outside
 * 20..20000: this automation is ignored"). */
typedef enum eng_auto_target {
  ENG_AUTO_PARAM = 0, /* a device parameter: device, param_id */
  ENG_AUTO_GAIN = 1,  /* the track's gain, linear 0..ENG_MAX_GAIN */
  ENG_AUTO_PAN = 2,   /* the track's pan, -1..1 */
  ENG_AUTO_SEND = 3,  /* the level of the track's send `device` (index in sends), 0..ENG_MAX_GAIN */
} eng_auto_target;

typedef enum eng_curve {
  ENG_CURVE_LINEAR = 0, /* straight line to the next point */
  ENG_CURVE_HOLD = 1,   /* step: holds until the next point's frame */
  ENG_CURVE_EXP = 2,    /* exponential, bent by tension */
  ENG_CURVE_S = 3,      /* S-curve, steepness by tension */
} eng_curve;

#define ENG_MAX_AUTOMATIONS                                                                        \
  ((1 + ENG_MAX_EFFECTS) * ENG_MAX_PARAMS + 2 + ENG_MAX_SENDS) /* lanes per track: 298 */
#define ENG_MAX_AUTO_POINTS 1000000                            /* points per lane */

typedef struct eng_auto_point {
  uint64_t frame; /* transport frame */
  float value;    /* in the target's range */
  uint32_t curve; /* eng_curve: shape from this point to the next */
  float tension;  /* -1..1: bends ENG_CURVE_EXP and ENG_CURVE_S, ignored otherwise */
} eng_auto_point;

typedef struct eng_automation {
  uint32_t target;              /* eng_auto_target */
  uint32_t device;              /* ENG_AUTO_PARAM: 0 = the track's instrument (source), 1 + i =
                                   effect i; ENG_AUTO_SEND: index in the track's sends */
  uint32_t param_id;            /* ENG_AUTO_PARAM: eng_param_info.id of that device's kind */
  uint32_t n_points;            /* >= 1 */
  const eng_auto_point *points; /* n_points, sorted by frame; copied during create */
} eng_automation;

/* A session clip: the clip in slot `slot` of a track (the session view's
 * grid; the server numbers slots by the scene's position). It does not play
 * on the timeline: eng_engine_launch (eng_engine.h) starts it at a
 * quantized boundary, and it then loops every length_frames until it is
 * stopped or another slot of the track is launched. A MIDI clip's notes are
 * in frames from the clip's start; a note starting at or after
 * length_frames is ignored, and one that would sound past it is cut there
 * (its note-off lands on the loop boundary, before the next pass's
 * note-ons). An audio clip (on an audio track) is eng_clip_desc's with
 * start_frame counted from the clip's start: each pass plays
 * [start_frame, start_frame + length_frames) of it with its offset, gain,
 * fades, loop and stretch, cut at length_frames; a switch to another slot
 * cuts it on the switch frame. */
/* What a session clip does after its follow time (eng_slot_desc.follow);
 * same numbers as the model's mdl_follow. Next and previous wrap around,
 * slots in slot-number order; any picks one of the track's slots (itself
 * included), other one of the others. Random picks are a hash of the
 * track and the switch frame: renders repeat. */
typedef enum eng_follow {
  ENG_FOLLOW_NONE = 0,
  ENG_FOLLOW_STOP,  /* the track stops */
  ENG_FOLLOW_AGAIN, /* the clip starts over */
  ENG_FOLLOW_NEXT,
  ENG_FOLLOW_PREV,
  ENG_FOLLOW_FIRST,
  ENG_FOLLOW_LAST,
  ENG_FOLLOW_ANY,
  ENG_FOLLOW_OTHER
} eng_follow;

typedef struct eng_slot_desc {
  uint32_t slot;              /* slot number, unique on the track */
  uint64_t length_frames;     /* >= 1: loop length */
  uint32_t n_notes;           /* 0..ENG_MAX_NOTES; needs the track's instrument */
  const eng_note_desc *notes; /* n_notes, relative frames, any order; borrowed during create */
  uint32_t n_clips;           /* 0..ENG_MAX_CLIPS; needs an audio track */
  const eng_clip_desc *clips; /* n_clips, relative frames; the array is read during create, the
                                 sample data borrowed (eng_sample) */
  uint32_t follow;            /* eng_follow: after follow_frames of play (from its launch) the
                                 track switches on that exact frame, unquantized; a launch
                                 queued meanwhile replaces it */
  uint64_t follow_frames;     /* follow != NONE: >= 1 (exact from ENG_CHUNK = 256 frames on) */
} eng_slot_desc;

typedef struct eng_track_desc {
  uint64_t track_id; /* opaque non-zero id, unique in the plan; echoed in meters */
  float gain;        /* linear amplitude, 0..ENG_MAX_GAIN */
  float pan;         /* -1 (left) .. +1 (right); constant power, -3 dB at centre (a bus:
                        balance, unity at centre, the far side fades linearly to 0) */
  bool mute;         /* silences the track (its meter reads 0) */
  bool solo;         /* if any track is soloed, only soloed tracks and their buses sound
                        (see "Mute and solo" above; mute still wins) */
  /* Devices (all optional; zero = the walking skeleton's test-tone track). */
  const eng_device_desc *instrument; /* NULL: the test-tone voice; else an instrument kind */
  uint32_t n_effects;                /* 0..ENG_MAX_EFFECTS */
  const eng_device_desc *effects;    /* n_effects, in signal order after the source */
  uint32_t n_notes;                  /* 0..ENG_MAX_NOTES; needs an instrument */
  const eng_note_desc *notes;        /* n_notes, any order; borrowed during create */
  bool live;                         /* accepts eng_engine_note (live cohort: not deterministic) */
  /* Audio (optional): an audio track's source is a clip player instead of an instrument. */
  bool audio;                 /* an audio track (also implied by n_clips > 0): no instrument,
                                 notes, live or bus; silent where no clip plays */
  uint32_t n_clips;           /* 0..ENG_MAX_CLIPS */
  const eng_clip_desc *clips; /* n_clips, any order, may overlap (they add); the array is read
                                 during create, the sample data borrowed (eng_sample) */
  /* Routing (all optional; zero = a plain track into master). */
  bool bus;                   /* a bus: no instrument, no notes; its source is the sum of the
                                 tracks routed to it and of the sends to it */
  uint64_t output_track_id;   /* 0: master; else a bus track's id (not master any more) */
  uint32_t n_sends;           /* 0..ENG_MAX_SENDS */
  const eng_send_desc *sends; /* n_sends, each to a different bus; borrowed during create */
  /* Automation (optional, see eng_automation above). */
  uint32_t n_automations;            /* 0..ENG_MAX_AUTOMATIONS */
  const eng_automation *automations; /* n_automations; copied during create */
  /* Session clips (optional, see eng_slot_desc above). */
  uint32_t n_slots;           /* 0..ENG_MAX_SLOTS */
  const eng_slot_desc *slots; /* n_slots; copied during create */
} eng_track_desc;

typedef struct eng_plan_desc {
  uint32_t sample_rate;   /* Hz, must equal the engine's (usually 48000) */
  double tempo_bpm;       /* ENG_MIN_TEMPO..ENG_MAX_TEMPO (tempo-synced effects) */
  uint32_t beats_per_bar; /* 1..ENG_MAX_BEATS_PER_BAR; beat 1 of each bar is accented */
  /* Beat grid (optional). n_beats 0: beat k starts at frame ceil(k * 60 / tempo_bpm *
   * sample_rate), bars of beats_per_bar. Else beat k < n_beats starts at beats[k].frame, and
   * beat n_beats - 1 + j (j >= 0) at llround(tail_frame + j * tail_beat_frames), its place in
   * the bar counted on from the last listed beat's. The server lists the beats of the tempo
   * map (mdl_time) up to its last tempo or meter change, so the click lands on the frames
   * mdl_time gives, ramps and meter changes included. */
  uint32_t n_beats;        /* 0..ENG_MAX_BEATS */
  const eng_beat *beats;   /* n_beats; copied during create */
  double tail_frame;       /* n_beats > 0: exact frame of the last listed beat (rounds to it) */
  double tail_beat_frames; /* n_beats > 0: frames per beat after it, >= 1 */
  float master_gain;       /* linear, 0..ENG_MAX_GAIN */
  bool metronome;          /* click on every beat of the grid, accented on each bar's first */
  uint32_t n_tracks;       /* 0..ENG_MAX_TRACKS */
  const eng_track_desc *tracks; /* n_tracks items; borrowed during eng_plan_create only */
  /* Loop region (optional): while the transport plays with loop set and its
   * position before loop_end_frame, reaching loop_end_frame sends it back to
   * loop_start_frame on the same output frame, mid-block if need be. What
   * starts at loop_start (notes, clips, automation) plays again; plan notes
   * still sounding at loop_end get their note-off on the wrap frame (before
   * the notes at loop_start). A transport at or past loop_end plays on. */
  bool loop;                 /* loop region on */
  uint64_t loop_start_frame; /* loop: < loop_end_frame */
  uint64_t loop_end_frame;   /* loop: frame after the region's last */
  /* Sample data (sampler zones, clips) stays borrowed until the plan is freed. on_free(ud),
   * if not NULL, is called exactly once per eng_plan_create/compile call: when the plan is
   * freed (eng_plan_destroy, or by the engine: eng_engine_collect, eng_engine_set_plan,
   * eng_engine_destroy; eng_render frees its own), or before create returns an error. Always
   * on the control thread, never on the RT thread. The server drops its references to the
   * sample buffers there. */
  void (*on_free)(void *ud);
  void *on_free_ud;
  /* Optional (NULL: every stretched clip is stretched anew, owned by its plan): stretched
   * clips shared across plans. The plan holds its entries until it is freed. */
  struct eng_stretch_cache *stretch_cache;
} eng_plan_desc;

/* A cache of stretched clips, for a control thread that compiles plan after
 * plan from the same audio (each edit of a project recompiles it). An entry is
 * keyed by the source frames' content (a 64-bit hash of the exact floats, not
 * their address, so a buffer freed and reloaded elsewhere still matches and a
 * new buffer at an old address does not), channel count, rate and ratio.
 * Plans share an entry; an entry no plan holds is kept, least recently used
 * first out, while the cache holds more than keep_bytes.
 * Thread: the control thread only (the thread that compiles and frees the
 * plans); destroy it after every plan compiled with it is freed. */
typedef struct eng_stretch_cache eng_stretch_cache;
typedef struct eng_stretch_stats {
  uint64_t hits, misses; /* lookups that found / had to stretch */
  uint64_t bytes;        /* stretched audio held */
  uint32_t entries;      /* held entries, shared or kept */
} eng_stretch_stats;
/* Possible errors: ENG_ERR_INVALID (out NULL), ENG_ERR_NOMEM. */
int eng_stretch_cache_create(size_t keep_bytes, eng_stretch_cache **out);
void eng_stretch_cache_destroy(eng_stretch_cache *c);
void eng_stretch_cache_stats(const eng_stretch_cache *c, eng_stretch_stats *out);

typedef struct eng_plan eng_plan; /* opaque, immutable once created */

/* Validates `d` and compiles it into a new immutable plan (pitches, pan gains
 * and mute/solo are resolved here, not on the RT thread). `d` and its tracks
 * are only read during the call. On success *out is owned by the caller until
 * handed to eng_engine_set_plan; otherwise free it with eng_plan_destroy. On
 * failure *out is NULL.
 * RT-safe: no (allocates).
 * Possible errors: ENG_ERR_INVALID (NULL argument, any field out of range or
 * not finite, more than ENG_MAX_TRACKS tracks, tracks NULL with n_tracks > 0,
 * a track_id of 0 or a duplicate track_id, notes without an instrument, a
 * note with length 0, key > 127 or velocity 0/>127, an instrument kind used
 * as an effect or an effect kind as an instrument), ENG_ERR_UNKNOWN_NODE (a
 * device kind this engine does not know), ENG_ERR_PARAM (unknown parameter id,
 * value out of range or not finite), ENG_ERR_GRAPH (sidechain names an unknown
 * track or the track itself, sidechain on a kind without one, an output or
 * send to a track that is not a bus of the plan or to the track itself, two
 * sends to one bus, or routing, sends and sidechains forming a cycle),
 * ENG_ERR_INVALID also for a bus with an instrument, notes or live, more than
 * ENG_MAX_SENDS sends, sends NULL with n_sends > 0, or a send level out of
 * range, zones on a kind other than the sampler, a zone with a bad key or
 * velocity range, mode, gain, channel count, sample rate or loop points,
 * an audio track with an instrument, notes, live or bus, more than
 * ENG_MAX_CLIPS clips, a clip of length 0, with fades longer than itself, a
 * gain or stretch out of range, an offset or loop outside its sample,
 * more than ENG_MAX_AUTOMATIONS automations or automations NULL with
 * n_automations > 0 (a bad lane itself is only ignored, with a warning),
 * a loop with loop_end_frame <= loop_start_frame, more than ENG_MAX_SLOTS
 * slots, slots NULL with n_slots > 0, a slot number used twice on a track,
 * a slot of length 0, slot notes without an instrument or invalid as above;
 * ENG_ERR_NOMEM. Whatever the result, d->on_free (if set) runs exactly once
 * for this call: when the plan is freed, or before an error returns. */
int eng_plan_create(const eng_plan_desc *d, eng_plan **out);

/* As eng_plan_create, and on failure writes one human sentence naming what
 * was wrong ("track 7 effect 2 (compressor): parameter 1 (ratio) = 50 is
 * outside 1..30") to `why` (may be NULL if why_len is 0). On success `why`
 * is "" or a warning about what will be silent ("track 7 sampler zone 0 has
 * no sample data: it stays silent").
 * RT-safe: no (allocates). Possible errors: as eng_plan_create. */
int eng_plan_compile(const eng_plan_desc *d, eng_plan **out, char *why, size_t why_len);

/* Counts of a compiled plan, for tests, the cohort scheduler and UIs. */
typedef struct eng_plan_info {
  uint32_t n_nodes;         /* nodes in the sorted array */
  uint32_t n_buffers;       /* stereo buffers in the pool */
  uint32_t n_deterministic; /* nodes that may run ahead (anticipative cohort) */
  size_t state_bytes;       /* node state and buffers allocated by the plan */
  uint32_t latency_frames;  /* the master's latency: the longest path (after compensation every
                               path into master has it) */
} eng_plan_info;

/* Fills *out for plan `p`. RT-safe: yes. */
void eng_plan_get_info(const eng_plan *p, eng_plan_info *out);

/* Name of the class of node `i` of the sorted array ("tone", "synth",
 * "fader", "master", ...), or NULL if i is out of range. Order is the
 * execution order. RT-safe: yes. */
const char *eng_plan_node_name(const eng_plan *p, uint32_t i);

/* Frees a plan the caller still owns. NULL is a no-op. Never call it on a plan
 * given to an engine: the engine frees those itself.
 * RT-safe: no (frees). */
void eng_plan_destroy(eng_plan *p);

/* Frequency in Hz of the test tone of the track at `index` in a plan.
 * Pure function, exposed for tests and UIs. RT-safe: yes. */
double eng_plan_track_frequency(uint32_t index);

#endif /* ENG_PLAN_H */
