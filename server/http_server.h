// The Pistache adapter: turns Pistache requests into carnet::HttpRequest, runs the
// application handler on the worker pool, writes the HttpResponse back, logs one JSON line
// per request. Nothing else in carnet includes Pistache.
#pragma once

#include <atomic>
#include <memory>
#include <functional>
#include <string>

#include "base/http.h"
#include "base/log.h"  // LogLine
#include "base/status.h"
#include "server/worker_pool.h"

namespace carnet {

struct HttpServerOptions {
  std::string bind = "127.0.0.1";
  int port = 8080;
  int reactor_threads = 2;
  // The largest request body accepted, counted as the bytes arrive (chunk framing
  // included): a longer one is answered by `too_large` and its connection closed, so a
  // connection never holds more than this in memory.
  size_t max_request_size = 96u << 20;
  // The answer to a request refused for its size: its body (`head` false) or its request line
  // and headers, longer than 64 KiB (`head` true; the query string is then unknown). Only
  // method, path, query, headers and peer are set (the body was never read). Empty: a FHIR
  // OperationOutcome.
  std::function<HttpResponse(const HttpRequest&, bool head)> too_large;
  // TLS (the main listener with `https`, and the listener for system-to-system callers): the
  // server's certificate and key
  // (PEM); with client_ca_file, every client must present a certificate issued under it
  // (mutual TLS) and the request carries its subject and fingerprint.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler app, WorkerPool& workers);
  ~HttpServer();

  // Binds and starts serving in background threads.
  Status Start();
  // From now on every new request is answered 503 at once (used while draining).
  void SetDraining() { draining_ = true; }
  // TLS: reads tls_cert_file and tls_key_file again and presents them to every handshake from
  // now on (connections already open keep theirs). On error the previous certificate stays
  // and the status says why. Ok and nothing done without TLS.
  Status ReloadCertificate();
  // The subject of the certificate presented now ("" without TLS).
  std::string CertificateSubject() const;
  // Stops listening and closes connections. Call after the worker pool drained.
  void Shutdown();

  // Port actually bound (useful with port 0).
  int port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> draining_{false};
};

// One JSON log line {"time","event","detail"}.
void LogEvent(const std::string& event, const std::string& detail = {});

}  // namespace carnet
