/* backline: the server process. Parses the command line, wires the engine,
 * the control thread, the studio front (libwebsockets) and the operator
 * port (CivetWeb) together, and waits for SIGINT/SIGTERM to stop cleanly.
 * `backline render` renders a stored project offline instead. */
#include "engine/eng_backend.h"
#include "protocol/proto_msg.h"
#include "server/srv_assets.h"
#include "server/srv_control.h"
#include "server/srv_err.h"
#include "server/srv_http.h"
#include "server/srv_listen.h"
#include "server/srv_ops.h"
#include "server/srv_plan.h"
#include "server/srv_render.h"
#include "server/srv_tls.h"
#include "storage/sto_project.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HOSTS 16

typedef struct options {
  const char *data, *bind, *cert, *key, *web, *wasm;
  int port, https_port, ops_port;
  bool headless;
  const char *device;     /* --device N|name, or NULL for the default output */
  uint32_t buffer_frames; /* --buffer FRAMES, or 0 for the engine's default */
  uint32_t lookahead;     /* --lookahead FRAMES: the anticipative cohort's reach, 0 = off */
  const char *hosts[MAX_HOSTS];
  size_t n_hosts;
} options;

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: backline [options]            serve the studio\n"
      "       backline render [--data DIR] PROJECT OUT.wav|OUT.flac --seconds S [--stems DIR]\n"
      "\n"
      "options:\n"
      "  --data DIR         data folder: projects, certificates (default ./data)\n"
      "  --port N           studio over HTTP (default 8080; 0 = off)\n"
      "  --https-port N     studio over HTTPS (default 8443; 0 = off)\n"
      "  --ops-port N       operator port: health, metrics, CA certificate (default 8090; 0 = "
      "off)\n"
      "  --bind ADDR        listen on this address only (default: all)\n"
      "  --host NAME        extra host name or address for the certificate (repeatable)\n"
      "  --cert FILE --key FILE   use this certificate for HTTPS instead of the studio's own CA\n"
      "  --headless         no sound card: play on the null device\n"
      "  --list-devices     print the audio devices (index, name, in/out channels, rate) and exit\n"
      "  --device N|NAME    play on this device (index or name from --list-devices; default:\n"
      "                     the default output); if it cannot be opened, the null device\n"
      "  --buffer FRAMES    frames per audio callback, 16..8192 (default 128)\n"
      "  --lookahead FRAMES render tracks that need no live input this far ahead on a worker\n"
      "                     thread, 0..16384 (default 512; 0 = everything on the audio thread)\n"
      "  --web DIR          serve the studio pages from DIR (default: the source tree's web/)\n"
      "  --wasm DIR         serve the wasm model from DIR (default: the build's wasm/)\n"
      "  --help             this text\n"
      "  --version          print the version\n"
      "\n"
      "render:\n"
      "  PROJECT is a project file (.backline) or a project id inside --data DIR.\n"
      "  Writes 48 kHz stereo 24-bit WAV or FLAC (by extension) of S seconds, as fast as the\n"
      "  CPU allows, and prints integrated loudness (LUFS) and true peak (dBTP).\n"
      "  --stems DIR        also write each track's post-fader output to DIR/track-ID.wav|flac\n");
}

/* Prints the audio devices PortAudio sees, one a line, and returns the exit
 * status. */
static int list_devices(void) {
  eng_device_info devs[256];
  int n = 0;
  char msg[256];
  if (eng_backend_list_devices(devs, 256, &n, msg, sizeof msg)) {
    fprintf(stderr, "backline: %s\n", msg);
    return 1;
  }
  if (n == 0) printf("no audio devices (no sound card): backline plays on the null device\n");
  if (n > 0) printf("index  in  out  rate   name\n");
  for (int i = 0; i < n && i < 256; i++)
    printf("%5d %3d %4d %6.0f  %s%s\n", devs[i].index, devs[i].in_channels, devs[i].out_channels,
           devs[i].default_rate, devs[i].name, devs[i].is_default ? " (default output)" : "");
  return 0;
}

/* Parses --buffer: a whole number of frames, 16..ENG_MAX_BLOCK_FRAMES. */
static bool parse_buffer(const char *s, uint32_t *out) {
  char *end;
  errno = 0;
  long v = s ? strtol(s, &end, 10) : -1;
  if (!s || errno || *end || v < 16 || v > ENG_MAX_BLOCK_FRAMES) {
    fprintf(stderr, "backline: --buffer needs a frame count from 16 to %d, not \"%s\"\n",
            ENG_MAX_BLOCK_FRAMES, s ? s : "");
    return false;
  }
  *out = (uint32_t) v;
  return true;
}

/* Parses --lookahead: 0 (off) .. 16384 frames. */
static bool parse_lookahead(const char *s, uint32_t *out) {
  char *end;
  errno = 0;
  long v = s ? strtol(s, &end, 10) : -1;
  if (!s || errno || *end || v < 0 || v > 16384) {
    fprintf(stderr, "backline: --lookahead needs a frame count from 0 to 16384, not \"%s\"\n",
            s ? s : "");
    return false;
  }
  *out = (uint32_t) v;
  return true;
}

/* Parses a port number; refuses anything but 0..65535. */
static bool parse_port(const char *opt, const char *s, int *out) {
  char *end;
  errno = 0;
  long v = s ? strtol(s, &end, 10) : -1;
  if (!s || errno || *end || v < 0 || v > 65535) {
    fprintf(stderr, "backline: %s needs a port number from 0 to 65535, not \"%s\"\n", opt,
            s ? s : "");
    return false;
  }
  *out = (int) v;
  return true;
}

static int parse(int argc, char **argv, options *o) {
  *o = (options){
      .data = "data", .port = 8080, .https_port = 8443, .ops_port = 8090, .lookahead = 512};
  o->web = BACKLINE_WEB_DIR;
  o->wasm = BACKLINE_WASM_DIR;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = true;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--version") == 0) {
      printf("backline %s\n", BACKLINE_VERSION);
      exit(0);
    } else if (strcmp(a, "--headless") == 0) {
      o->headless = true, takes = false;
    } else if (strcmp(a, "--list-devices") == 0) {
      exit(list_devices());
    } else if (strcmp(a, "--device") == 0) {
      if (!v || !*v) {
        fprintf(stderr, "backline: --device needs an index or a name (see --list-devices)\n");
        return 2;
      }
      o->device = v;
    } else if (strcmp(a, "--buffer") == 0) {
      if (!parse_buffer(v, &o->buffer_frames)) return 2;
    } else if (strcmp(a, "--lookahead") == 0) {
      if (!parse_lookahead(v, &o->lookahead)) return 2;
    } else if (strcmp(a, "--port") == 0) {
      if (!parse_port(a, v, &o->port)) return 2;
    } else if (strcmp(a, "--https-port") == 0) {
      if (!parse_port(a, v, &o->https_port)) return 2;
    } else if (strcmp(a, "--ops-port") == 0) {
      if (!parse_port(a, v, &o->ops_port)) return 2;
    } else if (strcmp(a, "--data") == 0 || strcmp(a, "--bind") == 0 || strcmp(a, "--cert") == 0 ||
               strcmp(a, "--key") == 0 || strcmp(a, "--web") == 0 || strcmp(a, "--wasm") == 0 ||
               strcmp(a, "--host") == 0) {
      if (!v || !*v) {
        fprintf(stderr, "backline: %s needs a value\n", a);
        return 2;
      }
      if (strcmp(a, "--data") == 0)
        o->data = v;
      else if (strcmp(a, "--bind") == 0)
        o->bind = v;
      else if (strcmp(a, "--cert") == 0)
        o->cert = v;
      else if (strcmp(a, "--key") == 0)
        o->key = v;
      else if (strcmp(a, "--web") == 0)
        o->web = v;
      else if (strcmp(a, "--wasm") == 0)
        o->wasm = v;
      else if (o->n_hosts < MAX_HOSTS)
        o->hosts[o->n_hosts++] = v;
      else {
        fprintf(stderr, "backline: at most %d --host options\n", MAX_HOSTS);
        return 2;
      }
    } else {
      fprintf(stderr, "backline: unknown option \"%s\" (see backline --help)\n", a);
      return 2;
    }
    if (takes) i++;
  }
  if (!o->cert != !o->key) {
    fprintf(stderr, "backline: --cert and --key go together\n");
    return 2;
  }
  if (o->port && (o->port == o->https_port || o->port == o->ops_port)) {
    fprintf(stderr, "backline: the HTTP, HTTPS and operator ports must differ\n");
    return 2;
  }
  if (o->https_port && o->https_port == o->ops_port) {
    fprintf(stderr, "backline: the HTTPS and operator ports must differ\n");
    return 2;
  }
  return 0;
}

/* ---- render ------------------------------------------------------------------- */

static int render_main(int argc, char **argv) {
  const char *data = "data", *project = NULL, *out = NULL, *stems = NULL;
  double seconds = -1;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      data = argv[++i];
    } else if (strcmp(argv[i], "--stems") == 0 && i + 1 < argc) {
      stems = argv[++i];
    } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      char *end;
      seconds = strtod(argv[++i], &end);
      if (*end || !(seconds > 0 && seconds <= 3600)) {
        fprintf(stderr, "backline render: --seconds needs a number from 0 to 3600, not \"%s\"\n",
                argv[i]);
        return 2;
      }
    } else if (strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "backline render: unknown option \"%s\"\n", argv[i]);
      return 2;
    } else if (!project) {
      project = argv[i];
    } else if (!out) {
      out = argv[i];
    } else {
      fprintf(stderr, "backline render: unexpected argument \"%s\"\n", argv[i]);
      return 2;
    }
  }
  if (!project || !out || seconds < 0) {
    fprintf(stderr, "usage: backline render [--data DIR] PROJECT OUT.wav|OUT.flac --seconds S "
                    "[--stems DIR]\n");
    return 2;
  }
  char path[PATH_MAX], err[600];
  struct stat st;
  if (strchr(project, '/') || stat(project, &st) == 0)
    snprintf(path, sizeof path, "%s", project);
  else
    snprintf(path, sizeof path, "%s/projects/%s.backline", data, project);
  sto_project *sp;
  int rc = sto_project_open(path, STO_OPEN_EXISTING, &sp, err, sizeof err);
  mdl_project *m = mdl_project_create(&srv__alloc, NULL);
  uint64_t seq = 0;
  if (!rc && !m) rc = SRV_ERR_NOMEM, snprintf(err, sizeof err, "out of memory");
  if (!rc) rc = sto_project_load_model(sp, m, &seq, err, sizeof err);
  sto_project_close(sp);
  if (rc) {
    fprintf(stderr, "backline render: %s\n", err);
    mdl_project_destroy(m);
    return 1;
  }
  char assets_dir[PATH_MAX];
  snprintf(assets_dir, sizeof assets_dir, "%s/assets", data);
  srv_plan_ctx *plans = srv_plan_ctx_create(assets_dir);
  eng_render_opts ro = eng_render_opts_default();
  ro.seconds = seconds;
  ro.stems_dir = stems;
  eng_render_report rep;
  rc = srv_render_project(plans, m, out, &ro, &rep, err, sizeof err);
  if (rc) {
    fprintf(stderr, "backline render: %s\n", err);
  } else {
    printf("rendered \"%s\" (%u tracks, %.1f BPM, seq %llu) to %s: %.2f s at 48 kHz\n",
           mdl_get_str(m, MDL_ID_PROJECT, MDL_PROP_NAME, NULL), mdl_tracks(m, NULL, 0),
           mdl_get_real(m, MDL_ID_PROJECT, MDL_PROP_TEMPO), (unsigned long long) seq, out, seconds);
    if (stems) printf("stems: %u files in %s\n", rep.n_stems, stems);
    printf("loudness: %.1f LUFS integrated, true peak %.1f dBTP, sample peak %.1f dBFS\n",
           rep.loudness_lufs, rep.true_peak_dbtp, rep.sample_peak_dbfs);
  }
  mdl_project_destroy(m);
  srv_plan_ctx_destroy(plans);
  return rc ? 1 : 0;
}

/* Prints the studio's address on each LAN interface (IPv4), so a musician
 * knows what to type on a phone or another laptop. */
static void print_lan_urls(int port, int https_port) {
  struct ifaddrs *ifs, *i;
  if (getifaddrs(&ifs) != 0) return;
  for (i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char ip[INET_ADDRSTRLEN];
    const struct sockaddr_in *sin = (const struct sockaddr_in *) i->ifa_addr;
    if (!inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip) || strncmp(ip, "127.", 4) == 0) continue;
    if (port) printf("  on LAN:  http://%s:%d/", ip, port);
    if (https_port) printf("%s https://%s:%d/", port ? "  or" : "  on LAN: ", ip, https_port);
    printf("  (%s)\n", i->ifa_name);
  }
  freeifaddrs(ifs);
}

/* ---- serve --------------------------------------------------------------------- */

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "render") == 0) return render_main(argc, argv);
  options o;
  int rc = parse(argc, argv, &o);
  if (rc) return rc;

  /* Signals are taken by sigwait in this thread only; threads inherit the mask. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN); /* a file size limit is an error to report, not a reason to die */
  setvbuf(stdout, NULL, _IOLBF, 0);

  char err[600], audio_msg[256] = "";
  eng_engine *engine = NULL;
  eng_backend *backend = NULL;
  eng_config ecfg = eng_config_default();
  if (o.buffer_frames) ecfg.block_frames = o.buffer_frames;
  ecfg.lookahead_frames = o.lookahead, ecfg.workers = 1;
  eng_backend_config bcfg = eng_backend_config_default();
  bcfg.kind = o.headless ? ENG_BACKEND_NULL : ENG_BACKEND_AUTO;
  bcfg.device = o.device;
  rc = eng_engine_create(&ecfg, &engine);
  if (!rc) rc = eng_backend_open_with(engine, &bcfg, &backend, audio_msg, sizeof audio_msg);
  if (rc) {
    fprintf(stderr, "backline: audio engine: %s\n", audio_msg[0] ? audio_msg : srv_strerror(rc));
    eng_engine_destroy(engine);
    return 1;
  }

  srv_tls_paths tls = {0};
  int https_port = o.https_port;
  if (mkdir(o.data, 0755) && errno != EEXIST) {
    fprintf(stderr, "backline: cannot create data folder %s: %s\n", o.data, strerror(errno));
    rc = 1;
  }
  if (!rc && https_port) {
    int t = o.cert ? srv_tls_use_given(o.cert, o.key, &tls, err, sizeof err)
                   : srv_tls_ensure(o.data, o.hosts, o.n_hosts, &tls, err, sizeof err);
    if (t) {
      fprintf(stderr, "backline: HTTPS is off: %s\n", err);
      https_port = 0;
    }
  }

  srv_http *http = NULL;
  srv_control *control = NULL;
  srv_assets *assets = NULL;
  srv_ops *ops = NULL;
  srv_http_config hcfg = {o.bind, o.port, https_port, tls.cert, tls.key, o.web, o.wasm};
  if (!rc && (rc = srv_http_create(&hcfg, &http, err, sizeof err)))
    fprintf(stderr, "backline: %s\n", err);
  /* Listen here: the Opus encoder thread, idle until a page listens. Optional:
   * without it the studio runs and refuses LISTEN. */
  srv_listen *listen = NULL;
  srv_listen_config lcfg = srv_listen_config_default(engine);
  if (!rc && srv_listen_create(&lcfg, srv_http_sink(http), &listen, err, sizeof err))
    fprintf(stderr, "backline: listen here is off: %s\n", err);
  char assets_dir[PATH_MAX];
  snprintf(assets_dir, sizeof assets_dir, "%s/assets", o.data);
  srv_plan_ctx *plans = rc ? NULL : srv_plan_ctx_create(assets_dir);
  if (!rc && !plans) rc = SRV_ERR_NOMEM, fprintf(stderr, "backline: out of memory\n");
  srv_control_config ccfg = {o.data, engine, backend ? eng_backend_name(backend) : "none", listen,
                             plans};
  if (!rc && (rc = srv_control_create(&ccfg, srv_http_sink(http), &control, err, sizeof err)))
    fprintf(stderr, "backline: %s\n", err);
  srv_assets_config acfg = {o.data, ecfg.sample_rate, control};
  if (!rc && (rc = srv_assets_create(&acfg, srv_http_sink(http), &assets, err, sizeof err)))
    fprintf(stderr, "backline: %s\n", err);
  if (!rc) srv_http_set_assets(http, assets);
  if (!rc && (rc = srv_http_start(http, control)))
    fprintf(stderr, "backline: cannot start the network thread\n");
  srv_ops_config ocfg = {o.ops_port,           o.bind, tls.ca_cert, https_port,
                         srv_control_readonly, control};
  if (!rc && o.ops_port && (rc = srv_ops_start(&ocfg, &ops, err, sizeof err)))
    fprintf(stderr, "backline: operator port: %s\n", err);

  if (!rc) {
    char host[256] = "localhost";
    if (o.bind && strcmp(o.bind, "0.0.0.0") != 0 && strcmp(o.bind, "::") != 0)
      snprintf(host, sizeof host, "%s", o.bind);
    char real_data[PATH_MAX];
    printf("Backline %s\n", BACKLINE_VERSION);
    if (audio_msg[0])
      printf("  audio:   %s\n", audio_msg);
    else
      printf("  audio:   %s\n", eng_backend_name(backend));
    if (o.port) printf("  studio:  http://%s:%d/\n", host, o.port);
    if (https_port)
      printf(
          "  secure:  https://%s:%d/  (phones and other machines: trust the studio's CA first)\n",
          host, https_port);
    if (!o.bind || strcmp(host, "localhost") == 0) print_lan_urls(o.port, https_port);
    if (o.ops_port)
      printf("  trust:   http://%s:%d/  (CA certificate, health, metrics)\n", host, o.ops_port);
    printf("  data:    %s\n", realpath(o.data, real_data) ? real_data : o.data);
    printf("Press Ctrl-C to stop.\n");
    int sig = 0;
    sigwait(&sigs, &sig);
    printf("\nbackline: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  }
  srv_ops_stop(ops);
  srv_assets_stop(assets); /* it sends to the front and posts to the control thread */
  srv_control_stop(control);
  srv_listen_destroy(listen); /* after the control thread (it sets listeners), before the front */
  srv_http_destroy(http);
  srv_control_destroy(control);
  srv_assets_destroy(assets);
  eng_backend_close(backend);
  eng_engine_destroy(engine);
  srv_plan_ctx_destroy(plans); /* after the engine: its plans borrowed the samples */
  return rc ? 1 : 0;
}
