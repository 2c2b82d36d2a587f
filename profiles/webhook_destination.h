// Where a webhook may be sent (issue 13): a patient names the URL, the gateway calls it, so
// the URL must not reach into the gateway's own network. Loopback, private, link-local and
// other non-public addresses are refused unless the operator lists the host in
// --webhook-allowed-hosts ("host[:port],..."); public addresses need no listing.
//
// Checked twice: when the address is set (Subscription create/update,
// $notification-preferences: the URL's shape, and a host that is a refused IP literal or a
// loopback name), and again when delivering (the name resolved, every address checked, and
// the connection pinned to a checked address so that DNS cannot answer differently twice).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace carnet::profiles {

// An http(s) URL taken apart.
struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case, IPv6 without brackets
  int port = 0;        // explicit or the scheme's default
};
// kInvalid unless `url` is an absolute http(s) URL with a host.
Result<WebhookUrl> ParseWebhookUrl(std::string_view url);

// True when `address` (a numeric IPv4 or IPv6 address) is a public unicast address: not
// unspecified, loopback, RFC 1918, carrier-grade NAT, link-local, unique-local (fc00::/7),
// multicast, reserved or documentation ranges (IPv4-mapped IPv6 checked as IPv4). False
// also for text that is not an address.
bool IsPublicAddress(const std::string& address);

class WebhookPolicy {
 public:
  WebhookPolicy() = default;
  // From the setting's text: "host[:port]" entries separated by commas ("[v6]:port" for
  // IPv6 with a port). kBadRequest for a malformed entry.
  static Result<WebhookPolicy> Parse(std::string_view allowed_hosts);

  // When the address is set: kInvalid when the URL is malformed, or names a non-public IP
  // literal or a loopback name (localhost) that is not listed. Names are not resolved here
  // (no DNS inside a request's transaction): delivery checks what they resolve to.
  Status CheckUrl(std::string_view url) const;

  // At delivery: the numeric address to connect to, after resolving the host and checking
  // every address it has (all must be allowed, so that no answer order can pick a refused
  // one). kForbidden when one is refused, kUnavailable when the name does not resolve.
  Result<std::string> ResolveForDelivery(const WebhookUrl& url) const;

  bool Listed(const WebhookUrl& url) const;

 private:
  struct Entry {
    std::string host;
    int port = 0;  // 0: any
  };
  std::vector<Entry> allowed_;
};

// The policy of this process, set once at start-up before serving (server/main.cc) and
// read-only afterwards; CheckPreference applies it. The default refuses every non-public
// destination.
void SetProcessWebhookPolicy(WebhookPolicy policy);
const WebhookPolicy& ProcessWebhookPolicy();

}  // namespace carnet::profiles
