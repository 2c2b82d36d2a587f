#include "storage/document_content.h"

#include <openssl/sha.h>

#include "base/strings.h"

namespace carnet::storage {
namespace {

constexpr Statement kPut{
    "document_content_put",
    "INSERT INTO document_content (patient_key, sha256, sha1, size, mime_type, data) "
    "VALUES ($1::bigint, decode($2, 'hex'), decode($3, 'hex'), $4::bigint, $5, $6) "
    "ON CONFLICT (patient_key, sha256) DO NOTHING"};

}  // namespace

std::string ByteaFromText(std::string_view text) {
  auto nibble = [](char c) -> int {
    return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
  };
  std::string out;
  if (text.size() < 2) return out;
  out.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  return out;
}

ContentDigest DigestContent(std::string_view bytes) {
  unsigned char d256[SHA256_DIGEST_LENGTH], d1[SHA_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d256);
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d1);
  return {HexEncode({reinterpret_cast<const char*>(d256), sizeof d256}),
          HexEncode({reinterpret_cast<const char*>(d1), sizeof d1})};
}

Result<std::string> PutDocumentContent(Transaction& tx, long long patient_key,
                                       std::string_view bytes, const std::string& mime_type) {
  ContentDigest digest = DigestContent(bytes);
  const std::string& sha256 = digest.sha256_hex;
  auto r =
      tx.Run(kPut, {SqlParam::Text(std::to_string(patient_key)), SqlParam::Text(sha256),
                    SqlParam::Text(digest.sha1_hex), SqlParam::Text(std::to_string(bytes.size())),
                    SqlParam::Text(mime_type), SqlParam::Bytes(std::string(bytes))});
  if (!r.ok()) return r.status();
  return sha256;
}

}  // namespace carnet::storage
