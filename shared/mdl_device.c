/* mdl_device: device kinds and parameter tables (see mdl_device.h). */
#include "shared/mdl_device.h"

#include <stddef.h>

static const mdl_param_desc synth_params[] = {
    {"osc1_wave:saw|square|triangle|sine", 0, 3, 0, MDL_UNIT_CHOICE},
    {"osc2_wave:saw|square|triangle|sine", 0, 3, 1, MDL_UNIT_CHOICE},
    {"osc2_semitones", -24, 24, 0, MDL_UNIT_SEMITONES},
    {"osc2_detune", -100, 100, 7, MDL_UNIT_CENTS},
    {"osc1_level", 0, 1, 0.8, MDL_UNIT_LINEAR},
    {"osc2_level", 0, 1, 0.0, MDL_UNIT_LINEAR},
    {"noise_level", 0, 1, 0.0, MDL_UNIT_LINEAR},
    {"cutoff", 20, 20000, 2000, MDL_UNIT_HZ},
    {"resonance", 0, 1, 0.2, MDL_UNIT_NONE},
    {"filter_env_amount", -8, 8, 2, MDL_UNIT_OCTAVES},
    {"key_tracking", 0, 1, 0.5, MDL_UNIT_NONE},
    {"filter_attack", 0.1, 10000, 5, MDL_UNIT_MS},
    {"filter_decay", 0.1, 10000, 300, MDL_UNIT_MS},
    {"filter_sustain", 0, 1, 0.3, MDL_UNIT_NONE},
    {"filter_release", 0.1, 10000, 300, MDL_UNIT_MS},
    {"amp_attack", 0.1, 10000, 5, MDL_UNIT_MS},
    {"amp_decay", 0.1, 10000, 200, MDL_UNIT_MS},
    {"amp_sustain", 0, 1, 0.7, MDL_UNIT_NONE},
    {"amp_release", 0.1, 10000, 200, MDL_UNIT_MS},
    {"lfo_rate", 0.01, 50, 5, MDL_UNIT_HZ},
    {"lfo_wave:sine|triangle|saw|square", 0, 3, 0, MDL_UNIT_CHOICE},
    {"lfo_to_pitch", 0, 12, 0, MDL_UNIT_SEMITONES},
    {"lfo_to_cutoff", 0, 4, 0, MDL_UNIT_OCTAVES},
    {"unison", 1, 4, 1, MDL_UNIT_COUNT},
    {"unison_detune", 0, 100, 15, MDL_UNIT_CENTS},
    {"unison_spread", 0, 1, 0.5, MDL_UNIT_NONE},
    {"polyphony", 1, 64, 16, MDL_UNIT_COUNT},
    {"level", 0, 2, 0.5, MDL_UNIT_LINEAR},
};
static const mdl_param_desc drums_params[] = {
    {"level", 0, 2, 0.8, MDL_UNIT_LINEAR},        {"kick_tune", 30, 120, 50, MDL_UNIT_HZ},
    {"kick_decay", 50, 2000, 450, MDL_UNIT_MS},   {"kick_punch", 0, 1, 0.6, MDL_UNIT_NONE},
    {"snare_tune", 100, 400, 185, MDL_UNIT_HZ},   {"snare_decay", 50, 1000, 220, MDL_UNIT_MS},
    {"snare_noise", 0, 1, 0.6, MDL_UNIT_NONE},    {"clap_decay", 50, 1000, 250, MDL_UNIT_MS},
    {"hat_decay", 10, 500, 60, MDL_UNIT_MS},      {"open_hat_decay", 50, 2000, 450, MDL_UNIT_MS},
    {"hat_tone", 3000, 14000, 7000, MDL_UNIT_HZ}, {"tom_tune", 0.5, 2, 1, MDL_UNIT_RATIO},
    {"tom_decay", 50, 2000, 380, MDL_UNIT_MS},
};
static const mdl_param_desc sampler_params[] = {
    {"level", -60, 12, 0, MDL_UNIT_DB},
    {"attack", 0, 10000, 0, MDL_UNIT_MS},
    {"decay", 0, 10000, 100, MDL_UNIT_MS},
    {"sustain", 0, 1, 1, MDL_UNIT_LINEAR},
    {"release", 0, 10000, 50, MDL_UNIT_MS},
    {"tune", -48, 48, 0, MDL_UNIT_SEMITONES},
    {"fine", -100, 100, 0, MDL_UNIT_CENTS},
    {"velocity_sensitivity", 0, 100, 100, MDL_UNIT_PERCENT},
    {"polyphony", 1, 32, 32, MDL_UNIT_COUNT},
};
static const mdl_param_desc gain_params[] = {
    {"gain", 0, 4, 1, MDL_UNIT_LINEAR},
};
static const mdl_param_desc eq_params[] = {
    {"low_freq", 20, 2000, 100, MDL_UNIT_HZ},    {"low_gain", -24, 24, 0, MDL_UNIT_DB},
    {"low_q", 0.1, 4, 0.707, MDL_UNIT_NONE},     {"mid1_freq", 20, 20000, 500, MDL_UNIT_HZ},
    {"mid1_gain", -24, 24, 0, MDL_UNIT_DB},      {"mid1_q", 0.1, 18, 1, MDL_UNIT_NONE},
    {"mid2_freq", 20, 20000, 2500, MDL_UNIT_HZ}, {"mid2_gain", -24, 24, 0, MDL_UNIT_DB},
    {"mid2_q", 0.1, 18, 1, MDL_UNIT_NONE},       {"high_freq", 1000, 20000, 8000, MDL_UNIT_HZ},
    {"high_gain", -24, 24, 0, MDL_UNIT_DB},      {"high_q", 0.1, 4, 0.707, MDL_UNIT_NONE},
};
static const mdl_param_desc comp_params[] = {
    {"threshold", -60, 0, -20, MDL_UNIT_DB}, {"ratio", 1, 30, 4, MDL_UNIT_RATIO},
    {"attack", 0.01, 500, 10, MDL_UNIT_MS},  {"release", 1, 5000, 100, MDL_UNIT_MS},
    {"knee", 0, 24, 0, MDL_UNIT_DB},         {"makeup", -24, 24, 0, MDL_UNIT_DB},
};
static const mdl_param_desc gate_params[] = {
    {"threshold", -80, 0, -40, MDL_UNIT_DB}, {"attack", 0.01, 100, 1, MDL_UNIT_MS},
    {"hold", 0, 1000, 20, MDL_UNIT_MS},      {"release", 1, 5000, 100, MDL_UNIT_MS},
    {"range", -80, 0, -80, MDL_UNIT_DB},
};
static const mdl_param_desc sat_params[] = {
    {"drive", 0, 36, 6, MDL_UNIT_DB},
    {"mix", 0, 1, 1, MDL_UNIT_NONE},
    {"output", -24, 12, 0, MDL_UNIT_DB},
};
static const mdl_param_desc delay_params[] = {
    {"time", 0.0625, 4, 0.75, MDL_UNIT_BEATS},
    {"feedback", 0, 0.95, 0.35, MDL_UNIT_NONE},
    {"mix", 0, 1, 0.3, MDL_UNIT_NONE},
    {"damping", 1000, 20000, 8000, MDL_UNIT_HZ},
    {"ping_pong:off|on", 0, 1, 0, MDL_UNIT_CHOICE},
};
static const mdl_param_desc reverb_params[] = {
    {"room_size", 0, 1, 0.6, MDL_UNIT_NONE},
    {"damping", 0, 1, 0.5, MDL_UNIT_NONE},
    {"width", 0, 1, 1, MDL_UNIT_NONE},
    {"mix", 0, 1, 0.25, MDL_UNIT_NONE},
};
static const mdl_param_desc chorus_params[] = {
    {"rate", 0.05, 5, 0.8, MDL_UNIT_HZ},
    {"depth", 0, 10, 3, MDL_UNIT_MS},
    {"delay", 1, 30, 12, MDL_UNIT_MS},
    {"mix", 0, 1, 0.5, MDL_UNIT_NONE},
};
static const mdl_param_desc limiter_params[] = {
    {"ceiling", -24, 0, -0.3, MDL_UNIT_DB},
    {"release", 1, 2000, 50, MDL_UNIT_MS},
    {"input_gain", 0, 24, 0, MDL_UNIT_DB},
};

#define D(k, n, inst, sc, t)                                                                       \
  { k, n, inst, sc, (uint8_t) (sizeof t / sizeof t[0]), t }
static const mdl_device_desc devices[] = {
    D(MDL_DEV_SYNTH, "synth", true, false, synth_params),
    D(MDL_DEV_DRUMS, "drums", true, false, drums_params),
    D(MDL_DEV_SAMPLER, "sampler", true, false, sampler_params),
    D(MDL_DEV_GAIN, "gain", false, false, gain_params),
    D(MDL_DEV_EQ, "eq", false, false, eq_params),
    D(MDL_DEV_COMPRESSOR, "compressor", false, true, comp_params),
    D(MDL_DEV_GATE, "gate", false, true, gate_params),
    D(MDL_DEV_SATURATOR, "saturator", false, false, sat_params),
    D(MDL_DEV_DELAY, "delay", false, false, delay_params),
    D(MDL_DEV_REVERB, "reverb", false, false, reverb_params),
    D(MDL_DEV_CHORUS, "chorus", false, false, chorus_params),
    D(MDL_DEV_LIMITER, "limiter", false, false, limiter_params),
};
#undef D

const mdl_device_desc *mdl_device_describe(int kind) {
  for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
    if (devices[i].kind == kind) return &devices[i];
  return NULL;
}

uint32_t mdl_device_kinds(int *out, uint32_t cap) {
  uint32_t n = (uint32_t) (sizeof devices / sizeof devices[0]);
  for (uint32_t i = 0; i < n && i < cap; i++)
    out[i] = devices[i].kind;
  return n;
}
