#include "profiles/webhook_destination.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cstdint>
#include <cstring>

#include "base/strings.h"
#include "profiles/jwt.h"

namespace carnet::profiles {
namespace {

std::string Lower(std::string_view s) { return AsciiLower(s); }

// "host", "host:port", "[v6]", "[v6]:port" -> host and port (0 when absent); false when
// malformed.
bool SplitHostPort(std::string_view text, std::string* host, int* port) {
  *port = 0;
  std::string_view rest;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    *host = Lower(text.substr(1, close - 1));
    rest = text.substr(close + 1);
  } else {
    size_t colon = text.find(':');
    // A bare IPv6 address (several colons) has no port.
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
      *host = Lower(text.substr(0, colon));
      rest = text.substr(colon);
    } else {
      *host = Lower(text);
    }
  }
  if (host->empty()) return false;
  if (!rest.empty()) {
    if (rest[0] != ':' || rest.size() < 2 || rest.size() > 6) return false;
    int p = 0;
    for (char c : rest.substr(1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return false;
    *port = p;
  }
  return true;
}

bool PublicV4(uint32_t a) {  // host byte order
  auto in = [a](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return !(in(0x00000000, 8) ||   // 0.0.0.0/8 "this network"
           in(0x0A000000, 8) ||   // 10/8
           in(0x64400000, 10) ||  // 100.64/10 carrier-grade NAT
           in(0x7F000000, 8) ||   // 127/8 loopback
           in(0xA9FE0000, 16) ||  // 169.254/16 link-local (cloud metadata)
           in(0xAC100000, 12) ||  // 172.16/12
           in(0xC0000000, 24) ||  // 192.0.0/24 protocol assignments
           in(0xC0000200, 24) ||  // 192.0.2/24 documentation
           in(0xC0A80000, 16) ||  // 192.168/16
           in(0xC6120000, 15) ||  // 198.18/15 benchmarking
           in(0xC6336400, 24) ||  // 198.51.100/24 documentation
           in(0xCB007100, 24) ||  // 203.0.113/24 documentation
           in(0xE0000000, 4) ||   // 224/4 multicast
           in(0xF0000000, 4));    // 240/4 reserved, 255.255.255.255
}

bool PublicV6(const unsigned char* b) {
  static const unsigned char kZero[16] = {0};
  if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return false;  // ::, ::1
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  bool mapped = std::memcmp(b, kMapped, 12) == 0;  // ::ffff:a.b.c.d
  bool compat = std::memcmp(b, kZero, 12) == 0;    // ::a.b.c.d
  static const unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  bool nat64 = std::memcmp(b, kNat64, 12) == 0;  // 64:ff9b::/96
  if (mapped || compat || nat64) {
    uint32_t v4 =
        (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
    return PublicV4(v4);
  }
  if ((b[0] & 0xfe) == 0xfc) return false;                  // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;  // fec0::/10 site-local (old)
  if (b[0] == 0xff) return false;                           // multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // 2001:db8::/32
  return true;
}

bool IsLoopbackName(const std::string& host) {
  return host == "localhost" ||
         (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0) ||
         host == "localhost.localdomain" || host == "ip6-localhost" || host == "ip6-loopback";
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

WebhookPolicy& Process() {
  static WebhookPolicy policy;
  return policy;
}

}  // namespace

Result<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  WebhookUrl out;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return Invalid("a webhook address is an http(s) URL");
  out.scheme = Lower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https")
    return Invalid("a webhook address is an http(s) URL");
  std::string_view rest = url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos)
    return Invalid("a webhook address carries no user name or password");
  if (!SplitHostPort(authority, &out.host, &out.port))
    return Invalid("a webhook address needs a host (and a port from 1 to 65535)");
  if (out.port == 0) out.port = out.scheme == "https" ? 443 : 80;
  return out;
}

bool IsPublicAddress(const std::string& address) {
  in_addr v4;
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) return PublicV4(ntohl(v4.s_addr));
  in6_addr v6;
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) return PublicV6(v6.s6_addr);
  return false;
}

Result<WebhookPolicy> WebhookPolicy::Parse(std::string_view allowed_hosts) {
  WebhookPolicy policy;
  for (const std::string& item : SplitList(allowed_hosts)) {
    Entry e;
    if (!SplitHostPort(item, &e.host, &e.port))
      return BadRequest("webhook_allowed_hosts: '" + item + "' is not host[:port]");
    policy.allowed_.push_back(std::move(e));
  }
  return policy;
}

bool WebhookPolicy::Listed(const WebhookUrl& url) const {
  for (const Entry& e : allowed_)
    if (e.host == url.host && (e.port == 0 || e.port == url.port)) return true;
  return false;
}

Status WebhookPolicy::CheckUrl(std::string_view url) const {
  auto parsed = ParseWebhookUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (Listed(*parsed)) return Status::Ok();
  if ((IsIpLiteral(parsed->host) && !IsPublicAddress(parsed->host)) || IsLoopbackName(parsed->host))
    return Invalid("webhook address " + parsed->host +
                   " is not a public destination (loopback, private and link-local addresses "
                   "are refused unless the operator lists them)");
  return Status::Ok();
}

Result<std::string> WebhookPolicy::ResolveForDelivery(const WebhookUrl& url) const {
  bool listed = Listed(url);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || !found)
    return Status(ErrorCode::kUnavailable,
                  "webhook host " + url.host + " does not resolve: " + gai_strerror(rc));
  std::string pinned;
  Status refused = Status::Ok();
  for (addrinfo* a = found; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {0};
    const void* raw =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
    inet_ntop(a->ai_family, raw, text, sizeof text);
    if (!listed && !IsPublicAddress(text)) {
      refused = Status(ErrorCode::kForbidden,
                       "webhook host " + url.host + " resolves to " + text +
                           ", not a public address (not listed in webhook_allowed_hosts)");
      break;
    }
    if (pinned.empty()) pinned = text;
  }
  freeaddrinfo(found);
  if (!refused.ok()) return refused;
  if (pinned.empty())
    return Status(ErrorCode::kUnavailable, "webhook host " + url.host + " has no address");
  return pinned;
}

void SetProcessWebhookPolicy(WebhookPolicy policy) { Process() = std::move(policy); }
const WebhookPolicy& ProcessWebhookPolicy() { return Process(); }

}  // namespace carnet::profiles
