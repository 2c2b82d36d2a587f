#include "server/jwks_fetch.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <memory>

namespace carnet {
namespace {

constexpr size_t kMaxJwksBytes = 1 << 20;

struct Answer {
  std::string body;
  long long max_age_s = -1;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Answer*>(user);
  if (a->body.size() + size * n > kMaxJwksBytes) {
    a->too_large = true;
    return 0;  // aborts the transfer
  }
  a->body.append(data, size * n);
  return size * n;
}

// Cache-Control: ... max-age=N ... (no-store / no-cache: 0, kept min_refetch_s).
size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Answer*>(user);
  std::string line(data, size * n);
  for (char& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (line.rfind("cache-control:", 0) == 0) {
    auto at = line.find("max-age=");
    if (at != std::string::npos) a->max_age_s = std::atoll(line.c_str() + at + 8);
    if (line.find("no-store") != std::string::npos || line.find("no-cache") != std::string::npos)
      a->max_age_s = 0;
  }
  return size * n;
}

}  // namespace

profiles::JwksFetcher CurlJwksFetcher(long timeout_ms) {
  return [timeout_ms](const std::string& url) -> Result<profiles::FetchedJwks> {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), &curl_easy_cleanup);
    if (!c) return Internal("curl_easy_init failed");
    Answer a;
    curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "carnet-jwks/1");
    CURLcode rc = curl_easy_perform(c.get());
    if (a.too_large) return Unavailable("larger than 1 MiB");
    if (rc != CURLE_OK) return Unavailable(curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return Unavailable("HTTP status " + std::to_string(status));
    return profiles::FetchedJwks{std::move(a.body), a.max_age_s};
  };
}

}  // namespace carnet
