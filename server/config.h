// The gateway's settings: defaults, then an optional config file, then CARNET_* environment
// variables, then command-line flags, each overriding the one before.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace carnet {

struct Config {
  std::string command;  // serve, migrate, token...
  std::string bind = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "var";
  // libpq connection string; empty: the private cluster's socket under data_dir.
  std::string db;
  // PostgreSQL's programs (pg_dump, pg_restore) for `backup` and `restore`.
  std::string pg_bin_dir = "/usr/lib/postgresql/15/bin";
  int db_pool_size = 8;
  int db_acquire_timeout_ms = 5000;
  // PostgreSQL statement_timeout of the serving connections: longer statements are cancelled
  // and the request answers 503 (kTimeout). 0: none (migrations never have one).
  int db_statement_timeout_ms = 30000;
  int workers = 8;                      // threads running request handlers (blocking work)
  int reactor_threads = 2;              // Pistache I/O threads
  size_t max_request_size = 96u << 20;  // holds a 64 MiB document base64-encoded in JSON
  int shutdown_grace_ms = 30000;
  int xds_max_query_results = 1000;  // ITI-18 answers XDSTooManyResults beyond this
  // --- What one FHIR search may ask (fhir::SearchLimits); beyond, 400 naming the limit.
  int search_max_params = 50;      // parameters in one request (criteria and result parameters)
  int search_max_or_values = 100;  // comma-separated values of one parameter
  int search_max_chain_depth = 1;  // links of a chain or _has (0: none; deeper is not served)
  int search_max_includes = 10;    // _include and _revinclude together
  bool debug_routes = false;       // /debug/* test helpers; never in production
  // --- The patient's web space (server/espace.h).
  std::string espace_dir;  // the built page; empty: build/espace beside the binary
  bool dev_login = false;  // POST /espace/dev-login mints development tokens; never in production
  // Base URL clients use to reach the FHIR API (Location headers, links); empty: derived
  // from bind and port.
  std::string public_base_url;
  std::string config_file;
  std::vector<std::string> args;  // what follows the command and is not a setting

  // --- Identity and access policy (issue 5; profiles/jwt.h, profiles/policy.h).
  std::string jwks_file;        // JWKS of the trusted issuers' signing keys
  std::string trusted_issuers;  // comma-separated iss values that jwks_file validates
  // The same issuers' JWKS fetched from URLs (profiles/remote_jwks.h): comma-separated.
  std::string jwks_urls;
  int jwks_timeout_ms = 3000;       // one fetch's time limit
  int jwks_max_age_s = 3600;        // kept this long when the answer gives no max-age
  int jwks_min_refetch_s = 30;      // the least time between two fetches (rotation, expiry)
  std::string audience = "carnet";  // aud every token must carry
  int clock_skew_s = 60;            // leeway on exp and nbf
  int max_token_lifetime_s =
      24 * 3600;                  // longest lifetime a token may claim (exp - iat, exp - now)
  bool trust_dev_key = false;     // also trust `carnet token` (DATA_DIR/keys); never in production
  int emergency_window_s = 3600;  // how long an emergency access lasts
  // SMART App Launch (issue 17): carnet's own tokens for catalogue apps.
  int smart_access_token_lifetime_s = 300;
  int smart_refresh_token_lifetime_s = 30 * 24 * 3600;
  int smart_code_lifetime_s = 60;
  std::string habilitation_matrix_file;  // empty: the matrix compiled in
  // Deposits of a document type no profession may read (profiles::DepositTypeRule).
  std::string deposit_unreadable_type = "refuse";  // refuse | warn | accept
  std::string deposit_unlisted_type = "accept";    // refuse | warn | accept

  // --- Prevention (issue 16): the tables of Patient/[id]/$reminders.
  std::string prevention_data_dir;  // empty: the tables of prevention/data/ compiled in

  // --- Mutual TLS for system-to-system callers (hospital and laboratory systems).
  // The main listener over TLS (HTTPS, no client certificate asked) with tls_cert_file and
  // tls_key_file; SIGHUP reloads them.
  bool https = false;
  int tls_port = 0;                       // 0: no TLS listener
  std::string tls_cert_file;              // the server's certificate (PEM)
  std::string tls_key_file;               // its private key (PEM)
  std::string tls_client_ca_file;         // CA that issues the callers' certificates
  std::string client_organisations_file;  // certificate -> organisation (deposit source)

  // --- Notifications (profiles/notification.h, server/outbox_worker.h).
  std::string smtp_url;  // smtp://relay:25; empty: e-mails wait in the outbox
  std::string smtp_from = "notifications@carnet.invalid";
  // TLS to the relay: "opportunistic" (STARTTLS whenever the relay offers it, plain
  // otherwise) or "required" (no delivery without STARTTLS); the relay's certificate is
  // verified in both, against smtp_ca_file when set (else the system's CAs).
  std::string smtp_tls = "opportunistic";
  std::string smtp_ca_file;
  // Secure messaging: the domain of the parties' MSSante-style addresses
  // (profiles/mail_address.h).
  std::string mail_domain = "carnet.invalid";
  // Mail in (mail/mime.h): what a message received by mail may hold, and the relay's id
  // (the client id of the system actor `ingest-mail` files as).
  int mail_max_bytes = 10 << 20;
  int mail_max_parts = 20;
  int mail_max_depth = 5;
  std::string mail_relay_id = "mail-relay";
  int outbox_poll_ms = 1000;
  int outbox_max_attempts = 12;
  // Webhook destinations allowed although not public ("host[:port],...";
  // profiles/webhook_destination.h).
  std::string webhook_allowed_hosts;
  // --- Reminders through the outbox (server/reminder_sender.h).
  int reminder_days_before = 14;   // a reminder is sent this many days before it falls due
  int reminder_interval_s = 3600;  // how often the gateway looks for due reminders; 0: never
  // --- Retention (`carnet purge`): closed records are kept this long, then erased.
  int retention_days = 3650;

  // --- Observability (issue 19; server/observability.h).
  std::string metrics_access = "loopback";  // loopback | token | open
  std::string metrics_token;                // the bearer token of metrics_access = token
  std::string log_target = "stdout";        // stdout | syslog | both
  std::string syslog_socket = "/dev/log";   // where log_target syslog writes

  // The connection string actually used: `db`, or the private cluster under data_dir.
  std::string EffectiveConninfo() const;
  // The FHIR base URL actually used: public_base_url, or http://bind:port/fhir.
  std::string FhirBaseUrl() const;
};

// Parses argv (argv[1] is the command). Sets *help when --help was asked; then the returned
// Config is meaningless and HelpText() should be printed. A flag that is neither a setting nor
// one of the command's own (CommandFlags) is refused, naming the close matches.
Result<Config> LoadConfig(int argc, char** argv, bool* help);

// Each command's own flags (what it reads from Config::args; server/main.cc parses them):
// keep in step with main.cc when a command takes a new flag.
const std::map<std::string, std::vector<std::string>>& CommandFlags();

// kBadRequest naming the first flag of c.args that is not one of c.command's own, with the
// close matches among the settings and the command's flags (edit distance).
Status CheckCommandFlags(const Config& c);

// Every setting with its flag, environment variable and default.
std::string HelpText();

}  // namespace carnet
