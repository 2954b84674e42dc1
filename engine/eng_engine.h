/* eng_engine.h: the real-time engine: transport, plan execution, meters.
 *
 * Threads (STYLE.md §6):
 *  - control thread: create/destroy, set_plan, collect, set_playing, locate.
 *    These are one producer of the command queue: call them from ONE thread
 *    at a time (or serialise them yourself).
 *  - RT thread: eng_engine_process, called by a backend (eng_backend.h) or by
 *    an offline renderer. It drains commands, swaps in a new plan if one is
 *    pending, runs the plan and pushes meter frames. It never allocates,
 *    locks, logs or does I/O; when it cannot do something it degrades and
 *    counts (eng_engine_stats).
 *  - meter reader: any ONE thread calls eng_engine_read_meters.
 *  - monitor reader: any ONE thread calls eng_engine_monitor_read (the
 *    master as audio, for "listen here"; see the monitor tap below).
 *  - any thread: eng_engine_stats, eng_engine_position.
 *
 * Plans travel by atomic pointer swap. The plan the RT thread stops using is
 * handed back through a queue and freed by eng_engine_collect on the control
 * thread, never while the RT thread may still read it.
 *
 * Transport: position in frames. Beats are computed from the plan's tempo
 * sample-accurately: beat k starts at frame ceil(k * 60 / bpm * sample_rate),
 * even in the middle of a block; plan notes start on their exact frame too.
 * Commands take effect at the start of the next processed block. A loop
 * region in the plan (eng_plan_desc.loop) wraps the transport on its exact
 * frame. Stop and locate release every instrument note (tails keep ringing: a plan with
 * devices keeps running while stopped; one without outputs silence).
 *
 * Idle: when stopped, once every node's output has stayed below ENG_QUIET_LEVEL
 * for the plan's quiet window (ENG_QUIET_MS, longer with a delay line, which
 * can hold an echo behind a silent output), blocks without a command, live
 * note or new plan are output as exact zeros without running the plan
 * (eng_stats.blocks_idle); the next command, note or plan wakes it.
 *
 * Anticipative cohort (eng_config.lookahead_frames > 0, off by default):
 * while the transport plays steadily, `workers` threads render the
 * deterministic chains (instrument + effects of tracks that are not live,
 * not buses, have no session clips and no sidechain) up to lookahead_frames
 * ahead; the RT thread runs the rest and mixes the chains in. The output
 * is bit-identical to the inline engine as long as blocks keep one size.
 * The price: while it renders ahead, stop, locate, a new plan and
 * parameters of anticipated devices take effect lookahead_frames later
 * (live notes, launches and parameters of other devices at once). The RT
 * thread never waits for a worker (eng_stats.cohort_misses,
 * cohort_gap_frames); it wakes them with sem_post. */
#ifndef ENG_ENGINE_H
#define ENG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/eng_plan.h"

#define ENG_DEFAULT_SAMPLE_RATE  48000 /* Hz */
#define ENG_DEFAULT_BLOCK_FRAMES 128   /* frames per backend callback */
#define ENG_MAX_BLOCK_FRAMES     8192  /* largest block_frames accepted */
#define ENG_METER_WINDOW_MS      25    /* one meter frame per ~25 ms of audio (whole blocks) */
#define ENG_STOP_FADE_FRAMES     256   /* de-click fade after stop, frames */
#define ENG_MONITOR_CHUNK_FRAMES 128   /* frames per monitor ring item */
#define ENG_MONITOR_CAPACITY     128  /* monitor ring items (~340 ms at 48 kHz, 128-frame blocks) */
#define ENG_MAX_COUNT_IN_BARS    16   /* bars of count-in, eng_engine_play_count_in */
#define ENG_NO_SLOT              (-1) /* eng_meter.slot/queued: no session clip */
#define ENG_SLOT_STOP            (-2) /* eng_meter.queued: the track's session clip stops */
#define ENG_QUIET_LEVEL          1e-6f /* |sample| below this (-120 dBFS) counts as silence (idle) */
#define ENG_QUIET_MS             500   /* silence before a stopped plan idles (+ longest delay) */

typedef struct eng_config {
  uint32_t sample_rate;      /* Hz, ENG_MIN_SAMPLE_RATE..ENG_MAX_SAMPLE_RATE */
  uint32_t block_frames;     /* frames per backend block, 1..ENG_MAX_BLOCK_FRAMES */
  bool no_idle_skip;         /* run the graph even when stopped and silent (benchmarks) */
  uint32_t lookahead_frames; /* anticipative cohort: frames rendered ahead, 0 = off (below) */
  uint32_t workers;          /* anticipative cohort: worker threads, 0 = 1 */
} eng_config;

typedef struct eng_engine eng_engine; /* opaque */

typedef struct eng_meter {
  uint64_t track_id; /* track_id from the plan, 0 = master */
  float peak;        /* max |sample| over both channels in the window, post-fader */
  float rms;         /* RMS over both channels in the window; rms <= peak */
  int32_t slot;      /* session slot playing at the end of the window, ENG_NO_SLOT if none */
  int32_t queued;    /* slot launching at the next boundary, ENG_SLOT_STOP (a stop is queued) or
                        ENG_NO_SLOT (nothing queued); master: ENG_NO_SLOT */
} eng_meter;

#define ENG_LUFS_FLOOR (-200.0f) /* loudness of silence, and of a meter with nothing yet */

typedef struct eng_meter_frame {
  uint64_t position;                /* transport position at the end of the window, frames */
  float lufs_momentary;             /* master's loudness over the last 400 ms (BS.1770), LUFS */
  float lufs_short_term;            /* and over the last 3 s; both >= ENG_LUFS_FLOOR */
  bool playing;                     /* transport state at the end of the window */
  bool counting_in;                 /* a count-in is clicking (playing is still false) */
  uint32_t n;                       /* valid entries: master first, then tracks in plan order */
  eng_meter meters[ENG_MAX_METERS]; /* meters[0] is master */
} eng_meter_frame;

typedef struct eng_stats {
  uint64_t blocks;              /* eng_engine_process calls */
  uint64_t frames;              /* frames processed */
  uint64_t xruns;               /* blocks a backend could not deliver in time */
  uint64_t blocks_without_plan; /* blocks rendered as silence because no plan was set */
  uint64_t plan_swaps;          /* plans taken over by the RT thread */
  uint64_t plans_deferred;      /* swaps postponed a block because the retire queue was full */
  uint64_t meters_pushed;       /* meter frames queued */
  uint64_t meters_dropped;      /* meter frames dropped because the queue was full */
  uint64_t events_dropped;      /* note events beyond ENG_MAX_EVENTS per node per chunk */
  uint64_t commands_dropped;    /* notes/params whose track or device left the plan meanwhile */
  uint64_t monitor_frames;      /* frames written to the monitor tap */
  uint64_t monitor_dropped;     /* frames the tap dropped because its reader fell behind */
  uint64_t blocks_idle; /* stopped, silent blocks output as zeros without running the plan */
  uint64_t
      busy_ns; /* time spent in eng_engine_process; its share of frames / rate is the DSP load */
  uint64_t ahead_blocks;      /* chain-blocks the RT thread took from the anticipative cohort */
  uint64_t ahead_rendered;    /* chain-blocks the cohort's workers rendered */
  uint64_t cohort_misses;     /* chain-blocks not ready in time: rendered inline, or gaps */
  uint64_t cohort_gap_frames; /* chain frames output as zeros (a worker was still on them) */
} eng_stats;

/* --- lifetime (control thread) --- */

/* Returns {ENG_DEFAULT_SAMPLE_RATE, ENG_DEFAULT_BLOCK_FRAMES}. RT-safe: yes. */
eng_config eng_config_default(void);

/* Creates a stopped engine at position 0 with no plan (it outputs silence
 * until eng_engine_set_plan). `cfg` is copied. On success *out is owned by
 * the caller: free it with eng_engine_destroy. On failure *out is NULL.
 * RT-safe: no (allocates).
 * Possible errors: ENG_ERR_INVALID (NULL argument, sample_rate or block_frames
 * out of range), ENG_ERR_NOMEM. */
int eng_engine_create(const eng_config *cfg, eng_engine **out);

/* Frees the engine, its current, pending and retired plans and its queues.
 * NULL is a no-op. The RT thread must be stopped first (eng_backend_close).
 * RT-safe: no (frees). */
void eng_engine_destroy(eng_engine *e);

/* The configuration the engine was created with. Any thread. RT-safe: yes. */
eng_config eng_engine_config(const eng_engine *e);

/* --- control thread --- */

/* Hands plan `p` to the engine; the RT thread starts using it at its next
 * block. Takes ownership of `p` even on failure. Calls eng_engine_collect
 * first. If an earlier plan was set but not yet taken by the RT thread, that
 * plan is freed at once (the RT thread never saw it).
 * RT-safe: no (may free).
 * Possible errors: ENG_ERR_INVALID (e or p NULL, p's sample_rate differs from
 * the engine's; p is freed). */
int eng_engine_set_plan(eng_engine *e, eng_plan *p);

/* Frees the plans the RT thread has retired since the last call.
 * RT-safe: no (frees). */
void eng_engine_collect(eng_engine *e);

/* Queues play (from the current position) or stop (keeping the position;
 * ringing notes fade out over ENG_STOP_FADE_FRAMES).
 * RT-safe: yes (wait-free), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID (e NULL), ENG_ERR_FULL (command queue full,
 * nothing queued: the RT thread is not running or far behind). */
int eng_engine_set_playing(eng_engine *e, bool playing);

/* Queues a jump of the transport to `frame`, playing or not.
 * RT-safe: yes (wait-free), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID, ENG_ERR_FULL (as eng_engine_set_playing). */
int eng_engine_locate(eng_engine *e, uint64_t frame);

/* Queues play after a count-in of `bars` bars: the click (accented on beat
 * 1 of each bar, at the plan's tempo and time signature, whether or not the
 * metronome is on, times the master gain) sounds for exactly
 * bars * beats_per_bar beats, i.e. ceil(bars * beats_per_bar * 60 / bpm *
 * sample_rate) frames from the start of the next block, while the transport
 * holds its position (instruments and effects ring on as when stopped);
 * the transport then plays from its position on the next frame, mid-block
 * if need be. bars 0 (or no plan yet) plays at once; while playing the call
 * does nothing. Stop during the count-in cancels it; play starts at once.
 * RT-safe: yes (wait-free), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID (e NULL, bars > ENG_MAX_COUNT_IN_BARS),
 * ENG_ERR_FULL. */
int eng_engine_play_count_in(eng_engine *e, uint32_t bars);

/* Session view: queues the launch of session clip `slot` of track
 * `track_id` (eng_slot_desc, eng_plan.h). It starts on the next transport
 * frame that is a multiple of quant_frames (the position itself if it is
 * one; 0 = at the start of the next block), counted from the transport
 * position when the RT thread takes the command (the start of its next
 * block), and loops its notes or audio every length_frames from there on;
 * its follow action (eng_slot_desc.follow), if any, is queued as it
 * starts, as a launch that a later launch or stop replaces. If another
 * slot of the track plays, that one stops on the same frame (its sounding
 * notes get their note-offs there); a later launch or stop replaces one
 * still queued. Session clips run on their own clock of frames played: a
 * locate or a loop wrap of the transport does not move them; stopping the
 * transport stops every one (a launch made while stopped waits for play).
 * eng_meter.slot/queued show the state per track.
 * RT-safe: yes (wait-free, no allocation), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID (e NULL, no such track, or no slot
 * `slot` on it, in the last plan set), ENG_ERR_FULL. If the RT thread's plan
 * no longer has it, the launch is dropped and counted (commands_dropped). */
int eng_engine_launch(eng_engine *e, uint64_t track_id, uint32_t slot, uint64_t quant_frames);

/* Queues the stop of track `track_id`'s session clip on the next multiple
 * of quant_frames, as eng_engine_launch. Sounding notes get their note-offs
 * on that frame. RT-safe: yes (wait-free), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID (e NULL, no such track), ENG_ERR_FULL. */
int eng_engine_stop_slot(eng_engine *e, uint64_t track_id, uint64_t quant_frames);

/* As eng_engine_launch (slot >= 0) or eng_engine_stop_slot (slot ENG_NO_SLOT),
 * quantized on the plan's beat grid (eng_plan_desc.beats: the tempo map's
 * beats and bars) instead of a frame quantum: with bars > 0 on the next bar
 * whose number (from 0) is a multiple of bars, else on the next beat whose
 * place in its bar is a multiple of beats (1: any beat); the position
 * itself if it is one. Ramps and meter changes are followed.
 * RT-safe: yes (wait-free), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID (e NULL, no such track or slot in the
 * last plan set, beats and bars both 0 or over 8 bars / 32 beats),
 * ENG_ERR_FULL. */
int eng_engine_launch_grid(eng_engine *e, uint64_t track_id, int32_t slot, uint32_t beats,
                           uint32_t bars);

/* Queues a parameter change for device `device` of track `track_id`
 * (0 = the track's instrument, 1 + i = its effect i). The RT thread applies
 * it at the start of its next block; the value then glides over the
 * parameter's smoothing time (eng_node.h), so automation does not zipper.
 * Checked against the last plan given to eng_engine_set_plan; if the RT
 * thread's plan no longer has that device the change is dropped and counted
 * (commands_dropped).
 * RT-safe: yes (wait-free), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID (e NULL, no such track or device, or the
 * device has no parameters), ENG_ERR_PARAM (unknown id, value out of range or
 * not finite), ENG_ERR_FULL (command queue full, nothing queued). */
int eng_engine_set_param(eng_engine *e, uint64_t track_id, uint32_t device, uint32_t param_id,
                         float value);

/* Queues a live note for the instrument of track `track_id`, which must be
 * marked `live` in the last plan set: velocity 1..127 starts the note,
 * velocity 0 releases it. Applied at the start of the RT thread's next block
 * (offset 0), whether the transport plays or not. Plan notes (eng_note_desc)
 * are the sample-accurate path.
 * RT-safe: yes (wait-free), but meant for the control thread.
 * Possible errors: ENG_ERR_INVALID (e NULL, key or velocity > 127, no such
 * track, track not live), ENG_ERR_FULL. */
int eng_engine_note(eng_engine *e, uint64_t track_id, uint8_t key, uint8_t velocity);

/* --- RT thread --- */

/* Renders `frames` frames of stereo interleaved float into `out`
 * (2 * frames floats, overwritten). Drains commands, swaps in a pending plan,
 * runs the current plan, advances the transport if playing and pushes a
 * meter frame each time a meter window is complete (dropping and counting
 * it if the queue is full). Any `frames` value works; backends use
 * block_frames. Only one thread may call it at a time.
 * RT-safe: yes (no allocation, locks, logging, I/O or blocking calls;
 * proved by tests/engine/test_eng_rt.c). */
void eng_engine_process(eng_engine *e, float *out, uint32_t frames);

/* Counts one xrun (a block a backend could not deliver in time). Called by
 * backends from their RT thread. RT-safe: yes. */
void eng_engine_count_xrun(eng_engine *e);

/* --- meter reader (any ONE thread) --- */

/* Copies the oldest queued meter frame into *out. Returns 1 if a frame was
 * read, 0 if none was queued (out untouched), ENG_ERR_INVALID for NULL
 * arguments. Frames come roughly every ENG_METER_WINDOW_MS of processed
 * audio, whether playing or not; peak and RMS cover that window.
 * RT-safe: yes (wait-free). */
int eng_engine_read_meters(eng_engine *e, eng_meter_frame *out);

/* --- monitor tap: the master as audio, for one non-RT reader --- */

/* Switches the monitor tap on or off. While on, each eng_engine_process call
 * also copies the master it rendered (stereo interleaved float, what `out`
 * holds on return) into a lock-free ring of ENG_MONITOR_CAPACITY items of up
 * to ENG_MONITOR_CHUNK_FRAMES frames each, stamped with the engine's frame
 * clock (stats.frames before the block: it advances whether or not the
 * transport plays). If the ring is full the RT thread drops the rest of the
 * block and counts it (stats.monitor_dropped): it never waits for the
 * reader. Off (the default) costs the RT thread one atomic load per block.
 * Takes effect at the next block. Items written before a switch-off stay in
 * the ring until read. Any thread. RT-safe: yes. */
void eng_engine_monitor_enable(eng_engine *e, bool on);

/* Copies up to `max_frames` frames of the oldest unread monitor audio into
 * `lr` (2 * max_frames floats, interleaved L R) and returns how many it
 * copied (0 if none is queued). The frames copied are contiguous in engine
 * time: the call stops early where the tap dropped frames, so the next call
 * starts after the gap. *clock (if not NULL) gets the engine frame clock of
 * the first frame copied; it is untouched when 0 is returned.
 * Only ONE thread at a time may read. RT-safe: yes (wait-free), but meant
 * for a worker thread. */
size_t eng_engine_monitor_read(eng_engine *e, float *lr, size_t max_frames, uint64_t *clock);

/* --- any thread --- */

/* Snapshot of the counters (each read atomically, not all at one instant).
 * RT-safe: yes. */
void eng_engine_stats(const eng_engine *e, eng_stats *out);

/* Transport position in frames as of the last processed block.
 * RT-safe: yes. */
uint64_t eng_engine_position(const eng_engine *e);

#endif /* ENG_ENGINE_H */
