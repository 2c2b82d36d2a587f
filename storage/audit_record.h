// One access-history event as the layer above wrote it (storage/audit_store.h appends and
// chains it). Its own header so that storage/transaction.h can hold events to append later.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace carnet::storage {

// One event as the layer above wrote it: the columns of audit_event that the chain hashes.
struct AuditRecord {
  std::optional<long long> patient_key;  // its chain; none: the chain of events without a record
  std::string event_id;                  // a UUID
  std::chrono::system_clock::time_point recorded;  // kept to the millisecond
  char action = 'R';
  std::string outcome;
  std::string actor_id;    // "" is stored as NULL
  std::string actor_kind;  // "" is stored as NULL
  bool emergency = false;
  std::string content;  // the event itself (the AuditEvent resource JSON), stored as is
  // Indexed beside the event for the support view (not hashed: the content, which is, holds
  // them too). "" is stored as NULL.
  std::string request_id;
  std::string reason_code;
};

}  // namespace carnet::storage
