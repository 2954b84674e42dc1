/* sim_converge: a randomized convergence test of the op log, in plain C so
 * that the very same simulation runs natively (Criterion) and on the wasm
 * build (node).
 *
 * One simulated server and N clients (mdl_replica) exchange real protocol
 * messages (proto_encode/proto_decode) through queues. A seeded random
 * schedule interleaves local edits of every kind, server receipt, delivery,
 * disconnects that lose whatever is in flight, offline batches of edits and
 * reconnects that ask for the old id space. At the end everything is
 * delivered and every client, the server and a replay of the server's log
 * must agree on the state hash. */
#ifndef SIM_CONVERGE_H
#define SIM_CONVERGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_result {
  uint64_t ops_submitted; /* ops accepted by a replica and sent (or queued offline) */
  uint64_t txns_applied;  /* transactions in the server's log */
  uint64_t rejects;       /* transactions the server refused (conflicts) */
  uint64_t disconnects;   /* connections lost with messages in flight */
  uint64_t deduped;       /* pending edits dropped on reconnect: already in the log */
  uint64_t server_hash;
  uint64_t log_bytes; /* the log as stored, in wire encoding */
  uint64_t objects;   /* objects in the final project */
  char error[256];    /* empty when all agreed */
} sim_result;

/* Runs the simulation. Returns 0 when every replica, the server and the
 * replay agree, nonzero otherwise (error says what and the seed). Uses
 * malloc. The log (u32 length + u32 origin + txn bytes, repeated) is
 * written to *log when LOG is not NULL (free with free()). */
int sim_converge(uint32_t seed, int n_clients, uint64_t n_ops, sim_result *out, uint8_t **log);

#endif
