// The agenda's calendar subscription links. A phone calendar subscribes to a URL and cannot
// send a Bearer token, so the patient (or a guardian) asks for a link whose secret is the
// credential: one live link per identity and record, revocable, kept as a hash. The link
// stands for the identity that asked for it, and for the agenda only: every use is decided
// by the policy as that identity's read of the agenda (a closed record, an opposition, a
// guardian no longer representing the child refuse it) and audited like any read.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "profiles/access.h"
#include "profiles/actor.h"
#include "storage/transaction.h"

namespace carnet::profiles {

// Issues a new link for the record of Patient/`patient_id` to the session's actor, ending
// their previous one, and returns its secret (43 URL-safe characters); with `revoke`, only
// ends it and returns "". The patient and guardians only (decided as their other choices on
// the record), audited; a record the actor may not see answers as one that does not exist.
Result<std::string> IssueAgendaFeed(storage::Transaction& tx, AccessSession& session,
                                    const std::string& patient_id, bool revoke);

// What a live link stands for: the identity that asked for it and the record's Patient id.
struct AgendaFeedHolder {
  Actor actor;
  std::string patient_id;
};
// The holder of the link whose secret is `secret`; nullopt when no live link has it.
Result<std::optional<AgendaFeedHolder>> ResolveAgendaFeed(storage::Transaction& tx,
                                                          const std::string& secret);

}  // namespace carnet::profiles
