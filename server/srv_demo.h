/* srv_demo: the demo song a new studio starts with, so that the first
 * "tools/dev run" plays music: drums, bass, a pad and a reverb return.
 *
 * Built as ordinary transactions from ORIGIN's id space and handed to
 * APPLY one by one (the server commits them to the project's log like any
 * edit). Control thread only. */
#ifndef SRV_DEMO_H
#define SRV_DEMO_H

#include "shared/mdl_op.h"

#include <stddef.h>

/* Applies TXN; returns 0 or an error, with a sentence in ERR. */
typedef int (*srv_demo_apply_fn)(void *ud, const mdl_txn *txn, char *err, size_t err_len);

/* Builds the demo through APPLY. Returns 0 or the first error APPLY gave. */
int srv_demo_build(uint32_t origin, srv_demo_apply_fn apply, void *ud, char *err, size_t err_len);

#endif
