/* cli_txn: transaction builder with its own storage. */
#include "tools/client/cli_txn.h"

#include <string.h>

void cli_txn_init(cli_txn *t) {
  memset(t, 0, sizeof *t);
}

static mdl_op *add_op(cli_txn *t, uint8_t kind, mdl_id id) {
  if (t->txn.n_ops >= CLI_TXN_OPS) {
    t->overflow = true;
    return NULL;
  }
  uint32_t i = t->txn.n_ops++;
  mdl_op *op = &t->ops[i];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->id = id;
  t->op_text[i][0] = t->op_text[i][1] = 0;
  t->prop_first[i] = t->n_props;
  return op;
}

/* Copies V's string into the text area; returns offset + 1, or 0. */
static uint32_t keep_text(cli_txn *t, const mdl_value *v) {
  if (v->kind != MDL_VAL_STR) return 0;
  if (v->u.s.len > CLI_TXN_TEXT - t->n_text) {
    t->overflow = true;
    return 0;
  }
  uint32_t at = t->n_text;
  if (v->u.s.len) memcpy(t->text + at, v->u.s.ptr, v->u.s.len);
  t->n_text += v->u.s.len;
  return at + 1;
}

void cli_txn_create_track(cli_txn *t, mdl_id id, const char *name) {
  mdl_op *op = add_op(t, MDL_OP_CREATE, id);
  if (!op) return;
  op->type = MDL_TYPE_TRACK;
  if (name) {
    mdl_value v = {.kind = MDL_VAL_STR};
    v.u.s.ptr = name;
    v.u.s.len = (uint32_t) strlen(name);
    cli_txn_create_prop(t, MDL_PROP_NAME, &v);
  }
}

void cli_txn_create_prop(cli_txn *t, int prop, const mdl_value *v) {
  if (t->txn.n_ops == 0 || t->ops[t->txn.n_ops - 1].kind != MDL_OP_CREATE ||
      t->n_props >= CLI_TXN_PROPS) {
    t->overflow = true;
    return;
  }
  mdl_op *op = &t->ops[t->txn.n_ops - 1];
  uint32_t k = t->n_props++;
  t->props[k].prop = (uint8_t) prop;
  t->props[k].value = *v;
  t->prop_text[k][0] = keep_text(t, v);
  t->prop_text[k][1] = v->kind == MDL_VAL_STR ? v->u.s.len : 0;
  op->n_props++;
}

void cli_txn_set(cli_txn *t, mdl_id id, int prop, const mdl_value *v) {
  mdl_op *op = add_op(t, MDL_OP_SET, id);
  if (!op) return;
  op->prop = (uint8_t) prop;
  op->value = *v;
  uint32_t i = t->txn.n_ops - 1;
  t->op_text[i][0] = keep_text(t, v);
  t->op_text[i][1] = v->kind == MDL_VAL_STR ? v->u.s.len : 0;
}

void cli_txn_set_real(cli_txn *t, mdl_id id, int prop, double v) {
  mdl_value x = {.kind = MDL_VAL_REAL};
  x.u.r = v;
  cli_txn_set(t, id, prop, &x);
}

void cli_txn_set_int(cli_txn *t, mdl_id id, int prop, int64_t v) {
  mdl_value x = {.kind = MDL_VAL_INT};
  x.u.i = v;
  cli_txn_set(t, id, prop, &x);
}

void cli_txn_set_bool(cli_txn *t, mdl_id id, int prop, bool v) {
  mdl_value x = {.kind = MDL_VAL_BOOL};
  x.u.b = v;
  cli_txn_set(t, id, prop, &x);
}

void cli_txn_set_str(cli_txn *t, mdl_id id, int prop, const char *s) {
  mdl_value x = {.kind = MDL_VAL_STR};
  x.u.s.ptr = s;
  x.u.s.len = (uint32_t) strlen(s);
  cli_txn_set(t, id, prop, &x);
}

void cli_txn_delete(cli_txn *t, mdl_id id) {
  (void) add_op(t, MDL_OP_DELETE, id);
}

void cli_txn_move(cli_txn *t, mdl_id id, mdl_id after) {
  mdl_op *op = add_op(t, MDL_OP_MOVE, id);
  if (op) op->after = after;
}

const mdl_txn *cli_txn_get(cli_txn *t) {
  if (t->overflow || t->txn.n_ops == 0) return NULL;
  for (uint32_t i = 0; i < t->txn.n_ops; i++) {
    mdl_op *op = &t->ops[i];
    if (t->op_text[i][0]) op->value.u.s.ptr = t->text + t->op_text[i][0] - 1;
    if (op->kind == MDL_OP_CREATE) op->props = op->n_props ? &t->props[t->prop_first[i]] : NULL;
  }
  for (uint32_t k = 0; k < t->n_props; k++)
    if (t->prop_text[k][0]) t->props[k].value.u.s.ptr = t->text + t->prop_text[k][0] - 1;
  t->txn.ops = t->ops;
  return &t->txn;
}
