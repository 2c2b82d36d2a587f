#include "server/http_server.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <sys/socket.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "base/strings.h"
#include "server/observability.h"
#include "server/tls_identity.h"

// Pistache 0.0.5 keeps the listener's SSL_CTX private, with no accessor. The certificate is
// replaced on SIGHUP through OpenSSL's certificate callback on that context, reached with the
// standard explicit-instantiation rule (access checks do not apply to the names in an explicit
// instantiation's template arguments). Both members exist whatever PISTACHE_USE_SSL says.
namespace carnet::pistache_access {
template <typename Tag, typename Tag::type Member>
struct Expose {
  friend typename Tag::type Get(Tag) { return Member; }
};
struct EndpointListener {
  using type = Pistache::Tcp::Listener Pistache::Http::Endpoint::*;
  friend type Get(EndpointListener);
};
template struct Expose<EndpointListener, &Pistache::Http::Endpoint::listener>;
struct ListenerSslCtx {
  using type = Pistache::ssl::SSLCtxPtr Pistache::Tcp::Listener::*;
  friend type Get(ListenerSslCtx);
};
template struct Expose<ListenerSslCtx, &Pistache::Tcp::Listener::ssl_ctx_>;

SSL_CTX* ListenerContext(Pistache::Http::Endpoint& endpoint) {
  Pistache::Tcp::Listener& listener = endpoint.*Get(EndpointListener{});
  return static_cast<SSL_CTX*>((listener.*Get(ListenerSslCtx{})).get());
}
}  // namespace carnet::pistache_access

namespace carnet {
namespace {

using namespace Pistache;

bool IsSafeRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

// Pistache 0.0.5 keeps the query string only as an unordered map: repeated parameters
// (FHIR's AND, e.g. date=ge2024&date=lt2025) and their order are lost; and it re-renders the
// headers it knows from its own parsed form (a Content-Type of application/json-patch+json
// does not survive). The raw request head (request line and headers) is therefore captured
// from the bytes as they arrive (see RequestLineCapture below) and preferred whenever its
// path agrees with what Pistache parsed.
struct RawRequestLine {
  std::string line;      // the head: request line and header lines, CRLF separated
  bool at_start = true;  // the next bytes begin a request
  bool complete = false;
  // Bytes received after the head of this request (chunk framing included): what Pistache
  // would buffer; counted here so that an endless chunked body is cut at the limit.
  uint64_t body_bytes = 0;
  // Answered 413 at the transport: what follows is discarded, never parsed, and the
  // connection closed (see RequestLineCapture::Discard).
  bool rejected = false;
  bool answer_sent = false;  // the 413 left and the write side is shut
  bool aborted = false;
  // A request before this one was handed to the application on this connection: its answer
  // may still wait in Pistache's write queue, so nothing may be written past that queue.
  bool follows_a_request = false;
  uint64_t discarded = 0;
  std::chrono::steady_clock::time_point rejected_at;
};
constexpr const char* kRawLineKey = "carnet.request_line";
constexpr size_t kMaxRequestLine = 64 * 1024;

// The verified client certificate of a TLS connection (mutual TLS), if any.
void ReadClientCertificate(SSL* ssl, HttpRequest* out) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return;
  char cn[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn - 1);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &len) == 1) {
    static const char* kHex = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      out->client_cert_sha256.push_back(kHex[digest[i] >> 4]);
      out->client_cert_sha256.push_back(kHex[digest[i] & 15]);
    }
    out->client_cert_subject_cn = cn;
  }
  X509_free(cert);
}

std::shared_ptr<RawRequestLine> RawLineOf(const std::shared_ptr<Tcp::Peer>& peer) {
  if (!peer) return nullptr;
  return std::static_pointer_cast<RawRequestLine>(peer->tryGetData(kRawLineKey));
}

HttpRequest Convert(const Http::Request& req, const std::shared_ptr<Tcp::Peer>& peer) {
  HttpRequest out;
  out.received = std::chrono::steady_clock::now();
  out.method = Http::methodString(req.method());
  out.path = req.resource();
  out.query = req.query().as_str();
  if (!out.query.empty() && out.query[0] == '?') out.query.erase(0, 1);
  bool have_raw_headers = false;
  if (auto raw = RawLineOf(peer)) {
    if (raw->complete) {
      std::string target = RequestTargetOfHead(raw->line);
      if (!target.empty()) {
        size_t q = target.find('?');
        if (target.substr(0, q) == out.path) {
          out.query = q == std::string::npos ? std::string() : target.substr(q + 1);
          out.headers = HeadersOfRequestHead(raw->line);
          have_raw_headers = true;
        }
      }
    }
    *raw = RawRequestLine{};
    raw->follows_a_request = true;
  }
  if (!have_raw_headers) {
    for (const auto& [name, raw] : req.headers().rawList())
      out.headers.emplace_back(name, raw.value());
    for (const auto& h : req.headers().list()) {
      std::ostringstream value;
      h->write(value);
      out.headers.emplace_back(h->name(), value.str());
    }
  }
  out.body = req.body();
  out.peer = req.address().host();
  if (peer && peer->ssl()) ReadClientCertificate(static_cast<SSL*>(peer->ssl()), &out);
  const std::string* rid = out.Header("X-Request-Id");
  out.request_id = rid && IsSafeRequestId(*rid) ? *rid : RandomHex(8);
  return out;
}

// The path as the log may keep it: a calendar link's secret is a credential, never logged.
std::string LoggedPath(const std::string& path) {
  return path.rfind("/agenda/", 0) == 0 ? "/agenda/[secret]" : path;
}

std::string LogRecord(const HttpRequest& req, int status) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - req.received)
                    .count();
  RecordRequestMetrics(req, status, micros / 1e6);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", micros / 1000.0);
  return "{\"time\":\"" + FormatUtc(std::chrono::system_clock::now()) + "\",\"request_id\":\"" +
         JsonEscape(req.request_id) + "\",\"method\":\"" + JsonEscape(req.method) +
         "\",\"path\":\"" + JsonEscape(LoggedPath(req.path)) +
         "\",\"status\":" + std::to_string(status) + ",\"duration_ms\":" + duration +
         ",\"peer\":\"" + JsonEscape(req.peer) + "\"" + RequestNotesJson(CurrentRequestNotes()) +
         "}";
}

// Pistache 0.0.5 closes the connection after each response unless the request said
// "Connection: keep-alive", although HTTP/1.1 connections are persistent by default and
// most clients do not send the header. Keep it open unless the client asked to close.
void KeepAliveByDefault(const Http::Request& req, Http::ResponseWriter& writer) {
  auto conn = req.headers().tryGet<Http::Header::Connection>();
  bool close = conn ? conn->control() == Http::ConnectionControl::Close
                    : req.version() != Http::Version::Http11;
  writer.headers().remove<Http::Header::Connection>();
  writer.headers().add<Http::Header::Connection>(close ? Http::ConnectionControl::Close
                                                       : Http::ConnectionControl::KeepAlive);
}

// Pistache 0.0.5 writes only typed headers into responses (raw ones are dropped) and parses
// media types into a fixed vocabulary; this header carries any name and value verbatim.
class VerbatimHeader : public Http::Header::Header {
 public:
  VerbatimHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void parse(const std::string& data) override { value_ = data; }
  void write(std::ostream& os) const override { os << value_; }
#ifdef SAFE_HEADER_CAST
  uint64_t hash() const override { return std::hash<std::string>{}(name_); }
#endif

 private:
  std::string name_;
  std::string value_;
};

void Send(Http::ResponseWriter& writer, const HttpResponse& resp) {
  for (const auto& [name, value] : resp.headers) {
    // Header values must not smuggle a line break into the response.
    if (value.find_first_of("\r\n") != std::string::npos) continue;
    writer.headers().add(std::make_shared<VerbatimHeader>(name, value));
  }
  if (!resp.content_type.empty())
    writer.headers().add(std::make_shared<VerbatimHeader>("Content-Type", resp.content_type));
  writer.send(static_cast<Http::Code>(resp.status), resp.body);
}

class AppHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(AppHandler)

  AppHandler() = default;
  AppHandler(HttpHandler* app, WorkerPool* workers, std::atomic<bool>* draining)
      : app_(app), workers_(workers), draining_(draining) {}

  void onRequest(const Http::Request& req, Http::ResponseWriter writer) override {
    KeepAliveByDefault(req, writer);
    auto request = std::make_shared<HttpRequest>(Convert(req, writer.peer()));
    if (draining_->load()) {
      HttpResponse resp;
      resp.status = 503;
      resp.content_type = "application/json";
      resp.body = "{\"status\":\"shutting down\"}";
      resp.SetHeader("X-Request-Id", request->request_id);
      resp.SetHeader("Retry-After", "1");
      Send(writer, resp);
      LogLine(LogRecord(*request, resp.status));
      return;
    }
    // The writer moves to the worker: Pistache queues cross-thread writes to the reactor.
    auto shared_writer = std::make_shared<Http::ResponseWriter>(std::move(writer));
    HttpHandler* app = app_;
    workers_->Submit([app, request, shared_writer] {
      HttpResponse resp;
      RequestScope scope(request->request_id);  // names the request in error reports
      try {
        resp = (*app)(*request);
      } catch (const std::exception& e) {
        // Last line of defence: exceptions must not cross layers, but if one does, the
        // client still gets an answer and the process keeps running.
        resp = HttpResponse{};
        resp.status = 500;
        resp.content_type = "application/json";
        resp.body = "{\"error\":\"internal error\"}";
        LogLine(std::string("{\"level\":\"error\",\"request_id\":\"") + request->request_id +
                "\",\"exception\":\"" + JsonEscape(e.what()) + "\"}");
      }
      resp.SetHeader("X-Request-Id", request->request_id);
      Send(*shared_writer, resp);
      LogLine(LogRecord(*request, resp.status));
    });
  }

 private:
  HttpHandler* app_ = nullptr;
  WorkerPool* workers_ = nullptr;
  std::atomic<bool>* draining_ = nullptr;
};

// Http::Handler::onInput is private, so the capture of the raw request line cannot wrap
// it by inheritance. RequestLineCapture is the handler Pistache sees: it records the first
// line of each request from the raw bytes, then hands the bytes to an AppHandler (one per
// reactor thread, like every Pistache handler) that parses them as usual.
template <typename Tag, typename Tag::type Member>
struct PrivateAccess {
  friend typename Tag::type Get(Tag) { return Member; }
};
struct HandlerTransport {
  using type = Tcp::Transport* Tcp::Handler::*;
  friend type Get(HandlerTransport);
};
template struct PrivateAccess<HandlerTransport, &Tcp::Handler::transport_>;

// Pistache parses the headers it knows into typed objects, and answers 4xx itself when one of
// them does not fit its grammar (a Content-Type such as application/json-patch+json fails
// with "Unfinished Media Type parameter"). carnet reads headers from the captured raw head,
// so every header Pistache does not need for framing is taken out of its registry: they then
// travel as raw headers, unparsed.
struct HeaderRegistryMap {
  using type =
      std::unordered_map<std::string, std::function<std::unique_ptr<Http::Header::Header>()>,
                         Http::Header::LowercaseHash, Http::Header::LowercaseEqual>
          Http::Header::Registry::*;
  friend type Get(HeaderRegistryMap);
};
template struct PrivateAccess<HeaderRegistryMap, &Http::Header::Registry::registry>;

void KeepOnlyFramingHeadersTyped() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& map = Http::Header::Registry::instance().*Get(HeaderRegistryMap{});
    for (auto it = map.begin(); it != map.end();) {
      const std::string& n = it->first;
      bool framing = HeaderNameEquals(n, "Content-Length") ||
                     HeaderNameEquals(n, "Transfer-Encoding") ||
                     HeaderNameEquals(n, "Connection") || HeaderNameEquals(n, "Host") ||
                     HeaderNameEquals(n, "Expect");
      it = framing ? std::next(it) : map.erase(it);
    }
  });
}

class RequestLineCapture : public Http::Handler {
 public:
  HTTP_PROTOTYPE(RequestLineCapture)

  RequestLineCapture(HttpHandler* app, WorkerPool* workers, std::atomic<bool>* draining,
                     const HttpServerOptions* options)
      : app_(app), workers_(workers), draining_(draining), options_(options) {}
  RequestLineCapture(const RequestLineCapture& other)
      : Http::Handler(other),
        app_(other.app_),
        workers_(other.workers_),
        draining_(other.draining_),
        options_(other.options_) {}

  void onRequest(const Http::Request&, Http::ResponseWriter writer) override {
    writer.send(Http::Code::Internal_Server_Error);  // never called: requests go to inner()
  }

  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    NoteConnectionOpened();
    peer->putData(kRawLineKey, std::make_shared<RawRequestLine>());
    static_cast<Tcp::Handler*>(inner())->onConnection(peer);
  }

  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    NoteConnectionClosed();
    static_cast<Tcp::Handler*>(inner())->onDisconnection(peer);
  }

  void onInput(const char* buffer, size_t len, const std::shared_ptr<Tcp::Peer>& peer) override {
    if (auto raw = RawLineOf(peer)) {
      if (raw->rejected) return Discard(*raw, len, peer);
      size_t body = len;  // bytes of this buffer after the head
      if (raw->at_start || !raw->complete) {
        raw->at_start = false;
        // Append up to the end of the head (a blank line); the terminator may straddle
        // two chunks, so search from a little before the old end.
        size_t old = raw->line.size();
        size_t room = kMaxRequestLine - std::min(kMaxRequestLine, old);
        raw->line.append(buffer, std::min(len, room));
        size_t end = raw->line.find("\r\n\r\n", old > 3 ? old - 3 : 0);
        if (end != std::string::npos) {
          raw->line.resize(end + 2);
          raw->complete = true;
          body = len - std::min(len, end + 4 - old);
          if (DeclaredLengthTooLarge(raw->line)) return Reject(*raw, peer);
        } else {
          body = 0;
          // A head longer than we capture would be read by Pistache alone, which loses
          // repeated query parameters: refused (431) rather than half understood.
          if (raw->line.size() >= kMaxRequestLine) return Reject(*raw, peer, /*head=*/true);
        }
      }
      // Pistache would buffer a chunked body whole before looking at its size: count it here.
      raw->body_bytes += body;
      if (raw->body_bytes > options_->max_request_size) return Reject(*raw, peer);
    }
    static_cast<Tcp::Handler*>(inner())->onInput(buffer, len, peer);
  }

 private:
  // A body announced larger than the limit is refused as soon as the head has arrived,
  // before any of it is buffered.
  bool DeclaredLengthTooLarge(const std::string& head) {
    for (const auto& [name, value] : HeadersOfRequestHead(head)) {
      if (!HeaderNameEquals(name, "Content-Length")) continue;
      if (value.empty() || value.size() > 18 ||
          value.find_first_not_of("0123456789") != std::string::npos)
        return false;  // Pistache rejects malformed lengths itself
      return std::stoull(value) > options_->max_request_size;
    }
    return false;
  }

  // Answers 413 in the protocol of the path (the application's `too_large`), then shuts the
  // write side once the answer has left: the client sees the answer and the end of the
  // connection while it is still sending (curl stops sending on an error answer that
  // closes the connection).
  void Reject(RawRequestLine& raw, const std::shared_ptr<Tcp::Peer>& peer, bool head = false) {
    raw.rejected = true;
    raw.rejected_at = std::chrono::steady_clock::now();
    HttpRequest req;
    req.received = raw.rejected_at;
    if (head) {
      // Only the start of the request line arrived: its method and path, if they fit.
      size_t a = raw.line.find(' ');
      if (a != std::string::npos) {
        req.method = raw.line.substr(0, a);
        size_t end = raw.line.find_first_of("? \r", a + 1);
        req.path = raw.line.substr(a + 1, end == std::string::npos ? 256 : end - a - 1);
      }
    } else {
      std::string target = RequestTargetOfHead(raw.line);
      if (!target.empty()) {
        req.method = raw.line.substr(0, raw.line.find(' '));
        size_t q = target.find('?');
        req.path = target.substr(0, q);
        if (q != std::string::npos) req.query = target.substr(q + 1);
      }
      req.headers = HeadersOfRequestHead(raw.line);
    }
    req.peer = peer->address().host();
    req.request_id = RandomHex(8);
    HttpResponse resp = options_->too_large ? options_->too_large(req, head) : DefaultTooLarge();
    resp.SetHeader("X-Request-Id", req.request_id);
    std::string wire = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                       Http::codeString(static_cast<Http::Code>(resp.status)) + "\r\n";
    for (const auto& [name, value] : resp.headers)
      if (value.find_first_of("\r\n") == std::string::npos) wire += name + ": " + value + "\r\n";
    if (!resp.content_type.empty()) wire += "Content-Type: " + resp.content_type + "\r\n";
    wire += "Connection: close\r\nContent-Length: " + std::to_string(resp.body.size()) +
            "\r\n\r\n" + resp.body;
    LogLine(LogRecord(req, resp.status));
    // Pistache reads a socket until it would block before it looks at its write queue: a
    // client sending at loopback speed can keep that loop going for tens of MiB, and a
    // queued answer with it. On a plain connection whose first request this is, nothing can
    // be queued ahead of the answer, so it is written at once (a few hundred bytes into an
    // empty send buffer); otherwise it takes the queue, and Discard bounds the wait.
    if (!peer->ssl() && !raw.follows_a_request) {
      ssize_t n = ::send(peer->fd(), wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n == static_cast<ssize_t>(wire.size())) {
        ::shutdown(peer->fd(), SHUT_WR);
        raw.answer_sent = true;
        return;
      }
      if (n > 0) wire.erase(0, static_cast<size_t>(n));
    }
    size_t size = wire.size();
    std::weak_ptr<Tcp::Peer> weak = peer;
    std::weak_ptr<RawRequestLine> weak_raw = RawLineOf(peer);
    // The promise resolves on this reactor thread once every byte is written; a peer that
    // went away meanwhile resolves nothing (its socket may already serve someone else).
    peer->send(RawBuffer(std::move(wire), size))
        .then(
            [weak, weak_raw](ssize_t) {
              auto p = weak.lock();
              auto r = weak_raw.lock();
              if (!p || !r) return;
              ::shutdown(p->fd(), SHUT_WR);
              r->answer_sent = true;
            },
            [](std::exception_ptr) {});
  }

  // The bytes a refused client still sends are read and dropped (never parsed nor kept):
  // closing at once with unread data would reset the connection, and a reset may destroy
  // the answer before the client reads it. After a grace period (time or bytes) the
  // connection is aborted: connect(AF_UNSPEC) dissolves a Linux TCP socket (a reset to the
  // client, the receive queue dropped), so that Pistache's next read fails with ECONNRESET
  // and it closes the connection the usual way (shutdown(SHUT_RD) would not stop a sender).
  void Discard(RawRequestLine& raw, size_t len, const std::shared_ptr<Tcp::Peer>& peer) {
    raw.discarded += len;
    if (raw.aborted) return;
    // An answer still queued behind a read loop the client keeps fed (TLS, or a connection
    // with an earlier request) is given up after kUnansweredBytes: the client then sees a
    // reset without the 413 rather than the gateway reading an endless stream.
    if (!raw.answer_sent && raw.discarded <= kUnansweredBytes) return;
    if (!raw.answer_sent || raw.discarded > kLingerBytes ||
        std::chrono::steady_clock::now() - raw.rejected_at > kLingerTime) {
      sockaddr unspecified{};
      unspecified.sa_family = AF_UNSPEC;
      ::connect(peer->fd(), &unspecified, sizeof unspecified);
      raw.aborted = true;
    }
  }

  HttpResponse DefaultTooLarge() {
    HttpResponse resp;
    resp.status = 413;
    resp.content_type = "application/fhir+json";
    resp.body =
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":"
        "\"too-long\",\"diagnostics\":\"the request body is larger than the " +
        std::to_string(options_->max_request_size) + " bytes this server accepts\"}]}";
    return resp;
  }

  static constexpr uint64_t kLingerBytes = 4u << 20;
  static constexpr uint64_t kUnansweredBytes = 16u << 20;
  static constexpr std::chrono::milliseconds kLingerTime{1000};

  AppHandler* inner() {
    if (!inner_) {
      inner_ = std::make_shared<AppHandler>(app_, workers_, draining_);
      inner_->setMaxRequestSize(getMaxRequestSize());
      inner_->setMaxResponseSize(getMaxResponseSize());
      inner_->setHeaderTimeout(getHeaderTimeout());
      inner_->setBodyTimeout(getBodyTimeout());
      static_cast<Tcp::Handler*>(inner_.get())->*Get(HandlerTransport{}) = transport();
    }
    return inner_.get();
  }

  HttpHandler* app_;
  WorkerPool* workers_;
  std::atomic<bool>* draining_;
  const HttpServerOptions* options_;
  std::shared_ptr<AppHandler> inner_;
};

}  // namespace

void LogEvent(const std::string& event, const std::string& detail) {
  std::string line = "{\"time\":\"" + FormatUtc(std::chrono::system_clock::now()) +
                     "\",\"event\":\"" + JsonEscape(event) + "\"";
  if (!detail.empty()) line += ",\"detail\":\"" + JsonEscape(detail) + "\"";
  LogLine(line + "}");
}

class HttpServer::Impl {
 public:
  HttpServerOptions options;
  HttpHandler app;
  WorkerPool* workers;
  std::unique_ptr<Http::Endpoint> endpoint;
  TlsIdentity tls;  // what the TLS listener presents (ReloadCertificate replaces it)
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler app, WorkerPool& workers)
    : impl_(new Impl{std::move(options), std::move(app), &workers, nullptr, {}}) {}

HttpServer::~HttpServer() { Shutdown(); }

Status HttpServer::Start() {
  KeepOnlyFramingHeadersTyped();
  try {
    Address addr(impl_->options.bind, Port(static_cast<uint16_t>(impl_->options.port)));
    impl_->endpoint = std::make_unique<Http::Endpoint>(addr);
    auto opts = Http::Endpoint::options()
                    .threads(impl_->options.reactor_threads)
                    .flags(Tcp::Options::ReuseAddr)
                    // The body limit is enforced by RequestLineCapture (counted as it
                    // arrives); Pistache's own, on head and body together, stays above it.
                    .maxRequestSize(impl_->options.max_request_size + kMaxRequestLine)
                    .maxResponseSize(impl_->options.max_request_size);
    impl_->endpoint->init(opts);
    if (!impl_->options.tls_cert_file.empty()) {
      Status loaded = impl_->tls.Load(impl_->options.tls_cert_file, impl_->options.tls_key_file);
      if (!loaded.ok()) {
        impl_->endpoint.reset();
        return loaded;
      }
      impl_->endpoint->useSSL(impl_->options.tls_cert_file, impl_->options.tls_key_file);
      if (!impl_->options.client_ca_file.empty())
        impl_->endpoint->useSSLAuth(impl_->options.client_ca_file);
      SSL_CTX* ctx = pistache_access::ListenerContext(*impl_->endpoint);
      if (!ctx) {
        impl_->endpoint.reset();
        return Internal("the TLS listener has no SSL context");
      }
      impl_->tls.InstallOn(ctx);
    }
    impl_->endpoint->setHandler(Http::make_handler<RequestLineCapture>(
        &impl_->app, impl_->workers, &draining_, &impl_->options));
    impl_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    impl_->endpoint.reset();
    return Unavailable(std::string("cannot listen on ") + impl_->options.bind + ":" +
                       std::to_string(impl_->options.port) + ": " + e.what());
  }
  return Status::Ok();
}

Status HttpServer::ReloadCertificate() {
  if (impl_->options.tls_cert_file.empty()) return Status::Ok();
  return impl_->tls.Load(impl_->options.tls_cert_file, impl_->options.tls_key_file);
}

std::string HttpServer::CertificateSubject() const { return impl_->tls.subject(); }

void HttpServer::Shutdown() {
  if (impl_->endpoint) {
    impl_->endpoint->shutdown();
    impl_->endpoint.reset();
  }
}

int HttpServer::port() const {
  return impl_->endpoint ? static_cast<int>(static_cast<uint16_t>(impl_->endpoint->getPort())) : 0;
}

}  // namespace carnet
