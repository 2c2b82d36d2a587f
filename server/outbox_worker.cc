#include "server/outbox_worker.h"

#include <curl/curl.h>

#include <chrono>
#include <cstring>

#include "base/json.h"
#include "base/metrics.h"
#include "base/strings.h"
#include "mail/mime.h"
#include "server/http_server.h"
#include "storage/outbox_store.h"
#include "storage/transaction.h"

namespace carnet {
namespace {

// RFC 2047 encoded word: subjects carry accents.
std::string EncodedWord(const std::string& text) { return "=?UTF-8?B?" + Base64Encode(text) + "?="; }

struct ReadState {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t n, void* user) {
  auto* s = static_cast<ReadState*>(user);
  size_t left = s->data->size() - s->offset;
  size_t take = std::min(left, size * n);
  std::memcpy(buffer, s->data->data() + s->offset, take);
  s->offset += take;
  return take;
}

// The outbound secure mail (issue 17), built by mail/ with GMime: the text then each
// attachment (the payload carries them in base64).
Result<std::string> OutboundMail(const JsonValue& json, const std::string& to) {
  mail::OutgoingMail out;
  out.from = json.GetString("from");
  out.to = to;
  out.subject = json.GetString("subject");
  out.text = json.GetString("text");
  if (const JsonValue* list = json.Find("attachments"); list && list->is_array())
    for (const auto& a : list->items()) {
      auto bytes = Base64Decode(a.GetString("data"));
      if (!bytes) return Internal("an attachment of the message is not base64");
      out.attachments.push_back({a.GetString("contentType"), a.GetString("title"), *bytes});
    }
  return mail::BuildMail(out);
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// Sends `body` (a whole RFC 5322 message) from `from` to `to` through the relay at `url` on
// the prepared handle `c`, which it cleans up; STARTTLS whenever the relay offers it, or
// always (`tls_required`: a relay that does not offer it gets nothing). The relay's
// certificate is verified (against `ca_file` when given).
Status SendSmtp(CURL* c, const std::string& url, const std::string& from, const std::string& to,
                std::string& body, bool tls_required, const std::string& ca_file) {
  ReadState state{&body};
  struct curl_slist* recipients = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   static_cast<long>(tls_required ? CURLUSESSL_ALL : CURLUSESSL_TRY));
  if (!ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
  std::string envelope_from = "<" + from + ">";
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, envelope_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadMessage);
  curl_easy_setopt(c, CURLOPT_READDATA, &state);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(c);
  if (rc == CURLE_USE_SSL_FAILED)
    return Status(
        ErrorCode::kUnavailable,
        "SMTP: the relay " + url + " does not offer STARTTLS and smtp_tls=required: nothing sent");
  if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
      rc == CURLE_SSL_CONNECT_ERROR)
    return Status(ErrorCode::kUnavailable,
                  "SMTP: TLS with the relay " + url + " failed (" + curl_easy_strerror(rc) +
                      "; is its certificate issued by smtp_ca_file?): nothing sent");
  if (rc != CURLE_OK)
    return Status(ErrorCode::kUnavailable, std::string("SMTP: ") + curl_easy_strerror(rc));
  return Status::Ok();
}

}  // namespace

OutboxWorker::OutboxWorker(storage::Pool& pool, OutboxSettings settings)
    : pool_(pool), settings_(std::move(settings)) {}

OutboxWorker::~OutboxWorker() { Stop(); }

void OutboxWorker::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void OutboxWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxWorker::Loop() {
  while (true) {
    auto delivered = RunOnce();
    if (!delivered.ok()) LogEvent("outbox_error", delivered.status().ToString());
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_) return;
    // A full batch: look again at once; otherwise wait for the next poll.
    if (delivered.ok() && *delivered >= storage::kOutboxClaimBatch) continue;
    cv_.wait_for(lock, std::chrono::milliseconds(settings_.poll_ms), [this] { return stop_; });
    if (stop_) return;
  }
}

Result<int> OutboxWorker::RunOnce() {
  std::vector<storage::OutboxRow> rows;
  Status st = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
    // Only what this gateway can deliver: without an SMTP relay, e-mails wait for a gateway
    // that has one (several gateways share one outbox).
    std::vector<std::string> channels =
        settings_.smtp_url.empty() ? std::vector<std::string>{"webhook"}
                                   : std::vector<std::string>{"email", "webhook", "mail-out"};
    auto claimed =
        storage::ClaimOutboxRows(tx, settings_.lease_s, settings_.max_attempts, channels);
    if (!claimed.ok()) return claimed.status();
    rows = std::move(claimed).value();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  static auto& attempts = Metrics().Counter(
      "carnet_outbox_deliveries_total",
      "delivery attempts of outbox rows (notifications, webhooks, outbound mail), by channel and "
      "outcome (delivered, failed)",
      {"channel", "outcome"});
  int delivered = 0;
  for (const storage::OutboxRow& row : rows) {
    Status sent = Deliver(row.channel, row.destination, row.payload);
    Status recorded = storage::RunInTransaction(pool_, [&](storage::Transaction& tx) -> Status {
      if (sent.ok()) return storage::MarkOutboxDelivered(tx, row.id);
      // 2, 4, 8... seconds, at most an hour.
      int backoff = 1 << std::min(row.attempts, 11);
      backoff = std::min(backoff, 3600);
      return storage::MarkOutboxFailed(tx, row.id, sent.message(), backoff);
    });
    if (!recorded.ok()) return recorded;
    attempts.With({row.channel, sent.ok() ? "delivered" : "failed"}).Inc();
    if (sent.ok()) {
      ++delivered;
      LogEvent("notification_delivered", row.channel + " #" + row.id);
    } else {
      LogEvent("notification_failed", row.channel + " #" + row.id + ": " + sent.message());
    }
  }
  return delivered;
}

Status OutboxWorker::Deliver(const std::string& channel, const std::string& destination,
                             const std::string& payload) {
  auto json = ParseJson(payload);
  if (!json.ok()) return Internal("unreadable outbox payload");
  CURL* c = curl_easy_init();
  if (!c) return Internal("curl_easy_init failed");
  struct curl_slist* headers = nullptr;
  std::string body;
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout_ms));
  if (channel == "email") {
    if (settings_.smtp_url.empty()) {
      curl_easy_cleanup(c);
      return Status(ErrorCode::kUnavailable, "no SMTP relay configured (smtp_url)");
    }
    std::string text = json->GetString("text");
    // Lines of the body end in CRLF; a line that is a lone dot would end the message.
    std::string crlf;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) crlf += "\r\n";
      else crlf.push_back(text[i]);
    }
    body = "Date: " + HttpDateFromInstant(FormatUtc(std::chrono::system_clock::now())) + "\r\n" +
           "From: " + settings_.smtp_from + "\r\n" + "To: " + destination + "\r\n" +
           "Message-ID: <" + NewUuid() + "@carnet>\r\n" + "Subject: " + EncodedWord(json->GetString("subject")) +
           "\r\n" + "MIME-Version: 1.0\r\n" + "Content-Type: text/plain; charset=UTF-8\r\n" +
           "Content-Transfer-Encoding: 8bit\r\n\r\n" + crlf + "\r\n";
    return SendSmtp(c, settings_.smtp_url, settings_.smtp_from, destination, body,
                    settings_.smtp_tls_required, settings_.smtp_ca_file);
  }
  if (channel == "mail-out") {
    // Outbound secure mail (issue 17): From the sender's carnet address, to the outside
    // address, through the relay; STARTTLS whenever the relay offers it.
    if (settings_.smtp_url.empty()) {
      curl_easy_cleanup(c);
      return Status(ErrorCode::kUnavailable, "no SMTP relay configured (smtp_url)");
    }
    auto mail = OutboundMail(*json, destination);
    if (!mail.ok()) {
      curl_easy_cleanup(c);
      return mail.status();
    }
    body = std::move(mail).value();
    return SendSmtp(c, settings_.smtp_url, json->GetString("from"), destination, body,
                    settings_.smtp_tls_required, settings_.smtp_ca_file);
  }
  if (channel == "webhook") {
    // The address was checked when it was set; names are resolved and checked now, and
    // the connection pinned to the checked address (CURLOPT_RESOLVE) so that a second DNS
    // answer cannot swap it. No redirect is followed and no proxy used: the checked
    // address is the one called.
    auto url = profiles::ParseWebhookUrl(destination);
    Status allowed = url.ok() ? settings_.webhooks.CheckUrl(destination) : url.status();
    Result<std::string> address = allowed.ok() ? settings_.webhooks.ResolveForDelivery(*url)
                                               : Result<std::string>(allowed);
    if (!address.ok()) {
      curl_easy_cleanup(c);
      return Status(ErrorCode::kUnavailable, "webhook refused: " + address.status().message());
    }
    struct curl_slist* pin = nullptr;
    bool v6 = address->find(':') != std::string::npos;
    pin = curl_slist_append(pin, (url->host + ":" + std::to_string(url->port) + ":" +
                                  (v6 ? "[" + *address + "]" : *address))
                                     .c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, pin);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    const JsonValue* bundle = json->Find("bundle");
    body = bundle ? WriteJson(*bundle) : "{}";
    headers = curl_slist_append(headers, "Content-Type: application/fhir+json");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, destination.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    curl_slist_free_all(pin);
    if (rc != CURLE_OK) return Status(ErrorCode::kUnavailable, std::string("webhook: ") + curl_easy_strerror(rc));
    if (status < 200 || status >= 300)
      return Status(ErrorCode::kUnavailable, "webhook answered HTTP " + std::to_string(status));
    return Status::Ok();
  }
  curl_easy_cleanup(c);
  return Internal("unknown channel " + channel);
}

}  // namespace carnet
