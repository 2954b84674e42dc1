/* srv_tls: the studio's own certificate authority. See srv_tls.h.
 *
 * Layout: small helpers (errors, files, names) → certificate making →
 * checking an existing server certificate → the public functions. All OpenSSL
 * objects are freed on every path; the OpenSSL error queue of the calling
 * thread is cleared before returning. */
#include "server/srv_err.h"
#include "server/srv_tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CN_MAX 64 /* X.520 upper bound for a commonName */

/* ------------------------------------------------------------------------ */
/* errors                                                                   */
/* ------------------------------------------------------------------------ */

/* The reason OpenSSL gave for its latest error, or "unknown reason". */
static const char *ossl_reason(void) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  return r ? r : "unknown reason";
}

/* ------------------------------------------------------------------------ */
/* files                                                                    */
/* ------------------------------------------------------------------------ */

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* mkdir -p with mode 0700 for every folder it makes. */
static int make_dirs(const char *dir, char *err, size_t err_len) {
  char buf[SRV_TLS_PATH_MAX];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof buf) {
    srv_set_err(err, err_len, "data folder path is empty or longer than %d bytes",
                SRV_TLS_PATH_MAX - 1);
    return -1;
  }
  memcpy(buf, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
      srv_set_err(err, err_len, "cannot create folder %s: %s", buf, strerror(errno));
      return -1;
    }
    buf[i] = saved;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    srv_set_err(err, err_len, "%s exists but is not a folder", dir);
    return -1;
  }
  return 0;
}

static X509 *read_cert(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  return x;
}

/* Refuses to prompt on the terminal for a pass phrase: encrypted keys fail. */
static int no_pass_phrase(char *buf, int size, int rwflag, void *ud) {
  (void) buf, (void) size, (void) rwflag, (void) ud;
  return -1;
}

static EVP_PKEY *read_key(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, no_pass_phrase, NULL);
  fclose(f);
  return k;
}

/* Writes CERT or KEY (exactly one non-NULL) as PEM to PATH through a
 * temporary file and rename(), with MODE, flushed to disk. */
static int write_pem(const char *path, X509 *cert, EVP_PKEY *key, mode_t mode, char *err,
                     size_t err_len) {
  char tmp[SRV_TLS_PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    srv_set_err(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  FILE *f = fdopen(fd, "w");
  if (!f) {
    srv_set_err(err, err_len, "cannot write %s: %s", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    return -1;
  }
  errno = 0;
  int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  ok = ok && fchmod(fd, mode) == 0 && fflush(f) == 0 && fsync(fd) == 0;
  ok = (fclose(f) == 0) && ok;
  ok = ok && rename(tmp, path) == 0;
  if (!ok) {
    srv_set_err(err, err_len, "cannot write %s: %s", path, errno ? strerror(errno) : ossl_reason());
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* Makes the renames in DIR durable; failure here loses nothing already
 * written, so it is not reported. */
static void sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* A private key must not be readable by others even if someone widened it. */
static void tighten(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && (st.st_mode & 0077)) chmod(path, 0600);
}

/* ------------------------------------------------------------------------ */
/* the names a server certificate must carry                               */
/* ------------------------------------------------------------------------ */

/* Lower-case letters, digits, '-' and '.', labels of 1..63, total 1..253. */
static int valid_dns(const char *s) {
  size_t n = strlen(s), label = 0;
  if (n == 0 || n > 253) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c == '.') {
      if (label == 0) return 0;
      label = 0;
    } else if (isalnum(c) || c == '-') {
      if (++label > 63) return 0;
    } else {
      return 0;
    }
  }
  return label > 0;
}

/* Pushes GN onto NAMES unless an equal name is there; takes GN either way. */
static int push_unique(GENERAL_NAMES *names, GENERAL_NAME *gn) {
  for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(names, i), gn) == 0) {
      GENERAL_NAME_free(gn);
      return 0;
    }
  }
  if (sk_GENERAL_NAME_push(names, gn) <= 0) {
    GENERAL_NAME_free(gn);
    return -1;
  }
  return 0;
}

/* Adds a DNS name (lower-cased; must be valid_dns). */
static int add_dns(GENERAL_NAMES *names, const char *name) {
  char low[254];
  size_t n = strlen(name);
  if (n >= sizeof low) return -1;
  for (size_t i = 0; i <= n; i++)
    low[i] = (char) tolower((unsigned char) name[i]);
  if (!valid_dns(low)) return -1;
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_IA5STRING *s = ASN1_IA5STRING_new();
  if (!gn || !s || !ASN1_STRING_set(s, low, (int) n)) {
    GENERAL_NAME_free(gn);
    ASN1_IA5STRING_free(s);
    return -1;
  }
  GENERAL_NAME_set0_value(gn, GEN_DNS, s);
  return push_unique(names, gn);
}

/* Adds an IP address: 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
static int add_ip(GENERAL_NAMES *names, const void *addr, int len) {
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
  if (!gn || !s || !ASN1_OCTET_STRING_set(s, addr, len)) {
    GENERAL_NAME_free(gn);
    ASN1_OCTET_STRING_free(s);
    return -1;
  }
  GENERAL_NAME_set0_value(gn, GEN_IPADD, s);
  return push_unique(names, gn);
}

/* The machine's host name, lower-cased; "" when it has none. */
static void host_name(char *out, size_t out_len) {
  if (gethostname(out, out_len) != 0) out[0] = '\0';
  out[out_len - 1] = '\0';
  for (char *p = out; *p; p++)
    *p = (char) tolower((unsigned char) *p);
}

/* Every name and address the server certificate must carry (see srv_tls.h).
 * Returns NULL with ERR set on failure. */
static GENERAL_NAMES *wanted_names(const char *const *extra, size_t n_extra, char *err,
                                   size_t err_len) {
  GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
  struct ifaddrs *ifs = NULL;
  if (!names) goto nomem;

  static const unsigned char v4_loop[4] = {127, 0, 0, 1};
  if (add_dns(names, "localhost") != 0 || add_ip(names, v4_loop, 4) != 0 ||
      add_ip(names, &in6addr_loopback, 16) != 0)
    goto nomem;

  char host[256];
  host_name(host, sizeof host);
  if (valid_dns(host) && strcmp(host, "localhost") != 0) {
    if (add_dns(names, host) != 0) goto nomem;
    size_t n = strlen(host);
    if (n < 6 || strcmp(host + n - 6, ".local") != 0) {
      char local[256];
      snprintf(local, sizeof local, "%.*s.local", (int) strcspn(host, "."), host);
      if (valid_dns(local) && add_dns(names, local) != 0) goto nomem;
    }
  }

  if (getifaddrs(&ifs) != 0) {
    srv_set_err(err, err_len, "cannot list the machine's network addresses: %s", strerror(errno));
    goto fail;
  }
  for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    int rc = 0;
    if (i->ifa_addr->sa_family == AF_INET) {
      const struct in_addr *a =
          &((const struct sockaddr_in *) (const void *) i->ifa_addr)->sin_addr;
      if ((ntohl(a->s_addr) >> 24) == 127) continue;
      rc = add_ip(names, a, 4);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const struct in6_addr *a =
          &((const struct sockaddr_in6 *) (const void *) i->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a)) continue;
      rc = add_ip(names, a, 16);
    }
    if (rc != 0) goto nomem;
  }
  freeifaddrs(ifs);
  ifs = NULL;

  for (size_t k = 0; k < n_extra; k++) {
    const char *e = extra[k];
    unsigned char addr[16];
    int rc;
    if (!e) continue;
    if (inet_pton(AF_INET, e, addr) == 1) {
      rc = add_ip(names, addr, 4);
    } else if (inet_pton(AF_INET6, e, addr) == 1) {
      rc = add_ip(names, addr, 16);
    } else {
      char low[256];
      snprintf(low, sizeof low, "%s", e);
      for (char *p = low; *p; p++)
        *p = (char) tolower((unsigned char) *p);
      if (strlen(e) >= sizeof low || !valid_dns(low)) {
        srv_set_err(err, err_len,
                    "extra name \"%.80s\" is neither a host name (letters, digits, '-', '.') "
                    "nor an IP address",
                    e);
        goto fail;
      }
      rc = add_dns(names, low);
    }
    if (rc != 0) goto nomem;
  }
  return names;

nomem:
  srv_set_err(err, err_len, "out of memory while listing the certificate's names");
fail:
  if (ifs) freeifaddrs(ifs);
  GENERAL_NAMES_free(names);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* making keys and certificates                                             */
/* ------------------------------------------------------------------------ */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
  if (!ext) return -1;
  int ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? 0 : -1;
}

/* Issues a certificate for SUBJECT_KEY named CN. With ISSUER NULL it is a
 * self-signed CA; otherwise a server certificate signed by ISSUER/ISSUER_KEY
 * carrying SAN. Returns NULL on failure (reason in the OpenSSL queue). */
static X509 *issue(EVP_PKEY *subject_key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                   long days, GENERAL_NAMES *san) {
  X509 *x = X509_new();
  BIGNUM *serial = BN_new();
  if (!x || !serial) goto fail;

  /* Random positive serial: re-made certificates never collide in a browser's
   * cache of (issuer, serial) pairs. */
  if (!X509_set_version(x, 2) || !BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)))
    goto fail;
  /* An hour back for devices whose clocks run a little behind. */
  if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
      !X509_time_adj_ex(X509_getm_notAfter(x), (int) days, 0, NULL))
    goto fail;

  X509_NAME *name = X509_get_subject_name(x);
  if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *) "Backline", -1,
                                  -1, 0) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0))
    goto fail;
  if (!X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) ||
      !X509_set_pubkey(x, subject_key))
    goto fail;

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
  if (!issuer) {
    if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash"))
      goto fail;
  } else {
    if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
        add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
        X509_add1_ext_i2d(x, NID_subject_alt_name, san, 0, X509V3_ADD_DEFAULT) != 1)
      goto fail;
  }
  if (X509_sign(x, issuer ? issuer_key : subject_key, EVP_sha256()) <= 0) goto fail;
  BN_free(serial);
  return x;

fail:
  BN_free(serial);
  X509_free(x);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* checking an existing server certificate                                  */
/* ------------------------------------------------------------------------ */

static int signed_by(X509 *cert, X509 *ca) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int ok = store && ctx && X509_STORE_add_cert(store, ca) &&
           X509_STORE_CTX_init(ctx, store, cert, NULL) &&
           X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) && X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

static int covers(X509 *cert, GENERAL_NAMES *wanted) {
  GENERAL_NAMES *have = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  if (!have) return 0;
  int all = 1;
  for (int i = 0; all && i < sk_GENERAL_NAME_num(wanted); i++) {
    int found = 0;
    for (int j = 0; !found && j < sk_GENERAL_NAME_num(have); j++)
      found =
          GENERAL_NAME_cmp(sk_GENERAL_NAME_value(wanted, i), sk_GENERAL_NAME_value(have, j)) == 0;
    all = found;
  }
  GENERAL_NAMES_free(have);
  return all;
}

/* Whether the server certificate at CERT_PATH/KEY_PATH can be kept. */
static int server_cert_usable(const char *cert_path, const char *key_path, X509 *ca,
                              GENERAL_NAMES *wanted) {
  X509 *cert = read_cert(cert_path);
  EVP_PKEY *key = read_key(key_path);
  int ok = cert && key && X509_check_private_key(cert, key) == 1 && signed_by(cert, ca) &&
           covers(cert, wanted);
  if (ok) {
    time_t renew = time(NULL) + (time_t) SRV_TLS_RENEW_DAYS * 86400;
    ok = X509_cmp_time(X509_get0_notAfter(cert), &renew) > 0;
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* public                                                                   */
/* ------------------------------------------------------------------------ */

static int join(char *out, const char *dir, const char *file) {
  int n = snprintf(out, SRV_TLS_PATH_MAX, "%s/%s", dir, file);
  return n > 0 && n < SRV_TLS_PATH_MAX ? 0 : -1;
}

int srv_tls_ensure(const char *data_dir, const char *const *extra_names, size_t n_extra,
                   srv_tls_paths *out, char *err, size_t err_len) {
  char dir[SRV_TLS_PATH_MAX], ca_key_path[SRV_TLS_PATH_MAX];
  srv_tls_paths p;
  X509 *ca = NULL, *cert = NULL;
  EVP_PKEY *ca_key = NULL, *key = NULL;
  GENERAL_NAMES *wanted = NULL;
  int rc = SRV_ERR_TLS;

  if (out) memset(out, 0, sizeof *out);
  if (!data_dir || !out || (n_extra && !extra_names)) {
    srv_set_err(err, err_len, "srv_tls_ensure was called without a data folder or result");
    return SRV_ERR_TLS;
  }
  ERR_clear_error();
  memset(&p, 0, sizeof p);
  if (join(dir, data_dir, "tls") || join(p.ca_cert, dir, "ca.pem") ||
      join(ca_key_path, dir, "ca-key.pem") || join(p.cert, dir, "server.pem") ||
      join(p.key, dir, "server-key.pem") || strlen(p.key) + 8 >= SRV_TLS_PATH_MAX) {
    srv_set_err(err, err_len, "data folder path %.100s is too long for the certificate files",
                data_dir);
    goto done;
  }
  if (make_dirs(dir, err, err_len) != 0) goto done;
  if (!(wanted = wanted_names(extra_names, n_extra, err, err_len))) goto done;

  char host[256], cn[CN_MAX + 1];
  host_name(host, sizeof host);

  int new_ca = !exists(p.ca_cert);
  if (new_ca) {
    snprintf(cn, sizeof cn, "Backline studio CA (%.43s)", host[0] ? host : "localhost");
    if (!(ca_key = EVP_EC_gen("P-256")) ||
        !(ca = issue(ca_key, cn, NULL, NULL, SRV_TLS_CA_DAYS, NULL))) {
      srv_set_err(err, err_len, "cannot make the studio's CA: %s", ossl_reason());
      goto done;
    }
    if (write_pem(ca_key_path, NULL, ca_key, 0600, err, err_len) ||
        write_pem(p.ca_cert, ca, NULL, 0644, err, err_len))
      goto done;
  } else {
    if (!(ca = read_cert(p.ca_cert))) {
      srv_set_err(err, err_len,
                  "%s is not a readable PEM certificate; move it away to make a new CA "
                  "(every device must then trust the new one)",
                  p.ca_cert);
      goto done;
    }
    if (!exists(ca_key_path) || !(ca_key = read_key(ca_key_path))) {
      srv_set_err(err, err_len,
                  "%s is missing or unreadable, so the studio's CA cannot sign; restore it, "
                  "or move %s away to make a new CA (every device must then trust the new one)",
                  ca_key_path, p.ca_cert);
      goto done;
    }
    if (X509_check_private_key(ca, ca_key) != 1) {
      srv_set_err(err, err_len, "%s does not belong to %s; restore the matching key", ca_key_path,
                  p.ca_cert);
      goto done;
    }
    if (X509_check_ca(ca) < 1 || X509_cmp_current_time(X509_get0_notAfter(ca)) <= 0) {
      srv_set_err(err, err_len,
                  "%s is not a CA certificate or has expired; move it away to make a new CA",
                  p.ca_cert);
      goto done;
    }
  }

  if (new_ca || !server_cert_usable(p.cert, p.key, ca, wanted)) {
    snprintf(cn, sizeof cn, "%.64s", valid_dns(host) ? host : "localhost");
    ERR_clear_error();
    if (!(key = EVP_EC_gen("P-256")) ||
        !(cert = issue(key, cn, ca, ca_key, SRV_TLS_SERVER_DAYS, wanted))) {
      srv_set_err(err, err_len, "cannot issue the server certificate: %s", ossl_reason());
      goto done;
    }
    /* Key first: a crash between the two renames leaves a mismatched pair,
     * which the next start detects and re-issues. */
    if (write_pem(p.key, NULL, key, 0600, err, err_len) ||
        write_pem(p.cert, cert, NULL, 0644, err, err_len))
      goto done;
  }
  sync_dir(dir);
  tighten(ca_key_path);
  tighten(p.key);
  *out = p;
  rc = 0;

done:
  X509_free(ca);
  X509_free(cert);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(key);
  GENERAL_NAMES_free(wanted);
  ERR_clear_error();
  return rc;
}

int srv_tls_use_given(const char *cert_path, const char *key_path, srv_tls_paths *out, char *err,
                      size_t err_len) {
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  int rc = SRV_ERR_TLS;

  if (out) memset(out, 0, sizeof *out);
  if (!cert_path || !key_path || !out) {
    srv_set_err(err, err_len,
                "srv_tls_use_given needs a certificate path, a key path and a result");
    return SRV_ERR_TLS;
  }
  ERR_clear_error();
  if (strlen(cert_path) >= SRV_TLS_PATH_MAX || strlen(key_path) >= SRV_TLS_PATH_MAX) {
    srv_set_err(err, err_len, "certificate or key path is longer than %d bytes",
                SRV_TLS_PATH_MAX - 1);
    goto done;
  }
  if (access(cert_path, R_OK) != 0) {
    srv_set_err(err, err_len, "cannot read certificate %s: %s", cert_path, strerror(errno));
    goto done;
  }
  if (access(key_path, R_OK) != 0) {
    srv_set_err(err, err_len, "cannot read key %s: %s", key_path, strerror(errno));
    goto done;
  }
  if (!(cert = read_cert(cert_path))) {
    srv_set_err(err, err_len, "%s is not a PEM certificate", cert_path);
    goto done;
  }
  if (!(key = read_key(key_path))) {
    srv_set_err(err, err_len,
                "%s is not a PEM private key, or it is encrypted (give an unencrypted key)",
                key_path);
    goto done;
  }
  if (X509_check_private_key(cert, key) != 1) {
    srv_set_err(err, err_len, "key %s does not match certificate %s", key_path, cert_path);
    goto done;
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
    srv_set_err(err, err_len, "certificate %s has expired", cert_path);
    goto done;
  }
  snprintf(out->cert, sizeof out->cert, "%s", cert_path);
  snprintf(out->key, sizeof out->key, "%s", key_path);
  rc = 0;

done:
  X509_free(cert);
  EVP_PKEY_free(key);
  ERR_clear_error();
  return rc;
}

int srv_tls_fingerprint(const char *cert_path, char *out, size_t out_len, char *err,
                        size_t err_len) {
  if (out && out_len) out[0] = '\0';
  if (!cert_path || !out || out_len < SRV_TLS_FINGERPRINT_LEN) {
    srv_set_err(err, err_len, "srv_tls_fingerprint needs a path and %d bytes of output",
                SRV_TLS_FINGERPRINT_LEN);
    return SRV_ERR_TLS;
  }
  X509 *x = read_cert(cert_path);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = x && X509_digest(x, EVP_sha256(), md, &n) && n == 32;
  X509_free(x);
  ERR_clear_error();
  if (!ok) {
    srv_set_err(err, err_len, "%s is missing or not a PEM certificate", cert_path);
    return SRV_ERR_TLS;
  }
  for (unsigned int i = 0; i < n; i++)
    snprintf(out + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
  return 0;
}
