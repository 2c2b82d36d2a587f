// JWT bearer tokens (RFC 7519, RFC 9068): verification against trusted issuers' keys, and
// signing for the development token (`carnet token`).
//
// Verification is deliberately narrow (security.md, "Identity conventions"; hostile input
// 5): the header's alg must be RS256 or ES256 and match the key's type, `none` and every
// HMAC alg are refused whatever the keys are, the key is found by `kid` only in the
// configured JWKS, and `iss`, `aud`, `exp`, `nbf` are checked with a small clock skew.
// Every refusal is kUnauthorized with a reason meant for the log and the audit, not for
// the caller (the front end answers a plain 401).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "profiles/actor.h"
#include "profiles/reason_codes.h"

// OpenSSL's key type, kept out of this header's users.
typedef struct evp_pkey_st EVP_PKEY;

namespace carnet::profiles {

// The development issuer of `carnet token`; trusted only when the configuration says so
// (trust_dev_key).
inline constexpr std::string_view kDevIssuer = "carnet-dev";

// The SHA-256 digest of `data` (32 raw bytes).
std::string Sha256Digest(std::string_view data);

// base64url without padding (RFC 7515 section 2).
std::string Base64UrlEncode(std::string_view bytes);
// Strict: only the base64url alphabet, no padding, no whitespace; nullopt otherwise.
std::optional<std::string> Base64UrlDecode(std::string_view text);

struct JwtVerifierOptions {
  std::string audience = "carnet";
  int clock_skew_s = 60;
  // The longest lifetime a token may claim: exp - iat (when iat is given) and exp - now
  // must not exceed it (plus the skew for the latter), or a stolen token would never expire.
  long long max_lifetime_s = 24 * 3600;
  size_t max_token_bytes = 16 * 1024;  // a bearer header is never this long in practice
};

// Verifies tokens. Build it once at start (and again to rotate keys); Verify is const and
// safe to call from many threads at once.
class JwtVerifier {
 public:
  explicit JwtVerifier(JwtVerifierOptions options = {});

  // Trusts the keys of a JWKS document (RFC 7517) for tokens from `issuers` only: a key
  // of one issuer never validates another issuer's token. RSA keys (n, e; 2048 bits or
  // more) and EC P-256 keys (x, y) are taken; other keys, and keys whose `use` is not
  // "sig", are skipped. kBadRequest when the document is malformed or holds no usable
  // key, or a kid is already trusted.
  Status AddJwks(std::string_view jwks_json, const std::vector<std::string>& issuers);
  // The same, from a file.
  Status AddJwksFile(const std::string& path, const std::vector<std::string>& issuers);

  // The verified claims of `token` at time `now` (seconds since the epoch). A refusal sets
  // *why (when given) to its reason code (token-expired, token-unknown-key...).
  Result<JsonValue> VerifyClaims(std::string_view token, long long now,
                                 Reason* why = nullptr) const;
  // VerifyClaims, then ActorFromClaims (claims that describe no actor: token-claims).
  Result<Actor> Verify(std::string_view token, long long now, Reason* why = nullptr) const;

  size_t key_count() const { return keys_.size(); }

 private:
  struct Key {
    std::string kid;
    std::string alg;  // "RS256" or "ES256": what the key type allows
    std::shared_ptr<EVP_PKEY> pkey;
    std::vector<std::string> issuers;
  };
  // Tokens whose signature this verifier checked (the whole compact JWS). A client sends the
  // same token with every request until it expires; the RSA or ECDSA check and OpenSSL's
  // algorithm fetches cost more than the rest of the verification, so each token's signature
  // is checked once. Everything else (issuer, audience, exp, nbf) is checked on every use.
  // Safe across key rotation: a rotation builds a new verifier, and AddJwks starts the cache
  // anew (copies share it until one of them is given keys).
  struct SignatureCache;
  JwtVerifierOptions options_;
  std::vector<Key> keys_;
  std::shared_ptr<SignatureCache> verified_;
};

// What the gateway's configuration says about identity (server/config.h settings).
struct IdentitySettings {
  std::string jwks_file;                     // trusted issuers' keys; may be empty
  std::vector<std::string> trusted_issuers;  // issuers whose tokens jwks_file validates
  std::string audience = "carnet";
  int clock_skew_s = 60;
  long long max_token_lifetime_s = 24 * 3600;  // JwtVerifierOptions::max_lifetime_s
  bool trust_dev_key = false;  // also trust DATA_DIR/keys/dev-jwks.json for kDevIssuer
  // carnet's own issuer (the FHIR base URL) when it serves SMART App Launch: the key under
  // DATA_DIR/keys/smart-signing-key.pem is trusted for it. Empty: none.
  std::string smart_issuer;
  std::string data_dir;
};
// Builds the verifier the gateway uses: jwks_file for trusted_issuers, plus the development
// key for kDevIssuer when trust_dev_key (created under data_dir if missing, so that
// `carnet serve` and `carnet token` may start in either order). kBadRequest for an
// unreadable or malformed JWKS, or a jwks_file without trusted_issuers. A verifier with no
// key is returned as is (key_count() == 0): it refuses every token, and the caller decides
// whether to start like that.
Result<JwtVerifier> LoadJwtVerifier(const IdentitySettings& settings);
// Splits "a, b,c" into {"a","b","c"} (the trusted_issuers setting).
std::vector<std::string> SplitList(std::string_view text);

// A private signing key (EC P-256 for ES256, or RSA for RS256).
class SigningKey {
 public:
  // A new EC P-256 key.
  static Result<SigningKey> GenerateEc();
  // A new RSA key of `bits` bits.
  static Result<SigningKey> GenerateRsa(int bits = 2048);
  // A PEM private key (PKCS#8 or traditional).
  static Result<SigningKey> FromPem(std::string_view pem);
  // The development key under DATA_DIR/keys/ (dev-signing-key.pem, mode 0600, in a 0700
  // directory), created on first use; the matching JWKS is (re)written beside it as
  // dev-jwks.json. Two processes creating it at once end with the same key.
  static Result<SigningKey> LoadOrCreateDevKey(const std::string& data_dir);
  // carnet's own authorization server key (SMART App Launch), DATA_DIR/keys/
  // smart-signing-key.pem and smart-jwks.json, made and kept the same way.
  static Result<SigningKey> LoadOrCreateSmartKey(const std::string& data_dir);

  std::string alg() const { return alg_; }  // "ES256" or "RS256"
  // RFC 7638 thumbprint of the public key, base64url.
  const std::string& kid() const { return kid_; }
  std::string PrivatePem() const;
  // The public key as a JWK object (kty, crv/x/y or n/e, kid, alg, use).
  JsonValue PublicJwk() const;
  // {"keys":[PublicJwk()]} as text.
  std::string JwksJson() const;
  // A compact JWS: header {"alg","typ":"JWT","kid"} over `claims`.
  Result<std::string> Sign(const JsonValue& claims) const;

 private:
  SigningKey() = default;
  Status Init();
  static Result<SigningKey> LoadOrCreateKey(const std::string& data_dir, const std::string& path,
                                            const std::string& jwks_path);
  std::shared_ptr<EVP_PKEY> pkey_;
  std::string alg_;
  std::string kid_;
};

// Paths of the development key and its JWKS under a data directory.
std::string DevKeyPath(const std::string& data_dir);
std::string DevJwksPath(const std::string& data_dir);
std::string SmartKeyPath(const std::string& data_dir);
std::string SmartJwksPath(const std::string& data_dir);

}  // namespace carnet::profiles
