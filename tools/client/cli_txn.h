/* cli_txn: a small builder for transactions, for tests and benches.
 *
 * mdl_txn borrows everything it points at (ops, create properties, strings);
 * this builder owns that storage in one fixed-size struct, so a test can
 * write
 *   cli_txn t;
 *   cli_txn_init(&t);
 *   cli_txn_create_track(&t, id, "Bass");
 *   cli_txn_set_real(&t, id, MDL_PROP_GAIN, 0.5);
 *   cli_client_submit(c, cli_txn_get(&t), &local_id, NULL);
 * Strings are copied into the builder. The pointers inside the mdl_txn that
 * cli_txn_get returns are fixed up at that call, so the builder may be copied
 * or moved before it, but the returned txn is valid only while the builder is
 * alive and unchanged. A builder that ran out of room (more than CLI_TXN_OPS
 * ops, CLI_TXN_PROPS create properties or CLI_TXN_TEXT bytes of text) remembers
 * it and cli_txn_get returns NULL. No allocation; not thread-safe (one owner). */
#ifndef CLI_TXN_H
#define CLI_TXN_H

#include "shared/mdl_op.h"

#include <stdbool.h>
#include <stdint.h>

#define CLI_TXN_OPS   32   /* ops in one built transaction */
#define CLI_TXN_PROPS 64   /* create properties across the transaction */
#define CLI_TXN_TEXT  4096 /* bytes of copied strings */

typedef struct cli_txn {
  mdl_txn txn; /* what cli_txn_get returns */
  mdl_op ops[CLI_TXN_OPS];
  mdl_prop_value props[CLI_TXN_PROPS];
  uint32_t n_props;
  /* private: strings are stored as offsets into text until cli_txn_get */
  char text[CLI_TXN_TEXT];
  uint32_t n_text;
  uint32_t op_text[CLI_TXN_OPS][2];     /* offset + 1 (0 = none), length */
  uint32_t prop_text[CLI_TXN_PROPS][2]; /* same for create properties */
  uint32_t prop_first[CLI_TXN_OPS];     /* index of the op's first create property */
  bool overflow;
} cli_txn;

/* Empties the builder. */
void cli_txn_init(cli_txn *t);

/* Appends a create of a track with id ID (take it from cli_client_new_id)
 * and, if NAME is not NULL, an initial name. */
void cli_txn_create_track(cli_txn *t, mdl_id id, const char *name);
/* Adds an initial property to the create op appended last (ignored, with
 * overflow set, if the last op is not a create). */
void cli_txn_create_prop(cli_txn *t, int prop, const mdl_value *v);

/* Appends a set of property PROP of object ID (MDL_ID_PROJECT for the
 * project). V's string, if any, is copied. */
void cli_txn_set(cli_txn *t, mdl_id id, int prop, const mdl_value *v);
void cli_txn_set_real(cli_txn *t, mdl_id id, int prop, double v);
void cli_txn_set_int(cli_txn *t, mdl_id id, int prop, int64_t v);
void cli_txn_set_bool(cli_txn *t, mdl_id id, int prop, bool v);
void cli_txn_set_str(cli_txn *t, mdl_id id, int prop, const char *s);

/* Appends a delete of object ID. */
void cli_txn_delete(cli_txn *t, mdl_id id);
/* Appends a move of track ID after track AFTER (MDL_ID_NONE: first). */
void cli_txn_move(cli_txn *t, mdl_id id, mdl_id after);

/* The transaction built so far (borrowed from T, valid until T changes or
 * dies), or NULL if the builder overflowed or holds no op. */
const mdl_txn *cli_txn_get(cli_txn *t);

#endif
