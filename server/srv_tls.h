/* srv_tls: the studio's own certificate authority.
 *
 * Browsers give microphones, AudioWorklets, WebCodecs and motion sensors only
 * to secure origins, so a phone on the LAN needs the studio over HTTPS. On the
 * first start the server makes a small certificate authority (CA) and a server
 * certificate for every name and address of the machine, and keeps them in its
 * data folder; later starts reuse them. A device trusts the CA once (the
 * operator port, srv_ops, serves it with instructions) and keeps trusting the
 * studio when its addresses change, because only the server certificate is
 * re-issued, never the CA. An operator can give a real certificate instead
 * (srv_tls_use_given).
 *
 * Uses OpenSSL 3's libcrypto in-process; it never runs the openssl tool.
 * Called by the server at startup, before any network thread runs. Functions
 * touch only their arguments and the files named below, so two threads may
 * call them on different folders; calling srv_tls_ensure twice at once on the
 * same folder is not supported (each file is replaced atomically, but the two
 * calls may issue two different certificates). */
#ifndef SRV_TLS_H
#define SRV_TLS_H

#include <stddef.h>

#define SRV_TLS_PATH_MAX        512  /* size of each path in srv_tls_paths, NUL included */
#define SRV_TLS_CA_DAYS         3650 /* the CA lives 10 years */
#define SRV_TLS_SERVER_DAYS     825  /* Apple's and browsers' limit for a server certificate */
#define SRV_TLS_RENEW_DAYS      30   /* re-issue a server certificate this close to its expiry */
#define SRV_TLS_FINGERPRINT_LEN 96   /* SHA-256 as "AB:CD:...": 95 chars + NUL */

/* Where the certificate files are. All paths are NUL-terminated. */
typedef struct srv_tls_paths {
  char ca_cert[SRV_TLS_PATH_MAX]; /* the CA certificate to hand out; "" with a given cert */
  char cert[SRV_TLS_PATH_MAX];    /* the server certificate (PEM) for the TLS listener */
  char key[SRV_TLS_PATH_MAX];     /* its private key (PEM, unencrypted, mode 0600) */
} srv_tls_paths;

/* ---- the studio's own CA ------------------------------------------------ */

/* Makes sure DATA_DIR/tls/ holds a CA and a server certificate for this
 * machine, creating DATA_DIR and DATA_DIR/tls (mode 0700) when missing:
 *   ca.pem         CA certificate, CN "Backline studio CA (<hostname>)",
 *                  10 years, basicConstraints CA:TRUE (critical), keyUsage
 *                  keyCertSign + cRLSign;
 *   ca-key.pem     its key, mode 0600;
 *   server.pem     server certificate signed by the CA, 825 days, EKU
 *                  serverAuth, subjectAltName DNS:localhost, DNS:<hostname>,
 *                  DNS:<short hostname>.local, IP:127.0.0.1, IP:::1, every
 *                  address of the machine's interfaces that are up (except
 *                  loopback and IPv6 link-local, which no browser URL can
 *                  use), and each of EXTRA_NAMES;
 *   server-key.pem its key, mode 0600.
 * Keys are EC P-256, signatures SHA-256, serial numbers random.
 *
 * The CA is made only when ca.pem is missing; an existing CA is always kept,
 * because every device that trusts the studio trusts exactly that CA. The
 * server certificate is re-issued (new key, same CA) when it or its key is
 * missing or unreadable, the two do not match, it was not signed by this CA,
 * it expires within SRV_TLS_RENEW_DAYS, or it lacks a name or address the
 * machine now has. Each file is written to a temporary name and renamed, so a
 * crash leaves the old file or the new one, never half of one. Existing key
 * files get mode 0600 again if they had wider permissions.
 *
 * EXTRA_NAMES (borrowed, may be NULL when N_EXTRA is 0) are host names or IP
 * literals (IPv4, or IPv6 without brackets) that must also be in the
 * certificate, e.g. a DNS name given on the command line.
 *
 * On success fills OUT and returns 0. On failure zeroes OUT, writes one
 * sentence naming what went wrong into ERR (ERR_LEN bytes, may be 0) and
 * returns -501 (SRV_ERR_TLS).
 * Possible errors (all -501): a path too long; the folder cannot be created or
 * written; ca.pem exists but ca-key.pem is missing or does not match it (a new
 * CA would silently break every device's trust, so the operator decides); a
 * CA file that does not parse; an invalid extra name; OpenSSL failing to
 * generate a key or sign. */
int srv_tls_ensure(const char *data_dir, const char *const *extra_names, size_t n_extra,
                   srv_tls_paths *out, char *err, size_t err_len);

/* ---- an operator-given certificate -------------------------------------- */

/* Checks a certificate and key the operator gave: both files exist and parse
 * as PEM (the certificate file may hold a chain; its first certificate is the
 * server's), the key is not encrypted, the key belongs to the certificate, and
 * the certificate has not expired. Fills OUT with the two paths and an empty
 * ca_cert (the studio then has no CA of its own to hand out). Reads only;
 * never prompts for a pass phrase.
 * Returns 0, or -501 (SRV_ERR_TLS) with one sentence in ERR and OUT zeroed.
 * Possible errors (all -501): a path too long; a file missing or unreadable;
 * not a PEM certificate; not a PEM private key or an encrypted one; the key
 * does not match the certificate; the certificate has expired. */
int srv_tls_use_given(const char *cert_path, const char *key_path, srv_tls_paths *out, char *err,
                      size_t err_len);

/* ---- helpers ------------------------------------------------------------ */

/* Writes the SHA-256 fingerprint of the first certificate in the PEM file
 * CERT_PATH into OUT as upper-case hex pairs joined by ':' (95 characters +
 * NUL, the form browsers and `openssl x509 -fingerprint -sha256` show).
 * OUT_LEN must be at least SRV_TLS_FINGERPRINT_LEN.
 * Returns 0, or -501 (SRV_ERR_TLS) with one sentence in ERR and OUT set to "".
 * Possible errors: the file is missing or not a PEM certificate; OUT too small. */
int srv_tls_fingerprint(const char *cert_path, char *out, size_t out_len, char *err,
                        size_t err_len);

#endif
