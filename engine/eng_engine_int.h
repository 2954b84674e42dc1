/* eng_engine_int.h: implementation details of eng_engine which may change;
 * the public API is in eng_engine.h. Used by the offline renderer
 * (eng_render.c) and tests.
 *
 * Threads: as eng_engine.h. eng__engine_set_tap is a control-thread call
 * made while no RT thread runs the engine (the renderer calls process itself). */
#ifndef ENG_ENGINE_INT_H
#define ENG_ENGINE_INT_H

#include <stdint.h>

#include "engine/eng_engine.h"

/* Stem tap: from now on each eng_engine_process(e, out, frames) call also
 * writes, for track index t < n_tracks of the current plan, that track's
 * post-fader output (the signal the fader sends on: to master or to a bus)
 * as interleaved stereo to tap + t * 2 * stride_frames, frames 0..frames-1
 * (tracks the plan does not have, or blocks without a plan, get zeros).
 * frames must not exceed stride_frames. `tap` is borrowed until the tap is
 * removed with tap = NULL. Summing the stems of every track routed to master
 * gives the master before master gain, minus the click.
 * RT-safe: no (call it before processing starts). */
void eng__engine_set_tap(eng_engine *e, float *tap, uint32_t n_tracks, uint32_t stride_frames);

/* Tests: waits until the anticipative cohort's workers have rendered all
 * they may before the next block (eng__cohort_settle); no-op without the
 * cohort or while it is inactive. Call between eng_engine_process calls, on
 * the thread that makes them. RT-safe: no (waits). */
void eng__engine_settle(eng_engine *e);

/* Live loudness of the master (eng_kmeter.c): K-weighted mean squares of
 * both channels in 100 ms blocks, the last ENG_KMETER_BLOCKS (3 s) kept.
 * RT-safe: yes (plain arithmetic, no allocation). */
#define ENG_KMETER_BLOCKS 30
typedef struct eng_kmeter {
  double shelf[5], hp[5]; /* K-weighting: b0 b1 b2 a1 a2 of each stage */
  double s_shelf[2][2], s_hp[2][2];
  double sum;                       /* weighted squares of the block so far */
  uint32_t in_block, block_len;     /* frames in it; frames a block holds (rate / 10) */
  double blocks[ENG_KMETER_BLOCKS]; /* mean squares of the last blocks, a ring */
  uint32_t at, n_blocks;
} eng_kmeter;
void eng__kmeter_init(eng_kmeter *k, uint32_t sample_rate);
void eng__kmeter_add(eng_kmeter *k, const float *lr, uint32_t frames); /* interleaved stereo */
float eng__kmeter_momentary(const eng_kmeter *k);  /* LUFS over 400 ms, >= ENG_LUFS_FLOOR */
float eng__kmeter_short_term(const eng_kmeter *k); /* LUFS over 3 s, >= ENG_LUFS_FLOOR */

#endif /* ENG_ENGINE_INT_H */
