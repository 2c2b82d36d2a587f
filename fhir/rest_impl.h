// What the files of the FHIR REST API share (internal to fhir/): the outcome of one
// interaction, the context a route's handler works in, and the handlers the route table
// (fhir/routes.cc) names. Each handler lives in the file of its concern: read_history.cc,
// summary.cc, writes.cc, searches.cc, patient_choices.cc, deposit.cc, reminders.cc,
// capabilities.cc, bundles.cc.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/http.h"
#include "base/json.h"
#include "base/status.h"
#include "fhir/format.h"
#include "fhir/interactions.h"
#include "fhir/rest.h"
#include "prevention/reminders.h"
#include "profiles/access.h"
#include "storage/pool.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::fhir {

using Session = profiles::AccessSession;

enum class PreferReturn { kRepresentation, kMinimal, kOutcome };
PreferReturn ParsePrefer(const HttpRequest& req);

// Outcome of one interaction, whether it came over HTTP or from a Bundle entry.
struct EntryResult {
  Status error;  // non-OK: the interaction failed
  int status = 200;
  // "Patient/1/_history/2" (relative to the base); for a 405, the Allow header's value.
  std::string location;
  int version = 0;
  std::string last_modified;  // instant
  bool has_resource = false;
  JsonValue resource;         // the resource (or Bundle, OperationOutcome) to answer with
  std::string resource_json;  // stored text, when the resource was not parsed (fast path)
  std::string native_body;    // Binary content served as itself
  std::string native_type;
  // Further headers of the answer (Content-Disposition of a PDF).
  std::vector<std::pair<std::string, std::string>> headers;
  bool xds_error_codes = false;  // an MHD submission: errors also carry their XDS errorCode
  // Warnings of a successful write (a deposit of a type no profession reads, accepted with
  // deposit_unreadable_type = warn): told as OperationOutcome issues of severity warning.
  std::vector<profiles::AccessSession::Warning> warnings;
};

// An OperationOutcome of the warnings of a successful write (the informational "all OK" one
// when there are none).
JsonValue WarningOutcome(const std::vector<profiles::AccessSession::Warning>& warnings);

EntryResult FromWrite(const WriteResult& w);
EntryResult FromError(Status st);
// A 200 answering `resource` (a Bundle, an OperationOutcome, a Parameters...).
EntryResult WithResource(JsonValue resource);
// A 200 answering `bundle` with `entries` as its entry (left out when there are none).
EntryResult BundleAnswer(JsonValue bundle, JsonValue entries);

std::string ETag(int version);
// The non-empty segments of a path, percent-decoded.
std::vector<std::string> SplitPath(const std::string& path);
// An empty Bundle of `type` with a fresh id.
JsonValue NewBundle(const char* type);
// If-Match and If-None-Exist; *error set when If-Match is not a version ETag.
Preconditions PreconditionsOf(const HttpRequest& req, Status* error);

// What every handler works with: the database, the API's options and the interactions.
struct FhirContext {
  storage::Pool& pool;
  const FhirOptions& options;
  Interactions& interactions;

  // _count as asked, capped at max_count; *error set when it is not a whole number.
  int CountParam(const QueryParams& query, Status* error) const;
  // Runs one write in its own transaction.
  EntryResult WriteInTransaction(
      const std::function<Result<WriteResult>(storage::Transaction&)>& op) const;
};

// One routed request: who asks, what, and the values the route's pattern bound.
struct Call {
  Session& session;
  const HttpRequest& req;
  const QueryParams& query;
  std::string type;   // {type} / {writable} (or the pattern's literal type)
  std::string id;     // {id}
  std::string vid;    // {vid}
  std::string op;     // {choice} without its '$', or {compartment}
  Preconditions pre;  // parsed by the router on instance-level routes
};

// A read of one resource (current or version `vid`) inside `tx`: decided, and audited in
// `tx` when granted. A refusal, and a target that does not exist, answer alike.
Result<storage::StoredResource> GuardedRead(storage::Transaction& tx, Session& session,
                                            const std::string& type, const std::string& id,
                                            const std::string& vid, const char* interaction);

// A search as GET [type]?... runs it for `session` (searches.cc): under the session's access
// filter, `compartment` a Patient id for Patient/[id]/[type], audited as the search, or as the
// operation named by `operation` ("$agenda") when an operation runs it on its caller's behalf.
EntryResult Search(const FhirContext& ctx, Session& session, const HttpRequest& req,
                   const std::string& type, const QueryParams& query,
                   const std::string& compartment, const std::string& operation);

// Every current resource of the record of Patient/`id` the session may read, decided one by
// one, audited as one read named `operation` ("$profile"); a record the caller may not see
// answers as one that does not exist (health_profile_op.cc).
Result<std::vector<JsonValue>> ReadVisibleRecord(const FhirContext& ctx, Session& session,
                                                 const std::string& id,
                                                 const std::string& operation);

// The reminders the prevention tables give the patient of Patient/`id` on `input.today`
// (reminders.cc), from what of the record `session` may see (its Immunizations and screening
// results, each decided as a read), audited as one read named `operation`; a record the
// caller may not see answers as one that does not exist.
struct RecordReminders {
  prevention::Date today;
  std::vector<prevention::Reminder> reminders;
};
Result<RecordReminders> ComputeRecordReminders(const FhirContext& ctx, Session& session,
                                               const std::string& id,
                                               prevention::ReminderInput input,
                                               const std::string& operation);

// The value[x] of the parameter `name` of a Parameters resource, as text (a boolean as
// "true"/"false", a Coding or Identifier by its code or value); "" when absent.
std::string ParamValue(const JsonValue& params, const std::string& name);

// ---- the handlers the route table names ------------------------------------------------
// read_history.cc
EntryResult ReadInstance(const FhirContext& ctx, Call& call);
EntryResult ReadVersion(const FhirContext& ctx, Call& call);
EntryResult SystemHistory(const FhirContext& ctx, Call& call);
EntryResult TypeHistory(const FhirContext& ctx, Call& call);
EntryResult InstanceHistory(const FhirContext& ctx, Call& call);
EntryResult PatientEverything(const FhirContext& ctx, Call& call);
// summary.cc
EntryResult PatientSummary(const FhirContext& ctx, Call& call);
// writes.cc
EntryResult CreateResource(const FhirContext& ctx, Call& call);
EntryResult ConditionalUpdate(const FhirContext& ctx, Call& call);
EntryResult ConditionalDelete(const FhirContext& ctx, Call& call);
EntryResult UpdateResource(const FhirContext& ctx, Call& call);
EntryResult PatchResource(const FhirContext& ctx, Call& call);
EntryResult DeleteResource(const FhirContext& ctx, Call& call);
EntryResult ValidateResource(const FhirContext& ctx, Call& call);
// searches.cc
EntryResult SearchSystem(const FhirContext& ctx, Call& call);
EntryResult SearchType(const FhirContext& ctx, Call& call);
EntryResult SearchTypePost(const FhirContext& ctx, Call& call);
EntryResult SearchCompartment(const FhirContext& ctx, Call& call);
// patient_choices.cc
EntryResult RecordChoice(const FhirContext& ctx, Call& call);
EntryResult RecordSettings(const FhirContext& ctx, Call& call);
EntryResult MetaAdd(const FhirContext& ctx, Call& call);
EntryResult MetaDelete(const FhirContext& ctx, Call& call);
// deposit.cc
EntryResult DepositDocument(const FhirContext& ctx, Call& call);
// reminders.cc
EntryResult PatientReminders(const FhirContext& ctx, Call& call);
// GET [base]/$access-decisions: the support view (access_decisions.cc).
EntryResult AccessDecisions(const FhirContext& ctx, Call& call);
// capabilities.cc
EntryResult Capabilities(const FhirContext& ctx, Call& call);
// bundles.cc
EntryResult ProcessBundle(const FhirContext& ctx, Call& call);
// agenda.cc
EntryResult PatientAgenda(const FhirContext& ctx, Call& call);
EntryResult AgendaLink(const FhirContext& ctx, Call& call);
// messaging.cc
EntryResult MessageMarkRead(const FhirContext& ctx, Call& call);
EntryResult MessageFileAttachment(const FhirContext& ctx, Call& call);
// operation_definition_reads.cc
EntryResult ReadOperationDefinition(const FhirContext& ctx, Call& call);
EntryResult SearchOperationDefinitions(const FhirContext& ctx, Call& call);
// health_profile_op.cc
EntryResult PatientProfile(const FhirContext& ctx, Call& call);
EntryResult ProfileVisibility(const FhirContext& ctx, Call& call);

}  // namespace carnet::fhir
