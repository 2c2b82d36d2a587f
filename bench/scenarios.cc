#include "bench/scenarios.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/strings.h"
#include "dossier/document_extraction.h"
#include "dossier/search_index.h"
#include "mapping/cda_check.h"
#include "mapping/cda_entries.h"
#include "mapping/cda_header.h"
#include "mapping/document_entry.h"
#include "mapping/registry_index.h"
#include "mapping/xds_metadata.h"
#include "model/search_params.h"
#include "storage/audit_store.h"
#include "storage/resource_store.h"
#include "storage/transaction.h"

namespace carnet::bench {

namespace {

// The INS test OID the loader files patients under, and the principal bench/run's token names
// (a deposit source with system/*.cruds: it may create, and read back what it deposited).
constexpr const char* kInsOid = "1.2.250.1.213.1.4.10";
constexpr const char* kLoader = "bench-loader";
constexpr const char* kSoapType = "application/soap+xml; charset=UTF-8";
constexpr const char* kSuccess = "ResponseStatusType:Success";

// ---- what the gateway is sent ----

// A day of home measurements: issue 8's 10-entry transaction, one vital sign per entry.
struct VitalSign {
  const char* code;
  const char* display;
  const char* value;
  const char* unit;
};
constexpr VitalSign kVitalSigns[kTransactionEntries] = {
    {"29463-7", "Body weight", "72.5", "kg"},
    {"8302-2", "Body height", "176", "cm"},
    {"39156-5", "Body mass index", "23.4", "kg/m2"},
    {"8480-6", "Systolic blood pressure", "128", "mm[Hg]"},
    {"8462-4", "Diastolic blood pressure", "82", "mm[Hg]"},
    {"8867-4", "Heart rate", "68", "/min"},
    {"9279-1", "Respiratory rate", "14", "/min"},
    {"8310-5", "Body temperature", "36.8", "Cel"},
    {"59408-5", "Oxygen saturation by pulse oximetry", "97", "%"},
    {"15074-8", "Glucose", "5.4", "mmol/L"}};

std::string VitalSignJson(const VitalSign& v, const std::string& patient_id) {
  return R"({"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" +
         std::string(v.code) + R"(","display":")" + v.display +
         R"("}]},"subject":{"reference":"Patient/)" + patient_id +
         R"("},"effectiveDateTime":"2025-03-15T08:30:00Z","valueQuantity":{"value":)" + v.value +
         R"(,"unit":")" + v.unit + R"(","system":"http://unitsofmeasure.org","code":")" + v.unit +
         R"("}})";
}

std::string SoapEnvelope(const std::string& action, const std::string& body) {
  return R"(<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">)" +
         action + "</a:Action><a:MessageID>urn:uuid:" + NewUuid() +
         "</a:MessageID></s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
}

// The repository's SHA-1 of a document, as the gateway records it (hex).
std::string Sha1Hex(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha1(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return hex;
}

xds::Code CodeOf(const char* code, const char* scheme, const char* display) {
  xds::Code c;
  c.code = code;
  c.scheme = scheme;
  c.display = display;
  return c;
}

// A uniqueId no other run used: the data directory is kept between runs.
std::string FreshUniqueId() { return mapping::OidFromUuid(NewUuid()); }

// ---- the floor ----

// Values that stand in a template for what each write replaces (ids, names, times). Each
// contains '-' or is long enough not to occur by chance, even inside base64 data.
constexpr const char* kTplPatient = "tpl-patient-id";
constexpr const char* kTplIns = "2999999999999";
constexpr const char* kTplId = "00000000-0000-4000-8000-0000000000a1";
constexpr const char* kTplBinaryId = "00000000-0000-4000-8000-0000000000b2";
constexpr const char* kTplSetId = "00000000-0000-4000-8000-0000000000c3";
constexpr const char* kTplAssociationId = "00000000-0000-4000-8000-0000000000d4";
constexpr const char* kTplDocUid = "2.25.999999999999999999999999991";
constexpr const char* kTplSetUid = "2.25.999999999999999999999999992";
constexpr const char* kTplNow = "2000-01-01T00:00:00.000Z";

using Substitutions = std::vector<std::pair<std::string, std::string>>;

void Substitute(std::string& s, const Substitutions& subs) {
  for (const auto& [from, to] : subs)
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
}

void Substitute(std::optional<std::string>& s, const Substitutions& subs) {
  if (s) Substitute(*s, subs);
}

// The index rows of a template, with the write's values in place of the template's.
dossier::IndexRows Substitute(dossier::IndexRows rows, const Substitutions& subs) {
  for (auto& r : rows.strings) Substitute(r.norm, subs), Substitute(r.exact, subs);
  for (auto& r : rows.tokens) Substitute(r.system, subs), Substitute(r.code, subs);
  for (auto& r : rows.references) {
    Substitute(r.target_id, subs);
    Substitute(r.target_url, subs);
    Substitute(r.id_value, subs);
  }
  for (auto& r : rows.uris) Substitute(r.uri, subs);
  return rows;
}

// A resource as the gateway stores it (fhir/interactions.cc Stamp: id, then meta with
// versionId, lastUpdated and the depositor as source), its security label codes and its
// search index rows.
struct WriteTemplate {
  std::string type, content;
  std::vector<std::string> security;
  dossier::IndexRows rows;
};

WriteTemplate MakeTemplate(JsonValue resource, const std::string& id,
                           std::vector<std::string> security = {}) {
  JsonValue meta = JsonValue::Object();
  meta.Set("versionId", JsonValue::String("1"));
  meta.Set("lastUpdated", JsonValue::String(kTplNow));
  if (const JsonValue* given = resource.Find("meta"); given && given->is_object())
    for (const auto& m : given->members()) meta.Set(m.first, m.second);
  meta.Set("source", JsonValue::String(kLoader));
  JsonValue stamped = JsonValue::Object();
  stamped.Set("resourceType", JsonValue::String(resource.GetString("resourceType")));
  stamped.Set("id", JsonValue::String(id));
  stamped.Set("meta", std::move(meta));
  for (auto& m : resource.members())
    if (m.first != "resourceType" && m.first != "id" && m.first != "meta")
      stamped.members().push_back(std::move(m));
  WriteTemplate t;
  t.type = stamped.GetString("resourceType");
  t.content = WriteJson(stamped);
  t.security = std::move(security);
  t.rows = dossier::ExtractIndexRows(*model::SearchParamRegistry::Instance().Official(), t.type,
                                     stamped);
  return t;
}

std::string NowInstant() { return FormatUtc(std::chrono::system_clock::now()); }

// ---- the document of ITI-41 ----

// A French lab report in CDA R2, level 3: the CI-SIS BIO-CR-BIO microbiology example (105 kB),
// with each deposit's patient (INS) and uniqueId in its header. The gateway reads the header,
// compares it with the metadata and extracts the results as Observations (issue 7): what a
// laboratory's deposit costs. Being a lab report, what this scenario leaves in the data
// directory is found by later searches of lab reports (a few hundred among a million).
constexpr const char* kIti41Source = "BIO-CR-BIO_2024.01_Microbiologie_V2.xml";
constexpr const char* kCdaIns = "279035121518989";
constexpr const char* kCdaUniqueId = "1.2.250.1.213.1.1.1.55.2024.8.2";

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "carnet-bench: %s\n", why.c_str());
  std::exit(2);
}

// The example with template values in place of its patient and uniqueId.
const std::string& LabReportCdaTemplate() {
  static const std::string xml = [] {
    std::string path =
        std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/cda/ci-sis/" + kIti41Source;
    std::ifstream in(path, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.empty()) Die("cannot read " + path);
    // The example replaces an earlier version of itself (relatedDocument RPLC) that the bench
    // store does not hold: without it, each deposit is a new document.
    size_t from = s.find("<relatedDocument"), to = s.find("</relatedDocument>");
    if (from != std::string::npos && to != std::string::npos)
      s.erase(from, to + std::strlen("</relatedDocument>") - from);
    Substitute(s, {{kCdaIns, kTplIns}, {kCdaUniqueId, kTplDocUid}});
    return s;
  }();
  return xml;
}

std::string LabReportCda(const Substitutions& subs) {
  std::string xml = LabReportCdaTemplate();
  Substitute(xml, subs);
  return xml;
}

// The metadata of the template document: what its header says (mapping::FillFromCdaHeader,
// the gateway's own rules), which the gateway's comparison must then find in agreement.
const xds::DocumentEntry& LabReportEntryTemplate() {
  static const xds::DocumentEntry entry = [] {
    auto header = mapping::ReadCdaHeader(LabReportCdaTemplate());
    if (!header.ok()) Die("the ITI-41 CDA: " + header.status().ToString());
    xds::DocumentEntry e;
    e.id = "Document01";
    e.object_type = std::string(xds::uuids::kDocumentEntryStable);
    e.mime_type = "text/xml";
    e.format_code = CodeOf("urn:ihe:lab:xd-lab:2008", "1.3.6.1.4.1.19376.1.2.3", "XD-LAB");
    mapping::FillFromCdaHeader(*header, &e);
    e.patient_id = std::string(kTplIns) + "^^^&" + kInsOid + "&ISO";
    if (e.source_patient_id.empty()) e.source_patient_id = e.patient_id;
    auto mismatches = mapping::CompareWithCdaHeader(*header, e);
    if (!mismatches.empty()) Die("the ITI-41 metadata: " + mismatches.front().Message());
    const std::string& cda = LabReportCdaTemplate();
    e.hash = Sha1Hex(cda);
    e.size = std::to_string(cda.size());
    return e;
  }();
  return entry;
}

xds::SubmissionSet LabSubmissionSet(const xds::DocumentEntry& entry, const std::string& unique_id) {
  xds::SubmissionSet s;
  s.id = "SubmissionSet01";
  s.unique_id = unique_id;
  s.patient_id = entry.patient_id;
  s.source_id = "1.2.250.1.999.88";
  s.submission_time = "20250315101500";
  s.content_type_code = entry.type_code;
  s.authors = entry.authors;
  return s;
}

// The audit event the gateway appends for an access by bench/run's deposit source.
profiles::AuditEntry LoaderAudit(profiles::AuditEntry e, long long patient_key,
                                 const std::string& patient_id, const std::string& object) {
  e.actor_kind = "system";
  e.actor_id = kLoader;
  e.client_id = kLoader;
  e.network_address = "127.0.0.1";
  e.outcome_desc = "deposit source: its own deposit";
  e.patient_key = patient_key;
  if (!patient_id.empty()) e.patient_reference = "Patient/" + patient_id;
  e.object_reference = object;
  return e;
}

Status Audit(storage::Transaction& tx, profiles::AuditEntry e) {
  auto appended = profiles::AppendAuditEvent(tx, e);
  return appended.ok() ? Status::Ok() : appended.status();
}

// One new resource written as fhir::Interactions writes it: the row and its history, the
// search index rows, the registry rows (DocumentReference, List) and the audit event.
Status WriteLikeGateway(storage::Transaction& tx, const WriteTemplate& t, const Substitutions& subs,
                        const std::string& id, long long patient_key,
                        const std::string& patient_id) {
  storage::StoredResource s;
  s.patient_key = patient_key;
  s.type = t.type;
  s.id = id;
  s.version = 1;
  s.last_updated = NowInstant();
  s.method = "POST";
  s.security = t.security;
  s.content = t.content;
  Substitutions all = subs;
  all.emplace_back(kTplNow, s.last_updated);
  Substitute(s.content, all);
  CARNET_RETURN_IF_ERROR(storage::WriteVersion(tx, s));
  CARNET_RETURN_IF_ERROR(
      storage::WriteIndexRows(tx, s, Substitute(t.rows, all), /*first_version=*/true));
  if (t.type == "DocumentReference" || t.type == "List") {
    auto json = ParseJson(s.content);
    if (!json.ok()) return json.status();
    CARNET_RETURN_IF_ERROR(mapping::UpdateRegistryIndex(tx, s, &*json));
  }
  return Audit(tx, LoaderAudit(profiles::AuditEntry::Rest("create", 'C'), patient_key, patient_id,
                               t.type + "/" + id));
}

// BEGIN, body, COMMIT on the floor's own connection (ROLLBACK when the body fails).
Status InTransaction(storage::Connection& conn,
                     const std::function<Status(storage::Transaction&)>& body) {
  auto begin = conn.Exec("BEGIN");
  if (!begin.ok()) return begin.status();
  storage::Transaction tx(conn);
  Status st = body(tx);
  auto end = conn.Exec(st.ok() ? "COMMIT" : "ROLLBACK");
  if (!st.ok()) return st;
  return end.ok() ? Status::Ok() : end.status();
}

Result<long long> PatientKey(storage::Transaction& tx, int patient) {
  auto key = storage::FindPatientKeyByResourceId(tx, PatientId(patient));
  if (!key.ok()) return key.status();
  if (!*key) return NotFound("no record " + PatientId(patient));
  return **key;
}

}  // namespace

std::string PatientCx(int i) { return Ins(i) + "^^^&" + kInsOid + "&ISO"; }
std::string DocumentUniqueId(int i) { return "1.2.250.1.999.77." + std::to_string(i); }

Request VitalSignRequest(int patient) {
  return {"POST", "/fhir/Observation", VitalSignJson(kVitalSigns[0], PatientId(patient)),
          "application/fhir+json", ""};
}

Request TransactionRequest(int patient) {
  std::string entries;
  for (const VitalSign& v : kVitalSigns)
    entries += std::string(entries.empty() ? "" : ",") + R"({"fullUrl":"urn:uuid:)" + NewUuid() +
               R"(","resource":)" + VitalSignJson(v, PatientId(patient)) +
               R"(,"request":{"method":"POST","url":"Observation"}})";
  return {"POST", "/fhir",
          R"({"resourceType":"Bundle","type":"transaction","entry":[)" + entries + "]}",
          "application/fhir+json", ""};
}

namespace {
// An instant of the bench's devices calendar: `seconds` after 2026-01-05T00:00:00Z, as FHIR
// dateTime (UTC).
std::string DeviceInstant(long long seconds) {
  std::time_t t = 1767571200 + static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}
constexpr char kDeviceReadingSystem[] = "urn:carnet:bench:glucometer:reading";
constexpr char kDeviceSerialSystem[] = "urn:carnet:bench:glucometer:serial";
}  // namespace

Request DevicesRequest(int patients, int connection, long n) {
  const long week = n / (2 * kDeviceDaysPerWeek);
  const int step = static_cast<int>(n % (2 * kDeviceDaysPerWeek));
  const int day = step / 2;
  // Each connection's weeks follow one another on the calendar, and each week is a patient's
  // (the patients taken in turn): readings never collide between connections or weeks.
  const int patient = static_cast<int>((connection * 7919L + week) % std::max(1, patients));
  const std::string pid = PatientId(patient);
  const long long day_start = (week * 64 + connection) * 7LL * 86400 + day * 86400LL;
  // A run's own identifiers: a store reused between runs (BENCH_DATA) gets new readings, not
  // ifNoneExist hits on the last run's.
  static const std::string run = RandomHex(4);
  const std::string tag = run + "c" + std::to_string(connection) + "w" + std::to_string(week);
  if (step % 2 == 1) {
    Request r{"GET",
              "/fhir/Observation?patient=" + pid + "&code=http://loinc.org%7C2339-0&date=ge" +
                  DeviceInstant(day_start) + "&date=lt" + DeviceInstant(day_start + 86400) +
                  "&_count=300",
              "", "", "\"fullUrl\""};
    r.label = "devices-search";
    return r;
  }
  const std::string device_url = "urn:uuid:" + NewUuid();
  const std::string serial = "GLU-" + tag;
  std::string body =
      R"({"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":")" + device_url +
      R"(","resource":{"resourceType":"Device","identifier":[{"system":")" + kDeviceSerialSystem +
      R"(","value":")" + serial +
      R"("}],"status":"active","manufacturer":"Exemple Santé","deviceName":[{"name":"Glucomètre connecté","type":"user-friendly-name"}],"patient":{"reference":"Patient/)" +
      pid + R"("}},"request":{"method":"POST","url":"Device","ifNoneExist":"identifier=)" +
      kDeviceSerialSystem + "|" + serial + R"("}})";
  for (int i = 0; i < kDeviceReadingsPerDay; ++i) {
    const std::string id = tag + "d" + std::to_string(day) + "r" + std::to_string(i);
    body +=
        R"(,{"fullUrl":"urn:uuid:)" + NewUuid() +
        R"(","resource":{"resourceType":"Observation","identifier":[{"system":")" +
        kDeviceReadingSystem + R"(","value":")" + id +
        R"("}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose"}]},"subject":{"reference":"Patient/)" +
        pid + R"("},"effectiveDateTime":")" + DeviceInstant(day_start + i * 300LL) +
        R"(","device":{"reference":")" + device_url + R"("},"valueQuantity":{"value":)" +
        std::to_string(80 + (i * 7) % 70) +
        R"(,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"}},"request":{"method":"POST","url":"Observation","ifNoneExist":"identifier=)" +
        kDeviceReadingSystem + "|" + id + R"("}})";
  }
  Request r{"POST", "/fhir", body + "]}", "application/fhir+json", ""};
  r.label = "devices-push";
  return r;
}

Request ProvideAndRegisterRequest(int patient) {
  std::string doc_uid = FreshUniqueId();
  Substitutions subs = {{kTplIns, Ins(patient)}, {kTplDocUid, doc_uid}};
  std::string cda = LabReportCda(subs);
  xds::DocumentEntry entry = LabReportEntryTemplate();
  Substitute(entry.patient_id, subs);
  Substitute(entry.source_patient_id, subs);
  entry.unique_id = doc_uid;
  entry.hash = Sha1Hex(cda);
  entry.size = std::to_string(cda.size());
  xds::RegistryObjectList m;
  m.documents.push_back(entry);
  m.submission_sets.push_back(LabSubmissionSet(entry, FreshUniqueId()));
  xds::Association member;
  member.id = "Association01";
  member.type = xds::AssociationType::kHasMember;
  member.type_uri = std::string(xds::AssociationTypeUri(member.type));
  member.source = "SubmissionSet01";
  member.target = "Document01";
  member.submission_set_status = "Original";
  m.associations.push_back(member);
  std::string body =
      R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
      xds::WriteSubmitObjectsRequest(m) + R"(<xdsb:Document id="Document01">)" + Base64Encode(cda) +
      "</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>";
  return {"POST", "/xds/repository",
          SoapEnvelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body), kSoapType,
          kSuccess};
}

Request RetrieveRequest(int document) {
  std::string body =
      R"(<RetrieveDocumentSetRequest xmlns="urn:ihe:iti:xds-b:2007"><DocumentRequest><RepositoryUniqueId>)" +
      std::string(mapping::kRepositoryUniqueId) + "</RepositoryUniqueId><DocumentUniqueId>" +
      DocumentUniqueId(document) +
      "</DocumentUniqueId></DocumentRequest></RetrieveDocumentSetRequest>";
  return {"POST", "/xds/repository", SoapEnvelope("urn:ihe:iti:2007:RetrieveDocumentSet", body),
          kSoapType, kSuccess};
}

// ---- the floors ----

struct DocumentFloors::Templates {
  std::vector<WriteTemplate> vital_signs;
  WriteTemplate document, binary, submission_set;
  // What the CDA's extraction writes: its resources (each with its placeholder id) and the
  // Provenance that carries the mapping report.
  std::vector<std::pair<std::string, WriteTemplate>> extracted;
  WriteTemplate provenance;
};

// The placeholder id of extracted resource i (fixed width: none is a prefix of another).
std::string ExtractedPlaceholder(size_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-1%011zx",
                static_cast<size_t>(i & 0xffffffffffULL));
  return buf;
}
constexpr const char* kTplProvenanceId = "00000000-0000-4000-8000-0000000000f6";

// The templates: the resources the gateway derives from each scenario's request, built with
// the gateway's own mapping (xds/service.cc ProvideAndRegister) from placeholder values.
DocumentFloors::DocumentFloors() {
  auto t = std::make_unique<Templates>();
  for (const VitalSign& v : kVitalSigns)
    t->vital_signs.push_back(MakeTemplate(*ParseJson(VitalSignJson(v, kTplPatient)), kTplId));

  xds::DocumentEntry entry = LabReportEntryTemplate();
  entry.id = std::string("urn:uuid:") + kTplId;
  entry.repository_unique_id = mapping::kRepositoryUniqueId;
  std::string patient_ref = std::string("Patient/") + kTplPatient;
  std::string document_ref = std::string("DocumentReference/") + kTplId;
  t->document = MakeTemplate(mapping::DocumentReferenceFromEntry(
                                 entry, patient_ref, std::string("Binary/") + kTplBinaryId),
                             kTplId, {"N"});

  JsonValue binary = JsonValue::Object();
  binary.Set("resourceType", JsonValue::String("Binary"));
  binary.Set("contentType", JsonValue::String(entry.mime_type));
  JsonValue context = JsonValue::Object();
  context.Set("reference", JsonValue::String(document_ref));
  binary.Set("securityContext", std::move(context));
  binary.Set("data", JsonValue::String(Base64Encode(LabReportCdaTemplate())));
  t->binary = MakeTemplate(std::move(binary), kTplBinaryId);

  // The extraction (fhir/document_extraction.cc): the profile resources, then the Provenance
  // naming them, with the mapping report.
  auto report = mapping::ExtractCdaEntries(LabReportCdaTemplate(), patient_ref, document_ref);
  if (!report.ok()) Die("the ITI-41 CDA's entries: " + report.status().ToString());
  JsonValue targets = JsonValue::Array();
  std::map<std::string, int> counts;
  for (const JsonValue& r : report->resources) ++counts[r.GetString("resourceType")];
  std::string text;
  for (const auto& [type, n] : counts)
    text += (text.empty() ? "extracted: " : ", ") + std::to_string(n) + " " + type;
  if (!report->ignored.empty()) text += "; ignored " + std::to_string(report->ignored.size()) + ":";
  for (size_t i = 0; i < report->resources.size(); ++i) {
    std::string id = ExtractedPlaceholder(i);
    WriteTemplate w = MakeTemplate(report->resources[i], id);
    JsonValue ref = JsonValue::Object();
    ref.Set("reference", JsonValue::String(w.type + "/" + id));
    targets.Append(std::move(ref));
    t->extracted.emplace_back(id, std::move(w));
  }
  for (const auto& why : report->ignored) text += "\n- " + why;
  JsonValue prov = *ParseJson(
      R"({"resourceType":"Provenance","meta":{"tag":[{"system":")" +
      std::string(dossier::kExtractionTagSystem) + R"(","code":")" + dossier::kExtractionTagCode +
      R"("}]},"extension":[{"url":")" + std::string(dossier::kMappingReportExtension) +
      R"(","valueString":""}],"recorded":")" + std::string(kTplNow) +
      R"(","activity":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-DataOperation","code":"DERIVE"}]},"agent":[{"who":{"display":"carnet CDA level-3 extraction"}}],"entity":[{"role":"source","what":{"reference":")" +
      document_ref + R"("}}]})");
  prov.Find("extension")->items()[0].Set("valueString", JsonValue::String(text));
  prov.Set("target", std::move(targets));
  t->provenance = MakeTemplate(std::move(prov), kTplProvenanceId);

  xds::SubmissionSet set = LabSubmissionSet(entry, kTplSetUid);
  set.id = std::string("urn:uuid:") + kTplSetId;
  JsonValue list = mapping::ListFromSubmissionSet(set, patient_ref,
                                                  {std::string("DocumentReference/") + kTplId});
  // The member keeps its HasMember association's id (xds/service.cc TagMembers).
  JsonValue association = JsonValue::Object();
  association.Set("url",
                  JsonValue::String(std::string(mapping::kExtensionBase) + "xds-association-id"));
  association.Set("valueUri", JsonValue::String(std::string("urn:uuid:") + kTplAssociationId));
  JsonValue extensions = JsonValue::Array();
  extensions.Append(std::move(association));
  list.Find("entry")->items()[0].Set("extension", std::move(extensions));
  t->submission_set = MakeTemplate(std::move(list), kTplSetId);
  templates_ = std::move(t);
}

DocumentFloors::~DocumentFloors() = default;

Status DocumentFloors::Transaction(storage::Connection& conn, int patient) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    auto key = PatientKey(tx, patient);
    if (!key.ok()) return key.status();
    Substitutions subs = {{kTplPatient, PatientId(patient)}};
    for (const WriteTemplate& vital : templates_->vital_signs) {
      std::string id = NewUuid();
      subs.emplace_back(kTplId, id);
      CARNET_RETURN_IF_ERROR(WriteLikeGateway(tx, vital, subs, id, *key, PatientId(patient)));
      subs.pop_back();
    }
    return Status::Ok();
  });
}

Status DocumentFloors::Create(storage::Connection& conn, int patient) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    auto key = PatientKey(tx, patient);
    if (!key.ok()) return key.status();
    std::string id = NewUuid();
    Substitutions subs = {{kTplPatient, PatientId(patient)}, {kTplId, id}};
    return WriteLikeGateway(tx, templates_->vital_signs.front(), subs, id, *key,
                            PatientId(patient));
  });
}

Status DocumentFloors::ProvideAndRegister(storage::Connection& conn, int patient) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    // The record of the submission's patientId, and the check that the uniqueId is new.
    auto record =
        storage::FindPatientByIdentifier(tx, std::string("urn:oid:") + kInsOid, Ins(patient));
    if (!record.ok()) return record.status();
    if (!*record) return NotFound("no record for " + PatientCx(patient));
    long long key = (*record)->patient_key;
    std::string doc_uid = FreshUniqueId(), set_uid = FreshUniqueId();
    static const storage::Statement kKnownHash{
        "floor_known_hash",
        "SELECT coalesce(encode(hash_sha1, 'hex'), '') FROM registry_object WHERE unique_id = $1 "
        "AND object_type = 'DocumentEntry'"};
    auto known = tx.Run(kKnownHash, {storage::SqlParam::Text(doc_uid)});
    if (!known.ok()) return known.status();
    std::string doc_id = NewUuid(), binary_id = NewUuid(), set_id = NewUuid();
    Substitutions subs = {{kTplPatient, PatientId(patient)},
                          {kTplIns, Ins(patient)},
                          {kTplId, doc_id},
                          {kTplBinaryId, binary_id},
                          {kTplSetId, set_id},
                          {kTplDocUid, doc_uid},
                          {kTplSetUid, set_uid},
                          {kTplAssociationId, NewUuid()}};
    const Templates& t = *templates_;
    CARNET_RETURN_IF_ERROR(WriteLikeGateway(tx, t.document, subs, doc_id, key, PatientId(patient)));
    CARNET_RETURN_IF_ERROR(
        WriteLikeGateway(tx, t.binary, subs, binary_id, key, PatientId(patient)));
    CARNET_RETURN_IF_ERROR(
        WriteLikeGateway(tx, t.submission_set, subs, set_id, key, PatientId(patient)));
    for (const auto& [placeholder, w] : t.extracted) subs.emplace_back(placeholder, NewUuid());
    for (size_t i = 0; i < t.extracted.size(); ++i)
      CARNET_RETURN_IF_ERROR(WriteLikeGateway(tx, t.extracted[i].second, subs,
                                              subs[subs.size() - t.extracted.size() + i].second,
                                              key, PatientId(patient)));
    std::string provenance_id = NewUuid();
    subs.emplace_back(kTplProvenanceId, provenance_id);
    CARNET_RETURN_IF_ERROR(
        WriteLikeGateway(tx, t.provenance, subs, provenance_id, key, PatientId(patient)));
    profiles::AuditEntry import = profiles::AuditEntry::Dicom("110107", "Import", "ITI-41", 'C');
    return Audit(tx, LoaderAudit(import, key, PatientId(patient), set_uid));
  });
}

Status DocumentFloors::Retrieve(storage::Connection& conn, int document) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    // The gateway's statement (xds/service.cc Retrieve): the entry and its Binary's content.
    static const storage::Statement kFind{
        "floor_retrieve",
        "SELECT d.res_id, b.content FROM registry_object o "
        "JOIN resource d ON d.res_type = o.res_type AND d.res_id = o.res_id AND NOT d.deleted "
        "LEFT JOIN resource b ON b.res_type = 'Binary' AND NOT b.deleted AND b.res_id = "
        "substring(d.content::jsonb #>> '{content,0,attachment,url}' from '^Binary/(.*)$') "
        "WHERE o.object_type = 'DocumentEntry' AND o.unique_id = $1"};
    std::string uid = DocumentUniqueId(document);
    auto row = tx.Run(kFind, {storage::SqlParam::Text(uid)});
    if (!row.ok()) return row.status();
    if (row->rows() == 0 || row->IsNull(0, 1)) return NotFound("no " + uid);
    // The DocumentReference again, for the policy decision, then the export's audit event.
    auto entry = storage::ReadCurrent(tx, "DocumentReference", row->GetString(0, 0), false);
    if (!entry.ok()) return entry.status();
    if (!*entry || !(*entry)->patient_key) return NotFound("no " + uid);
    profiles::AuditEntry e = profiles::AuditEntry::Dicom("110106", "Export", "ITI-43", 'R');
    return Audit(tx, LoaderAudit(e, *(*entry)->patient_key, "", uid));
  });
}

Status DocumentFloors::Read(storage::Connection& conn, int document) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    std::string id = DocumentId(document);
    auto r = storage::ReadCurrent(tx, "DocumentReference", id, false);
    if (!r.ok()) return r.status();
    if (!*r || !(*r)->patient_key) return NotFound("no DocumentReference/" + id);
    return Audit(tx, LoaderAudit(profiles::AuditEntry::Rest("read", 'R'), *(*r)->patient_key, "",
                                 "DocumentReference/" + id));
  });
}

Status DocumentFloors::Search(storage::Connection& conn, int patient) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    static const storage::Statement kSearch{
        "floor_search",
        "SELECT r.content FROM resource r JOIN idx_reference s ON s.res_type = r.res_type AND "
        "s.res_id = r.res_id AND s.param = 'patient' AND s.target_type = 'Patient' AND "
        "s.target_id = $1 JOIN idx_token t ON t.res_type = r.res_type AND t.res_id = r.res_id "
        "AND t.param = 'type' AND t.system = 'http://loinc.org' AND t.code = '11502-2' "
        "JOIN idx_date d ON d.res_type = r.res_type AND d.res_id = r.res_id AND d.param = 'date' "
        "AND d.high >= '2025-01-01' "
        "WHERE r.res_type = 'DocumentReference' AND NOT r.deleted ORDER BY r.res_id LIMIT 21"};
    auto r = tx.Run(kSearch, {storage::SqlParam::Text(PatientId(patient))});
    if (!r.ok()) return r.status();
    auto key = PatientKey(tx, patient);
    if (!key.ok()) return key.status();
    return Audit(tx, LoaderAudit(profiles::AuditEntry::Rest("search-type", 'E'), *key,
                                 PatientId(patient), ""));
  });
}

Status DocumentFloors::FindDocuments(storage::Connection& conn, int patient) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    static const storage::Statement kRegistry{
        "floor_registry",
        "SELECT o.patient_key, r.content FROM registry_object o JOIN resource r ON r.res_type = "
        "o.res_type AND r.res_id = o.res_id WHERE o.object_type = 'DocumentEntry' AND "
        "o.patient_key = (SELECT patient_key FROM patient_identifier WHERE system = "
        "'urn:oid:1.2.250.1.213.1.4.10' AND value = $1) "
        "AND o.availability_status = 'Approved' ORDER BY o.creation_time LIMIT 1001"};
    auto r = tx.Run(kRegistry, {storage::SqlParam::Text(Ins(patient))});
    if (!r.ok()) return r.status();
    auto key = PatientKey(tx, patient);
    if (!key.ok()) return key.status();
    profiles::AuditEntry e = profiles::AuditEntry::Dicom("110112", "Query", "ITI-18", 'E');
    return Audit(tx, LoaderAudit(e, *key, PatientId(patient), ""));
  });
}

Status DocumentFloors::PatientDocuments(storage::Connection& conn, int patient) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    static const storage::Statement kList{
        "floor_patient_documents",
        "SELECT r.content FROM resource r JOIN idx_reference s ON s.res_type = r.res_type AND "
        "s.res_id = r.res_id AND s.param = 'patient' AND s.target_type = 'Patient' AND "
        "s.target_id = $1 WHERE r.res_type = 'DocumentReference' AND NOT r.deleted "
        "ORDER BY r.res_id LIMIT 21"};
    auto r = tx.Run(kList, {storage::SqlParam::Text(PatientId(patient))});
    if (!r.ok()) return r.status();
    auto key = PatientKey(tx, patient);
    if (!key.ok()) return key.status();
    return Audit(tx, LoaderAudit(profiles::AuditEntry::Rest("search-type", 'E'), *key,
                                 PatientId(patient), ""));
  });
}

Status DocumentFloors::AccessHistory(storage::Connection& conn, int patient) const {
  return InTransaction(conn, [&](storage::Transaction& tx) -> Status {
    auto key = PatientKey(tx, patient);
    if (!key.ok()) return key.status();
    storage::AuditEventQuery q;
    q.patient_keys = {*key};
    q.limit = 21;
    auto page = storage::ReadAuditEvents(tx, q);
    if (!page.ok()) return page.status();
    profiles::AuditEntry e = profiles::AuditEntry::Rest("search-type", 'E');
    return Audit(tx, LoaderAudit(e, *key, PatientId(patient), "AuditEvent"));
  });
}

Status DocumentFloors::PrimaryKeyRead(storage::Connection& conn, int document) const {
  static const storage::Statement kByKey{
      "floor_primary_key",
      "SELECT content FROM resource WHERE res_type = 'DocumentReference' AND res_id = $1"};
  std::string id = DocumentId(document);
  auto r = conn.Run(kByKey, {storage::SqlParam::Text(id)});
  if (!r.ok()) return r.status();
  if (r->rows() == 0) return NotFound("no DocumentReference/" + id);
  return Status::Ok();
}

}  // namespace carnet::bench
