/* Tests of srv_tls: the studio's own CA and server certificate. Each test
 * works in a fresh folder under /tmp, removed afterwards. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "server/srv_tls.h"

static char dir[256];
static char err[256];

static void make_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/backline-tls-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  err[0] = '\0';
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void) st, (void) flag, (void) ftw;
  return remove(path);
}

static void remove_dir(void) {
  if (dir[0]) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(srv_tls, .init = make_dir, .fini = remove_dir);

/* ---- helpers ------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  char *data = malloc(1 << 16);
  size_t n = fread(data, 1, (1 << 16) - 1, f);
  fclose(f);
  data[n] = '\0';
  *len = n;
  return data;
}

static int same_file(const char *a, const char *b_path_or_bytes, size_t b_len) {
  size_t n;
  char *data = slurp(a, &n);
  int same = n == b_len && memcmp(data, b_path_or_bytes, n) == 0;
  free(data);
  return same;
}

static X509 *load_cert(const char *path) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "cannot open %s", path);
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  cr_assert_not_null(x, "%s does not parse", path);
  return x;
}

/* In-process `openssl verify -CAfile CA CERT` for a TLS server. */
static int verifies(const char *ca_path, const char *cert_path) {
  X509 *ca = load_cert(ca_path), *cert = load_cert(cert_path);
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX_init(ctx, store, cert, NULL);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  int ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(ca);
  X509_free(cert);
  return ok;
}

/* Whether CERT's subjectAltName holds DNS name NAME or IP literal NAME. */
static int san_has(const char *cert_path, const char *name) {
  X509 *x = load_cert(cert_path);
  GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  unsigned char ip[16];
  int ip_len = inet_pton(AF_INET, name, ip) == 1 ? 4 : inet_pton(AF_INET6, name, ip) == 1 ? 16 : 0;
  int found = 0;
  for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    if (g->type == GEN_DNS && !ip_len) {
      found |= (size_t) ASN1_STRING_length(g->d.dNSName) == strlen(name) &&
               memcmp(ASN1_STRING_get0_data(g->d.dNSName), name, strlen(name)) == 0;
    } else if (g->type == GEN_IPADD && ip_len) {
      found |= ASN1_STRING_length(g->d.iPAddress) == ip_len &&
               memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip, (size_t) ip_len) == 0;
    }
  }
  GENERAL_NAMES_free(gens);
  X509_free(x);
  return found;
}

static mode_t mode_of(const char *path) {
  struct stat st;
  cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
  return st.st_mode & 0777;
}

static void ensure_ok(srv_tls_paths *p, const char *const *extra, size_t n_extra) {
  int rc = srv_tls_ensure(dir, extra, n_extra, p, err, sizeof err);
  cr_assert_eq(rc, 0, "srv_tls_ensure failed: %s", err);
}

/* ---- srv_tls_ensure ----------------------------------------------------- */

Test(srv_tls, ensure_creates_four_files_with_private_keys) {
  srv_tls_paths p;
  ensure_ok(&p, NULL, 0);
  char path[512];
  snprintf(path, sizeof path, "%s/tls/ca.pem", dir);
  cr_assert_str_eq(p.ca_cert, path);
  snprintf(path, sizeof path, "%s/tls/server.pem", dir);
  cr_assert_str_eq(p.cert, path);
  snprintf(path, sizeof path, "%s/tls/server-key.pem", dir);
  cr_assert_str_eq(p.key, path);
  cr_assert_eq(mode_of(p.key), 0600);
  snprintf(path, sizeof path, "%s/tls/ca-key.pem", dir);
  cr_assert_eq(mode_of(path), 0600);
  mode_of(p.ca_cert);
  mode_of(p.cert);
}

Test(srv_tls, ensure_makes_missing_data_folder) {
  char sub[300];
  snprintf(sub, sizeof sub, "%s/a/b", dir);
  srv_tls_paths p;
  cr_assert_eq(srv_tls_ensure(sub, NULL, 0, &p, err, sizeof err), 0, "%s", err);
  cr_assert(verifies(p.ca_cert, p.cert));
}

Test(srv_tls, second_call_reuses_ca_and_server_cert) {
  srv_tls_paths p1, p2;
  size_t ca_len, cert_len;
  ensure_ok(&p1, NULL, 0);
  char *ca = slurp(p1.ca_cert, &ca_len), *cert = slurp(p1.cert, &cert_len);
  ensure_ok(&p2, NULL, 0);
  cr_assert(same_file(p2.ca_cert, ca, ca_len), "the CA changed");
  cr_assert(same_file(p2.cert, cert, cert_len), "the server certificate was re-issued");
  free(ca);
  free(cert);
}

Test(srv_tls, server_cert_verifies_against_ca) {
  srv_tls_paths p;
  ensure_ok(&p, NULL, 0);
  cr_assert(verifies(p.ca_cert, p.cert));
  cr_assert_not(verifies(p.cert, p.cert), "the server certificate must not verify as its own CA");
}

Test(srv_tls, ca_and_server_cert_have_the_promised_shape) {
  srv_tls_paths p;
  ensure_ok(&p, NULL, 0);
  X509 *ca = load_cert(p.ca_cert), *cert = load_cert(p.cert);
  char cn[128];
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn, sizeof cn);
  cr_assert(strncmp(cn, "Backline studio CA (", 20) == 0, "CA name: %s", cn);
  cr_assert_geq(X509_check_ca(ca), 1);
  cr_assert(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
  cr_assert_eq(X509_check_ca(cert), 0);
  cr_assert(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
  int days, secs;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert));
  cr_assert_leq(days, 825, "server certificate lives %d days", days);
  cr_assert_geq(days, 800);
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca), X509_get0_notAfter(ca));
  cr_assert_geq(days, 3650);
  EVP_PKEY *key = X509_get0_pubkey(cert);
  cr_assert_eq(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  cr_assert_eq(EVP_PKEY_get_bits(key), 256);
  X509_free(ca);
  X509_free(cert);
}

Test(srv_tls, san_contains_localhost_loopback_hostname_and_extras) {
  srv_tls_paths p;
  const char *extra[] = {"Studio.Example", "10.9.8.7", "fd00::17"};
  ensure_ok(&p, extra, 3);
  cr_assert(san_has(p.cert, "localhost"));
  cr_assert(san_has(p.cert, "127.0.0.1"));
  cr_assert(san_has(p.cert, "::1"));
  cr_assert(san_has(p.cert, "studio.example"), "extra names are lower-cased");
  cr_assert(san_has(p.cert, "10.9.8.7"));
  cr_assert(san_has(p.cert, "fd00::17"));
  char host[256];
  cr_assert_eq(gethostname(host, sizeof host), 0);
  for (char *c = host; *c; c++)
    *c = (char) tolower((unsigned char) *c);
  if (strcmp(host, "localhost") != 0) cr_assert(san_has(p.cert, host), "no DNS:%s", host);
}

Test(srv_tls, deleting_server_pem_reissues_it_with_same_ca) {
  srv_tls_paths p;
  size_t ca_len;
  ensure_ok(&p, NULL, 0);
  char *ca = slurp(p.ca_cert, &ca_len);
  cr_assert_eq(unlink(p.cert), 0);
  ensure_ok(&p, NULL, 0);
  cr_assert(same_file(p.ca_cert, ca, ca_len), "the CA must be kept");
  cr_assert(verifies(p.ca_cert, p.cert));
  free(ca);
}

Test(srv_tls, new_name_reissues_server_cert_and_keeps_ca) {
  srv_tls_paths p;
  size_t ca_len, cert_len;
  ensure_ok(&p, NULL, 0);
  char *ca = slurp(p.ca_cert, &ca_len), *cert = slurp(p.cert, &cert_len);
  const char *extra[] = {"new-name.lan"};
  ensure_ok(&p, extra, 1);
  cr_assert(same_file(p.ca_cert, ca, ca_len), "the CA must be kept");
  cr_assert_not(same_file(p.cert, cert, cert_len), "the server certificate was not re-issued");
  cr_assert(san_has(p.cert, "new-name.lan"));
  cr_assert(verifies(p.ca_cert, p.cert));
  free(ca);
  free(cert);
}

Test(srv_tls, mismatched_server_key_is_replaced) {
  srv_tls_paths p;
  ensure_ok(&p, NULL, 0);
  char ca_key[600];
  snprintf(ca_key, sizeof ca_key, "%s/tls/ca-key.pem", dir);
  size_t n;
  char *other = slurp(ca_key, &n);
  FILE *f = fopen(p.key, "wb");
  fwrite(other, 1, n, f);
  fclose(f);
  free(other);
  ensure_ok(&p, NULL, 0);
  srv_tls_paths given;
  cr_assert_eq(srv_tls_use_given(p.cert, p.key, &given, err, sizeof err), 0, "%s", err);
}

Test(srv_tls, widened_key_permissions_are_tightened) {
  srv_tls_paths p;
  ensure_ok(&p, NULL, 0);
  chmod(p.key, 0644);
  ensure_ok(&p, NULL, 0);
  cr_assert_eq(mode_of(p.key), 0600);
}

Test(srv_tls, ca_without_its_key_is_refused_not_replaced) {
  srv_tls_paths p;
  size_t ca_len;
  ensure_ok(&p, NULL, 0);
  char *ca = slurp(p.ca_cert, &ca_len);
  char ca_key[600];
  snprintf(ca_key, sizeof ca_key, "%s/tls/ca-key.pem", dir);
  cr_assert_eq(unlink(ca_key), 0);
  cr_assert_eq(srv_tls_ensure(dir, NULL, 0, &p, err, sizeof err), -501);
  cr_assert(strstr(err, "ca-key.pem") != NULL, "message: %s", err);
  cr_assert_eq(p.cert[0], '\0', "out must be zeroed on failure");
  char ca_path[600];
  snprintf(ca_path, sizeof ca_path, "%s/tls/ca.pem", dir);
  cr_assert(same_file(ca_path, ca, ca_len), "the CA must not be replaced");
  free(ca);
}

Test(srv_tls, invalid_extra_name_is_refused) {
  srv_tls_paths p;
  const char *extra[] = {"bad name\"><"};
  cr_assert_eq(srv_tls_ensure(dir, extra, 1, &p, err, sizeof err), -501);
  cr_assert(strstr(err, "neither a host name") != NULL, "message: %s", err);
}

Test(srv_tls, data_folder_that_is_a_file_is_refused) {
  char file[300];
  snprintf(file, sizeof file, "%s/plain-file", dir);
  FILE *f = fopen(file, "w");
  fclose(f);
  srv_tls_paths p;
  cr_assert_eq(srv_tls_ensure(file, NULL, 0, &p, err, sizeof err), -501);
  cr_assert(strstr(err, "plain-file") != NULL, "message: %s", err);
}

/* ---- srv_tls_use_given and srv_tls_fingerprint -------------------------- */

Test(srv_tls, use_given_accepts_matching_pair) {
  srv_tls_paths p, given;
  ensure_ok(&p, NULL, 0);
  cr_assert_eq(srv_tls_use_given(p.cert, p.key, &given, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(given.cert, p.cert);
  cr_assert_str_eq(given.key, p.key);
  cr_assert_str_eq(given.ca_cert, "");
}

Test(srv_tls, use_given_refuses_mismatched_key) {
  srv_tls_paths p, given;
  ensure_ok(&p, NULL, 0);
  char ca_key[600];
  snprintf(ca_key, sizeof ca_key, "%s/tls/ca-key.pem", dir);
  cr_assert_eq(srv_tls_use_given(p.cert, ca_key, &given, err, sizeof err), -501);
  cr_assert(strstr(err, "does not match") != NULL, "message: %s", err);
  cr_assert_str_eq(given.cert, "");
}

Test(srv_tls, use_given_names_the_missing_file) {
  srv_tls_paths p, given;
  ensure_ok(&p, NULL, 0);
  cr_assert_eq(srv_tls_use_given("/nonexistent/cert.pem", p.key, &given, err, sizeof err), -501);
  cr_assert(strstr(err, "/nonexistent/cert.pem") != NULL, "message: %s", err);
  cr_assert_eq(srv_tls_use_given(p.key, p.key, &given, err, sizeof err), -501);
  cr_assert(strstr(err, "not a PEM certificate") != NULL, "message: %s", err);
}

Test(srv_tls, fingerprint_is_sha256_of_the_certificate) {
  srv_tls_paths p;
  ensure_ok(&p, NULL, 0);
  char fp[SRV_TLS_FINGERPRINT_LEN], want[SRV_TLS_FINGERPRINT_LEN] = "";
  cr_assert_eq(srv_tls_fingerprint(p.ca_cert, fp, sizeof fp, err, sizeof err), 0, "%s", err);
  X509 *x = load_cert(p.ca_cert);
  unsigned char md[32];
  unsigned int n;
  X509_digest(x, EVP_sha256(), md, &n);
  X509_free(x);
  for (unsigned i = 0; i < 32; i++)
    snprintf(want + strlen(want), sizeof want - strlen(want), i ? ":%02X" : "%02X", md[i]);
  cr_assert_str_eq(fp, want);
  cr_assert_eq(strlen(fp), 95);
}
