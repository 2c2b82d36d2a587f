// A document's bytes, stored once per record and SHA-256 (document_content), outside the
// versioned resource JSON: the Binary that carries them names them by hash.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

// The SHA-256 and SHA-1 of `bytes` (hex): the row's key and what XDS publishes.
struct ContentDigest {
  std::string sha256_hex;
  std::string sha1_hex;
};
ContentDigest DigestContent(std::string_view bytes);

// A bytea column as PostgreSQL writes it in text ("\\x" and two hex digits a byte).
std::string ByteaFromText(std::string_view text);

// Stores `bytes` of the record `patient_key` unless the same bytes are there already
// (ON CONFLICT DO NOTHING: identical bytes are one row); returns their SHA-256 (hex).
Result<std::string> PutDocumentContent(Transaction& tx, long long patient_key,
                                       std::string_view bytes, const std::string& mime_type);

}  // namespace carnet::storage
