/* mdl_schema: what each object type holds (see mdl_project.h, shared/README.md). */
#include "shared/mdl_err.h"
#include "shared/mdl_int.h"

#include <string.h>

#define T_MAX 1e12 /* largest tick position: about 4 million bars at 4/4 */
#define ID    MDL_VAL_ID
#define I     MDL_VAL_INT
#define R     MDL_VAL_REAL
#define B     MDL_VAL_BOOL
#define S     MDL_VAL_STR

/* Indexed by mdl_prop. The range is the widest any type allows. */
static const mdl_prop_info props[MDL_PROP_COUNT_] = {
    [MDL_PROP_NAME] = {"name", S, 1, MDL_NAME_MAX},
    [MDL_PROP_TEMPO] = {"tempo", R, 0, 999},
    [MDL_PROP_TS_NUM] = {"ts_num", I, 1, 32},
    [MDL_PROP_TS_DEN] = {"ts_den", I, 1, 32},
    [MDL_PROP_METRONOME] = {"metronome", B, 0, 1},
    [MDL_PROP_COLOUR] = {"colour", I, 0, 0xFFFFFF},
    [MDL_PROP_GAIN] = {"gain", R, 0, 4},
    [MDL_PROP_PAN] = {"pan", R, -1, 1},
    [MDL_PROP_MUTE] = {"mute", B, 0, 1},
    [MDL_PROP_SOLO] = {"solo", B, 0, 1},
    [MDL_PROP_ORDER] = {"order", S, 1, MDL_KEY_MAX},
    [MDL_PROP_KIND] = {"kind", I, 1, 255},
    [MDL_PROP_SAMPLE_RATE] = {"sample_rate", I, 8000, 192000},
    [MDL_PROP_KEY_ROOT] = {"key_root", I, 0, 11},
    [MDL_PROP_KEY_SCALE] = {"key_scale", I, 0, MDL_SCALE_CHROMATIC},
    [MDL_PROP_CLICK_LEVEL] = {"click_level", R, 0, 1},
    [MDL_PROP_COUNT_IN] = {"count_in", I, 0, 4},
    [MDL_PROP_LOOP] = {"loop", B, 0, 1},
    [MDL_PROP_LOOP_START] = {"loop_start", I, 0, T_MAX},
    [MDL_PROP_LOOP_END] = {"loop_end", I, 0, T_MAX},
    [MDL_PROP_INPUT_KIND] = {"input_kind", I, 0, MDL_INPUT_SENSOR},
    [MDL_PROP_INPUT_CH] = {"input_ch", I, 0, 255},
    [MDL_PROP_ARM] = {"arm", B, 0, 1},
    [MDL_PROP_MONITOR] = {"monitor", I, 0, 2},
    [MDL_PROP_OUTPUT] = {"output", ID, 0, 0},
    [MDL_PROP_SOLO_SAFE] = {"solo_safe", B, 0, 1},
    [MDL_PROP_START] = {"start", I, 0, T_MAX},
    [MDL_PROP_LENGTH] = {"length", I, 1, T_MAX},
    [MDL_PROP_SCENE] = {"scene", ID, 0, 0},
    [MDL_PROP_ASSET] = {"asset", S, 0, 64},
    [MDL_PROP_OFFSET] = {"offset", I, 0, 1e13},
    [MDL_PROP_FADE_IN] = {"fade_in", I, 0, T_MAX},
    [MDL_PROP_FADE_OUT] = {"fade_out", I, 0, T_MAX},
    [MDL_PROP_WARP] = {"warp", B, 0, 1},
    [MDL_PROP_SOURCE_BPM] = {"source_bpm", R, 0, 999},
    [MDL_PROP_FOLLOW] = {"follow", I, 0, MDL_FOLLOW_OTHER},
    [MDL_PROP_FOLLOW_AFTER] = {"follow_after", I, 0, T_MAX},
    [MDL_PROP_GROOVE] = {"groove", ID, 0, 0},
    [MDL_PROP_PITCH] = {"pitch", I, 0, 127},
    [MDL_PROP_VELOCITY] = {"velocity", I, 1, 127},
    [MDL_PROP_CONTROLLER] = {"controller", I, 0, 129},
    [MDL_PROP_CC_VALUE] = {"cc_value", I, -8192, 8191},
    [MDL_PROP_PARAM] = {"param", I, 0, 255},
    [MDL_PROP_ON] = {"on", B, 0, 1},
    [MDL_PROP_VALUE] = {"value", R, -1e9, 1e9},
    [MDL_PROP_CURVE] = {"curve", I, 0, MDL_CURVE_S},
    [MDL_PROP_TENSION] = {"tension", R, -1, 1},
    [MDL_PROP_BYPASS] = {"bypass", B, 0, 1},
    [MDL_PROP_SIDECHAIN] = {"sidechain", ID, 0, 0},
    [MDL_PROP_TARGET] = {"target", ID, 0, 0},
    [MDL_PROP_LEVEL] = {"level", R, 0, 4},
    [MDL_PROP_PRE] = {"pre", B, 0, 1},
    [MDL_PROP_QUANT] = {"quant", I, 0, MDL_QUANT_8BARS},
    [MDL_PROP_CUE] = {"cue", B, 0, 1},
    [MDL_PROP_BAR] = {"bar", I, 0, 1e6},
    [MDL_PROP_RAMP] = {"ramp", B, 0, 1},
    [MDL_PROP_STEPS] = {"steps", I, 1, MDL_GROOVE_STEPS},
    [MDL_PROP_GRID] = {"grid", I, 1, 4 * MDL_PPQ},
    [MDL_PROP_KEY_LO] = {"key_lo", I, 0, 127},
    [MDL_PROP_KEY_HI] = {"key_hi", I, 0, 127},
    [MDL_PROP_VEL_LO] = {"vel_lo", I, 1, 127},
    [MDL_PROP_VEL_HI] = {"vel_hi", I, 1, 127},
    [MDL_PROP_MODE] = {"mode", I, 0, 1},
    [MDL_PROP_PARAM0 + 0] = {"p0", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 1] = {"p1", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 2] = {"p2", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 3] = {"p3", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 4] = {"p4", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 5] = {"p5", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 6] = {"p6", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 7] = {"p7", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 8] = {"p8", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 9] = {"p9", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 10] = {"p10", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 11] = {"p11", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 12] = {"p12", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 13] = {"p13", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 14] = {"p14", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 15] = {"p15", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 16] = {"p16", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 17] = {"p17", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 18] = {"p18", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 19] = {"p19", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 20] = {"p20", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 21] = {"p21", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 22] = {"p22", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 23] = {"p23", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 24] = {"p24", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 25] = {"p25", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 26] = {"p26", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 27] = {"p27", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 28] = {"p28", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 29] = {"p29", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 30] = {"p30", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_PARAM0 + 31] = {"p31", MDL_VAL_REAL, -1e9, 1e9},
    [MDL_PROP_SHIFT0 + 0] = {"shift0", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 1] = {"shift1", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 2] = {"shift2", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 3] = {"shift3", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 4] = {"shift4", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 5] = {"shift5", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 6] = {"shift6", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 7] = {"shift7", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 8] = {"shift8", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 9] = {"shift9", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 10] = {"shift10", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 11] = {"shift11", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 12] = {"shift12", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 13] = {"shift13", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 14] = {"shift14", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_SHIFT0 + 15] = {"shift15", MDL_VAL_REAL, -0.5, 0.5},
    [MDL_PROP_ACCENT0 + 0] = {"accent0", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 1] = {"accent1", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 2] = {"accent2", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 3] = {"accent3", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 4] = {"accent4", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 5] = {"accent5", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 6] = {"accent6", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 7] = {"accent7", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 8] = {"accent8", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 9] = {"accent9", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 10] = {"accent10", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 11] = {"accent11", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 12] = {"accent12", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 13] = {"accent13", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 14] = {"accent14", MDL_VAL_INT, -127, 127},
    [MDL_PROP_ACCENT0 + 15] = {"accent15", MDL_VAL_INT, -127, 127},
};

/* Fields: property, kind, range for this type, default. Cells are in this
 * order, and so is the canonical form: append only. The schemas below name
 * the ORDER and START cells by index (tests/shared checks them). */
static const mdl_field project_f[] = {
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_SAMPLE_RATE, I, 8000, 192000, 48000},
    {MDL_PROP_TEMPO, R, 20, 999, 120},
    {MDL_PROP_TS_NUM, I, 1, 32, 4},
    {MDL_PROP_TS_DEN, I, 1, 32, 4},
    {MDL_PROP_KEY_ROOT, I, 0, 11, 0},
    {MDL_PROP_KEY_SCALE, I, 0, MDL_SCALE_CHROMATIC, 0},
    {MDL_PROP_METRONOME, B, 0, 1, 1},
    {MDL_PROP_CLICK_LEVEL, R, 0, 1, 0.5},
    {MDL_PROP_COUNT_IN, I, 0, 4, 0},
    {MDL_PROP_LOOP, B, 0, 1, 0},
    {MDL_PROP_LOOP_START, I, 0, T_MAX, 0},
    {MDL_PROP_LOOP_END, I, 0, T_MAX, 16 * MDL_PPQ},
};
static const mdl_field track_f[] = {
    {MDL_PROP_KIND, I, MDL_TRACK_AUDIO, MDL_TRACK_MASTER, MDL_TRACK_INSTRUMENT},
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_ORDER, S, 1, MDL_KEY_MAX, 0},
    {MDL_PROP_COLOUR, I, 0, 0xFFFFFF, 0x8E4EC6},
    {MDL_PROP_GAIN, R, 0, 4, 1},
    {MDL_PROP_PAN, R, -1, 1, 0},
    {MDL_PROP_MUTE, B, 0, 1, 0},
    {MDL_PROP_SOLO, B, 0, 1, 0},
    {MDL_PROP_SOLO_SAFE, B, 0, 1, 0},
    {MDL_PROP_ARM, B, 0, 1, 0},
    {MDL_PROP_MONITOR, I, 0, 2, 1},
    {MDL_PROP_INPUT_KIND, I, 0, MDL_INPUT_SENSOR, 0},
    {MDL_PROP_INPUT_CH, I, 0, 255, 0},
    {MDL_PROP_OUTPUT, ID, 0, 0, 0},
};
static const mdl_field clip_f[] = {
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_COLOUR, I, 0, 0xFFFFFF, 0},
    {MDL_PROP_START, I, 0, T_MAX, 0},
    {MDL_PROP_LENGTH, I, 1, T_MAX, 4 * MDL_PPQ},
    {MDL_PROP_SCENE, ID, 0, 0, 0},
    {MDL_PROP_MUTE, B, 0, 1, 0},
    {MDL_PROP_GAIN, R, 0, 4, 1},
    {MDL_PROP_LOOP, B, 0, 1, 0},
    {MDL_PROP_LOOP_START, I, 0, T_MAX, 0},
    {MDL_PROP_LOOP_END, I, 0, T_MAX, 4 * MDL_PPQ},
    {MDL_PROP_ASSET, S, 0, 64, 0},
    {MDL_PROP_OFFSET, I, 0, 1e13, 0},
    {MDL_PROP_FADE_IN, I, 0, T_MAX, 0},
    {MDL_PROP_FADE_OUT, I, 0, T_MAX, 0},
    {MDL_PROP_WARP, B, 0, 1, 0},
    {MDL_PROP_SOURCE_BPM, R, 0, 999, 0},
    {MDL_PROP_FOLLOW, I, 0, MDL_FOLLOW_OTHER, 0},
    {MDL_PROP_FOLLOW_AFTER, I, 0, T_MAX, 0},
    {MDL_PROP_GROOVE, ID, 0, 0, 0},
};
static const mdl_field note_f[] = {
    {MDL_PROP_PITCH, I, 0, 127, 60},
    {MDL_PROP_VELOCITY, I, 1, 127, 100},
    {MDL_PROP_START, I, 0, T_MAX, 0},
    {MDL_PROP_LENGTH, I, 1, T_MAX, MDL_PPQ / 4},
};
static const mdl_field event_f[] = {
    {MDL_PROP_CONTROLLER, I, 0, 129, 1},
    {MDL_PROP_START, I, 0, T_MAX, 0},
    {MDL_PROP_CC_VALUE, I, -8192, 8191, 0},
};
static const mdl_field lane_f[] = {
    {MDL_PROP_PARAM, I, 0, 255, MDL_PROP_GAIN},
    {MDL_PROP_ON, B, 0, 1, 1},
};
static const mdl_field point_f[] = {
    {MDL_PROP_START, I, 0, T_MAX, 0},
    {MDL_PROP_VALUE, R, -1e9, 1e9, 0},
    {MDL_PROP_CURVE, I, 0, MDL_CURVE_S, 0},
    {MDL_PROP_TENSION, R, -1, 1, 0},
};
static const mdl_field device_f[] = {
    {MDL_PROP_KIND, I, 1, 255, 0},
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_ORDER, S, 1, MDL_KEY_MAX, 0},
    {MDL_PROP_BYPASS, B, 0, 1, 0},
    {MDL_PROP_SIDECHAIN, ID, 0, 0, 0},
    {MDL_PROP_PARAM0 + 0, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 1, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 2, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 3, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 4, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 5, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 6, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 7, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 8, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 9, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 10, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 11, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 12, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 13, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 14, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 15, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 16, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 17, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 18, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 19, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 20, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 21, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 22, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 23, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 24, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 25, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 26, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 27, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 28, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 29, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 30, MDL_VAL_REAL, -1e9, 1e9, 0},
    {MDL_PROP_PARAM0 + 31, MDL_VAL_REAL, -1e9, 1e9, 0},
};
static const mdl_field send_f[] = {
    {MDL_PROP_TARGET, ID, 0, 0, 0},
    {MDL_PROP_LEVEL, R, 0, 4, 0.5},
    {MDL_PROP_PRE, B, 0, 1, 0},
};
static const mdl_field scene_f[] = {
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_ORDER, S, 1, MDL_KEY_MAX, 0},
    {MDL_PROP_TEMPO, R, 0, 999, 0},
    {MDL_PROP_QUANT, I, 0, MDL_QUANT_8BARS, MDL_QUANT_BAR},
};
static const mdl_field marker_f[] = {
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_START, I, 0, T_MAX, 0},
    {MDL_PROP_CUE, B, 0, 1, 0},
};
static const mdl_field tempo_f[] = {
    {MDL_PROP_START, I, 1, T_MAX, MDL_PPQ},
    {MDL_PROP_TEMPO, R, 20, 999, 120},
    {MDL_PROP_RAMP, B, 0, 1, 0},
};
static const mdl_field meter_f[] = {
    {MDL_PROP_BAR, I, 1, 1e6, 1},
    {MDL_PROP_TS_NUM, I, 1, 32, 4},
    {MDL_PROP_TS_DEN, I, 1, 32, 4},
};
static const mdl_field groove_f[] = {
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_STEPS, I, 1, MDL_GROOVE_STEPS, 16},
    {MDL_PROP_GRID, I, 1, 4 * MDL_PPQ, MDL_PPQ / 4},
    {MDL_PROP_SHIFT0 + 0, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 1, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 2, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 3, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 4, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 5, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 6, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 7, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 8, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 9, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 10, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 11, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 12, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 13, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 14, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_SHIFT0 + 15, MDL_VAL_REAL, -0.5, 0.5, 0},
    {MDL_PROP_ACCENT0 + 0, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 1, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 2, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 3, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 4, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 5, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 6, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 7, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 8, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 9, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 10, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 11, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 12, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 13, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 14, MDL_VAL_INT, -127, 127, 0},
    {MDL_PROP_ACCENT0 + 15, MDL_VAL_INT, -127, 127, 0},
};
/* A sample zone: the asset plays over a key and velocity range; pitched
 * zones sound at the asset's pitch on PITCH (the root key); LOOP_START and
 * LOOP_END are frames of the asset (0 = its end). */
static const mdl_field zone_f[] = {
    {MDL_PROP_ASSET, S, 0, 64, 0},      {MDL_PROP_KEY_LO, I, 0, 127, 0},
    {MDL_PROP_KEY_HI, I, 0, 127, 127},  {MDL_PROP_PITCH, I, 0, 127, 60},
    {MDL_PROP_VEL_LO, I, 1, 127, 1},    {MDL_PROP_VEL_HI, I, 1, 127, 127},
    {MDL_PROP_MODE, I, 0, 1, 0},        {MDL_PROP_GAIN, R, 0, 4, 1},
    {MDL_PROP_LOOP, B, 0, 1, 0},        {MDL_PROP_LOOP_START, I, 0, 1e13, 0},
    {MDL_PROP_LOOP_END, I, 0, 1e13, 0},
};
static const mdl_field user_f[] = {
    {MDL_PROP_NAME, S, 1, MDL_NAME_MAX, 0},
    {MDL_PROP_COLOUR, I, 0, 0xFFFFFF, 0x0090FF},
};

#define N(a) (uint8_t)(sizeof a / sizeof a[0]), a
static const mdl_schema schemas[MDL_TYPE_COUNT_] = {
    [MDL_TYPE_PROJECT] = {"project", N(project_f), -1, -1},
    [MDL_TYPE_TRACK] = {"track", N(track_f), 2, -1},
    [MDL_TYPE_CLIP] = {"clip", N(clip_f), -1, 2},
    [MDL_TYPE_NOTE] = {"note", N(note_f), -1, 2},
    [MDL_TYPE_EVENT] = {"event", N(event_f), -1, 1},
    [MDL_TYPE_LANE] = {"lane", N(lane_f), -1, -1},
    [MDL_TYPE_POINT] = {"point", N(point_f), -1, 0},
    [MDL_TYPE_DEVICE] = {"device", N(device_f), 2, -1},
    [MDL_TYPE_SEND] = {"send", N(send_f), -1, -1},
    [MDL_TYPE_SCENE] = {"scene", N(scene_f), 1, -1},
    [MDL_TYPE_MARKER] = {"marker", N(marker_f), -1, 1},
    [MDL_TYPE_TEMPO] = {"tempo", N(tempo_f), -1, 0},
    [MDL_TYPE_METER] = {"meter", N(meter_f), -1, 0},
    [MDL_TYPE_GROOVE] = {"groove", N(groove_f), -1, -1},
    [MDL_TYPE_USER] = {"user", N(user_f), -1, -1},
    [MDL_TYPE_ZONE] = {"zone", N(zone_f), -1, -1},
};
#undef N

const mdl_schema *mdl__schema(int type) {
  return type > 0 && type < MDL_TYPE_COUNT_ ? &schemas[type] : NULL;
}

int mdl__cell(int type, int prop) {
  const mdl_schema *s = mdl__schema(type);
  if (!s) return -1;
  for (int k = 0; k < s->n; k++)
    if (s->f[k].prop == prop) return k;
  return -1;
}

bool mdl_type_has(int type, int prop) {
  return mdl__cell(type, prop) >= 0;
}

const char *mdl_type_name(int type) {
  const mdl_schema *s = mdl__schema(type);
  return s ? s->name : NULL;
}

int mdl_type_lookup(const char *name, size_t len) {
  for (int t = 1; t < MDL_TYPE_COUNT_; t++)
    if (strlen(schemas[t].name) == len && memcmp(schemas[t].name, name, len) == 0) return t;
  return 0;
}

const mdl_prop_info *mdl_prop_describe(int prop) {
  if (prop <= 0 || prop >= MDL_PROP_COUNT_ || !props[prop].name) return NULL;
  return &props[prop];
}

int mdl_prop_lookup(int type, const char *name, size_t len) {
  for (int i = 1; i < MDL_PROP_COUNT_; i++) {
    if (props[i].name && strlen(props[i].name) == len && memcmp(props[i].name, name, len) == 0)
      return !type || mdl_type_has(type, i) ? i : 0;
  }
  return 0;
}
