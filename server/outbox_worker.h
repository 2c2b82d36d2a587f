// Delivers the notifications queued in the outbox (profiles/notification.h) in the
// background: e-mail over SMTP through a configured relay (libcurl), webhooks as an HTTP
// POST of a FHIR notification Bundle.
//
// Durable and never blocking a request: a row is claimed by pushing its next attempt one
// lease ahead (so a crash mid-delivery only delays it), delivered outside any transaction,
// then marked delivered, or rescheduled with exponential backoff and its error. Delivery is
// at least once: a receiver may see a notification twice after a crash, never zero times.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "profiles/webhook_destination.h"
#include "storage/pool.h"

namespace carnet {

struct OutboxSettings {
  std::string smtp_url;    // smtp://host:port (or smtps://); empty: e-mails wait in the outbox
  std::string smtp_from = "notifications@carnet.invalid";
  int poll_ms = 1000;      // how often the outbox is looked at when idle
  int max_attempts = 12;   // then the row stays, with its last error, for an operator
  int timeout_ms = 10000;  // per delivery
  int lease_s = 120;       // a claimed row is retried after this if the worker died

  // TLS to the relay: STARTTLS always (a relay that does not offer it gets nothing), or
  // whenever the relay offers it; its certificate verified against smtp_ca_file when set.
  bool smtp_tls_required = false;
  std::string smtp_ca_file;
  // Where webhooks may go: checked again at each delivery, after DNS.
  profiles::WebhookPolicy webhooks;
};

class OutboxWorker {
 public:
  OutboxWorker(storage::Pool& pool, OutboxSettings settings);
  ~OutboxWorker();  // stops

  void Start();
  void Stop();
  // Runs one pass (claim, deliver, record): for tests and for `carnet outbox`. Returns the
  // number of rows delivered.
  Result<int> RunOnce();

 private:
  void Loop();
  Status Deliver(const std::string& channel, const std::string& destination,
                 const std::string& payload);

  storage::Pool& pool_;
  OutboxSettings settings_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace carnet
