// What an operator watches (issue 19, "Observable"): the request metrics the HTTP server
// records for every answer, the process metrics read at each scrape, GET /metrics (Prometheus
// text format, access by the metrics_access setting) and GET /version.
#pragma once

#include <string>

#include "base/http.h"

namespace carnet {

// The route of a request as a template, never its raw path: "/fhir/{type}/{id}" with the
// resource type kept when it is an R4 type, operations kept by name when carnet knows them
// ("$everything"), ids, secrets and file names replaced. A small, fixed set of values, fit to
// be a metric label.
std::string RouteTemplate(const std::string& path);

// Counts one answered request (carnet_http_requests_total by route, method, status and actor
// kind; carnet_http_request_duration_seconds by route and method). The actor kind is read from
// the request's notes (base/log.h; "none" when no identity was established).
void RecordRequestMetrics(const HttpRequest& req, int status, double seconds);

// The HTTP connections open right now (carnet_http_connections_open).
void NoteConnectionOpened();
void NoteConnectionClosed();

// Registers the process collectors (resident memory, open file descriptors, start time) once.
void RegisterProcessMetrics();

// Who may read /metrics: "loopback" (a peer on 127.0.0.0/8 or ::1), "token" (a bearer token
// equal to the metrics_token setting, from any address), "open" (anyone).
bool MetricsAccessAllowed(const HttpRequest& req, const std::string& access,
                          const std::string& token);

// The build (git describe at configure time), the schema version this binary migrates to and
// the FHIR definitions package the R4 tables were generated from.
std::string BuildVersion();
std::string DefinitionsPackage();

}  // namespace carnet
