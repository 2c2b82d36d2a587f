#include "server/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "base/strings.h"
#include "profiles/dev_token.h"

namespace carnet {
namespace {

struct Setting {
  const char* name;  // flag --name, env CARNET_NAME (upper case, '-' -> '_'), file key name
  const char* help;
  std::function<std::string(const Config&)> get;
  std::function<Status(Config&, const std::string&)> set;
};

Status ParseInt(const std::string& name, const std::string& v, long long lo, long long hi,
                long long* out) {
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > hi)
    return BadRequest("setting " + name + ": expected a whole number from " + std::to_string(lo) +
                      " to " + std::to_string(hi) + ", got '" + v + "'");
  *out = n;
  return Status::Ok();
}

Status ParseBool(const std::string& name, const std::string& v, bool* out) {
  if (v == "1" || v == "true" || v == "yes" || v == "on")
    *out = true;
  else if (v == "0" || v == "false" || v == "no" || v == "off")
    *out = false;
  else
    return BadRequest("setting " + name + ": expected true or false, got '" + v + "'");
  return Status::Ok();
}

#define INT_SETTING(field, lo, hi, help)                                            \
  Setting {                                                                         \
#field, help, [](const Config& c) { return std::to_string(c.field); },            \
        [](Config& c, const std::string& v) {                                         \
          long long n;                                                                \
          CARNET_RETURN_IF_ERROR(ParseInt(#field, v, lo, hi, &n));                     \
          c.field = static_cast<decltype(c.field)>(n);                                \
          return Status::Ok();                                                        \
        } \
  }
#define STRING_SETTING(field, help)                                                            \
  Setting {                                                                                    \
#field, help, [](const Config& c) { return c.field; }, [](Config& c, const std::string& v) { \
      c.field = v;                                                                         \
      return Status::Ok();                                                                 \
    } \
  }

// A setting that takes one of a few words.
Setting EnumSetting(const char* name, const char* help, std::string Config::*field,
                    std::vector<std::string> allowed) {
  return Setting{name, help, [field](const Config& c) { return c.*field; },
                 [name, field, allowed](Config& c, const std::string& v) {
                   std::string list;
                   for (const auto& a : allowed) {
                     if (v == a) {
                       c.*field = v;
                       return Status::Ok();
                     }
                     list += (list.empty() ? "" : ", ") + a;
                   }
                   return BadRequest(std::string("setting ") + name + ": expected one of " + list +
                                     ", got '" + v + "'");
                 }};
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      STRING_SETTING(bind, "address to listen on (keep it on loopback behind a TLS proxy)"),
      INT_SETTING(port, 1, 65535, "HTTP port"),
      STRING_SETTING(data_dir, "data directory (private PostgreSQL cluster, keys)"),
      STRING_SETTING(db, "libpq connection string; empty: the cluster under data_dir"),
      STRING_SETTING(pg_bin_dir,
                     "directory of PostgreSQL's pg_dump and pg_restore (backup, restore)"),
      INT_SETTING(db_pool_size, 1, 512, "database connections"),
      INT_SETTING(db_acquire_timeout_ms, 1, 600000, "wait for a free connection (ms)"),
      INT_SETTING(db_statement_timeout_ms, 0, 3600000,
                  "PostgreSQL statement_timeout of request statements (ms); longer ones answer "
                  "503; 0: none"),
      INT_SETTING(workers, 1, 1024, "request worker threads"),
      INT_SETTING(reactor_threads, 1, 64, "HTTP I/O threads"),
      INT_SETTING(max_request_size, 1024, 1LL << 31,
                  "largest request body accepted (bytes, counted as it arrives, chunked or not): "
                  "413 and the connection closed beyond"),
      STRING_SETTING(public_base_url,
                     "FHIR base URL as clients reach it; empty: http://bind:port/fhir"),
      INT_SETTING(xds_max_query_results, 1, 1000000, "most objects an ITI-18 stored query returns"),
      INT_SETTING(search_max_params, 1, 10000, "most parameters in one FHIR search request"),
      INT_SETTING(search_max_or_values, 1, 10000,
                  "most comma-separated values of one search parameter"),
      INT_SETTING(search_max_chain_depth, 0, 1, "most links of a search chain or _has (0: none)"),
      INT_SETTING(search_max_includes, 0, 1000, "most _include plus _revinclude in one search"),
      INT_SETTING(shutdown_grace_ms, 0, 600000, "time given to in-flight requests on SIGTERM"),
      Setting{"debug_routes", "serve /debug/* test helpers (never in production)",
              [](const Config& c) { return std::string(c.debug_routes ? "true" : "false"); },
              [](Config& c, const std::string& v) {
                return ParseBool("debug_routes", v, &c.debug_routes);
              }},
      STRING_SETTING(espace_dir,
                     "the patient's web space as built (index.html, assets/); empty: espace/ "
                     "beside the binary (build/espace)"),
      Setting{
          "dev_login",
          "serve POST /espace/dev-login: the web space picks a development patient or "
          "guardian and gets a token signed with the development key (never in production)",
          [](const Config& c) { return std::string(c.dev_login ? "true" : "false"); },
          [](Config& c, const std::string& v) { return ParseBool("dev_login", v, &c.dev_login); }},
      // Identity and access policy (issue 5).
      STRING_SETTING(jwks_file, "JWKS file of the trusted issuers' token signing keys"),
      STRING_SETTING(trusted_issuers, "comma-separated token issuers (iss) validated by jwks_file"),
      STRING_SETTING(jwks_urls,
                     "comma-separated JWKS URLs of the trusted issuers (https://, or http:// to "
                     "loopback), fetched at start, again after their max-age and when a token "
                     "names an unknown key (rotation without restart)"),
      INT_SETTING(jwks_timeout_ms, 100, 60000, "time limit of one JWKS fetch (ms)"),
      INT_SETTING(jwks_max_age_s, 1, 86400,
                  "how long fetched keys are kept when the answer gives no Cache-Control max-age"),
      INT_SETTING(jwks_min_refetch_s, 1, 3600,
                  "least time between two JWKS fetches, whatever the tokens say (seconds)"),
      STRING_SETTING(audience, "audience (aud) every token must name"),
      INT_SETTING(clock_skew_s, 0, 600, "clock skew allowed on token exp and nbf (seconds)"),
      INT_SETTING(
          max_token_lifetime_s, 60, 30 * 24 * 3600,
          "longest lifetime a token may claim, exp - iat and exp - now (seconds): 401 beyond"),
      Setting{"trust_dev_key", "trust tokens from `carnet token` (development key under data_dir)",
              [](const Config& c) { return std::string(c.trust_dev_key ? "true" : "false"); },
              [](Config& c, const std::string& v) {
                return ParseBool("trust_dev_key", v, &c.trust_dev_key);
              }},
      INT_SETTING(emergency_window_s, 60, 86400, "duration of an emergency access (seconds)"),
      // SMART App Launch authorization server (issue 17).
      INT_SETTING(smart_access_token_lifetime_s, 1, 3600,
                  "lifetime of the access tokens carnet issues to catalogue apps (seconds)"),
      INT_SETTING(smart_refresh_token_lifetime_s, 60, 90 * 24 * 3600,
                  "lifetime of a refresh token (offline_access; seconds)"),
      INT_SETTING(smart_code_lifetime_s, 1, 600,
                  "lifetime of an authorization code (seconds; used once)"),
      STRING_SETTING(habilitation_matrix_file, "habilitation matrix file; empty: the built-in one"),
      // What a deposit of a document type no profession may read becomes (issue 19;
      // profiles::PolicyEnv says why these defaults).
      EnumSetting("deposit_unreadable_type",
                  "a deposit (FHIR, MHD, ITI-41) of a document type the habilitation matrix "
                  "lists but opens to no profession: refuse (422 business-rule / "
                  "XDSRegistryMetadataError naming the type), warn (accepted, with a warning in "
                  "the answer) or accept",
                  &Config::deposit_unreadable_type, {"refuse", "warn", "accept"}),
      EnumSetting("deposit_unlisted_type",
                  "the same for a document type the habilitation matrix does not list (which "
                  "no profession may read either); accept by default, since the built-in "
                  "matrix is examples and lacks the IHE and NIST test kits' types",
                  &Config::deposit_unlisted_type, {"accept", "warn", "refuse"}),
      STRING_SETTING(prevention_data_dir,
                     "directory of vaccination_calendar.tsv, screening_programmes.tsv and "
                     "vaccine_antigens.tsv ($reminders); empty: the built-in ones"),
      Setting{"https",
              "serve the main listener over TLS with tls_cert_file and tls_key_file (HTTPS, "
              "no client certificate asked); SIGHUP reloads both files without a restart",
              [](const Config& c) { return std::string(c.https ? "true" : "false"); },
              [](Config& c, const std::string& v) { return ParseBool("https", v, &c.https); }},
      // Mutual TLS (issue 5).
      INT_SETTING(tls_port, 0, 65535,
                  "port of the mutual-TLS listener for system callers; 0: none"),
      STRING_SETTING(tls_cert_file, "TLS server certificate (PEM)"),
      STRING_SETTING(tls_key_file, "TLS server private key (PEM)"),
      STRING_SETTING(tls_client_ca_file,
                     "CA certificate(s) that issue the callers' client certificates (PEM)"),
      STRING_SETTING(client_organisations_file,
                     "client certificate (CN or sha256:FINGERPRINT) -> organisation"),
      // Notifications (issue 5).
      STRING_SETTING(smtp_url,
                     "SMTP relay for e-mail notifications (smtp://host:port); empty: none"),
      STRING_SETTING(smtp_from, "sender address of e-mail notifications"),
      STRING_SETTING(smtp_tls,
                     "TLS to the SMTP relay: opportunistic (STARTTLS when offered) or required "
                     "(no delivery without STARTTLS)"),
      STRING_SETTING(smtp_ca_file,
                     "CA certificate(s) the SMTP relay's certificate is verified against (PEM); "
                     "empty: the system's"),
      STRING_SETTING(mail_domain,
                     "domain of the secure-messaging addresses (<INS>@patient.DOMAIN, "
                     "<first>.<last>@<profession>.DOMAIN)"),
      INT_SETTING(mail_max_bytes, 1024, 64 << 20,
                  "largest message received by mail (bytes; ingest-mail, POST /mail/inbound)"),
      INT_SETTING(mail_max_parts, 1, 1000, "most MIME parts of a message received by mail"),
      INT_SETTING(mail_max_depth, 1, 50, "deepest multipart nesting of a message received by mail"),
      STRING_SETTING(mail_relay_id,
                     "client id of the system actor `carnet-gateway ingest-mail` files mail as"),
      INT_SETTING(outbox_poll_ms, 10, 600000, "how often the notification outbox is polled (ms)"),
      STRING_SETTING(webhook_allowed_hosts,
                     "host[:port],... webhooks may reach although loopback, private or link-local "
                     "(refused otherwise, when set and again after DNS at delivery)"),
      INT_SETTING(outbox_max_attempts, 1, 100,
                  "delivery attempts before a notification is left for an operator"),
      INT_SETTING(reminder_days_before, 0, 365,
                  "days before a vaccination or screening falls due that its reminder is sent"),
      INT_SETTING(reminder_interval_s, 0, 86400,
                  "how often the gateway queues due reminders (s); 0: only `carnet-gateway "
                  "send-reminders`"),
      INT_SETTING(retention_days, 1, 36500,
                  "how long a closed record is archived before `carnet purge` erases it"),
      // Observability (issue 19).
      EnumSetting("metrics_access",
                  "who may read GET /metrics: loopback (peers on 127.0.0.0/8 or ::1), token "
                  "(Authorization: Bearer <metrics_token>, from anywhere) or open (anyone)",
                  &Config::metrics_access, {"loopback", "token", "open"}),
      STRING_SETTING(metrics_token, "the bearer token /metrics takes when metrics_access is token"),
      EnumSetting("log_target",
                  "where the log lines go: stdout, syslog (the local syslog socket, which "
                  "journald also reads; facility daemon, ident carnet) or both",
                  &Config::log_target, {"stdout", "syslog", "both"}),
      STRING_SETTING(syslog_socket,
                     "the local syslog socket log_target syslog or both writes to (an AF_UNIX "
                     "datagram socket, RFC 3164 lines)"),
  };
  return kSettings;
}

std::string FlagName(const char* name) {
  std::string f = name;
  for (char& ch : f)
    if (ch == '_') ch = '-';
  return f;
}

std::string EnvName(const char* name) {
  std::string e = "CARNET_";
  for (const char* p = name; *p; ++p) e.push_back(static_cast<char>(std::toupper(*p)));
  return e;
}

// What an unknown name could have meant: the close matches among `known`, as "; did you mean
// --a, --b?" ("" when none is close).
std::string DidYouMean(const std::string& word, const std::vector<std::string>& known) {
  std::string hint;
  for (const std::string& c : CloseMatches(word, known))
    hint += (hint.empty() ? "; did you mean " : ", ") + c;
  return hint.empty() ? "" : hint + "?";
}

// The setting names as a file writes them (db_pool_size) or as flags (--db-pool-size).
std::vector<std::string> SettingNames(bool as_flags) {
  std::vector<std::string> out;
  for (const auto& s : Settings()) out.push_back(as_flags ? "--" + FlagName(s.name) : s.name);
  if (as_flags)
    for (const char* f : {"--config", "--data", "--help"}) out.push_back(f);
  return out;
}

const Setting* Find(std::string key) {
  if (key == "data") key = "data_dir";  // the short form the ./carnet script documents
  for (const auto& s : Settings())
    if (key == s.name || key == FlagName(s.name)) return &s;
  return nullptr;
}

Status LoadFile(const std::string& path, Config& c) {
  std::ifstream in(path);
  if (!in) return BadRequest("cannot read config file " + path);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    auto eq = line.find('=');
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t\r"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    if (trim(line).empty()) continue;
    if (eq == std::string::npos)
      return BadRequest(path + ":" + std::to_string(lineno) + ": expected name = value");
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    const Setting* s = Find(key);
    if (!s)
      return BadRequest(path + ":" + std::to_string(lineno) + ": unknown setting " + key +
                        DidYouMean(key, SettingNames(false)));
    CARNET_RETURN_IF_ERROR(s->set(c, value));
  }
  return Status::Ok();
}

}  // namespace

std::string Config::EffectiveConninfo() const {
  if (!db.empty()) return db;
  std::error_code ec;
  auto abs = std::filesystem::absolute(data_dir, ec);
  std::string socket_dir = (ec ? std::filesystem::path(data_dir) : abs).string() + "/run";
  return "host=" + socket_dir + " dbname=carnet user=carnet connect_timeout=3";
}

std::string Config::FhirBaseUrl() const {
  if (!public_base_url.empty()) {
    std::string b = public_base_url;
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b;
  }
  return std::string(https ? "https://" : "http://") + bind + ":" + std::to_string(port) + "/fhir";
}

Result<Config> LoadConfig(int argc, char** argv, bool* help) {
  Config c;
  *help = false;
  std::vector<std::string> args(argv + 1, argv + argc);
  // The config file comes first so that environment and flags override it.
  std::string file;
  if (const char* env = std::getenv("CARNET_CONFIG_FILE")) file = env;
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--config") file = args[i + 1];
  if (!file.empty()) {
    CARNET_RETURN_IF_ERROR(LoadFile(file, c));
    c.config_file = file;
  }
  for (const auto& s : Settings()) {
    if (const char* env = std::getenv(EnvName(s.name).c_str())) {
      Status st = s.set(c, env);
      if (!st.ok()) return BadRequest(EnvName(s.name) + ": " + st.message());
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      *help = true;
      return c;
    }
    if (a == "--config") {
      ++i;
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      std::string key = a.substr(2), value;
      auto eq = key.find('=');
      if (eq != std::string::npos) {
        value = key.substr(eq + 1);
        key.erase(eq);
      }
      const Setting* s = Find(key);
      if (!s) {  // not a gateway setting: left for the command (token --actor ...)
        c.args.push_back(a);
        continue;
      }
      if (eq == std::string::npos) {
        if (i + 1 >= args.size()) return BadRequest("--" + key + " needs a value");
        value = args[++i];
      }
      CARNET_RETURN_IF_ERROR(s->set(c, value));
      continue;
    }
    if (c.command.empty())
      c.command = a;
    else
      c.args.push_back(a);
  }
  CARNET_RETURN_IF_ERROR(CheckCommandFlags(c));
  return c;
}

const std::map<std::string, std::vector<std::string>>& CommandFlags() {
  static const std::map<std::string, std::vector<std::string>> kFlags = {
      {"serve", {}},
      {"migrate", {"--dry-run"}},
      {"backup", {"--out"}},
      {"restore", {"--from"}},
      {"purge", {}},
      {"token", profiles::DevTokenFlags()},
      {"reindex", {"--type"}},
      {"audit-verify", {"--patient"}},
      {"ingest-mail", {"--recipient"}},
      {"send-reminders", {"--date"}},
      {"conformance", {"--base", "--token", "--var", "--report-dir"}},
  };
  return kFlags;
}

Status CheckCommandFlags(const Config& c) {
  auto it = CommandFlags().find(c.command);
  if (it == CommandFlags().end()) return Status::Ok();  // an unknown command: main says so
  const std::vector<std::string>& own = it->second;
  for (size_t i = 0; i < c.args.size(); ++i) {
    const std::string& a = c.args[i];
    if (a.rfind("--", 0) != 0) continue;
    std::string flag = a.substr(0, a.find('='));
    if (std::find(own.begin(), own.end(), flag) != own.end()) {
      // Its value (a flag's value may start with "--") is not a flag.
      if (flag == a && flag != "--consent" && flag != "--dry-run") ++i;
      continue;
    }
    std::vector<std::string> known = SettingNames(true);
    known.insert(known.end(), own.begin(), own.end());
    // No close match: the command's own flags, which is what the caller most likely meant.
    std::string hint = DidYouMean(flag, known);
    if (hint.empty() && !own.empty()) {
      hint = "; its own flags: ";
      for (size_t k = 0; k < own.size(); ++k) hint += (k ? ", " : "") + own[k];
    }
    return BadRequest("unknown flag " + flag + " for " + c.command + hint +
                      " (see carnet-gateway --help)");
  }
  return Status::Ok();
}

std::string HelpText() {
  std::ostringstream out;
  Config defaults;
  out << "carnet: FHIR R4 and IHE XDS.b gateway onto a personal health record\n\n"
      << "usage: carnet COMMAND [--setting value]...\n\n"
      << "commands:\n"
      << "  serve     run the gateway (the ./carnet script also starts PostgreSQL)\n"
      << "  migrate   apply database migrations and exit; [--dry-run] lists those pending\n"
      << "            and what each changes, applying none\n"
      << "  backup    --out DIR: the database (pg_dump, one snapshot), the keys and the\n"
      << "            configuration files, with a MANIFEST of SHA-256 hashes\n"
      << "  restore   --from DIR: a backup onto an empty database and data directory, checked\n"
      << "            against its MANIFEST, audit chains verified afterwards\n"
      << "  reindex   rebuild the search index ([--type T]) after adding a SearchParameter\n"
      << "  purge     erase the records closed more than --retention-days ago (audit kept)\n"
      << "  send-reminders  queue the vaccination and screening reminders due [--date YYYY-MM-DD]\n"
      << "            (once each; the gateway also does it every --reminder-interval-s)\n"
      << "  ingest-mail     file the message/rfc822 on standard input as a Communication of the\n"
      << "                  addressed patient [--recipient ADDRESS] (a Postfix pipe transport;\n"
      << "                  exit 0, 65 bad mail, 67 no such patient, 75 retry, 77 refused)\n"
      << "  conformance  run TestScript suites: --base URL [--token T] [--var name=value]...\n"
      << "            [--report-dir DIR] [suite...] (default: conformance/suites)\n"
      << "  token     print a development token: --actor KIND [--id ID] [--profession CODE]\n"
      << "            [--specialty CODE] [--org ID] [--given NAME --family NAME]\n"
      << "            [--patient INS] [--patient-id ID]\n"
      << "            [--guardian-of INS]... [--client-id ID] [--scope S]... [--emergency REASON]\n"
      << "            [--consent] [--ttl SECONDS]\n"
      << "  audit-verify  check the audit hash chains [--patient PATIENT_KEY]\n\n"
      << "settings (flag, environment variable, default); a config file named by --config\n"
      << "or CARNET_CONFIG_FILE holds lines 'name = value'. Precedence: flag > environment >\n"
      << "file > default.\n";
  for (const auto& s : Settings()) {
    std::string def = s.get(defaults);
    out << "  --" << FlagName(s.name) << "  (" << EnvName(s.name) << ", default "
        << (def.empty() ? "\"\"" : def) << ")\n      " << s.help << "\n";
  }
  return out.str();
}

}  // namespace carnet
