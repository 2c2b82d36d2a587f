#include "xds/service.h"

#include "xds/mtom.h"
#include "xds/soap.h"
#include "xds/transactions.h"

namespace carnet::xds {
namespace {

// The SOAP route table: which endpoint serves which transaction, and the handler that does
// it (one file each, xds/transactions.h). A transaction sent to the other endpoint is refused
// with wsa:ActionNotSupported naming the right one.
using Handler = HttpResponse (*)(const XdsContext&, Session&, const SoapRequest&);
struct SoapRoute {
  std::string_view endpoint;
  xds::Transaction transaction;
  Handler handler;
};
constexpr std::string_view kRegistry = "/xds/registry";
constexpr std::string_view kRepository = "/xds/repository";
constexpr SoapRoute kRoutes[] = {
    {kRepository, xds::Transaction::kProvideAndRegister, ProvideAndRegister},  // ITI-41
    {kRegistry, xds::Transaction::kRegister, Register},                        // ITI-42
    {kRepository, xds::Transaction::kRetrieve, Retrieve},                      // ITI-43
    {kRegistry, xds::Transaction::kStoredQuery, Query},                        // ITI-18
    {kRegistry, xds::Transaction::kUpdate, UpdateDocumentSet},                 // ITI-57
    {kRegistry, xds::Transaction::kDelete, DeleteDocumentSet},                 // ITI-62
};

}  // namespace

class XdsService::Impl {
 public:
  Impl(storage::Pool& pool, XdsOptions options) : xds_{pool, options} {}

  HttpResponse Handle(const HttpRequest& req, Session& session);

 private:
  HttpResponse Route(const HttpRequest& req, Session& session);

  XdsContext xds_;
};

XdsService::XdsService(storage::Pool& pool, XdsOptions options)
    : impl_(std::make_unique<Impl>(pool, options)) {}
XdsService::~XdsService() = default;
HttpResponse XdsService::Handle(const HttpRequest& req, Session& session) {
  return impl_->Handle(req, session);
}

HttpResponse XdsService::Unauthorized(const HttpRequest& req) {
  (void)req;
  SoapFault f = SenderFault("authentication required: send a valid Bearer token",
                            "wsse:FailedAuthentication");
  f.http_status = 401;
  HttpResponse r = Fault(f, "");
  r.SetHeader("WWW-Authenticate", "Bearer realm=\"carnet\", error=\"invalid_token\"");
  return r;
}

HttpResponse XdsService::Refused(const Status& status) {
  return Fault(FaultFromStatus(status), "");
}

HttpResponse XdsService::Impl::Handle(const HttpRequest& req, Session& session) {
  HttpResponse r = Route(req, session);
  // Refusals leave their audit record before the answer leaves.
  Status audited = session.FlushRefusals(xds_.pool);
  if (!audited.ok()) return Fault(FaultFromStatus(audited), "");
  return r;
}

HttpResponse XdsService::Impl::Route(const HttpRequest& req, Session& session) {
  if (req.method != "POST") {
    HttpResponse r = Fault(SenderFault("XDS.b endpoints take SOAP 1.2 over HTTP POST"), "");
    r.status = 405;
    r.SetHeader("Allow", "POST");
    return r;
  }
  const std::string* ct = req.Header("Content-Type");
  auto message = ReadInboundMessage(ct ? *ct : "", req.body);
  if (!message.ok()) {
    SoapFault f = FaultFromStatus(message.status());
    if (message.status().code() == ErrorCode::kUnsupportedMediaType) f.http_status = 415;
    return Fault(f, "");
  }
  SoapParseOutcome parsed = ParseSoapRequest(std::move(message).value());
  if (!parsed.request) return Fault(parsed.fault, parsed.relates_to);
  const SoapRequest& soap = *parsed.request;
  // Every path but the registry's is the repository's (the gateway sends only these two).
  std::string_view endpoint = req.path == kRegistry ? kRegistry : kRepository;
  for (const SoapRoute& route : kRoutes) {
    if (route.transaction != soap.transaction->transaction) continue;
    if (route.endpoint == endpoint) return route.handler(xds_, session, soap);
    return Fault(SenderFault(std::string(soap.transaction->iti) + " is not served at " + req.path +
                                 " (send it to " + std::string(route.endpoint) + ")",
                             "wsa:ActionNotSupported"),
                 soap.message_id);
  }
  return Fault(SenderFault(std::string(soap.transaction->iti) + " is not served at " + req.path,
                           "wsa:ActionNotSupported"),
               soap.message_id);
}

}  // namespace carnet::xds
