#include "xds/stored_query.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "base/strings.h"
#include "base/tsv.h"
#include "mapping/document_entry.h"
#include "mapping/ebrim_xml.h"
#include "mapping/registry_index.h"
#include "xds/metadata_validation.h"

namespace carnet::xds {

// Defined in the file generated from xds/data/query_parameters.tsv by cmake/embed_text.cmake.
const char* EmbeddedQueryParameters();

namespace {

constexpr std::string_view kSyntaxError = "XDSRegistryError";
constexpr std::string_view kParamNumber = "XDSStoredQueryParamNumber";
constexpr std::string_view kMissingParam = "XDSStoredQueryMissingParam";

struct QueryIdentity {
  StoredQueryKind kind;
  std::string_view name;
  std::string_view id;
};

// spec/xds.md, "ITI-18 stored queries".
constexpr QueryIdentity kQueries[] = {
    {StoredQueryKind::kFindDocuments, "FindDocuments", "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"},
    {StoredQueryKind::kFindDocumentsByReferenceId, "FindDocumentsByReferenceId",
     "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"},
    {StoredQueryKind::kFindSubmissionSets, "FindSubmissionSets", "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"},
    {StoredQueryKind::kFindFolders, "FindFolders", "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"},
    {StoredQueryKind::kGetAll, "GetAll", "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"},
    {StoredQueryKind::kGetDocuments, "GetDocuments", "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"},
    {StoredQueryKind::kGetFolders, "GetFolders", "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"},
    {StoredQueryKind::kGetAssociations, "GetAssociations", "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"},
    {StoredQueryKind::kGetDocumentsAndAssociations, "GetDocumentsAndAssociations",
     "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"},
    {StoredQueryKind::kGetSubmissionSets, "GetSubmissionSets", "urn:uuid:51224314-5390-4169-9b91-b1980040715a"},
    {StoredQueryKind::kGetSubmissionSetAndContents, "GetSubmissionSetAndContents",
     "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"},
    {StoredQueryKind::kGetFolderAndContents, "GetFolderAndContents",
     "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"},
    {StoredQueryKind::kGetFoldersForDocument, "GetFoldersForDocument",
     "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"},
    {StoredQueryKind::kGetRelatedDocuments, "GetRelatedDocuments",
     "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"},
};

enum class ValueKind { kPatientId, kStatus, kCode, kTime, kString, kUuid, kEntryType, kNumber };
enum class Multiplicity { kSingle, kList, kAndOr };

struct ParamSpec {
  std::string_view name;
  ValueKind kind;
  Multiplicity multi;
};

struct QuerySpec {
  std::vector<ParamSpec> params;
  std::vector<std::string_view> required;
  // Exactly one of these must be given (GetDocuments: EntryUUID | UniqueId | LogicalID).
  std::vector<std::string_view> one_of;
};

using VK = ValueKind;
using M = Multiplicity;

std::vector<ParamSpec> FindDocumentsParams() {
  return {
      {"$XDSDocumentEntryPatientId", VK::kPatientId, M::kSingle},
      {"$XDSDocumentEntryClassCode", VK::kCode, M::kList},
      {"$XDSDocumentEntryTypeCode", VK::kCode, M::kList},
      {"$XDSDocumentEntryPracticeSettingCode", VK::kCode, M::kList},
      {"$XDSDocumentEntryCreationTimeFrom", VK::kTime, M::kSingle},
      {"$XDSDocumentEntryCreationTimeTo", VK::kTime, M::kSingle},
      {"$XDSDocumentEntryServiceStartTimeFrom", VK::kTime, M::kSingle},
      {"$XDSDocumentEntryServiceStartTimeTo", VK::kTime, M::kSingle},
      {"$XDSDocumentEntryServiceStopTimeFrom", VK::kTime, M::kSingle},
      {"$XDSDocumentEntryServiceStopTimeTo", VK::kTime, M::kSingle},
      {"$XDSDocumentEntryHealthcareFacilityTypeCode", VK::kCode, M::kList},
      {"$XDSDocumentEntryEventCodeList", VK::kCode, M::kAndOr},
      {"$XDSDocumentEntryConfidentialityCode", VK::kCode, M::kAndOr},
      {"$XDSDocumentEntryAuthorPerson", VK::kString, M::kList},
      {"$XDSDocumentEntryFormatCode", VK::kCode, M::kList},
      {"$XDSDocumentEntryStatus", VK::kStatus, M::kList},
      {"$XDSDocumentEntryType", VK::kEntryType, M::kList},
      {"$MetadataLevel", VK::kNumber, M::kSingle},
  };
}

const QuerySpec& SpecFor(StoredQueryKind kind) {
  static const std::map<StoredQueryKind, QuerySpec> specs = [] {
    std::map<StoredQueryKind, QuerySpec> s;
    const ParamSpec home{"$homeCommunityId", VK::kString, M::kSingle};
    const ParamSpec level{"$MetadataLevel", VK::kNumber, M::kSingle};
    const ParamSpec format{"$XDSDocumentEntryFormatCode", VK::kCode, M::kList};
    const ParamSpec conf{"$XDSDocumentEntryConfidentialityCode", VK::kCode, M::kAndOr};
    const ParamSpec type{"$XDSDocumentEntryType", VK::kEntryType, M::kList};
    s[StoredQueryKind::kFindDocuments] = {FindDocumentsParams(),
                                          {"$XDSDocumentEntryPatientId", "$XDSDocumentEntryStatus"},
                                          {}};
    QuerySpec by_ref{FindDocumentsParams(),
                     {"$XDSDocumentEntryPatientId", "$XDSDocumentEntryStatus",
                      "$XDSDocumentEntryReferenceIdList"},
                     {}};
    by_ref.params.push_back({"$XDSDocumentEntryReferenceIdList", VK::kString, M::kList});
    s[StoredQueryKind::kFindDocumentsByReferenceId] = by_ref;
    s[StoredQueryKind::kFindSubmissionSets] = {
        {{"$XDSSubmissionSetPatientId", VK::kPatientId, M::kSingle},
         {"$XDSSubmissionSetSourceId", VK::kString, M::kList},
         {"$XDSSubmissionSetSubmissionTimeFrom", VK::kTime, M::kSingle},
         {"$XDSSubmissionSetSubmissionTimeTo", VK::kTime, M::kSingle},
         {"$XDSSubmissionSetAuthorPerson", VK::kString, M::kSingle},
         {"$XDSSubmissionSetContentType", VK::kCode, M::kList},
         {"$XDSSubmissionSetStatus", VK::kStatus, M::kList}},
        {"$XDSSubmissionSetPatientId", "$XDSSubmissionSetStatus"},
        {}};
    s[StoredQueryKind::kFindFolders] = {
        {{"$XDSFolderPatientId", VK::kPatientId, M::kSingle},
         {"$XDSFolderLastUpdateTimeFrom", VK::kTime, M::kSingle},
         {"$XDSFolderLastUpdateTimeTo", VK::kTime, M::kSingle},
         {"$XDSFolderCodeList", VK::kCode, M::kAndOr},
         {"$XDSFolderStatus", VK::kStatus, M::kList}},
        {"$XDSFolderPatientId", "$XDSFolderStatus"},
        {}};
    // The digest marks only $patientId and $XDSDocumentEntryStatus as required for GetAll.
    s[StoredQueryKind::kGetAll] = {{{"$patientId", VK::kPatientId, M::kSingle},
                                    {"$XDSDocumentEntryStatus", VK::kStatus, M::kList},
                                    {"$XDSSubmissionSetStatus", VK::kStatus, M::kList},
                                    {"$XDSFolderStatus", VK::kStatus, M::kList},
                                    format,
                                    conf,
                                    type},
                                   {"$patientId", "$XDSDocumentEntryStatus"},
                                   {}};
    s[StoredQueryKind::kGetDocuments] = {{{"$XDSDocumentEntryEntryUUID", VK::kUuid, M::kList},
                                          {"$XDSDocumentEntryUniqueId", VK::kString, M::kList},
                                          {"$XDSDocumentEntryLogicalID", VK::kUuid, M::kList},
                                          home,
                                          level},
                                         {},
                                         {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId",
                                          "$XDSDocumentEntryLogicalID"}};
    s[StoredQueryKind::kGetFolders] = {{{"$XDSFolderEntryUUID", VK::kUuid, M::kList},
                                        {"$XDSFolderUniqueId", VK::kString, M::kList},
                                        {"$XDSFolderLogicalID", VK::kUuid, M::kList},
                                        home},
                                       {},
                                       {"$XDSFolderEntryUUID", "$XDSFolderUniqueId", "$XDSFolderLogicalID"}};
    s[StoredQueryKind::kGetAssociations] = {{{"$uuid", VK::kUuid, M::kList}, home}, {"$uuid"}, {}};
    s[StoredQueryKind::kGetDocumentsAndAssociations] = {
        {{"$XDSDocumentEntryEntryUUID", VK::kUuid, M::kList},
         {"$XDSDocumentEntryUniqueId", VK::kString, M::kList},
         home,
         level},
        {},
        {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"}};
    s[StoredQueryKind::kGetSubmissionSets] = {{{"$uuid", VK::kUuid, M::kList}, home}, {"$uuid"}, {}};
    s[StoredQueryKind::kGetSubmissionSetAndContents] = {
        {{"$XDSSubmissionSetEntryUUID", VK::kUuid, M::kSingle},
         {"$XDSSubmissionSetUniqueId", VK::kString, M::kSingle},
         format,
         conf,
         type,
         home,
         level},
        {},
        {"$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId"}};
    s[StoredQueryKind::kGetFolderAndContents] = {{{"$XDSFolderEntryUUID", VK::kUuid, M::kSingle},
                                                  {"$XDSFolderUniqueId", VK::kString, M::kSingle},
                                                  format,
                                                  conf,
                                                  type,
                                                  home,
                                                  level},
                                                 {},
                                                 {"$XDSFolderEntryUUID", "$XDSFolderUniqueId"}};
    s[StoredQueryKind::kGetFoldersForDocument] = {
        {{"$XDSDocumentEntryEntryUUID", VK::kUuid, M::kSingle},
         {"$XDSDocumentEntryUniqueId", VK::kString, M::kSingle},
         home},
        {},
        {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"}};
    s[StoredQueryKind::kGetRelatedDocuments] = {
        {{"$XDSDocumentEntryEntryUUID", VK::kUuid, M::kSingle},
         {"$XDSDocumentEntryUniqueId", VK::kString, M::kSingle},
         {"$AssociationTypes", VK::kString, M::kList},
         home,
         level},
        {"$AssociationTypes"},
        {"$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"}};
    return s;
  }();
  return specs.at(kind);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Splits "code^^scheme".
std::optional<QueryCode> SplitCode(std::string_view v) {
  size_t sep = v.find("^^");
  if (sep == std::string_view::npos) return std::nullopt;
  QueryCode c{std::string(v.substr(0, sep)), std::string(v.substr(sep + 2))};
  if (c.code.empty() || c.scheme.empty() || c.scheme.find('^') != std::string::npos) return std::nullopt;
  return c;
}

}  // namespace

std::optional<StoredQueryKind> StoredQueryKindFromId(std::string_view id) {
  for (const QueryIdentity& q : kQueries) {
    if (q.id == id) return q.kind;
  }
  return std::nullopt;
}

std::string_view StoredQueryId(StoredQueryKind kind) {
  for (const QueryIdentity& q : kQueries) {
    if (q.kind == kind) return q.id;
  }
  return {};
}

std::string_view StoredQueryName(StoredQueryKind kind) {
  for (const QueryIdentity& q : kQueries) {
    if (q.kind == kind) return q.name;
  }
  return {};
}

bool ParseSlotValue(std::string_view text, bool list, std::vector<QueryValue>* out) {
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  // One item: 'quoted' (with '' as an escaped quote) or a bare number.
  auto item = [&]() -> bool {
    skip();
    QueryValue v;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {
            v.text += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        v.text += text[i++];
      }
      if (!closed) return false;
    } else {
      v.type = QueryValue::Type::kNumber;
      size_t start = i;
      if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
      while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
      v.text = std::string(text.substr(start, i - start));
      if (v.text.empty() || v.text == "-" || v.text == "+") return false;
    }
    out->push_back(std::move(v));
    skip();
    return true;
  };
  skip();
  if (!list) {
    if (!item()) return false;
    return i == text.size();
  }
  if (i >= text.size() || text[i] != '(') return false;
  ++i;
  while (true) {
    if (!item()) return false;
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < text.size() && text[i] == ')') {
      ++i;
      break;
    }
    return false;
  }
  skip();
  return i == text.size();
}

bool StoredQuery::Has(std::string_view name) const { return parameters.count(std::string(name)) > 0; }

const QueryValue* StoredQuery::Single(std::string_view name) const {
  auto it = parameters.find(std::string(name));
  if (it == parameters.end() || it->second.empty() || it->second[0].empty()) return nullptr;
  return &it->second[0][0];
}

std::vector<std::string> StoredQuery::Values(std::string_view name) const {
  std::vector<std::string> out;
  auto it = parameters.find(std::string(name));
  if (it == parameters.end()) return out;
  for (const auto& ors : it->second)
    for (const QueryValue& v : ors) out.push_back(v.text);
  return out;
}

std::vector<std::vector<QueryCode>> StoredQuery::Codes(std::string_view name) const {
  std::vector<std::vector<QueryCode>> out;
  auto it = parameters.find(std::string(name));
  if (it == parameters.end()) return out;
  for (const auto& ors : it->second) {
    std::vector<QueryCode> codes;
    for (const QueryValue& v : ors) {
      if (auto c = SplitCode(v.text)) codes.push_back(*c);
    }
    out.push_back(std::move(codes));
  }
  return out;
}

StoredQueryParse ParseAdhocQueryRequest(pugi::xml_node request) {
  StoredQueryParse result;
  auto error = [&](std::string_view code, const std::string& location, std::string context,
                   RegistryError::Severity severity = RegistryError::Severity::kError) {
    result.errors.push_back({std::string(code), std::move(context), location, severity});
  };
  if (!Is(request, kNsQuery, "AdhocQueryRequest")) {
    error(kSyntaxError, "AdhocQueryRequest", "expected query:AdhocQueryRequest (ebRS 3.0)");
    return result;
  }
  StoredQuery q;
  pugi::xml_node option = Child(request, kNsQuery, "ResponseOption");
  std::string return_type = option.attribute("returnType").value();
  if (return_type == "LeafClass") {
    q.return_type = ReturnType::kLeafClass;
  } else if (return_type == "ObjectRef") {
    q.return_type = ReturnType::kObjectRef;
  } else {
    error(kSyntaxError, "ResponseOption",
          "ResponseOption returnType must be LeafClass or ObjectRef, not '" + return_type + "'");
  }
  pugi::xml_node adhoc = Child(request, kNsRim, "AdhocQuery");
  if (!adhoc) {
    error(kSyntaxError, "AdhocQuery", "AdhocQueryRequest without rim:AdhocQuery");
    return result;
  }
  std::string id = adhoc.attribute("id").value();
  std::optional<StoredQueryKind> kind = StoredQueryKindFromId(id);
  if (!kind) {
    error("XDSUnknownStoredQuery", id, "'" + id + "' is not a stored query id known to this registry");
    return result;
  }
  q.kind = *kind;
  q.home_community_id = adhoc.attribute("home").value();
  const QuerySpec& spec = SpecFor(q.kind);
  const std::string query_name(StoredQueryName(q.kind));

  for (pugi::xml_node slot = adhoc.first_child(); slot; slot = slot.next_sibling()) {
    if (!Is(slot, kNsRim, "Slot")) continue;
    std::string name = slot.attribute("name").value();
    auto ps = std::find_if(spec.params.begin(), spec.params.end(),
                           [&](const ParamSpec& p) { return p.name == name; });
    if (ps == spec.params.end()) {
      error(kSyntaxError, name, query_name + ": parameter " + name + " is not a parameter of this query; ignored",
            RegistryError::Severity::kWarning);
      continue;
    }
    auto& and_list = q.parameters[name];
    if (!and_list.empty() && ps->multi != Multiplicity::kAndOr) {
      error(kParamNumber, name, query_name + ": parameter " + name + " is given more than once");
      continue;
    }
    std::vector<std::string> texts;
    for (pugi::xml_node v = Child(Child(slot, kNsRim, "ValueList"), kNsRim, "Value"); v;
         v = v.next_sibling()) {
      if (Is(v, kNsRim, "Value")) texts.push_back(Text(v));
    }
    if (texts.empty()) {
      error(kSyntaxError, name, query_name + ": parameter " + name + " has no value");
      continue;
    }
    std::vector<QueryValue> values;
    bool syntax_ok = true;
    if (ps->multi == Multiplicity::kSingle) {
      if (texts.size() > 1) {
        error(kParamNumber, name, query_name + ": parameter " + name + " takes a single value");
        continue;
      }
      std::vector<QueryValue> as_list;
      if (ParseSlotValue(texts[0], true, &as_list)) {
        if (as_list.size() > 1) {
          error(kParamNumber, name, query_name + ": parameter " + name + " takes a single value");
        } else {
          error(kSyntaxError, name, query_name + ": parameter " + name +
                                        " is single-valued and must not be a (list)");
        }
        continue;
      }
      syntax_ok = ParseSlotValue(texts[0], false, &values);
    } else {
      for (const std::string& t : texts) syntax_ok = syntax_ok && ParseSlotValue(t, true, &values);
    }
    if (!syntax_ok) {
      error(kSyntaxError, name,
            query_name + ": parameter " + name + " value '" + Trim(texts[0]).substr(0, 200) + "' is malformed: " +
                (ps->multi == Multiplicity::kSingle ? "expected 'quoted string' or a number"
                                                    : "expected a list ('a','b')"));
      continue;
    }
    bool values_ok = true;
    for (const QueryValue& v : values) {
      std::string problem;
      const bool quoted = v.type == QueryValue::Type::kString;
      switch (ps->kind) {
        case VK::kPatientId:
          if (!quoted || !IsValidCxPatientId(v.text)) problem = "a quoted patient id 'id^^^&OID&ISO'";
          break;
        case VK::kStatus:
          if (!quoted || v.text.rfind("urn:", 0) != 0) problem = "a quoted status URN";
          break;
        case VK::kCode:
          if (!quoted || !SplitCode(v.text)) problem = "a quoted code 'code^^scheme'";
          break;
        case VK::kTime:
          if (!IsValidDtm(v.text)) problem = "a DTM timestamp YYYY[MM[DD[hh[mm[ss]]]]]";
          break;
        case VK::kString:
          if (!quoted) problem = "a quoted string";
          break;
        case VK::kUuid:
          if (!quoted || !IsUuidUrn(v.text)) problem = "a quoted 'urn:uuid:...'";
          break;
        case VK::kEntryType:
          if (!quoted || (v.text != uuids::kDocumentEntryStable && v.text != uuids::kDocumentEntryOnDemand))
            problem = "the stable or on-demand DocumentEntry type";
          break;
        case VK::kNumber:
          if (quoted || v.text.find_first_not_of("0123456789") != std::string::npos) problem = "a number";
          break;
      }
      if (!problem.empty()) {
        error(kSyntaxError, name,
              query_name + ": parameter " + name + " value '" + v.text.substr(0, 200) + "' should be " + problem);
        values_ok = false;
      }
    }
    if (!values_ok) continue;
    and_list.push_back(std::move(values));
  }
  // Parameters that failed left an empty AND-list: they count as given (no "missing" error on
  // top of the syntax error) but carry nothing.
  for (std::string_view r : spec.required) {
    if (!q.parameters.count(std::string(r))) {
      error(kMissingParam, std::string(r), query_name + ": required parameter " + std::string(r) + " is missing");
    }
  }
  if (!spec.one_of.empty()) {
    std::vector<std::string> given;
    for (std::string_view p : spec.one_of) {
      if (q.parameters.count(std::string(p))) given.emplace_back(p);
    }
    std::string names;
    for (std::string_view p : spec.one_of) names += (names.empty() ? "" : " or ") + std::string(p);
    if (given.empty()) {
      error(kMissingParam, names, query_name + ": one of " + names + " is required");
    } else if (given.size() > 1) {
      error(kParamNumber, given[0], query_name + ": only one of " + names + " may be given");
    }
  }
  for (auto it = q.parameters.begin(); it != q.parameters.end();) {
    it = it->second.empty() ? q.parameters.erase(it) : std::next(it);
  }
  bool failed = std::any_of(result.errors.begin(), result.errors.end(), [](const RegistryError& e) {
    return e.severity == RegistryError::Severity::kError;
  });
  if (!failed) result.query = std::move(q);
  return result;
}

const std::vector<StoredQueryKind>& StoredQueryKinds() {
  static const std::vector<StoredQueryKind> kinds = [] {
    std::vector<StoredQueryKind> out;
    for (const QueryIdentity& q : kQueries) out.push_back(q.kind);
    return out;
  }();
  return kinds;
}

std::vector<std::string_view> AcceptedParameters(StoredQueryKind kind) {
  std::vector<std::string_view> out;
  for (const ParamSpec& p : SpecFor(kind).params) out.push_back(p.name);
  return out;
}

const std::vector<QueryParameterColumn>& QueryParameterColumns() {
  // A row that is not four cells is skipped; the unit tests check the file has none.
  static const std::vector<QueryParameterColumn> rows = [] {
    std::vector<QueryParameterColumn> out;
    for (const TsvRow& row : ReadTsv(EmbeddedQueryParameters()))
      if (row.cells.size() == 4)
        out.push_back({row.cells[0], row.cells[1], row.cells[2], row.cells[3]});
    return out;
  }();
  return rows;
}

const QueryParameterColumn* ColumnOf(std::string_view parameter) {
  for (const auto& row : QueryParameterColumns())
    if (row.parameter == parameter) return &row;
  return nullptr;
}

namespace {

// "urn:uuid:ABC..." -> "abc...".
std::string BareUuid(const std::string& urn) {
  return AsciiLower(urn.rfind("urn:uuid:", 0) == 0 ? urn.substr(9) : urn);
}

storage::RegistryQueryShape ShapeOf(StoredQueryKind kind) {
  using S = storage::RegistryQueryShape;
  switch (kind) {
    case StoredQueryKind::kFindDocuments:
    case StoredQueryKind::kFindDocumentsByReferenceId:
      return S::kPatientDocuments;
    case StoredQueryKind::kFindSubmissionSets:
      return S::kPatientSubmissionSets;
    case StoredQueryKind::kFindFolders:
      return S::kPatientFolders;
    case StoredQueryKind::kGetAll:
      return S::kPatientAll;
    case StoredQueryKind::kGetDocuments:
      return S::kDocuments;
    case StoredQueryKind::kGetFolders:
      return S::kFolders;
    case StoredQueryKind::kGetAssociations:
      return S::kAssociations;
    case StoredQueryKind::kGetDocumentsAndAssociations:
      return S::kDocumentsAndAssociations;
    case StoredQueryKind::kGetSubmissionSets:
      return S::kSubmissionSetsOf;
    case StoredQueryKind::kGetSubmissionSetAndContents:
      return S::kSubmissionSetAndContents;
    case StoredQueryKind::kGetFolderAndContents:
      return S::kFolderAndContents;
    case StoredQueryKind::kGetFoldersForDocument:
      return S::kFoldersOfDocument;
    case StoredQueryKind::kGetRelatedDocuments:
      return S::kRelatedDocuments;
  }
  return S::kPatientDocuments;
}

}  // namespace

storage::RegistryQuery RegistryQueryOf(const StoredQuery& q, int limit) {
  using storage::RegistryMatch;
  storage::RegistryQuery out;
  out.shape = ShapeOf(q.kind);
  out.limit = limit;
  // The values of an AND/OR parameter's groups as "code^^scheme", a group each.
  auto code_groups = [&](const std::string& name) {
    std::vector<std::vector<std::string>> groups;
    for (const auto& group : q.Codes(name)) {
      std::vector<std::string> codes;
      for (const auto& c : group) codes.push_back(c.code + "^^" + c.scheme);
      groups.push_back(std::move(codes));
    }
    return groups;
  };
  for (const auto& [name, groups] : q.parameters) {
    const QueryParameterColumn* col = ColumnOf(name);
    if (!col || col->kind == "none") continue;
    storage::RegistrySelection* target = col->object == "DocumentEntry"   ? &out.documents
                                         : col->object == "SubmissionSet" ? &out.submission_sets
                                         : col->object == "Folder"        ? &out.folders
                                                                          : nullptr;
    std::vector<std::string> values = q.Values(name);
    auto condition = [&](RegistryMatch match, std::vector<std::vector<std::string>> g) {
      if (target) target->conditions.push_back({col->column, match, std::move(g)});
    };
    const std::string& kind = col->kind;
    if (kind == "patient") {
      const QueryValue* pid = q.Single(name);
      std::tie(out.patient_system, out.patient_value) =
          mapping::PatientIdentifierOfCx(pid ? pid->text : "");
    } else if (kind == "status") {
      // Compared by the status's last part: urn:oasis:...:StatusType:Approved -> Approved.
      for (const auto& v : values) {
        size_t colon = v.rfind(':');
        if (target)
          target->statuses.push_back(colon == std::string::npos ? v : v.substr(colon + 1));
      }
    } else if (kind == "name" && target) {
      // Values that are not UUIDs name nothing.
      std::vector<std::string>* names = col->column == "unique_id"    ? &target->unique_ids
                                        : col->column == "logical_id" ? &target->logical_ids
                                                                      : &target->entry_uuids;
      for (const auto& v : values)
        if (col->column == "unique_id")
          names->push_back(v);
        else if (IsUuid(BareUuid(v)))
          names->push_back(BareUuid(v));
    } else if (kind == "uuid") {
      for (const auto& v : values)
        if (IsUuid(BareUuid(v))) out.uuids.push_back(BareUuid(v));
    } else if (kind == "association_type") {
      out.association_types = values;
    } else if (kind == "code") {
      condition(RegistryMatch::kCode, code_groups(name));
    } else if (kind == "code_list") {
      condition(RegistryMatch::kCodeList, code_groups(name));
    } else if (kind == "code_value") {
      condition(RegistryMatch::kCodeValue, {values});
    } else if (kind == "time_from" || kind == "time_to") {
      const QueryValue* v = q.Single(name);
      std::string instant = v ? mapping::TimestampFromDtm(v->text) : "";
      if (!instant.empty())
        condition(kind == "time_from" ? RegistryMatch::kFrom : RegistryMatch::kBefore, {{instant}});
    } else if ((kind == "any" || kind == "like_any") && !values.empty()) {
      condition(kind == "any" ? RegistryMatch::kAnyOf : RegistryMatch::kLikeAny, {values});
    }
  }
  return out;
}

}  // namespace carnet::xds
