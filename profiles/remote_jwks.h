// The trusted issuers' keys fetched from their JWKS URLs (jwks_urls), beside those of
// jwks_file: fetched at start, kept for the max-age their server gives (Cache-Control), and
// fetched again when a token names a key id not known yet, so that an issuer's key rotation
// needs no restart. Fetches are bounded in rate (at most one per min_refetch_s, whatever the
// tokens say: a flood of made-up key ids costs one fetch) and in time and size (the fetcher's
// timeout, 1 MiB). A failed fetch keeps the keys already known.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "profiles/actor.h"
#include "profiles/jwt.h"

namespace carnet::profiles {

// What a fetch brought back: the document, and how long it may be kept (seconds; < 0 when the
// server said nothing).
struct FetchedJwks {
  std::string body;
  long long max_age_s = -1;
};
// Fetches one URL (server/ gives the libcurl one; tests may give their own).
using JwksFetcher = std::function<Result<FetchedJwks>(const std::string& url)>;

struct RemoteJwksSettings {
  std::vector<std::string> urls;
  std::vector<std::string> issuers;    // the issuers whose tokens these keys validate
  long long default_max_age_s = 3600;  // when the server gives no max-age
  long long min_refetch_s = 30;        // the least time between two fetches
};

// http:// is accepted for loopback hosts only (a JWKS over plain HTTP elsewhere would let
// anyone on the path sign tokens); https:// anywhere. kBadRequest naming the URL otherwise.
Status CheckJwksUrl(const std::string& url);

class RemoteJwks {
 public:
  // `base`: the keys that do not come from URLs (jwks_file, development and SMART keys).
  RemoteJwks(JwtVerifier base, RemoteJwksSettings settings, JwksFetcher fetch);

  // Fetches every URL now (at start). On failure the keys stay as they were and the status
  // says which URL failed and why (the next token retries, within the rate bound).
  Status Refresh(long long now);
  // Verifies with the current keys; refreshes first when they are older than their max-age,
  // and once more when the token names an unknown key (both within the rate bound).
  Result<Actor> Verify(std::string_view token, long long now, Reason* why = nullptr);

  size_t key_count() const;
  int fetches() const;  // fetch rounds attempted so far

 private:
  std::shared_ptr<const JwtVerifier> Current() const;
  // Refreshes unless the last attempt was less than min_refetch_s ago (or another thread is
  // fetching: that one's result serves).
  void MaybeRefresh(long long now);

  const JwtVerifier base_;
  const RemoteJwksSettings settings_;
  const JwksFetcher fetch_;
  mutable std::mutex mu_;  // guards current_, expires_at_, last_attempt_, fetches_
  std::shared_ptr<const JwtVerifier> current_;
  long long expires_at_ = 0;
  long long last_attempt_ = -1;
  int fetches_ = 0;
  std::mutex fetching_;  // one fetch round at a time
};

}  // namespace carnet::profiles
