// profiles/jwt: a hostile bearer token against a fixed key set. A token signed by a key the
// verifier does not trust stops at the signature, so a second mode signs the input's claims
// with the trusted key: the claim checks and the actor mapping then see hostile claims.
// Input byte 0: even -> the rest is the token; odd -> the rest is the claims (JSON).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/json.h"
#include "profiles/jwt.h"

using namespace carnet;
using namespace carnet::profiles;

namespace {

// A P-256 key made for this fuzzer only (trusted by nothing else): its kid is fixed, so that
// the corpus and the dictionary can name it.
constexpr std::string_view kPem = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgZd19684d0mGwvGgY
JzQWrPzrNd+2XgbpYij/wjOrMbGhRANCAATGn0H2y5oFyRgYpLKNI3BF/SJBu8wu
/MiV0uUt22Do7BkKnSIprmNgkfdvupcR00maB466dQ8A1F/UW5SUnLL7
-----END PRIVATE KEY-----
)";
constexpr long long kNow = 1767225600;  // 2026-01-01T00:00:00Z

struct Keys {
  SigningKey signing;
  JwtVerifier verifier;
};

const Keys& FixedKeys() {
  static const Keys* keys = [] {
    auto signing = SigningKey::FromPem(kPem);
    if (!signing.ok()) std::abort();
    JwtVerifier verifier;
    if (!verifier.AddJwks(signing->JwksJson(), {"https://issuer.example", "carnet-dev"}).ok())
      std::abort();
    return new Keys{*signing, verifier};
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Keys& keys = FixedKeys();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    (void)keys.verifier.Verify(rest, kNow);
    (void)Base64UrlDecode(rest);
    return 0;
  }
  auto claims = ParseJson(rest);
  if (!claims.ok()) return 0;
  auto token = keys.signing.Sign(*claims);
  if (!token.ok()) return 0;
  (void)keys.verifier.Verify(*token, kNow);
  return 0;
}
