// The Pistache adapter: turns Pistache requests into carnet::HttpRequest, runs the
// application handler on the worker pool, writes the HttpResponse back, logs one JSON line
// per request. Nothing else in carnet includes Pistache.
#pragma once

#include <atomic>
#include <memory>
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
  size_t max_request_size = 96u << 20;
  // TLS (the listener for system-to-system callers): the server's certificate and key
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
