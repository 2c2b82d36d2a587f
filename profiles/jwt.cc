#include "profiles/jwt.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include "base/files.h"
#include "base/strings.h"
#include "profiles/reason_codes.h"

namespace carnet::profiles {
namespace {

// A refused token: kUnauthorized with the message for the log, and its reason code
// (profiles/reason_codes.def) in *why for the log line and the audit.
Status Unauthorized(Reason* why, Reason reason, std::string message) {
  if (why) *why = reason;
  return Status(ErrorCode::kUnauthorized, std::move(message));
}

// RAII for the OpenSSL objects used here.
struct Free {
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* p) { return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free); }

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string BnBytes(const BIGNUM* bn, int pad) {
  int n = pad > 0 ? pad : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

// JOSE ES256 signatures are r||s, 32 bytes each (RFC 7518 section 3.4); OpenSSL speaks DER.
std::optional<std::string> RawEcdsaToDer(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  Owned<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

std::optional<std::string> DerEcdsaToRaw(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  Owned<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  if (BN_num_bytes(r) > 32 || BN_num_bytes(s) > 32) return std::nullopt;
  return BnBytes(r, 32) + BnBytes(s, 32);
}

bool VerifySignature(EVP_PKEY* pkey, std::string_view alg, std::string_view signing_input,
                     std::string_view signature) {
  std::string der;
  if (alg == "ES256") {
    auto converted = RawEcdsaToDer(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

Result<std::shared_ptr<EVP_PKEY>> KeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || !raw)
    return BadRequest(std::string("the JWK does not describe a valid ") + type + " public key");
  auto pkey = Share(raw);
  // An EC point off the curve would make verification meaningless (invalid-curve attacks).
  Owned<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    return BadRequest(std::string("the JWK's ") + type + " public key fails the key check");
  return pkey;
}

std::optional<std::string> JwkBytes(const JsonValue& jwk, std::string_view member) {
  const JsonValue* v = jwk.Find(member);
  if (!v || !v->is_string()) return std::nullopt;
  return Base64UrlDecode(v->text());
}

Result<std::shared_ptr<EVP_PKEY>> RsaKeyFromJwk(const JsonValue& jwk) {
  auto n = JwkBytes(jwk, "n"), e = JwkBytes(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return BadRequest("RSA JWK without valid n and e");
  Owned<BIGNUM> bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                               static_cast<int>(n->size()), nullptr));
  Owned<BIGNUM> bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                               static_cast<int>(e->size()), nullptr));
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return Internal("cannot build RSA key parameters");
  auto key = KeyFromParams("RSA", bld.get());
  if (!key.ok()) return key.status();
  // RFC 7518 section 3.3: 2048 bits at least.
  if (EVP_PKEY_get_bits(key->get()) < 2048) return BadRequest("RSA JWK shorter than 2048 bits");
  return key;
}

Result<std::shared_ptr<EVP_PKEY>> EcKeyFromJwk(const JsonValue& jwk) {
  if (jwk.GetString("crv") != "P-256") return BadRequest("EC JWK on a curve other than P-256");
  auto x = JwkBytes(jwk, "x"), y = JwkBytes(jwk, "y");
  if (!x || !y || x->size() != 32 || y->size() != 32)
    return BadRequest("EC JWK without 32-byte x and y");
  std::string point = "\x04" + *x + *y;  // uncompressed SEC1 point
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return Internal("cannot build EC key parameters");
  return KeyFromParams("EC", bld.get());
}

// A NumericDate claim (RFC 7519 section 2): a JSON number of seconds.
std::optional<double> NumericDate(const JsonValue& claims, std::string_view name) {
  const JsonValue* v = claims.Find(name);
  if (!v || !v->is_number()) return std::nullopt;
  double d = std::strtod(v->text().c_str(), nullptr);
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return BadRequest("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `data` to `path` through a temporary file and a rename, so that readers never see
// half a file.
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp." + RandomHex(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Internal("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Internal("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
    out += kB64Url[v & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = at(i) << 16;
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (at(i) << 16) | (at(i + 1) << 8);
    out += kB64Url[(v >> 18) & 63];
    out += kB64Url[(v >> 12) & 63];
    out += kB64Url[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // The leftover bits of the last character must be zero: one encoding per byte string.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// Keyed by the SHA-256 of the whole token, computed outside the lock (no credential kept in
// memory, 32 bytes an entry). Bounded: when full it starts over (tokens are short-lived; a
// cleared cache only costs one signature check per token in use).
struct JwtVerifier::SignatureCache {
  static constexpr size_t kMaxTokens = 4096;
  std::mutex mutex;
  std::unordered_set<std::string> digests;
  static std::string Digest(std::string_view token) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(token.data(), token.size(), md, &len, EVP_sha256(), nullptr) != 1) return "";
    return std::string(reinterpret_cast<const char*>(md), len);
  }
  bool Contains(const std::string& digest) {
    if (digest.empty()) return false;
    std::lock_guard<std::mutex> lock(mutex);
    return digests.count(digest) > 0;
  }
  void Add(const std::string& digest) {
    if (digest.empty()) return;
    std::lock_guard<std::mutex> lock(mutex);
    if (digests.size() >= kMaxTokens) digests.clear();
    digests.insert(digest);
  }
};

JwtVerifier::JwtVerifier(JwtVerifierOptions options)
    : options_(std::move(options)), verified_(std::make_shared<SignatureCache>()) {}

Status JwtVerifier::AddJwks(std::string_view jwks_json, const std::vector<std::string>& issuers) {
  // A new key set: what was verified under the old one is checked again (and a copy of this
  // verifier keeps its own cache).
  verified_ = std::make_shared<SignatureCache>();
  auto doc = ParseJson(jwks_json);
  if (!doc.ok()) return BadRequest("JWKS is not valid JSON: " + doc.status().message());
  const JsonValue* keys = doc->Find("keys");
  if (!keys || !keys->is_array()) return BadRequest("JWKS without a keys array");
  if (issuers.empty()) return BadRequest("a JWKS must be trusted for at least one issuer");
  size_t added = 0;
  for (const JsonValue& jwk : keys->items()) {
    if (!jwk.is_object()) continue;
    std::string kid = jwk.GetString("kid"), kty = jwk.GetString("kty"), use = jwk.GetString("use");
    std::string alg = jwk.GetString("alg");
    if (kid.empty() || (!use.empty() && use != "sig")) continue;
    Result<std::shared_ptr<EVP_PKEY>> pkey = Status(ErrorCode::kBadRequest, "unsupported key");
    std::string key_alg;
    if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
      pkey = RsaKeyFromJwk(jwk);
      key_alg = "RS256";
    } else if (kty == "EC" && (alg.empty() || alg == "ES256")) {
      pkey = EcKeyFromJwk(jwk);
      key_alg = "ES256";
    } else {
      continue;  // other key types and algs are simply not trusted
    }
    if (!pkey.ok()) return BadRequest("JWK " + kid + ": " + pkey.status().message());
    for (const Key& k : keys_)
      if (k.kid == kid) return BadRequest("JWK " + kid + " is already trusted");
    keys_.push_back(Key{kid, key_alg, *pkey, issuers});
    ++added;
  }
  if (added == 0) return BadRequest("JWKS holds no usable RS256 or ES256 signing key");
  return Status::Ok();
}

Status JwtVerifier::AddJwksFile(const std::string& path, const std::vector<std::string>& issuers) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  Status st = AddJwks(*text, issuers);
  if (!st.ok()) return BadRequest(path + ": " + st.message());
  return st;
}

Result<JsonValue> JwtVerifier::VerifyClaims(std::string_view token, long long now,
                                            Reason* why) const {
  if (token.empty()) return Unauthorized(why, Reason::kCredentialMalformed, "empty token");
  if (token.size() > options_.max_token_bytes)
    return Unauthorized(why, Reason::kCredentialMalformed, "token too long");
  size_t dot1 = token.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return Unauthorized(why, Reason::kCredentialMalformed,
                        "not a compact JWS (three base64url parts)");
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);

  auto header_text = Base64UrlDecode(header_b64);
  if (!header_text)
    return Unauthorized(why, Reason::kCredentialMalformed, "token header is not base64url");
  JsonParseOptions small;
  small.max_depth = 10;
  auto header = ParseJson(*header_text, small);
  if (!header.ok() || !header->is_object())
    return Unauthorized(why, Reason::kCredentialMalformed, "token header is not a JSON object");
  const JsonValue* alg_v = header->Find("alg");
  if (!alg_v || !alg_v->is_string())
    return Unauthorized(why, Reason::kCredentialMalformed, "token header without alg");
  const std::string& alg = alg_v->text();
  if (alg == "none" || alg.empty())
    return Unauthorized(why, Reason::kTokenAlg, "unsigned token (alg none) refused");
  if (alg.rfind("HS", 0) == 0)
    return Unauthorized(why, Reason::kTokenAlg, "HMAC-signed token (" + alg + ") refused");
  if (alg != "RS256" && alg != "ES256")
    return Unauthorized(why, Reason::kTokenAlg, "token alg " + alg + " not allowed");
  // RFC 7515 section 4.1.11: extensions we do not understand must make the token invalid.
  if (header->Find("crit"))
    return Unauthorized(why, Reason::kCredentialMalformed,
                        "token header with crit parameters refused");
  std::string kid = header->GetString("kid");
  if (kid.empty())
    return Unauthorized(why, Reason::kCredentialMalformed, "token header without kid");
  const Key* key = nullptr;
  for (const Key& k : keys_)
    if (k.kid == kid) key = &k;
  if (!key)
    return Unauthorized(why, Reason::kTokenUnknownKey, "token signed with unknown key " + kid);
  if (key->alg != alg)
    return Unauthorized(why, Reason::kTokenAlg, "token alg " + alg + " does not match key " + kid);

  std::string digest = SignatureCache::Digest(token);
  if (!verified_->Contains(digest)) {
    auto signature = Base64UrlDecode(signature_b64);
    if (!signature)
      return Unauthorized(why, Reason::kCredentialMalformed, "token signature is not base64url");
    std::string_view signing_input = token.substr(0, dot2);
    if (!VerifySignature(key->pkey.get(), alg, signing_input, *signature))
      return Unauthorized(why, Reason::kTokenBadSignature, "token signature does not verify");
    verified_->Add(digest);
  }

  // Only now, on authenticated bytes, is the payload parsed.
  auto payload_text = Base64UrlDecode(payload_b64);
  if (!payload_text)
    return Unauthorized(why, Reason::kCredentialMalformed, "token payload is not base64url");
  JsonParseOptions claims_options;
  claims_options.max_depth = 20;
  auto claims = ParseJson(*payload_text, claims_options);
  if (!claims.ok() || !claims->is_object())
    return Unauthorized(why, Reason::kCredentialMalformed, "token claims are not a JSON object");

  std::string iss = claims->GetString("iss");
  bool trusted = false;
  for (const auto& i : key->issuers) trusted = trusted || i == iss;
  if (!trusted)
    return Unauthorized(why, Reason::kTokenWrongIssuer,
                        "token issuer '" + iss + "' is not trusted for key " + kid);
  bool audience_ok = false;
  if (const JsonValue* aud = claims->Find("aud")) {
    if (aud->is_string()) audience_ok = aud->text() == options_.audience;
    if (aud->is_array())
      for (const auto& a : aud->items())
        audience_ok = audience_ok || (a.is_string() && a.text() == options_.audience);
  }
  if (!audience_ok)
    return Unauthorized(why, Reason::kTokenWrongAudience,
                        "token audience does not include " + options_.audience);
  auto exp = NumericDate(*claims, "exp");
  if (!exp) return Unauthorized(why, Reason::kTokenLifetime, "token without exp");
  double skew = options_.clock_skew_s;
  if (static_cast<double>(now) >= *exp + skew)
    return Unauthorized(why, Reason::kTokenExpired, "token expired");
  if (claims->Find("nbf")) {
    auto nbf = NumericDate(*claims, "nbf");
    if (!nbf) return Unauthorized(why, Reason::kCredentialMalformed, "token nbf is not a number");
    if (static_cast<double>(now) + skew < *nbf)
      return Unauthorized(why, Reason::kTokenNotYetValid, "token not valid yet (nbf)");
  }
  auto iat = NumericDate(*claims, "iat");
  if (claims->Find("iat") && !iat)
    return Unauthorized(why, Reason::kCredentialMalformed, "token iat is not a number");
  double cap = static_cast<double>(options_.max_lifetime_s);
  if (iat && *exp - *iat > cap)
    return Unauthorized(
        why, Reason::kTokenLifetime,
        "token lifetime (exp - iat) exceeds " + std::to_string(options_.max_lifetime_s) + " s");
  if (*exp - static_cast<double>(now) > cap + skew)
    return Unauthorized(
        why, Reason::kTokenLifetime,
        "token expires more than " + std::to_string(options_.max_lifetime_s) + " s from now");
  return std::move(claims).value();
}

Result<Actor> JwtVerifier::Verify(std::string_view token, long long now, Reason* why) const {
  auto claims = VerifyClaims(token, now, why);
  if (!claims.ok()) return claims.status();
  auto actor = ActorFromClaims(*claims);
  if (!actor.ok() && why) *why = Reason::kTokenClaims;
  return actor;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string_view::npos) j = text.size();
    std::string item(text.substr(i, j - i));
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    i = j + 1;
  }
  return out;
}

Result<JwtVerifier> LoadJwtVerifier(const IdentitySettings& settings) {
  JwtVerifierOptions options;
  options.audience = settings.audience;
  options.clock_skew_s = settings.clock_skew_s;
  options.max_lifetime_s = settings.max_token_lifetime_s;
  JwtVerifier verifier(options);
  if (!settings.jwks_file.empty()) {
    if (settings.trusted_issuers.empty())
      return BadRequest("jwks_file is set but trusted_issuers names no issuer");
    CARNET_RETURN_IF_ERROR(verifier.AddJwksFile(settings.jwks_file, settings.trusted_issuers));
  }
  if (settings.trust_dev_key) {
    auto key = SigningKey::LoadOrCreateDevKey(settings.data_dir);
    if (!key.ok()) return key.status();
    CARNET_RETURN_IF_ERROR(verifier.AddJwks(key->JwksJson(), {std::string(kDevIssuer)}));
  }
  if (!settings.smart_issuer.empty()) {
    // carnet's own authorization server (SMART App Launch): its tokens are verified here,
    // by the same door as every other issuer's.
    auto key = SigningKey::LoadOrCreateSmartKey(settings.data_dir);
    if (!key.ok()) return key.status();
    CARNET_RETURN_IF_ERROR(verifier.AddJwks(key->JwksJson(), {settings.smart_issuer}));
  }
  return verifier;
}

// --- signing ---------------------------------------------------------------------------

Status SigningKey::Init() {
  if (EVP_PKEY_is_a(pkey_.get(), "RSA")) {
    if (EVP_PKEY_get_bits(pkey_.get()) < 2048)
      return BadRequest("RSA signing key shorter than 2048 bits");
    alg_ = "RS256";
  } else if (EVP_PKEY_is_a(pkey_.get(), "EC")) {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey_.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1 ||
        std::string(group) != "prime256v1")
      return BadRequest("EC signing key on a curve other than P-256");
    alg_ = "ES256";
  } else {
    return BadRequest("signing key is neither RSA nor EC");
  }
  JsonValue jwk = PublicJwk();
  // RFC 7638: the required members in lexicographic order, no whitespace.
  std::string canonical = alg_ == "ES256"
                              ? "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + jwk.GetString("x") +
                                    "\",\"y\":\"" + jwk.GetString("y") + "\"}"
                              : "{\"e\":\"" + jwk.GetString("e") + "\",\"kty\":\"RSA\",\"n\":\"" +
                                    jwk.GetString("n") + "\"}";
  kid_ = Base64UrlEncode(Sha256(canonical));
  return Status::Ok();
}

Result<SigningKey> SigningKey::GenerateEc() {
  SigningKey k;
  EVP_PKEY* raw = EVP_EC_gen("P-256");
  if (!raw) return Internal("cannot generate an EC P-256 key");
  k.pkey_ = Share(raw);
  CARNET_RETURN_IF_ERROR(k.Init());
  return k;
}

Result<SigningKey> SigningKey::GenerateRsa(int bits) {
  SigningKey k;
  EVP_PKEY* raw = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (!raw) return Internal("cannot generate an RSA key");
  k.pkey_ = Share(raw);
  CARNET_RETURN_IF_ERROR(k.Init());
  return k;
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!raw) return BadRequest("not a PEM private key");
  SigningKey k;
  k.pkey_ = Share(raw);
  CARNET_RETURN_IF_ERROR(k.Init());
  return k;
}

std::string SigningKey::PrivatePem() const {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return {};
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

JsonValue SigningKey::PublicJwk() const {
  JsonValue jwk = JsonValue::Object();
  auto bn = [&](const char* name, int pad) {
    BIGNUM* b = nullptr;
    if (EVP_PKEY_get_bn_param(pkey_.get(), name, &b) != 1) return std::string();
    std::string bytes = BnBytes(b, pad);
    BN_free(b);
    return Base64UrlEncode(bytes);
  };
  if (alg_ == "ES256") {
    jwk.Set("kty", JsonValue::String("EC"));
    jwk.Set("crv", JsonValue::String("P-256"));
    jwk.Set("x", JsonValue::String(bn(OSSL_PKEY_PARAM_EC_PUB_X, 32)));
    jwk.Set("y", JsonValue::String(bn(OSSL_PKEY_PARAM_EC_PUB_Y, 32)));
  } else {
    jwk.Set("kty", JsonValue::String("RSA"));
    jwk.Set("n", JsonValue::String(bn(OSSL_PKEY_PARAM_RSA_N, 0)));
    jwk.Set("e", JsonValue::String(bn(OSSL_PKEY_PARAM_RSA_E, 0)));
  }
  if (!kid_.empty()) jwk.Set("kid", JsonValue::String(kid_));
  jwk.Set("alg", JsonValue::String(alg_));
  jwk.Set("use", JsonValue::String("sig"));
  return jwk;
}

std::string SigningKey::JwksJson() const {
  JsonValue keys = JsonValue::Array();
  keys.Append(PublicJwk());
  JsonValue doc = JsonValue::Object();
  doc.Set("keys", std::move(keys));
  return WriteJson(doc, true) + "\n";
}

Result<std::string> SigningKey::Sign(const JsonValue& claims) const {
  JsonValue header = JsonValue::Object();
  header.Set("alg", JsonValue::String(alg_));
  header.Set("typ", JsonValue::String("JWT"));
  header.Set("kid", JsonValue::String(kid_));
  std::string input = Base64UrlEncode(WriteJson(header)) + "." + Base64UrlEncode(WriteJson(claims));
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    return Internal("cannot sign the token");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return Internal("cannot sign the token");
  sig.resize(len);
  if (alg_ == "ES256") {
    auto raw = DerEcdsaToRaw(sig);
    if (!raw) return Internal("cannot convert the ECDSA signature");
    sig = std::move(*raw);
  }
  return input + "." + Base64UrlEncode(sig);
}

std::string DevKeyPath(const std::string& data_dir) {
  return data_dir + "/keys/dev-signing-key.pem";
}
std::string DevJwksPath(const std::string& data_dir) { return data_dir + "/keys/dev-jwks.json"; }

Result<SigningKey> SigningKey::LoadOrCreateDevKey(const std::string& data_dir) {
  return LoadOrCreateKey(data_dir, DevKeyPath(data_dir), DevJwksPath(data_dir));
}

std::string Sha256Digest(std::string_view data) { return Sha256(data); }

std::string SmartKeyPath(const std::string& data_dir) {
  return data_dir + "/keys/smart-signing-key.pem";
}
std::string SmartJwksPath(const std::string& data_dir) {
  return data_dir + "/keys/smart-jwks.json";
}

Result<SigningKey> SigningKey::LoadOrCreateSmartKey(const std::string& data_dir) {
  return LoadOrCreateKey(data_dir, SmartKeyPath(data_dir), SmartJwksPath(data_dir));
}

Result<SigningKey> SigningKey::LoadOrCreateKey(const std::string& data_dir,
                                               const std::string& path,
                                               const std::string& jwks_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::path(data_dir) / "keys";
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    // Of two processes starting together one key wins and both use it (CreateFileOnce).
    auto fresh = GenerateEc();
    if (!fresh.ok()) return fresh.status();
    std::string pem = fresh->PrivatePem();
    CARNET_RETURN_IF_ERROR(CreateFileOnce(path, pem));
    if (::stat(path.c_str(), &st) != 0) return Internal("cannot stat " + path);
  }
  // Like ssh, refuse a private key others can read: it would sign anyone's identity.
  if ((st.st_mode & 077) != 0)
    return BadRequest(path + " is readable by other users; chmod 600 it");
  auto pem = ReadFile(path);
  if (!pem.ok()) return pem.status();
  auto key = FromPem(*pem);
  if (!key.ok()) return BadRequest(path + ": " + key.status().message());
  std::string jwks = key->JwksJson();
  auto existing = ReadFile(jwks_path);
  if (!existing.ok() || *existing != jwks)
    CARNET_RETURN_IF_ERROR(WriteFileAtomically(jwks_path, jwks, 0644));
  return key;
}

}  // namespace carnet::profiles
