// carnet: the gateway executable. `carnet serve` runs the HTTP gateway on an already
// running PostgreSQL (the ./carnet script starts the private cluster first).
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>

#include "base/log_target.h"
#include "base/strings.h"
#include "conformance/suite_variables.h"
#include "conformance/test_script.h"
#include "dossier/definitions.h"
#include "dossier/search_index.h"
#include "mail/inbound.h"
#include "model/structure.h"
#include "prevention/rules.h"
#include "profiles/access.h"
#include "profiles/dev_token.h"
#include "profiles/mail_address.h"
#include "profiles/record_retention.h"
#include "profiles/webhook_destination.h"
#include "server/backup.h"
#include "server/config.h"
#include "server/gateway.h"
#include "server/http_server.h"
#include "server/jwks_fetch.h"
#include "server/outbox_worker.h"
#include "server/reminder_sender.h"
#include "server/worker_pool.h"
#include "storage/audit_store.h"
#include "storage/migrations.h"
#include "storage/pool.h"

namespace carnet {
namespace {

Status Migrate(const Config& config) {
  auto conn = storage::Connection::Open(config.EffectiveConninfo());
  if (!conn.ok()) return conn.status();
  return storage::ApplyMigrations(**conn, storage::BuiltinMigrations());
}

int Serve(const Config& config) {
  // Signals are taken by sigwait on the main thread only; every thread started from here on
  // inherits the mask. SIGPIPE is ignored: a client that disconnects mid-response must not
  // kill the process.
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // reload the TLS certificates
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  SetLogTarget(config.log_target != "syslog", config.log_target != "stdout", config.syslog_socket);
  if (config.metrics_access == "token" && config.metrics_token.size() < 16) {
    LogEvent("startup_failed",
             "metrics_access = token needs a metrics_token of at least 16 characters");
    return 1;
  }
  Status st = Migrate(config);
  if (!st.ok()) {
    LogEvent("startup_failed", st.ToString());
    return 1;
  }
  // The R4 tables are loaded, and their invariants compiled, now rather than at the first
  // write; the operator sees which invariants the validator cannot check.
  const auto& invariants = model::StructureRegistry::R4().Invariants();
  std::string not_checked;
  for (const model::Invariant* inv : invariants.not_checked)
    not_checked += (not_checked.empty() ? "" : " ") + inv->key;
  LogEvent("fhir_invariants", std::to_string(invariants.compiled) + " of " +
                                  std::to_string(invariants.total) +
                                  " R4 invariants compiled (ele-1, ext-1 checked natively); " +
                                  std::to_string(invariants.not_checked.size()) + " not checked" +
                                  (not_checked.empty() ? "" : ": " + not_checked));
  storage::PoolOptions pool_options;
  pool_options.conninfo = config.EffectiveConninfo();
  pool_options.size = config.db_pool_size;
  pool_options.acquire_timeout = std::chrono::milliseconds(config.db_acquire_timeout_ms);
  pool_options.statement_timeout = std::chrono::milliseconds(config.db_statement_timeout_ms);
  storage::Pool pool(pool_options);

  profiles::AccessSettings access_settings;
  access_settings.identity.jwks_file = config.jwks_file;
  access_settings.identity.trusted_issuers = profiles::SplitList(config.trusted_issuers);
  access_settings.identity.audience = config.audience;
  access_settings.identity.clock_skew_s = config.clock_skew_s;
  access_settings.identity.max_token_lifetime_s = config.max_token_lifetime_s;
  access_settings.identity.trust_dev_key = config.trust_dev_key;
  access_settings.identity.data_dir = config.data_dir;
  access_settings.identity.smart_issuer = config.FhirBaseUrl();
  access_settings.emergency_window_s = config.emergency_window_s;
  access_settings.habilitation_matrix_file = config.habilitation_matrix_file;
  if (auto r = profiles::ParseDepositTypeRule(config.deposit_unreadable_type); r.ok())
    access_settings.unreadable_deposit = *r;
  if (auto r = profiles::ParseDepositTypeRule(config.deposit_unlisted_type); r.ok())
    access_settings.unlisted_deposit = *r;
  access_settings.client_organisations_file = config.client_organisations_file;
  access_settings.remote_jwks.urls = profiles::SplitList(config.jwks_urls);
  access_settings.remote_jwks.issuers = profiles::SplitList(config.trusted_issuers);
  access_settings.remote_jwks.default_max_age_s = config.jwks_max_age_s;
  access_settings.remote_jwks.min_refetch_s = config.jwks_min_refetch_s;
  access_settings.jwks_fetcher = CurlJwksFetcher(config.jwks_timeout_ms);
  auto webhook_policy = profiles::WebhookPolicy::Parse(config.webhook_allowed_hosts);
  if (!webhook_policy.ok()) {
    LogEvent("startup_failed", webhook_policy.status().ToString());
    return 1;
  }
  const profiles::WebhookPolicy webhooks = *webhook_policy;
  profiles::SetProcessWebhookPolicy(webhooks);  // before serving: read-only afterwards
  if (Status domain = profiles::CheckMailDomain(config.mail_domain); !domain.ok()) {
    LogEvent("startup_failed", "mail_domain: " + domain.message());
    return 1;
  }
  profiles::SetMailDomain(config.mail_domain);  // before serving: read-only afterwards
  if (config.smtp_tls != "opportunistic" && config.smtp_tls != "required") {
    LogEvent("startup_failed",
             "smtp_tls: '" + config.smtp_tls + "' is neither opportunistic nor required");
    return 1;
  }
  auto access = profiles::AccessControl::Load(access_settings);
  if (!access.ok()) {
    LogEvent("startup_failed", access.status().ToString());
    return 1;
  }
  if (config.trust_dev_key)
    LogEvent("dev_key_trusted", "tokens from `carnet token` (development key under " +
                                    config.data_dir + "/keys) are accepted: never in production");
  if ((*access)->key_count() == 0 && config.jwks_urls.empty())
    LogEvent("no_trusted_keys",
             "no jwks_file and trust_dev_key off: every request but /healthz, /readyz and "
             "/fhir/metadata will be refused (401)");
  // carnet's own definitions (its extensions' StructureDefinitions), read like any
  // conformance resource once published.
  std::vector<std::string> published;
  st = dossier::PublishDefinitions(pool, **access, &published);
  if (!st.ok()) {
    LogEvent("startup_failed", st.ToString());
    return 1;
  }
  if (!published.empty()) {
    std::string list;
    for (const auto& p : published) list += (list.empty() ? "" : " ") + p;
    LogEvent("definitions_published", list);
  }
  std::optional<prevention::PreventionRules> prevention_rules;
  if (!config.prevention_data_dir.empty()) {
    auto loaded = prevention::PreventionRules::LoadDir(config.prevention_data_dir);
    if (!loaded.ok()) {
      LogEvent("startup_failed", loaded.status().ToString());
      return 1;
    }
    prevention_rules = std::move(loaded).value();
  }
  Gateway gateway(config, pool, **access, prevention_rules ? &*prevention_rules : nullptr);
  WorkerPool workers(config.workers);
  HttpServerOptions http_options;
  http_options.bind = config.bind;
  http_options.port = config.port;
  http_options.reactor_threads = config.reactor_threads;
  http_options.max_request_size = config.max_request_size;
  if (config.https) {
    if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
      LogEvent("startup_failed", "https needs tls_cert_file and tls_key_file");
      return 1;
    }
    http_options.tls_cert_file = config.tls_cert_file;
    http_options.tls_key_file = config.tls_key_file;
  }
  http_options.too_large = [&gateway](const HttpRequest& r, bool head) {
    return gateway.TooLarge(r, head);
  };
  HttpServer server(
      http_options, [&gateway](const HttpRequest& r) { return gateway.Handle(r); }, workers);
  st = server.Start();
  if (!st.ok()) {
    LogEvent("startup_failed", st.ToString());
    return 1;
  }
  // The mutual-TLS listener for system-to-system callers: same gateway, same workers.
  std::unique_ptr<HttpServer> tls_server;
  if (config.tls_port > 0) {
    HttpServerOptions tls_options = http_options;
    tls_options.port = config.tls_port;
    tls_options.tls_cert_file = config.tls_cert_file;
    tls_options.tls_key_file = config.tls_key_file;
    tls_options.client_ca_file = config.tls_client_ca_file;
    if (tls_options.tls_cert_file.empty() || tls_options.tls_key_file.empty() ||
        tls_options.client_ca_file.empty()) {
      LogEvent("startup_failed",
               "tls_port needs tls_cert_file, tls_key_file and tls_client_ca_file");
      return 1;
    }
    tls_server = std::make_unique<HttpServer>(
        tls_options, [&gateway](const HttpRequest& r) { return gateway.Handle(r); }, workers);
    st = tls_server->Start();
    if (!st.ok()) {
      LogEvent("startup_failed", st.ToString());
      return 1;
    }
    LogEvent("listening_mtls", config.bind + ":" + std::to_string(tls_server->port()));
  }
  // Notifications leave from the outbox in the background, never from a request.
  OutboxSettings outbox_settings;
  outbox_settings.smtp_url = config.smtp_url;
  outbox_settings.smtp_from = config.smtp_from;
  outbox_settings.smtp_tls_required = config.smtp_tls == "required";
  outbox_settings.smtp_ca_file = config.smtp_ca_file;
  outbox_settings.poll_ms = config.outbox_poll_ms;
  outbox_settings.max_attempts = config.outbox_max_attempts;
  outbox_settings.webhooks = webhooks;
  OutboxWorker outbox(pool, outbox_settings);
  outbox.Start();
  // Reminders are queued in the background too (once each: storage reminder_sent).
  ReminderSender reminders(
      pool, prevention_rules ? *prevention_rules : prevention::PreventionRules::Builtin(),
      config.reminder_days_before, config.reminder_interval_s);
  reminders.Start();
  LogEvent("listening", std::string(config.https ? "https://" : "http://") + config.bind + ":" +
                            std::to_string(server.port()));

  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP) break;
    // SIGHUP: the renewed certificate and key files are read again; a handshake from now on
    // gets them, open connections and the process carry on. A bad file keeps the old pair.
    for (HttpServer* s : {&server, tls_server.get()}) {
      if (!s || s->CertificateSubject().empty()) continue;  // no TLS on this listener
      Status reloaded = s->ReloadCertificate();
      LogEvent(reloaded.ok() ? "tls_reloaded" : "tls_reload_failed",
               reloaded.ok() ? s->CertificateSubject() + " on port " + std::to_string(s->port())
                             : reloaded.ToString() + " (the previous certificate stays)");
    }
  }
  LogEvent("stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  // Drain: refuse new work, let in-flight requests finish and their answers leave, then
  // close the listener.
  gateway.SetDraining();
  server.SetDraining();
  if (tls_server) tls_server->SetDraining();
  bool idle = workers.WaitIdle(std::chrono::milliseconds(config.shutdown_grace_ms));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // last writes leave the reactor
  server.Shutdown();
  if (tls_server) tls_server->Shutdown();
  reminders.Stop();
  outbox.Stop();
  LogEvent("stopped", idle ? "clean" : "grace period expired with requests in flight");
  return 0;
}

// --- Access policy commands (issue 5) ---------------------------------------------------

// `carnet token`: a development token, printed as the last line of output.
int MintToken(const Config& config) {
  auto request = profiles::ParseDevTokenArgs(config.args);
  if (!request.ok()) {
    std::cerr << "carnet token: " << request.status().message() << "\n";
    return 2;
  }
  request->audience = config.audience;
  if (request->ttl_s > config.max_token_lifetime_s) {
    std::cerr << "carnet token: --ttl " << request->ttl_s << " exceeds --max-token-lifetime-s "
              << config.max_token_lifetime_s << ": the gateway would refuse the token\n";
    return 2;
  }
  auto token = profiles::MintDevToken(config.data_dir, *request);
  if (!token.ok()) {
    std::cerr << "carnet token: " << token.status().ToString() << "\n";
    return 1;
  }
  std::cout << *token << std::endl;
  return 0;
}

// `carnet audit-verify [--patient KEY]`: recomputes the audit hash chains; exit 1 on the
// first broken link.
// `carnet reindex [--type T]`: rebuilds the search index of the current resources (of one
// type, or all), so that a custom SearchParameter added later covers older resources too.
int ReindexCommand(const Config& config) {
  std::string type;
  for (size_t i = 0; i < config.args.size(); ++i) {
    if (config.args[i] == "--type" && i + 1 < config.args.size()) {
      type = config.args[++i];
    } else {
      std::cerr << "carnet reindex: unknown argument " << config.args[i] << "\n";
      return 2;
    }
  }
  storage::PoolOptions options;
  options.conninfo = config.EffectiveConninfo();
  options.size = 1;
  storage::Pool pool(options);
  auto done = dossier::Reindex(pool, type);
  if (!done.ok()) {
    std::cerr << "carnet reindex: " << done.status().ToString() << "\n";
    return 1;
  }
  std::cout << *done << " resource(s) reindexed\n";
  return 0;
}

int AuditVerify(const Config& config) {
  std::optional<long long> patient;
  for (size_t i = 0; i < config.args.size(); ++i) {
    if (config.args[i] == "--patient" && i + 1 < config.args.size()) {
      char* end = nullptr;
      patient = std::strtoll(config.args[++i].c_str(), &end, 10);
      if (*end != '\0') {
        std::cerr << "carnet audit-verify: --patient takes a patient key\n";
        return 2;
      }
    } else {
      std::cerr << "carnet audit-verify: unknown argument " << config.args[i] << "\n";
      return 2;
    }
  }
  auto conn = storage::Connection::Open(config.EffectiveConninfo());
  if (!conn.ok()) {
    std::cerr << "carnet audit-verify: " << conn.status().ToString() << "\n";
    return 1;
  }
  auto result = storage::VerifyAuditChains(**conn, patient);
  if (!result.ok()) {
    std::cerr << "carnet audit-verify: " << result.status().ToString() << "\n";
    return 1;
  }
  std::cout << result->chains << " chain(s), " << result->events << " event(s) checked\n";
  if (result->first_break) {
    std::cout << "BROKEN: patient_key " << result->first_break->chain_key << ", seq "
              << result->first_break->seq << ": " << result->first_break->problem << "\n";
    return 1;
  }
  std::cout << "audit chains intact\n";
  return 0;
}

// `carnet-gateway ingest-mail [--recipient ADDRESS]`: a mail server's delivery (a Postfix pipe
// transport, `argv=carnet-gateway ingest-mail --data-dir DIR --recipient ${recipient}`): the
// message/rfc822 on standard input becomes a Communication in the record of the patient it is
// addressed to (the envelope recipient when given, else its To and Cc), written as the system
// actor --mail-relay-id, all or nothing. Exit codes per sysexits(3) (mail/inbound.h), the
// reason on standard error (the mail server puts it in its bounce).
int IngestMailCommand(const Config& config) {
  std::string recipient;
  for (size_t i = 0; i < config.args.size(); ++i) {
    if (config.args[i] == "--recipient" && i + 1 < config.args.size()) {
      recipient = config.args[++i];
    } else {
      std::cerr << "carnet ingest-mail: takes [--recipient ADDRESS], not " << config.args[i]
                << "\n";
      return 64;  // EX_USAGE
    }
  }
  if (Status domain = profiles::CheckMailDomain(config.mail_domain); !domain.ok()) {
    std::cerr << "carnet ingest-mail: mail_domain: " << domain.message() << "\n";
    return 78;  // EX_CONFIG
  }
  profiles::SetMailDomain(config.mail_domain);
  std::string raw((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  mail::MailLimits limits{static_cast<size_t>(config.mail_max_bytes), config.mail_max_parts,
                          config.mail_max_depth};
  auto fail = [](const Status& st) {
    std::cerr << "carnet ingest-mail: " << st.message() << "\n";
    return mail::SysexitsCode(st);
  };
  auto message = mail::ParseMail(raw, limits);
  if (!message.ok()) return fail(message.status());
  if (!recipient.empty()) message->to = {recipient};
  profiles::AccessSettings settings;
  settings.identity.data_dir = config.data_dir;
  settings.habilitation_matrix_file = config.habilitation_matrix_file;
  auto access = profiles::AccessControl::Load(settings);
  if (!access.ok()) {
    std::cerr << "carnet ingest-mail: " << access.status().ToString() << "\n";
    return 78;  // EX_CONFIG
  }
  profiles::Actor relay;
  relay.kind = profiles::ActorKind::kSystem;
  relay.subject = config.mail_relay_id;
  relay.client_id = config.mail_relay_id;
  profiles::AccessSession session(**access, std::move(relay), {"ingest-mail", "local"});
  storage::PoolOptions options;
  options.conninfo = config.EffectiveConninfo();
  options.size = 1;
  storage::Pool pool(options);
  std::vector<dossier::WriteResult> filed;
  Status st = storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
    session.BeginAttempt();
    auto r = mail::FileInboundMail(tx, session, *message);
    if (!r.ok()) return r.status();
    filed = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return fail(st);
  for (const auto& f : filed) std::cout << "filed Communication/" << f.stored.id << "\n";
  return 0;
}

// `carnet purge`: erases the records closed more than retention_days ago (the access
// history stays). Meant for a daily maintenance job.
int PurgeCommand(const Config& config) {
  if (!config.args.empty()) {
    std::cerr << "carnet purge: unknown argument " << config.args[0]
              << " (the retention period is the setting --retention-days)\n";
    return 2;
  }
  storage::PoolOptions options;
  options.conninfo = config.EffectiveConninfo();
  options.size = 1;
  storage::Pool pool(options);
  auto purged = profiles::PurgeClosedRecords(pool, config.retention_days);
  if (!purged.ok()) {
    std::cerr << "carnet purge: " << purged.status().ToString() << "\n";
    return 1;
  }
  for (long long key : *purged) std::cout << "purged record " << key << "\n";
  std::cout << purged->size() << " record(s) purged (closed more than " << config.retention_days
            << " days ago)\n";
  return 0;
}

// `carnet send-reminders [--date YYYY-MM-DD]`: queues the reminders due on that day (default
// today) for every record that asked for them, once each; the gateway's outbox delivers them.
// What the gateway does every reminder_interval_s, for cron or for a test.
int SendRemindersCommand(const Config& config) {
  std::string now = FormatUtc(std::chrono::system_clock::now());
  auto today = prevention::ParseDate(now.substr(0, 10));
  for (size_t i = 0; i < config.args.size(); ++i) {
    if (config.args[i] == "--date" && i + 1 < config.args.size() &&
        config.args[i + 1].size() == 10 && prevention::ParseDate(config.args[i + 1])) {
      today = prevention::ParseDate(config.args[++i]);
    } else {
      std::cerr << "carnet send-reminders: takes --date YYYY-MM-DD, not " << config.args[i] << "\n";
      return 2;
    }
  }
  std::optional<prevention::PreventionRules> loaded;
  if (!config.prevention_data_dir.empty()) {
    auto rules = prevention::PreventionRules::LoadDir(config.prevention_data_dir);
    if (!rules.ok()) {
      std::cerr << "carnet send-reminders: " << rules.status().message() << "\n";
      return 1;
    }
    loaded = std::move(rules).value();
  }
  storage::PoolOptions options;
  options.conninfo = config.EffectiveConninfo();
  options.size = 1;
  storage::Pool pool(options);
  auto queued = QueueDueReminders(pool, loaded ? *loaded : prevention::PreventionRules::Builtin(),
                                  *today, config.reminder_days_before);
  if (!queued.ok()) {
    std::cerr << "carnet send-reminders: " << queued.status().ToString() << "\n";
    return 1;
  }
  std::cout << *queued << " reminder(s) queued for " << prevention::FormatDate(*today) << "\n";
  return 0;
}

// `carnet conformance --base URL [--token T] [--var name=value]... [--report-dir DIR]
// [suite...]`: runs TestScript suites (conformance/suites by default) against any FHIR server,
// writes one TestReport per script, prints each failure and `N passed, N failed`; exit 1 on
// any failure. Exit 2 before running anything when the suites need variables not given.
int ConformanceCommand(const Config& config) {
  conformance::RunOptions options;
  std::vector<std::string> suites;
  std::string report_dir;
  for (size_t i = 0; i < config.args.size(); ++i) {
    const std::string& a = config.args[i];
    auto next = [&]() -> std::string { return i + 1 < config.args.size() ? config.args[++i] : ""; };
    if (a == "--base")
      options.base_url = next();
    else if (a == "--token")
      options.token = next();
    else if (a == "--report-dir")
      report_dir = next();
    else if (a == "--var") {
      std::string kv = next();
      auto eq = kv.find('=');
      if (eq == std::string::npos) {
        std::cerr << "carnet conformance: --var takes name=value\n";
        return 2;
      }
      options.variables[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (a.rfind("--", 0) == 0) {
      std::cerr << "carnet conformance: unknown argument " << a << "\n";
      return 2;
    } else {
      suites.push_back(a);
    }
  }
  if (options.base_url.empty()) {
    std::cerr << "carnet conformance: --base URL is required (e.g. http://127.0.0.1:8080/fhir)\n";
    return 2;
  }
  if (suites.empty()) suites.push_back(std::string(CARNET_SOURCE_DIR) + "/conformance/suites");
  // Stop before running when the suites need variables nobody gave: they would send empty
  // tokens and ids, and hundreds of failures would hide the one cause.
  std::map<std::string, std::vector<std::string>> missing;
  for (const auto& suite : suites) {
    auto needed = conformance::MissingVariables(suite, options.variables);
    if (!needed.ok()) {
      std::cerr << "carnet conformance: " << needed.status().ToString() << "\n";
      return 2;
    }
    for (const auto& m : *needed)
      missing[m.name].insert(missing[m.name].end(), m.suites.begin(), m.suites.end());
  }
  if (!missing.empty()) {
    std::cerr << "carnet conformance: the suites need " << missing.size()
              << " variable(s) not given; pass each with --var name=value:\n";
    for (const auto& [name, users] : missing) {
      std::cerr << "  " << name << "  (";
      for (size_t i = 0; i < users.size(); ++i) std::cerr << (i ? ", " : "") << users[i];
      std::cerr << ")\n";
    }
    return 2;
  }
  int passed = 0, failed = 0;
  for (const auto& suite : suites) {
    auto results = conformance::RunSuite(suite, options);
    if (!results.ok()) {
      std::cerr << "carnet conformance: " << results.status().ToString() << "\n";
      return 2;
    }
    for (const auto& r : *results) {
      passed += r.passed;
      failed += r.failed;
      std::cout << (r.failed ? "FAIL " : "pass ") << r.name << " (" << r.passed << " passed, "
                << r.failed << " failed)\n";
      for (const auto& f : r.failures) std::cout << "  - " << f << "\n";
      if (!report_dir.empty()) {
        std::filesystem::create_directories(report_dir);
        std::ofstream(report_dir + "/TestReport-" + r.name + ".json") << WriteJson(r.report, true);
      }
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

// `carnet backup --out DIR` and `carnet restore --from DIR` (server/backup.h).
int BackupCommand(const Config& config) {
  const bool backup = config.command == "backup";
  const std::string flag = backup ? "--out" : "--from";
  std::string dir;
  for (size_t i = 0; i < config.args.size(); ++i) {
    if (config.args[i] == flag && i + 1 < config.args.size()) {
      dir = config.args[++i];
    } else {
      std::cerr << "carnet " << config.command << ": takes " << flag << " DIR, not "
                << config.args[i] << "\n";
      return 2;
    }
  }
  if (dir.empty()) {
    std::cerr << "carnet " << config.command << ": " << flag << " DIR is required\n";
    return 2;
  }
  Status st = backup ? BackupStore(config, dir, std::cout) : RestoreStore(config, dir, std::cout);
  if (!st.ok()) {
    std::cerr << "carnet " << config.command << ": " << st.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace carnet

int main(int argc, char** argv) {
  bool help = false;
  auto config = carnet::LoadConfig(argc, argv, &help);
  if (help || (config.ok() && config->command.empty())) {
    std::cout << carnet::HelpText();
    return help ? 0 : 2;
  }
  if (!config.ok()) {
    std::cerr << "carnet: " << config.status().message() << "\n";
    return 2;
  }
  const std::string& cmd = config->command;
  if (cmd == "serve") return carnet::Serve(*config);
  if (cmd == "backup" || cmd == "restore") return carnet::BackupCommand(*config);
  if (cmd == "migrate" && config->args.size() == 1 && config->args[0] == "--dry-run") {
    carnet::Status st = carnet::MigrateDryRun(*config, std::cout);
    if (!st.ok()) {
      std::cerr << "carnet migrate --dry-run: " << st.ToString() << "\n";
      return 1;
    }
    return 0;
  }
  if (cmd == "migrate" && !config->args.empty()) {
    std::cerr << "carnet migrate: takes only --dry-run, not " << config->args[0] << "\n";
    return 2;
  }
  if (cmd == "migrate") {
    carnet::Status st = carnet::Migrate(*config);
    if (!st.ok()) {
      std::cerr << "carnet migrate: " << st.ToString() << "\n";
      return 1;
    }
    std::cout << "schema at version "
              << carnet::storage::LatestVersion(carnet::storage::BuiltinMigrations()) << "\n";
    return 0;
  }
  if (cmd == "token") return carnet::MintToken(*config);
  if (cmd == "audit-verify") return carnet::AuditVerify(*config);
  if (cmd == "reindex") return carnet::ReindexCommand(*config);
  if (cmd == "purge") return carnet::PurgeCommand(*config);
  if (cmd == "ingest-mail") return carnet::IngestMailCommand(*config);
  if (cmd == "send-reminders") return carnet::SendRemindersCommand(*config);
  if (cmd == "conformance") return carnet::ConformanceCommand(*config);
  std::cerr << "carnet: unknown command '" << cmd << "' (see carnet --help)\n";
  return 2;
}
