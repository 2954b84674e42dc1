/* proto_msg: every message of the Backline wire protocol (PROTOCOL.md).
 *
 * A message is one binary WebSocket frame: a u8 type followed by its body,
 * little-endian. Decoders check every length, count and range and refuse
 * anything left over; they borrow strings from the input buffer and place
 * decoded ops in a caller-provided proto_scratch, so they never allocate.
 * Encoders write into a caller buffer and fail with PROTO_ERR_NO_SPACE
 * instead of overflowing. No state; any thread. */
#ifndef PROTO_MSG_H
#define PROTO_MSG_H

#include "shared/mdl_op.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 4: METERS carry the master's loudness; NOTE, ENGINE. 3: the full model. */
#define PROTO_VERSION 4
#define PROTO_MAX_MSG 65536 /* largest message either side accepts, bytes */
#define PROTO_MAX_WELCOME                                                                          \
  (64u << 20) /* but a WELCOME, which carries the whole project, may be this large */
#define PROTO_MAX_TXN                                                                              \
  (PROTO_MAX_MSG - 13)            /* a stored transaction must fit in a BROADCAST (13-byte head) */
#define PROTO_MAX_PROPS      1024 /* create properties across one transaction */
#define PROTO_PROJECT_ID_MAX 64
#define PROTO_MAX_METERS     129  /* 128 tracks + master (track id 0) */
#define PROTO_MAX_AUDIO      1275 /* largest Opus packet (RFC 6716 3.4), bytes */

/* Message types. Frozen: never renumber. */
typedef enum {
  PROTO_HELLO = 1,     /* c→s: version, project id, user name, colour, wanted client id */
  PROTO_WELCOME = 2,   /* s→c: version, client id, seq, snapshot */
  PROTO_SUBMIT = 3,    /* c→s: local id, transaction */
  PROTO_ACK = 4,       /* s→c: local id, seq */
  PROTO_REJECT = 5,    /* s→c: local id (0: not about a submit), code, reason */
  PROTO_BROADCAST = 6, /* s→c: seq, origin client, transaction */
  PROTO_PRESENCE = 7,  /* both: client id, name, colour, selection, online */
  PROTO_METERS = 8,    /* s→c: transport position and state, peak/rms per track */
  PROTO_TRANSPORT = 9, /* c→s: play or stop */
  PROTO_LIVE = 10,     /* both: a value being dragged (not stored); s→c names the sender */
  PROTO_LISTEN = 11,   /* c→s: listen here on (1) or off (0) */
  PROTO_AUDIO = 12,    /* s→c: one Opus packet of the master */
  PROTO_LAUNCH = 13,   /* c→s: launch a session clip, or stop a track's, quantized */
  PROTO_NOTE = 14,     /* c→s: a note played on a track's instrument now (audition, keys) */
  PROTO_ENGINE = 15,   /* s→c: the audio engine's status: DSP load, xruns, device */
} proto_type;

typedef struct proto_hello {
  uint16_t version;
  const char *project; /* borrowed, not terminated */
  uint32_t project_len;
  const char *user;
  uint32_t user_len;
  uint32_t colour;
  uint32_t want_client; /* 0, or the client id this replica had before */
} proto_hello;

typedef struct proto_welcome {
  uint16_t version;
  uint32_t client_id;
  uint32_t last_local;         /* newest SUBMIT of this id space in the log (0 = none) */
  uint64_t seq;                /* the snapshot's sequence number; broadcasts after it follow */
  const mdl_project *snapshot; /* encode: borrowed; decode: points at scratch */
} proto_welcome;

typedef struct proto_submit {
  uint32_t local_id;
  mdl_txn txn;
} proto_submit;

typedef struct proto_ack {
  uint32_t local_id;
  uint64_t seq;
} proto_ack;

typedef struct proto_reject {
  uint32_t local_id;
  int16_t code; /* an mdl_err or proto_err */
  const char *reason;
  uint32_t reason_len;
} proto_reject;

typedef struct proto_broadcast {
  uint64_t seq;
  uint32_t origin;
  mdl_txn txn;
} proto_broadcast;

typedef struct proto_presence {
  uint32_t client_id;
  const char *name;
  uint32_t name_len;
  uint32_t colour;
  uint64_t selection; /* an mdl_id or 0 */
  uint64_t view;      /* where the user's view of the timeline starts, in ticks */
  bool online;
} proto_presence;

typedef struct proto_meter {
  uint64_t track_id; /* 0 = master */
  float peak, rms;   /* linear, 0..~4 */
  int16_t slot;      /* the session slot playing, -1 = none */
  int16_t queued;    /* the slot launching at the next boundary; -1 none, -2 a stop */
} proto_meter;

typedef struct proto_meters {
  uint64_t position; /* frames since the start of the song */
  bool playing;
  uint8_t n;
  proto_meter m[PROTO_MAX_METERS];
  float lufs_momentary;  /* the master's loudness (BS.1770) over 400 ms, -200..30 LUFS */
  float lufs_short_term; /* over 3 s; -200 = silence */
} proto_meters;

/* A continuous control in motion (a fader being dragged, a phone sensor):
 * latest wins, never stored; only the final value becomes an op. */
typedef struct proto_live {
  uint32_t client_id; /* s→c: who moves it; c→s: 0 */
  mdl_id id;
  uint8_t prop;
  mdl_value value; /* strings borrowed */
} proto_live;

/* The session view: launch CLIP (a clip in a scene's slot) or, with clip 0,
 * stop what TRACK plays; at the next boundary of the scene's quantization. */
typedef struct proto_launch {
  mdl_id clip;
  mdl_id track;
} proto_launch;

/* A note played by hand on TRACK's instrument, heard at once and never
 * stored: velocity 1..127 starts KEY, 0 releases it. */
typedef struct proto_note {
  mdl_id track;     /* != 0 */
  uint8_t key;      /* 0..127 */
  uint8_t velocity; /* 0..127; 0 = note off */
} proto_note;

/* The audio engine's status, twice a second: how much of real time
 * the audio thread spends rendering, the blocks it could not deliver in
 * time, and what it plays on. */
typedef struct proto_engine {
  uint16_t dsp_permille; /* 0..65535 (over 1000: it cannot keep up) */
  uint32_t xruns;        /* since the server started (wraps) */
  const char *audio;     /* UTF-8, borrowed; "null device", a PortAudio device name... */
  uint32_t audio_len;    /* 0..255 */
} proto_engine;

typedef struct proto_transport {
  uint8_t command; /* 1 = play, 2 = stop, 3 = play after the project's count-in */
} proto_transport;

/* "Listen here": the client asks for (1) or stops (0) the master as audio. */
typedef struct proto_listen {
  uint8_t on; /* 0 or 1 */
} proto_listen;

/* One Opus packet of the master (48 kHz stereo, 120-sample frames,
 * restricted low delay): the wire form of "listen here". */
typedef struct proto_audio {
  uint32_t seq;        /* packet number, +1 per packet sent by the encoder (losses show as gaps) */
  uint64_t position;   /* engine frame clock of the packet's first sample */
  uint64_t sent_us;    /* server's CLOCK_REALTIME at sending, microseconds */
  const uint8_t *data; /* Opus packet; decode: borrowed from the input */
  uint16_t len;        /* bytes in data, 1..PROTO_MAX_AUDIO */
} proto_audio;

/* One decoded message. */
typedef struct proto_msg {
  uint8_t type; /* proto_type */
  union {
    proto_hello hello;
    proto_welcome welcome;
    proto_submit submit;
    proto_ack ack;
    proto_reject reject;
    proto_broadcast broadcast;
    proto_presence presence;
    proto_meters meters;
    proto_transport transport;
    proto_live live;
    proto_listen listen;
    proto_audio audio;
    proto_launch launch;
    proto_note note;
    proto_engine engine;
  } u;
} proto_msg;

/* Room for what a decoded message points at. Large (~60 kB): allocate it
 * once per connection or thread, not on a small stack. */
typedef struct proto_scratch {
  mdl_op ops[MDL_TXN_MAX_OPS];
  mdl_prop_value props[PROTO_MAX_PROPS];
  mdl_project *project; /* set by the caller: WELCOME's snapshot is loaded into it */
} proto_scratch;

/* Decodes the message in DATA[0..LEN) into *out. Strings and ops borrow from
 * DATA and SCRATCH, valid while both are. On error *out is unspecified and
 * the return says what was wrong; *at (if not NULL) gets the byte offset.
 * Values are checked for wire-level sanity (known kinds, finite reals,
 * UTF-8 text, counts within limits); model rules are checked on apply.
 * Possible errors: every PROTO_ERR_* but NO_SPACE. */
int proto_decode(const void *data, size_t len, proto_scratch *scratch, proto_msg *out, size_t *at);

/* Encodes MSG into BUF[0..CAP); returns the length (> 0) or a negative
 * proto_err (PROTO_ERR_NO_SPACE, PROTO_ERR_TOO_BIG, PROTO_ERR_UNKNOWN_TYPE). */
int proto_encode(const proto_msg *msg, void *buf, size_t cap);

/* The transaction alone, as stored in the op log and inside SUBMIT and
 * BROADCAST: u16 n_ops then the ops. Same contracts as above. */
int proto_encode_txn(const mdl_txn *txn, void *buf, size_t cap);
int proto_decode_txn(const void *data, size_t len, proto_scratch *scratch, mdl_txn *out);

/* A project snapshot (the canonical state) alone; used by WELCOME and by
 * storage's snapshots. */
int proto_encode_project(const mdl_project *p, void *buf, size_t cap);
/* Bytes proto_encode_project needs for P. */
size_t proto_project_size(const mdl_project *p);
int proto_decode_project(const void *data, size_t len, mdl_project *out);

#endif
