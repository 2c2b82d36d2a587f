#include "server/gateway.h"

#include "base/log.h"
#include "base/metrics.h"
#include "base/strings.h"
#include "fhir/format.h"
#include "mail/inbound.h"
#include "profiles/agenda_feed.h"
#include "server/observability.h"
#include "storage/health.h"
#include "storage/migrations.h"
#include "storage/outbox_store.h"
#include "storage/transaction.h"

namespace carnet {
namespace {

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

HttpResponse NotFoundResponse(const HttpRequest& req) {
  return Json(404, "{\"error\":\"no such endpoint\",\"path\":\"" + JsonEscape(req.path) +
                       "\",\"endpoints\":[\"/healthz\",\"/readyz\",\"/metrics\",\"/version\",\"/"
                       "fhir\",\"/xds/registry\","
                       "\"/xds/repository\",\"/espace/\",\"/apps\",\"/oauth/authorize\","
                       "\"/oauth/token\",\"/.well-known/smart-configuration\",\"/mail/inbound\"]}");
}

}  // namespace

namespace {
fhir::FhirOptions FhirOptionsOf(const Config& config,
                                const prevention::PreventionRules* prevention) {
  fhir::FhirOptions o;
  o.prevention_rules = prevention;
  o.base_url = config.FhirBaseUrl();
  o.search_limits.max_params = config.search_max_params;
  o.search_limits.max_or_values = config.search_max_or_values;
  o.search_limits.max_chain_depth = config.search_max_chain_depth;
  o.search_limits.max_includes = config.search_max_includes;
  return o;
}

bool UnderPrefix(const std::string& path, const std::string& prefix) {
  return path == prefix || path.rfind(prefix + "/", 0) == 0;
}
}  // namespace

Gateway::Gateway(const Config& config, storage::Pool& pool, const profiles::AccessControl& access,
                 const prevention::PreventionRules* prevention)
    : config_(config),
      pool_(pool),
      access_(access),
      fhir_(pool, FhirOptionsOf(config, prevention)),
      xds_(pool, xds::XdsOptions{config.xds_max_query_results}),
      espace_(EspaceOptions{config.espace_dir.empty() ? DefaultEspaceDir() : config.espace_dir,
                            config.dev_login, config.data_dir}),
      smart_(config, pool, access, fhir_) {
  RegisterProcessMetrics();
}

HttpResponse Gateway::Handle(const HttpRequest& req) {
  // CORS for browser apps of the catalogue (server/smart.h): a preflight is answered here,
  // before any authentication; an answer to an allowed origin says so.
  const std::string* origin = SmartServer::CorsPath(req.path) ? req.Header("Origin") : nullptr;
  if (origin && req.method == "OPTIONS" && req.Header("Access-Control-Request-Method"))
    return smart_.Preflight(req, *origin);
  HttpResponse r = Route(req);
  if (origin) smart_.AddCorsHeaders(*origin, r);
  return r;
}

HttpResponse Gateway::Route(const HttpRequest& req) {
  if (req.path == "/healthz") return Json(200, "{\"status\":\"alive\"}");
  if (req.path == "/readyz") return Ready();
  if (req.path == "/metrics") return MetricsEndpoint(req);
  if (req.path == "/version") return Version(req);
  if (auto smart = smart_.Handle(req)) return std::move(*smart);
  bool fhir = UnderPrefix(req.path, "/fhir");
  bool xds = req.path == "/xds/registry" || req.path == "/xds/repository";
  if (fhir || xds) {
    // No anonymous access but to the CapabilityStatement (issue 5, "Identity").
    if (fhir && fhir::FhirApi::IsPublic(req)) {
      profiles::Actor anonymous;
      profiles::AccessSession session(access_, anonymous, {req.request_id, req.peer});
      return fhir_.Handle(req, session);
    }
    HttpResponse refusal;
    auto actor = Authenticate(req, xds, &refusal);
    if (!actor) return refusal;
    profiles::AccessSession session(access_, std::move(*actor), {req.request_id, req.peer});
    return fhir ? fhir_.Handle(req, session) : xds_.Handle(req, session);
  }
  if (req.path.rfind("/agenda/", 0) == 0) return AgendaFeed(req);
  if (req.path == "/mail/inbound") return MailInbound(req);
  if (Espace::Owns(req.path)) return espace_.Handle(req);
  if (config_.debug_routes && req.path == "/debug/sleep") return DebugSleep(req);
  if (config_.debug_routes && req.path == "/debug/echo") {
    return Json(200, "{\"method\":\"" + JsonEscape(req.method) + "\",\"query\":\"" +
                         JsonEscape(req.query) +
                         "\",\"body_size\":" + std::to_string(req.body.size()) + "}");
  }
  return NotFoundResponse(req);
}

HttpResponse Gateway::TooLarge(const HttpRequest& req, bool head) const {
  Status too_large =
      head ? Status(ErrorCode::kHeadTooLarge,
                    "the request line and headers are longer than the 64 KiB this server reads: "
                    "send long searches as POST [type]/_search with a form body")
           : Status(ErrorCode::kPayloadTooLarge,
                    "the request body is larger than the " +
                        std::to_string(config_.max_request_size) +
                        " bytes this server accepts (--max-request-size)");
  if (req.path.rfind("/xds/", 0) == 0) return xds::XdsService::Refused(too_large);
  auto negotiated = fhir::NegotiateResponse(req, ParseQuery(req.query));
  return fhir::RenderError(too_large, negotiated.ok() ? *negotiated : fhir::Negotiated{});
}

std::optional<profiles::Actor> Gateway::Authenticate(const HttpRequest& req, bool xds,
                                                     HttpResponse* refusal) {
  auto actor = access_.Authenticate(req);
  if (actor.ok()) return std::move(actor).value();
  // The failed attempt is part of the access history too, through the one door; the caller
  // learns only that it must authenticate, whether or not its record could be written.
  (void)access_.AuditFailedLogin(pool_, req, xds ? "xds" : "fhir", actor.status());
  // The operator sees why in the log (an expired token, an unknown issuer...); the answer
  // does not say it (RFC 6750 section 3).
  LogLine("{\"time\":\"" + FormatUtc(std::chrono::system_clock::now()) +
          "\",\"level\":\"warning\",\"event\":\"authentication_refused\",\"request_id\":\"" +
          JsonEscape(req.request_id) + "\",\"detail\":\"" + JsonEscape(actor.status().message()) +
          "\"}");
  *refusal =
      xds ? xds::XdsService::Unauthorized(req) : fhir::FhirApi::Unauthorized(req, actor.status());
  return std::nullopt;
}

HttpResponse Gateway::AgendaFeed(const HttpRequest& req) {
  HttpResponse unknown;
  unknown.status = 404;
  unknown.content_type = "text/plain; charset=utf-8";
  unknown.body = "Ce lien d'agenda n'existe pas ou a été révoqué.\n";
  const std::string name = req.path.substr(8);
  if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".ics") != 0) return unknown;
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = Json(405, "{\"error\":\"a calendar link is read with GET\"}");
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  std::optional<profiles::AgendaFeedHolder> holder;
  storage::TxOptions ro;
  ro.read_only = true;
  Status st = storage::RunInTransaction(pool_, ro, [&](storage::Transaction& tx) -> Status {
    auto found = profiles::ResolveAgendaFeed(tx, name.substr(0, name.size() - 4));
    if (!found.ok()) return found.status();
    holder = std::move(found).value();
    return Status::Ok();
  });
  if (!st.ok()) return Json(503, "{\"error\":\"the agenda is unavailable\"}");
  if (!holder) return unknown;
  // The link reads the agenda and nothing else: the request becomes the holder's
  // Patient/[id]/$agenda, decided and audited as theirs.
  HttpRequest agenda = req;
  agenda.method = "GET";
  agenda.path = "/fhir/Patient/" + holder->patient_id + "/$agenda";
  agenda.query = "_format=ics";
  profiles::AccessSession session(access_, std::move(holder->actor), {req.request_id, req.peer});
  HttpResponse r = fhir_.Handle(agenda, session);
  if (req.method == "HEAD") r.body.clear();
  return r;
}

HttpResponse Gateway::MailInbound(const HttpRequest& req) {
  auto refuse = [](Status st) { return fhir::RenderError(st, fhir::Negotiated{}); };
  if (req.method != "POST") {
    HttpResponse r = refuse(Status(ErrorCode::kMethodNotAllowed,
                                   "/mail/inbound takes a message with POST (message/rfc822)"));
    r.SetHeader("Allow", "POST");
    return r;
  }
  HttpResponse refusal;
  auto actor = Authenticate(req, false, &refusal);
  if (!actor) return refusal;
  if (actor->kind != profiles::ActorKind::kSystem || actor->PrincipalId() != config_.mail_relay_id)
    return refuse(Status(ErrorCode::kForbidden,
                         "/mail/inbound is the mail relay's: it takes the system token of client " +
                             config_.mail_relay_id + " (--mail-relay-id)"));
  const std::string* type = req.Header("Content-Type");
  std::string media = type ? type->substr(0, type->find(';')) : "";
  while (!media.empty() && media.back() == ' ') media.pop_back();
  for (char& c : media) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (media != "message/rfc822")
    return refuse(Status(ErrorCode::kUnsupportedMediaType,
                         "/mail/inbound takes Content-Type message/rfc822, not '" +
                             (type ? *type : std::string()) + "'"));
  mail::MailLimits limits{static_cast<size_t>(config_.mail_max_bytes), config_.mail_max_parts,
                          config_.mail_max_depth};
  auto message = mail::ParseMail(req.body, limits);
  if (!message.ok()) return refuse(message.status());
  profiles::AccessSession session(access_, std::move(*actor), {req.request_id, req.peer});
  std::vector<dossier::WriteResult> filed;
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    session.BeginAttempt();
    auto r = mail::FileInboundMail(tx, session, *message);
    if (!r.ok()) return r.status();
    filed = std::move(r).value();
    return Status::Ok();
  });
  if (!st.ok()) return refuse(st);
  std::string ids;
  for (const auto& f : filed)
    ids += (ids.empty() ? "\"" : ",\"") + JsonEscape("Communication/" + f.stored.id) + "\"";
  HttpResponse r = Json(201, "{\"filed\":[" + ids + "]}");
  r.SetHeader("Location", config_.FhirBaseUrl() + "/Communication/" + filed[0].stored.id);
  return r;
}

HttpResponse Gateway::Ready() {
  if (draining_) return Json(503, "{\"status\":\"draining\"}");
  int expected = storage::LatestVersion(storage::BuiltinMigrations());
  int found = -1;
  storage::TxOptions opts;
  opts.read_only = true;
  opts.max_attempts = 2;  // one retry covers a pooled connection that died while idle
  Status st = storage::RunInTransaction(pool_, opts, [&](storage::Transaction& tx) {
    auto version = storage::RecordedSchemaVersion(tx);
    if (!version.ok()) return version.status();
    found = *version;
    return Status::Ok();
  });
  // The detail (PostgreSQL's text, the socket path) is the operator's: logged, not shown.
  if (!st.ok())
    return Json(503, "{\"status\":\"database unavailable\",\"detail\":\"" +
                         JsonEscape(PublicMessage(st)) + "\"}");
  if (found != expected)
    return Json(503, "{\"status\":\"schema not migrated\",\"schema_version\":" +
                         std::to_string(found) + ",\"expected\":" + std::to_string(expected) + "}");
  return Json(200, "{\"status\":\"ready\",\"schema_version\":" + std::to_string(found) + "}");
}

HttpResponse Gateway::MetricsEndpoint(const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = Json(405, "{\"error\":\"/metrics is read with GET\"}");
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  if (!MetricsAccessAllowed(req, config_.metrics_access, config_.metrics_token)) {
    return Json(403, config_.metrics_access == "token"
                         ? "{\"error\":\"/metrics needs Authorization: Bearer with the "
                           "metrics_token setting\"}"
                         : "{\"error\":\"/metrics answers loopback peers only "
                           "(metrics_access = loopback)\"}");
  }
  // What is read rather than counted: the outbox backlog, from the database (one short
  // read-only transaction; a scrape while the database is away just leaves the last values
  // and says so).
  static auto& pending = Metrics().Gauge(
      "carnet_outbox_pending", "outbox rows waiting for delivery, by channel", {"channel"});
  static auto& given_up = Metrics().Gauge(
      "carnet_outbox_given_up",
      "outbox rows left undelivered after outbox_max_attempts, by channel", {"channel"});
  static auto& oldest =
      Metrics().Gauge("carnet_outbox_oldest_pending_seconds",
                      "age of the oldest outbox row waiting for delivery, by channel", {"channel"});
  static auto& scrape_db_up = Metrics()
                                  .Gauge("carnet_metrics_database_up",
                                         "1 when this scrape could read the database's figures")
                                  .Get();
  storage::TxOptions ro;
  ro.read_only = true;
  ro.max_attempts = 1;
  std::vector<storage::OutboxBacklog> backlog;
  Status st = storage::RunInTransaction(pool_, ro, [&](storage::Transaction& tx) -> Status {
    auto b = storage::ReadOutboxBacklog(tx, config_.outbox_max_attempts);
    if (!b.ok()) return b.status();
    backlog = std::move(b).value();
    return Status::Ok();
  });
  scrape_db_up.Set(st.ok() ? 1 : 0);
  if (st.ok()) {
    // Channels without a row now read 0 (series once seen stay, as Prometheus expects).
    for (const char* ch : {"email", "webhook", "mail-out"}) {
      pending.With({ch}).Set(0);
      given_up.With({ch}).Set(0);
      oldest.With({ch}).Set(0);
    }
    for (const auto& b : backlog) {
      pending.With({b.channel}).Set(static_cast<double>(b.pending));
      given_up.With({b.channel}).Set(static_cast<double>(b.given_up));
      oldest.With({b.channel}).Set(b.oldest_pending_s);
    }
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = req.method == "HEAD" ? "" : Metrics().Render();
  return r;
}

HttpResponse Gateway::Version(const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = Json(405, "{\"error\":\"/version is read with GET\"}");
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  int expected = storage::LatestVersion(storage::BuiltinMigrations());
  std::string recorded = "null";
  storage::TxOptions ro;
  ro.read_only = true;
  ro.max_attempts = 1;
  (void)storage::RunInTransaction(pool_, ro, [&](storage::Transaction& tx) -> Status {
    auto v = storage::RecordedSchemaVersion(tx);
    if (!v.ok()) return v.status();
    recorded = std::to_string(*v);
    return Status::Ok();
  });
  return Json(200, "{\"name\":\"carnet\",\"build\":\"" + JsonEscape(BuildVersion()) +
                       "\",\"schema_version\":" + std::to_string(expected) +
                       ",\"database_schema_version\":" + recorded +
                       ",\"fhir_version\":\"4.0.1\",\"definitions\":\"" +
                       JsonEscape(DefinitionsPackage()) + "\"}");
}

// Holds a worker and a database connection for ?ms=N milliseconds: lets tests observe
// in-flight requests during shutdown. Served only with debug_routes.
HttpResponse Gateway::DebugSleep(const HttpRequest& req) {
  std::string ms = "1000";
  for (const auto& [k, v] : ParseQuery(req.query))
    if (k == "ms") ms = v;
  for (char c : ms)
    if (!std::isdigit(static_cast<unsigned char>(c)) || ms.size() > 6)
      return Json(400, "{\"error\":\"ms must be a whole number below 1000000\"}");
  Status st = storage::RunInTransaction(
      pool_, [&](storage::Transaction& tx) { return storage::HoldConnection(tx, ms); });
  if (!st.ok()) return Json(503, "{\"error\":\"" + JsonEscape(st.message()) + "\"}");
  return Json(200, "{\"slept_ms\":" + ms + "}");
}

}  // namespace carnet
