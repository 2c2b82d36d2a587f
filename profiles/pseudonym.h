// The stable pseudonym of an actor's id in the request log line (issue 19): HMAC-SHA256 of the
// id under a key kept under DATA_DIR/keys/log-pseudonym.key (created on first start, mode
// 0600), so that one person's requests can be followed across log lines and restarts without
// the log naming them. The support view ($access-decisions) shows the same pseudonym beside
// the id, so that a helpdesk can go from the one to the other.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace carnet::profiles {

class Pseudonymiser {
 public:
  // The key under `data_dir`/keys, created when missing (two processes starting together end
  // with the same key). An empty `data_dir`: a random key for this process alone.
  static Result<Pseudonymiser> LoadOrCreate(const std::string& data_dir);
  // A key given as is (tests).
  explicit Pseudonymiser(std::string key) : key_(std::move(key)) {}

  // "" for an empty id; else 32 lower-case hex digits (the first 128 bits of the HMAC).
  std::string Of(std::string_view id) const;

 private:
  std::string key_;
};

std::string PseudonymKeyPath(const std::string& data_dir);

}  // namespace carnet::profiles
