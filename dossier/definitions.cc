#include "dossier/definitions.h"

#include "dossier/dossier.h"
#include "storage/transaction.h"

namespace carnet::dossier {

// Generated from dossier/data/ (dossier/CMakeLists.txt).
const char* EmbeddedCopyToPatientDefinition();

Result<std::vector<JsonValue>> PublishedDefinitions() {
  std::vector<JsonValue> out;
  for (const char* text : {EmbeddedCopyToPatientDefinition()}) {
    auto json = ParseJson(text);
    if (!json.ok())
      return Internal("a published definition is not JSON: " + json.status().message());
    if (json->GetString("id").empty() || json->GetString("resourceType").empty())
      return Internal("a published definition has no id or resourceType");
    out.push_back(std::move(json).value());
  }
  return out;
}

Status PublishDefinitions(storage::Pool& pool, const profiles::AccessControl& access,
                          std::vector<std::string>* written) {
  auto definitions = PublishedDefinitions();
  if (!definitions.ok()) return definitions.status();
  profiles::Actor carnet;
  carnet.kind = profiles::ActorKind::kOperator;
  carnet.subject = "carnet";
  carnet.issuer = "carnet";
  profiles::AccessSession session(access, carnet, {"startup", "local"});
  for (const JsonValue& definition : *definitions) {
    const std::string type = definition.GetString("resourceType");
    const std::string id = definition.GetString("id");
    // Another gateway starting on the same database may publish it at the same moment: a
    // second attempt then finds it stored.
    Status st;
    for (int attempt = 0; attempt < 3; ++attempt) {
      st = storage::RunInTransaction(pool, [&](storage::Transaction& tx) -> Status {
        session.BeginAttempt();
        auto current = storage::ReadCurrent(tx, type, id, true);
        if (!current.ok()) return current.status();
        if (*current && !(*current)->deleted) {
          auto stored = StoredJson(**current);
          if (stored.ok()) {
            JsonValue same = std::move(stored).value();
            same.Remove("meta");
            if (same == definition) return Status::Ok();
          }
        }
        auto w = Update(tx, session, type, id, definition);
        if (!w.ok()) return w.status();
        if (written) written->push_back(type + "/" + id);
        return Status::Ok();
      });
      if (st.ok() || st.code() == ErrorCode::kUnavailable) break;
    }
    if (!st.ok())
      return Status(st.code(), type + "/" + id + " could not be published: " + st.message());
  }
  return Status::Ok();
}

}  // namespace carnet::dossier
