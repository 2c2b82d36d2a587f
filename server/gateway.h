// The gateway's top-level router: health endpoints, then each standard's front end.
// Knows every layer below; nothing below knows it.
#pragma once

#include <atomic>
#include <memory>

#include "base/http.h"
#include "fhir/dossier_writer_impl.h"
#include "fhir/rest.h"
#include "xds/service.h"
#include "server/config.h"
#include "storage/pool.h"

namespace carnet {

class Gateway {
 public:
  Gateway(const Config& config, storage::Pool& pool);

  HttpResponse Handle(const HttpRequest& req);

  // Once set, /readyz answers 503 so that load balancers stop sending traffic.
  void SetDraining() { draining_ = true; }

 private:
  HttpResponse Ready();
  HttpResponse DebugSleep(const HttpRequest& req);

  const Config& config_;
  storage::Pool& pool_;
  fhir::FhirApi fhir_;
  fhir::DossierWriterImpl dossier_writer_;
  xds::XdsService xds_;
  std::atomic<bool> draining_{false};
};

}  // namespace carnet
