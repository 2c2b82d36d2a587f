#include "bench/load_compare.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "base/strings.h"
#include "fhir/rest.h"
#include "profiles/access.h"
#include "storage/audit_store.h"
#include "storage/connection.h"
#include "storage/pool.h"
#include "xds/service.h"

namespace carnet::bench {
namespace {

// What is compared of each table: every column but the load's timestamps and, for the
// audit, the random event ids (in the JSON too), the hashes they feed, and the sequence
// numbers (the rank of the event in its patient's chain instead).
struct TableSpec {
  const char* table;
  const char* columns;
};
const char* const kNoLastUpdated = "regexp_replace(content, '\"lastUpdated\":\"[^\"]*\"', '')";
const TableSpec kTables[] = {
    {"patient",
     "patient_key, resource_id, ins, ins_system, status, opposed_at, closed_at, "
     "treating_physician, "
     "emergency_opposed"},
    {"patient_identifier", "patient_key, system, value"},
    {"patient_block", "patient_key, kind, actor_id"},
    {"patient_preference", "patient_key, channel, event_kind, enabled, address"},
    {"resource", nullptr},  // below: content without meta.lastUpdated
    {"resource_history", nullptr},
    {"idx_string", "patient_key, res_type, res_id, param, value_norm, value_exact, grp"},
    {"idx_token",
     "patient_key, res_type, res_id, param, system, code, text_norm, type_system, type_code, grp"},
    {"idx_reference",
     "patient_key, res_type, res_id, param, target_type, target_id, target_url, identifier_system, "
     "identifier_value, grp"},
    {"idx_date", "patient_key, res_type, res_id, param, low, high, grp"},
    {"idx_quantity", "patient_key, res_type, res_id, param, value, low, high, system, code, grp"},
    {"idx_uri", "patient_key, res_type, res_id, param, uri, grp"},
    {"idx_text", "patient_key, res_type, res_id, param, tsv"},
    {"document_content", "patient_key, sha256, sha1, size, mime_type, md5(data)"},
    {"registry_object",
     "patient_key, entry_uuid, object_type, res_type, res_id, unique_id, logical_id, version, "
     "availability_status, "
     "entry_type, repository_unique_id, patient_id, source_patient_id, class_code, class_scheme, "
     "type_code, "
     "type_scheme, format_code, format_scheme, hcft_code, hcft_scheme, practice_setting_code, "
     "practice_setting_scheme, content_type_code, content_type_scheme, creation_time, "
     "service_start_time, "
     "service_stop_time, submission_time, last_update_time, mime_type, size, hash_sha1, "
     "author_persons, source_id, "
     "home_community_id"},
    {"registry_code", "patient_key, entry_uuid, scheme, code, code_system"},
    {"association",
     "patient_key, entry_uuid, association_type, source_uuid, target_uuid, availability_status, "
     "submission_set_status, original_status, new_status"},
    {"audit_event",
     "coalesce(patient_key, 0), row_number() OVER (PARTITION BY coalesce(patient_key, 0) ORDER BY "
     "seq), action, outcome, actor_id, actor_kind, emergency, "
     "regexp_replace(content, '\"(id|recorded)\":\"[^\"]*\"', '', 'g'), prev_hash IS NULL"},
    {"audit_chain_head", "patient_key, last_seq IS NULL, hash IS NULL"},
    // The event by its rank in its chain, as above (below: joined to audit_event).
    {"audit_event_entity", "x.patient_key, x.reference, a.rank"},
    {"outbox", "patient_key, channel, event_kind, destination, delivered_at IS NULL"},
    {"search_param", "sp_id, base_type, code, param_type, expression, targets"},
    {"care_team_member", "patient_key, member_id, res_id"},
    {"app_authorisation", "patient_key, client_id, scopes, res_id, revoked_at IS NULL"},
    {"emergency_access", "patient_key, actor_id, reason"},
};

std::string RowsQuery(const TableSpec& t) {
  std::string cols = t.columns ? t.columns : "";
  if (std::string(t.table) == "resource")
    cols = std::string(
               "patient_key, res_type, res_id, version_id, deleted, security, "
               "content_sha256, ") +
           kNoLastUpdated;
  if (std::string(t.table) == "resource_history")
    cols = std::string(
               "patient_key, res_type, res_id, version_id, deleted, method, "
               "content_sha256, ") +
           kNoLastUpdated;
  if (std::string(t.table) == "audit_event_entity")
    return "SELECT ROW(" + cols +
           ")::text AS r FROM audit_event_entity x JOIN (SELECT seq, row_number() OVER "
           "(PARTITION BY coalesce(patient_key, 0) ORDER BY seq) AS rank FROM audit_event) a "
           "ON a.seq = x.seq";
  return "SELECT ROW(" + cols + ")::text AS r FROM " + t.table;
}

Result<std::vector<std::string>> SortedRows(storage::Connection& c, const TableSpec& t) {
  auto r = c.RunDynamic("SELECT r FROM (" + RowsQuery(t) + ") s ORDER BY r COLLATE \"C\"");
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  out.reserve(r->rows());
  for (int i = 0; i < r->rows(); ++i) out.push_back(r->GetString(i, 0));
  return out;
}

// Count and digest first (cheap at any size); the rows themselves only to show a difference.
Result<std::pair<long long, std::string>> Digest(storage::Connection& c, const TableSpec& t) {
  auto r = c.RunDynamic(
      "SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r COLLATE \"C\")), '') FROM (" +
      RowsQuery(t) + ") s");
  if (!r.ok()) return r.status();
  return std::make_pair(r->GetInt(0, 0), r->GetString(0, 1));
}

std::string FirstDifference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // Rows of one side missing from the other, the first of each.
  std::vector<std::string> only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(only_a));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(only_b));
  auto clip = [](const std::string& s) { return s.size() > 600 ? s.substr(0, 600) + "..." : s; };
  return "only in A (" + std::to_string(only_a.size()) +
         "): " + (only_a.empty() ? "-" : clip(only_a[0])) + "\nonly in B (" +
         std::to_string(only_b.size()) + "): " + (only_b.empty() ? "-" : clip(only_b[0]));
}

// --- queries ---------------------------------------------------------------------------

// A request to one database through the front ends, in-process, as `actor`.
class FrontEnds {
 public:
  explicit FrontEnds(const std::string& conninfo)
      : pool_(Options(conninfo)), api_(pool_, fhir::FhirOptions{}), xds_(pool_) {}

  Result<std::vector<std::string>> Search(const profiles::AccessControl& control,
                                          const profiles::Actor& actor, const std::string& path,
                                          const std::string& query) {
    profiles::AccessSession session(control, actor, {"bench-compare", "127.0.0.1"});
    HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.query = query;
    req.peer = "127.0.0.1";
    req.request_id = "bench-compare";
    HttpResponse resp = api_.Handle(req, session);
    if (resp.status != 200)
      return Internal(path + "?" + query + " answered " + std::to_string(resp.status) + ": " +
                      resp.body);
    auto bundle = ParseJson(resp.body);
    if (!bundle.ok()) return bundle.status();
    std::vector<std::string> ids;
    if (const JsonValue* entries = bundle->Find("entry"); entries && entries->is_array())
      for (const auto& e : entries->items())
        if (const JsonValue* r = e.Find("resource"))
          ids.push_back(r->GetString("resourceType") + "/" + r->GetString("id"));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // ITI-18 FindDocuments (approved entries of the patient): the entryUUIDs returned.
  Result<std::vector<std::string>> FindDocuments(const profiles::AccessControl& control,
                                                 const profiles::Actor& actor,
                                                 const std::string& ins) {
    profiles::AccessSession session(control, actor, {"bench-compare", "127.0.0.1"});
    HttpRequest req;
    req.method = "POST";
    req.path = "/xds/registry";
    req.peer = "127.0.0.1";
    req.request_id = "bench-compare";
    req.headers.push_back({"Content-Type", "application/soap+xml; charset=UTF-8"});
    req.body =
        R"(<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action>urn:ihe:iti:2007:RegistryStoredQuery</a:Action><a:MessageID>urn:uuid:)" +
        NewUuid() +
        R"(</a:MessageID></s:Header><s:Body><query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnComposedObjects="true" returnType="LeafClass"/><rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"><rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>')" +
        ins +
        R"(^^^&amp;1.2.250.1.213.1.4.10&amp;ISO'</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest></s:Body></s:Envelope>)";
    HttpResponse resp = xds_.Handle(req, session);
    if (resp.status != 200 || resp.body.find("ResponseStatusType:Success") == std::string::npos)
      return Internal("ITI-18 for " + ins + " answered " + std::to_string(resp.status) + ": " +
                      resp.body.substr(0, 2000));
    std::vector<std::string> ids;
    for (size_t at = resp.body.find("<rim:ExtrinsicObject"); at != std::string::npos;
         at = resp.body.find("<rim:ExtrinsicObject", at + 1)) {
      size_t id = resp.body.find(" id=\"", at);
      if (id == std::string::npos) break;
      ids.push_back(resp.body.substr(id + 5, resp.body.find('"', id + 5) - id - 5));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

 private:
  static storage::PoolOptions Options(const std::string& conninfo) {
    storage::PoolOptions o;
    o.conninfo = conninfo;
    o.size = 2;
    return o;
  }
  storage::Pool pool_;
  fhir::FhirApi api_;
  xds::XdsService xds_;
};

}  // namespace

Result<std::vector<TableComparison>> CompareTables(const std::string& conninfo_a,
                                                   const std::string& conninfo_b) {
  auto a = storage::Connection::Open(conninfo_a);
  if (!a.ok()) return a.status();
  auto b = storage::Connection::Open(conninfo_b);
  if (!b.ok()) return b.status();
  std::vector<TableComparison> out;
  for (const TableSpec& t : kTables) {
    TableComparison cmp;
    cmp.table = t.table;
    auto da = Digest(**a, t);
    if (!da.ok()) return da.status();
    auto db = Digest(**b, t);
    if (!db.ok()) return db.status();
    cmp.rows_a = da->first;
    cmp.rows_b = db->first;
    cmp.same = *da == *db;
    if (!cmp.same && cmp.rows_a + cmp.rows_b < 2000000) {
      auto ra = SortedRows(**a, t);
      if (!ra.ok()) return ra.status();
      auto rb = SortedRows(**b, t);
      if (!rb.ok()) return rb.status();
      cmp.difference = FirstDifference(*ra, *rb);
    }
    out.push_back(std::move(cmp));
  }
  return out;
}

Result<std::vector<QueryComparison>> CompareQueries(const std::string& conninfo_a,
                                                    const std::string& conninfo_b,
                                                    const DossierGenerator& generator) {
  auto control = profiles::AccessControl::Load(profiles::AccessSettings{});
  if (!control.ok()) return control.status();
  FrontEnds a(conninfo_a), b(conninfo_b);
  int n = generator.options().patients;
  std::set<int> patients = {0, n / 3, n / 2, n - 1};
  // A doctor asserting the patient's consent, and the deposit source (which reads back what
  // it deposited, across records).
  const profiles::Actor* doctor = nullptr;
  for (const auto& actor : AccessActors())
    if (actor.profession == "10" && !doctor) doctor = &actor;
  std::vector<QueryComparison> out;
  auto both = [&](const profiles::Actor& actor, const std::string& path,
                  const std::string& query) -> Status {
    QueryComparison q;
    q.query = std::string(actor.kind == profiles::ActorKind::kSystem ? "[loader] " : "[doctor] ") +
              path + "?" + query;
    auto ra = a.Search(**control, actor, path, query);
    if (!ra.ok()) return ra.status();
    auto rb = b.Search(**control, actor, path, query);
    if (!rb.ok()) return rb.status();
    q.ids_a = std::move(ra).value();
    q.ids_b = std::move(rb).value();
    out.push_back(std::move(q));
    return Status::Ok();
  };
  for (int p : patients) {
    std::string pid = PatientId(p), cnt = "&_count=1000";
    for (const profiles::Actor* actor : {doctor, &LoaderActor()}) {
      CARNET_RETURN_IF_ERROR(both(*actor, "/fhir/DocumentReference", "patient=" + pid + cnt));
      CARNET_RETURN_IF_ERROR(both(*actor, "/fhir/DocumentReference",
                                  "patient=" + pid + "&type=http://loinc.org%7C11502-2" + cnt));
      CARNET_RETURN_IF_ERROR(
          both(*actor, "/fhir/DocumentReference", "patient=" + pid + "&date=ge2023-01-01" + cnt));
      CARNET_RETURN_IF_ERROR(both(*actor, "/fhir/Observation",
                                  "patient=" + pid + "&code=http://loinc.org%7C2345-7" + cnt));
      CARNET_RETURN_IF_ERROR(
          both(*actor, "/fhir/Observation", "patient=" + pid + "&value-quantity=gt100" + cnt));
      CARNET_RETURN_IF_ERROR(
          both(*actor, "/fhir/Observation", "patient=" + pid + "&category=vital-signs" + cnt));
      CARNET_RETURN_IF_ERROR(
          both(*actor, "/fhir/Immunization", "patient=" + pid + "&date=ge2022-01-01" + cnt));
      CARNET_RETURN_IF_ERROR(
          both(*actor, "/fhir/MedicationStatement", "patient=" + pid + "&status=active" + cnt));
      CARNET_RETURN_IF_ERROR(both(*actor, "/fhir/AllergyIntolerance", "patient=" + pid + cnt));
    }
    CARNET_RETURN_IF_ERROR(both(LoaderActor(), "/fhir/Patient",
                                "identifier=urn:oid:1.2.250.1.213.1.4.10%7C" + Ins(p)));
    QueryComparison iti18;
    iti18.query = "[loader] ITI-18 FindDocuments " + Ins(p);
    auto ra = a.FindDocuments(**control, LoaderActor(), Ins(p));
    if (!ra.ok()) return ra.status();
    auto rb = b.FindDocuments(**control, LoaderActor(), Ins(p));
    if (!rb.ok()) return rb.status();
    iti18.ids_a = std::move(ra).value();
    iti18.ids_b = std::move(rb).value();
    out.push_back(std::move(iti18));
  }
  // Across records: every lab report the deposit source deposited.
  CARNET_RETURN_IF_ERROR(both(LoaderActor(), "/fhir/DocumentReference",
                              "type=http://loinc.org%7C11502-2&_count=1000"));
  return out;
}

Status VerifyAudit(const std::string& conninfo) {
  auto c = storage::Connection::Open(conninfo);
  if (!c.ok()) return c.status();
  auto v = storage::VerifyAuditChains(**c, std::nullopt);
  if (!v.ok()) return v.status();
  if (!v->ok())
    return Internal("audit chain " + std::to_string(v->first_break->chain_key) + " breaks at seq " +
                    std::to_string(v->first_break->seq) + ": " + v->first_break->problem);
  return Status::Ok();
}

}  // namespace carnet::bench
