// The gateway's top-level router: health endpoints, then each standard's front end.
// Knows every layer below; nothing below knows it.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "base/http.h"
#include "fhir/rest.h"
#include "prevention/rules.h"
#include "profiles/access.h"
#include "server/config.h"
#include "server/espace.h"
#include "server/smart.h"
#include "storage/pool.h"
#include "xds/service.h"

namespace carnet {

class Gateway {
 public:
  // `access` verifies identities and holds the habilitation matrix; it outlives the gateway.
  // `prevention` (nullptr: the tables compiled in) outlives it too.
  Gateway(const Config& config, storage::Pool& pool, const profiles::AccessControl& access,
          const prevention::PreventionRules* prevention = nullptr);

  HttpResponse Handle(const HttpRequest& req);
  // The answer to a request whose body exceeds --max-request-size (refused by the HTTP
  // server before the body is read): 413, an OperationOutcome under /fhir, a SOAP Fault
  // under /xds.
  HttpResponse TooLarge(const HttpRequest& req, bool head = false) const;

  // Once set, /readyz answers 503 so that load balancers stop sending traffic.
  void SetDraining() { draining_ = true; }

 private:
  HttpResponse Route(const HttpRequest& req);
  HttpResponse Ready();
  // GET /metrics (Prometheus text format; server/observability.h) and GET /version.
  HttpResponse MetricsEndpoint(const HttpRequest& req);
  HttpResponse Version(const HttpRequest& req);
  HttpResponse DebugSleep(const HttpRequest& req);
  // GET /agenda/<secret>.ics: the agenda of the record a calendar link was issued for, read
  // as the identity that asked for it (profiles/agenda_feed.h).
  HttpResponse AgendaFeed(const HttpRequest& req);
  // POST /mail/inbound (message/rfc822): a message received by the mail relay (a system
  // token) filed as a Communication in the addressed patient's record (mail/inbound.h).
  HttpResponse MailInbound(const HttpRequest& req);
  // Authenticates the request; on failure, audits the attempt and answers 401 in the
  // protocol's own form.
  std::optional<profiles::Actor> Authenticate(const HttpRequest& req, bool xds,
                                              HttpResponse* refusal);

  const Config& config_;
  storage::Pool& pool_;
  const profiles::AccessControl& access_;
  fhir::FhirApi fhir_;
  xds::XdsService xds_;
  Espace espace_;  // the patient's web space, /espace/
  SmartServer smart_;  // the app catalogue and SMART App Launch (after fhir_: it writes through it)
  std::atomic<bool> draining_{false};
};

}  // namespace carnet
