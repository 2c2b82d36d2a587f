#include "bench/slow_load.h"

#include <chrono>
#include <cstdio>

#include "fhir/interactions.h"
#include "fhir/rest.h"
#include "profiles/access.h"
#include "storage/connection.h"
#include "storage/migrations.h"
#include "storage/pool.h"
#include "storage/transaction.h"

namespace carnet::bench {
namespace {

using Clock = std::chrono::steady_clock;

// One dossier's writes in one transaction, as one deposit source's submission would be.
Status WriteDossier(storage::Pool& pool, fhir::Interactions& interactions,
                    profiles::AccessSession& loader, const Dossier& d) {
  return storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
    loader.BeginAttempt();
    for (const Write& w : d.writes) {
      auto r = interactions.Update(tx, loader, w.type, w.id, w.resource, fhir::Preconditions{});
      if (!r.ok())
        return Status(r.status().code(), w.type + "/" + w.id + ": " + r.status().message());
    }
    return Status::Ok();
  });
}

// One access as the gateway serves it: the request, its actor and request facts.
Status Replay(fhir::FhirApi& api, const profiles::AccessControl& control, const Dossier& d,
              const Access& a) {
  profiles::Actor actor = a.actor < 0 ? PatientActor(d) : AccessActors()[a.actor];
  profiles::AccessSession session(control, std::move(actor), {a.request_id, a.client_address});
  HttpRequest req;
  req.method = "GET";
  req.path = a.path;
  req.query = a.query;
  req.peer = a.client_address;
  req.request_id = a.request_id;
  req.received = Clock::now();
  HttpResponse resp = api.Handle(req, session);
  // A refusal answers 404 and is in the history too; anything else is a load failure.
  if (resp.status != 200 && resp.status != 404)
    return Internal("GET " + a.path + "?" + a.query + " answered " + std::to_string(resp.status) +
                    ": " + resp.body);
  return Status::Ok();
}

}  // namespace

std::string ReportJson(const char* path, const LoadReport& r) {
  char buf[512];
  double s = r.seconds > 0 ? r.seconds : 1e-9;
  std::snprintf(
      buf, sizeof buf,
      "{\"path\":\"%s\",\"patients\":%lld,\"documents\":%lld,\"resources\":%lld,\"accesses\":%lld,"
      "\"rows\":%lld,\"seconds\":%.1f,\"documents_per_s\":%.0f,\"resources_per_s\":%.0f,\"rows_per_"
      "s\":%.0f,\"analyze_seconds\":%.1f}",
      path, r.patients, r.documents, r.resources, r.accesses, r.rows, r.seconds, r.documents / s,
      r.resources / s, r.rows / s, r.analyze_seconds);
  return buf;
}

Result<LoadReport> SlowLoad(const std::string& conninfo, const DossierGenerator& generator,
                            int first, int last, bool progress) {
  auto conn = storage::Connection::Open(conninfo);
  if (!conn.ok()) return conn.status();
  CARNET_RETURN_IF_ERROR(storage::ApplyMigrations(**conn, storage::BuiltinMigrations()));
  storage::PoolOptions po;
  po.conninfo = conninfo;
  po.size = 2;
  storage::Pool pool(po);
  auto control = profiles::AccessControl::Load(profiles::AccessSettings{});
  if (!control.ok()) return control.status();
  profiles::AccessSession loader(**control, LoaderActor(), {kLoaderRequestId, kLoaderAddress});
  fhir::Interactions interactions(pool);
  fhir::FhirApi api(pool, fhir::FhirOptions{});
  LoadReport report;
  auto t0 = Clock::now();
  for (int p = first; p < last; ++p) {
    Dossier d = generator.Generate(p);
    CARNET_RETURN_IF_ERROR(WriteDossier(pool, interactions, loader, d));
    for (const Access& a : d.accesses) CARNET_RETURN_IF_ERROR(Replay(api, **control, d, a));
    ++report.patients;
    report.documents += d.documents;
    report.resources += static_cast<long long>(d.writes.size());
    report.accesses += static_cast<long long>(d.accesses.size());
    if (progress && (p - first) % 20 == 19)
      std::fprintf(stderr, "  slow: %lld patients, %lld documents, %.0f s\n", report.patients,
                   report.documents, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return report;
}

}  // namespace carnet::bench
