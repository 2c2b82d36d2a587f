// The XDS.b front end: Document Registry at /xds/registry (ITI-42, ITI-18, ITI-57, ITI-62)
// and Document Repository at /xds/repository (ITI-41, ITI-43), over the one dossier.
//
// A DocumentEntry is stored as its DocumentReference (mapping/document_entry.h) through the
// dossier's one write path (dossier/dossier.h), and the document bytes as a Binary; the
// registry tables that the stored queries read are derived from the DocumentReference in the
// same transaction (mapping/registry_index.h).
#pragma once

#include <memory>
#include <string>

#include "base/http.h"
#include "profiles/access.h"
#include "storage/pool.h"

namespace carnet::xds {

struct XdsOptions {
  // Most objects a stored query may return before answering XDSTooManyResults.
  int max_query_results = 1000;
};

class XdsService {
 public:
  XdsService(storage::Pool& pool, XdsOptions options = {});
  ~XdsService();

  // Handles POST /xds/registry and /xds/repository for the authenticated actor behind
  // `session`: deposits, queries, retrievals and updates are decided and audited by it.
  HttpResponse Handle(const HttpRequest& req, profiles::AccessSession& session);
  // A SOAP 1.2 Fault (Sender, wsse:FailedAuthentication) with HTTP 401.
  static HttpResponse Unauthorized(const HttpRequest& req);
  // A SOAP 1.2 Fault for a request refused before it was read (e.g. too large), with the
  // HTTP status of `status`.
  static HttpResponse Refused(const Status& status);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carnet::xds
