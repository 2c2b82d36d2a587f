#include "profiles/remote_jwks.h"

#include <algorithm>

namespace carnet::profiles {

Status CheckJwksUrl(const std::string& url) {
  if (url.rfind("https://", 0) == 0) return Status::Ok();
  if (url.rfind("http://", 0) == 0) {
    std::string rest = url.substr(7);
    std::string host = rest.substr(0, rest.find_first_of("/?#"));
    if (!host.empty() && host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    if (host == "127.0.0.1" || host == "localhost" || host == "[::1]") return Status::Ok();
    return BadRequest("jwks_urls: " + url +
                      " is plain HTTP to another host than loopback: use https://");
  }
  return BadRequest("jwks_urls: " + url + " is not an http(s) URL");
}

RemoteJwks::RemoteJwks(JwtVerifier base, RemoteJwksSettings settings, JwksFetcher fetch)
    : base_(std::move(base)),
      settings_(std::move(settings)),
      fetch_(std::move(fetch)),
      current_(std::make_shared<JwtVerifier>(base_)) {}

std::shared_ptr<const JwtVerifier> RemoteJwks::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

size_t RemoteJwks::key_count() const { return Current()->key_count(); }

int RemoteJwks::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

Status RemoteJwks::Refresh(long long now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_attempt_ = now;
    ++fetches_;
  }
  auto next = std::make_shared<JwtVerifier>(base_);
  long long max_age = -1;
  for (const auto& url : settings_.urls) {
    auto doc = fetch_(url);
    if (!doc.ok()) return Unavailable("JWKS " + url + ": " + doc.status().message());
    Status st = next->AddJwks(doc->body, settings_.issuers);
    if (!st.ok()) return BadRequest("JWKS " + url + ": " + st.message());
    long long age = doc->max_age_s >= 0 ? doc->max_age_s : settings_.default_max_age_s;
    max_age = max_age < 0 ? age : std::min(max_age, age);
  }
  // Kept at least min_refetch_s (a max-age of 0 would otherwise mean a fetch per request),
  // at most a day.
  max_age = std::clamp<long long>(max_age, settings_.min_refetch_s, 86400);
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(next);
  expires_at_ = now + max_age;
  return Status::Ok();
}

void RemoteJwks::MaybeRefresh(long long now) {
  std::unique_lock<std::mutex> busy(fetching_, std::try_to_lock);
  if (!busy.owns_lock()) {
    // Another thread fetches: wait for its result rather than fetch again.
    std::lock_guard<std::mutex> wait(fetching_);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_attempt_ >= 0 && now - last_attempt_ < settings_.min_refetch_s) return;
  }
  (void)Refresh(now);  // a failure keeps the keys known; the log shows the 401's reason
}

Result<Actor> RemoteJwks::Verify(std::string_view token, long long now, Reason* why) {
  bool stale;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stale = now >= expires_at_;
  }
  if (stale) MaybeRefresh(now);
  Reason reason = Reason::kRefused;
  auto actor = Current()->Verify(token, now, &reason);
  if (!actor.ok() && reason == Reason::kTokenUnknownKey) {
    MaybeRefresh(now);  // a rotation: the issuer may publish the new key by now
    actor = Current()->Verify(token, now, &reason);
  }
  if (why && !actor.ok()) *why = reason;
  return actor;
}

}  // namespace carnet::profiles
