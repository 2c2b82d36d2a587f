// The rows of the agenda's calendar subscription links (agenda_feed, migration 0007): only
// the SHA-256 of each link's secret, the record, and the claims of the identity that asked
// for it. Deciding who may hold a link, and what a link may read, is profiles/agenda_feed.h.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "storage/transaction.h"

namespace carnet::storage {

struct AgendaFeedRow {
  std::string secret_hash;  // raw SHA-256 bytes
  long long patient_key = 0;
  std::string patient_id;
  std::string principal_id;
  std::string claims;  // JSON text
};

// Ends every live link of `principal_id` on the record (a new link replaces them; a
// revocation ends them); the number ended.
Result<int> RevokeAgendaFeeds(Transaction& tx, long long patient_key,
                              const std::string& principal_id);
Status InsertAgendaFeed(Transaction& tx, const AgendaFeedRow& row);
// The live link whose secret hashes to `secret_hash`, if any.
Result<std::optional<AgendaFeedRow>> FindAgendaFeed(Transaction& tx,
                                                    const std::string& secret_hash);

}  // namespace carnet::storage
