// ITI-18 AdhocQueryRequest parsing: the NIST valid and invalid samples, value syntax,
// multiplicity, AND/OR parameters, per-query required parameters.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "mapping/ebrim_xml.h"
#include "xds/stored_query.h"

namespace carnet::xds {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/tests/data/xds/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StoredQueryParse ParseText(const std::string& xml) {
  auto doc = ParseXml(xml);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  if (!doc.ok()) return {};
  return ParseAdhocQueryRequest((*doc)->document_element());
}

std::string Query(const std::string& id, const std::string& slots, const std::string& rt = "LeafClass") {
  return "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" "
         "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><query:ResponseOption "
         "returnComposedObjects=\"true\" returnType=\"" + rt + "\"/><rim:AdhocQuery id=\"" + id + "\">" +
         slots + "</rim:AdhocQuery></query:AdhocQueryRequest>";
}

std::string Slot(const std::string& name, std::vector<std::string> values) {
  std::string s = "<rim:Slot name=\"" + name + "\"><rim:ValueList>";
  for (const std::string& v : values) s += "<rim:Value>" + v + "</rim:Value>";
  return s + "</rim:ValueList></rim:Slot>";
}

const std::string kFindDocuments = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
const std::string kPid = Slot("$XDSDocumentEntryPatientId", {"'pid^^^&amp;1.2.3&amp;ISO'"});
const std::string kStatus = Slot("$XDSDocumentEntryStatus", {"('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"});

std::vector<std::string> Codes(const StoredQueryParse& p) {
  std::vector<std::string> out;
  for (const RegistryError& e : p.errors) out.push_back(e.error_code);
  return out;
}

TEST(XdsStoredQuery, NistValidSample) {
  for (const char* file : {"sq-req.xml"}) {
    StoredQueryParse p = ParseText(ReadSample(file));
    ASSERT_TRUE(p.query) << (p.errors.empty() ? "" : p.errors[0].code_context);
    EXPECT_TRUE(p.errors.empty());
    EXPECT_EQ(p.query->kind, StoredQueryKind::kFindDocuments);
    EXPECT_EQ(p.query->return_type, ReturnType::kLeafClass);
    ASSERT_TRUE(p.query->Single("$XDSDocumentEntryPatientId"));
    EXPECT_EQ(p.query->Single("$XDSDocumentEntryPatientId")->text,
              "c4d77e21d0dd487^^^&1.3.6.1.4.1.21367.2005.3.7&ISO");
    EXPECT_EQ(p.query->Values("$XDSDocumentEntryStatus"),
              std::vector<std::string>{"urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"});
    auto codes = p.query->Codes("$XDSDocumentEntryClassCode");
    ASSERT_EQ(codes.size(), 1u);
    EXPECT_EQ(codes[0], (std::vector<QueryCode>{{"value", "scheme"}}));
  }
}

TEST(XdsStoredQuery, NistInvalidSamplesGiveTheExpectedErrors) {
  struct Case {
    const char* file;
    std::vector<std::string> codes;
  } cases[] = {
      {"sq-req-bad-code.xml", {"XDSRegistryError"}},          // 'value^^': no coding scheme
      {"sq-req-bad-pid-format.xml", {"XDSRegistryError"}},    // patient id not quoted
      {"sq-req-bad-stat-format1.xml", {"XDSRegistryError"}},  // status neither quoted nor a list
      {"sq-req-bad-stat-format2.xml", {"XDSRegistryError"}},  // list of an unquoted value
      {"sq-req-missing-stat.xml", {"XDSStoredQueryMissingParam"}},
  };
  for (const Case& c : cases) {
    StoredQueryParse p = ParseText(ReadSample(c.file));
    EXPECT_FALSE(p.query) << c.file;
    EXPECT_EQ(Codes(p), c.codes) << c.file;
  }
}

TEST(XdsStoredQuery, UnknownQueryIdAndReturnType) {
  EXPECT_EQ(Codes(ParseText(Query("urn:uuid:00000000-0000-0000-0000-000000000000", kPid + kStatus))),
            std::vector<std::string>{"XDSUnknownStoredQuery"});
  StoredQueryParse p = ParseText(Query(kFindDocuments, kPid + kStatus, "RegistryObject"));
  EXPECT_EQ(Codes(p), std::vector<std::string>{"XDSRegistryError"});
  p = ParseText(Query(kFindDocuments, kPid + kStatus, "ObjectRef"));
  ASSERT_TRUE(p.query);
  EXPECT_EQ(p.query->return_type, ReturnType::kObjectRef);
}

TEST(XdsStoredQuery, AllFourteenQueriesByName) {
  const StoredQueryKind kinds[] = {
      StoredQueryKind::kFindDocuments, StoredQueryKind::kFindDocumentsByReferenceId,
      StoredQueryKind::kFindSubmissionSets, StoredQueryKind::kFindFolders, StoredQueryKind::kGetAll,
      StoredQueryKind::kGetDocuments, StoredQueryKind::kGetFolders, StoredQueryKind::kGetAssociations,
      StoredQueryKind::kGetDocumentsAndAssociations, StoredQueryKind::kGetSubmissionSets,
      StoredQueryKind::kGetSubmissionSetAndContents, StoredQueryKind::kGetFolderAndContents,
      StoredQueryKind::kGetFoldersForDocument, StoredQueryKind::kGetRelatedDocuments};
  std::set<std::string_view> ids;
  for (StoredQueryKind k : kinds) {
    EXPECT_EQ(StoredQueryKindFromId(StoredQueryId(k)), k);
    EXPECT_FALSE(StoredQueryName(k).empty());
    ids.insert(StoredQueryId(k));
  }
  EXPECT_EQ(ids.size(), 14u);
}

TEST(XdsStoredQuery, AndOfOrsForEventCodesAndConfidentiality) {
  StoredQueryParse p = ParseText(Query(
      kFindDocuments,
      kPid + kStatus + Slot("$XDSDocumentEntryEventCodeList", {"('a^^s1','b^^s2')"}) +
          Slot("$XDSDocumentEntryEventCodeList", {"('c^^s3')"}) +
          Slot("$XDSDocumentEntryConfidentialityCode", {"('N^^2.16.840.1.113883.5.25')", "('MASQUE_PS^^1.2.250.1.213.1.1.4.13')"})));
  ASSERT_TRUE(p.query) << p.errors[0].code_context;
  auto events = p.query->Codes("$XDSDocumentEntryEventCodeList");
  ASSERT_EQ(events.size(), 2u);  // (a OR b) AND c
  EXPECT_EQ(events[0], (std::vector<QueryCode>{{"a", "s1"}, {"b", "s2"}}));
  EXPECT_EQ(events[1], (std::vector<QueryCode>{{"c", "s3"}}));
  auto conf = p.query->Codes("$XDSDocumentEntryConfidentialityCode");
  ASSERT_EQ(conf.size(), 1u);  // two Values in one Slot: one OR-list
  EXPECT_EQ(conf[0].size(), 2u);
}

TEST(XdsStoredQuery, ParameterGivenTwiceOrWithTooManyValues) {
  EXPECT_EQ(Codes(ParseText(Query(kFindDocuments, kPid + kPid + kStatus))),
            std::vector<std::string>{"XDSStoredQueryParamNumber"});
  EXPECT_EQ(Codes(ParseText(Query(kFindDocuments, kPid + kStatus + kStatus))),
            std::vector<std::string>{"XDSStoredQueryParamNumber"});
  EXPECT_EQ(Codes(ParseText(Query(kFindDocuments,
                                  Slot("$XDSDocumentEntryPatientId", {"('a^^^&amp;1.2&amp;ISO','b^^^&amp;1.2&amp;ISO')"}) +
                                      kStatus))),
            std::vector<std::string>{"XDSStoredQueryParamNumber"});
  EXPECT_EQ(Codes(ParseText(Query(kFindDocuments,
                                  kPid + kStatus + Slot("$XDSDocumentEntryCreationTimeFrom", {"2004", "2005"})))),
            std::vector<std::string>{"XDSStoredQueryParamNumber"});
}

TEST(XdsStoredQuery, ValueSyntax) {
  std::vector<QueryValue> v;
  ASSERT_TRUE(ParseSlotValue(" ( 'a' , 'it''s' ,12) ", true, &v));
  EXPECT_EQ(v, (std::vector<QueryValue>{{QueryValue::Type::kString, "a"},
                                         {QueryValue::Type::kString, "it's"},
                                         {QueryValue::Type::kNumber, "12"}}));
  v.clear();
  EXPECT_FALSE(ParseSlotValue("('a'", true, &v));
  EXPECT_FALSE(ParseSlotValue("'a'", true, &v));
  EXPECT_FALSE(ParseSlotValue("('a')x", true, &v));
  EXPECT_FALSE(ParseSlotValue("'unterminated", false, &v));
  EXPECT_FALSE(ParseSlotValue("abc", false, &v));
  EXPECT_TRUE(ParseSlotValue("200412252300", false, &v));
  // Times are bare DTM numbers; a list spread over several Value elements is one OR-list.
  StoredQueryParse p = ParseText(Query(
      kFindDocuments, kPid + Slot("$XDSDocumentEntryStatus", {"('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',",
                                                               "'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"}) +
                          Slot("$XDSDocumentEntryCreationTimeFrom", {"200412252300"}) +
                          Slot("$XDSDocumentEntryAuthorPerson", {"('%Smith%')"}) +
                          Slot("$XDSDocumentEntryType", {"('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1')"})));
  // The split list is two malformed halves: each Value must be a whole list.
  EXPECT_EQ(Codes(p), std::vector<std::string>{"XDSRegistryError"});
  p = ParseText(Query(kFindDocuments,
                      kPid + Slot("$XDSDocumentEntryStatus", {"('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
                                                              "('urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated')"}) +
                          Slot("$XDSDocumentEntryCreationTimeFrom", {"200412252300"}) +
                          Slot("$XDSDocumentEntryAuthorPerson", {"('%Smith%')"}) +
                          Slot("$XDSDocumentEntryType", {"('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1')"})));
  ASSERT_TRUE(p.query) << p.errors[0].code_context;
  EXPECT_EQ(p.query->Values("$XDSDocumentEntryStatus").size(), 2u);
  EXPECT_EQ(p.query->Single("$XDSDocumentEntryCreationTimeFrom")->type, QueryValue::Type::kNumber);
  EXPECT_EQ(p.query->Values("$XDSDocumentEntryAuthorPerson"), std::vector<std::string>{"%Smith%"});
  // Bad timestamp, bad entry type.
  EXPECT_EQ(Codes(ParseText(Query(kFindDocuments, kPid + kStatus + Slot("$XDSDocumentEntryCreationTimeFrom", {"20041332"})))),
            std::vector<std::string>{"XDSRegistryError"});
  EXPECT_EQ(Codes(ParseText(Query(kFindDocuments, kPid + kStatus + Slot("$XDSDocumentEntryType", {"('stable')"})))),
            std::vector<std::string>{"XDSRegistryError"});
}

TEST(XdsStoredQuery, UnknownParameterIsAWarning) {
  StoredQueryParse p = ParseText(Query(kFindDocuments, kPid + kStatus + Slot("$Nonsense", {"'x'"})));
  ASSERT_TRUE(p.query);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].severity, RegistryError::Severity::kWarning);
}

TEST(XdsStoredQuery, OneOfParameters) {
  const std::string get_docs = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";
  const std::string uuid_slot =
      Slot("$XDSDocumentEntryEntryUUID", {"('urn:uuid:0a1b2c3d-0000-4000-8000-000000000001')"});
  const std::string uid_slot = Slot("$XDSDocumentEntryUniqueId", {"('1.2.3')"});
  StoredQueryParse p = ParseText(Query(get_docs, uuid_slot, "ObjectRef"));
  ASSERT_TRUE(p.query);
  EXPECT_EQ(p.query->kind, StoredQueryKind::kGetDocuments);
  EXPECT_EQ(Codes(ParseText(Query(get_docs, uuid_slot + uid_slot))),
            std::vector<std::string>{"XDSStoredQueryParamNumber"});
  EXPECT_EQ(Codes(ParseText(Query(get_docs, ""))), std::vector<std::string>{"XDSStoredQueryMissingParam"});
  EXPECT_EQ(Codes(ParseText(Query(get_docs, Slot("$XDSDocumentEntryEntryUUID", {"('Document01')"})))),
            std::vector<std::string>{"XDSRegistryError"});
  // GetRelatedDocuments: single-valued id plus required $AssociationTypes.
  const std::string related = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6";
  EXPECT_EQ(Codes(ParseText(Query(related, Slot("$XDSDocumentEntryUniqueId", {"'1.2.3'"})))),
            std::vector<std::string>{"XDSStoredQueryMissingParam"});
  p = ParseText(Query(related, Slot("$XDSDocumentEntryUniqueId", {"'1.2.3'"}) +
                                   Slot("$AssociationTypes", {"('urn:ihe:iti:2007:AssociationType:RPLC')"})));
  ASSERT_TRUE(p.query);
  // FindFolders code list is AND/OR too; GetAll requires $patientId.
  p = ParseText(Query("urn:uuid:958f3006-baad-4929-a4de-ff1114824431",
                      Slot("$XDSFolderPatientId", {"'p^^^&amp;1.2&amp;ISO'"}) +
                          Slot("$XDSFolderStatus", {"('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"}) +
                          Slot("$XDSFolderCodeList", {"('a^^b')"}) + Slot("$XDSFolderCodeList", {"('c^^d')"})));
  ASSERT_TRUE(p.query);
  EXPECT_EQ(p.query->Codes("$XDSFolderCodeList").size(), 2u);
  EXPECT_EQ(Codes(ParseText(Query("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", kStatus))),
            std::vector<std::string>{"XDSStoredQueryMissingParam"});
}

// The parameter -> column table (xds/data/query_parameters.tsv) is data: a parameter a stored
// query accepts but the table forgets would be silently ignored by the SQL, so each must have
// its row, of a kind the query builder knows, naming the rows it filters and its column.
TEST(XdsStoredQuery, EveryParameterHasItsColumn) {
  const std::set<std::string> kinds = {
      "patient", "status", "name",     "code", "code_list",        "code_value", "time_from",
      "time_to", "any",    "like_any", "uuid", "association_type", "none"};
  const std::set<std::string> objects = {
      "DocumentEntry", "SubmissionSet", "Folder", "Association", "*", "-"};
  ASSERT_FALSE(QueryParameterColumns().empty());
  std::set<std::string> listed;
  for (const auto& row : QueryParameterColumns()) {
    EXPECT_TRUE(listed.insert(row.parameter).second) << row.parameter << " listed twice";
    EXPECT_TRUE(kinds.count(row.kind)) << row.parameter << ": unknown kind " << row.kind;
    EXPECT_TRUE(objects.count(row.object)) << row.parameter << ": unknown object " << row.object;
    if (row.kind != "none") {
      EXPECT_NE(row.column, "-") << row.parameter << " filters no column";
    }
  }
  EXPECT_EQ(StoredQueryKinds().size(), 14u);
  for (StoredQueryKind kind : StoredQueryKinds())
    for (std::string_view name : AcceptedParameters(kind)) {
      const QueryParameterColumn* col = ColumnOf(name);
      EXPECT_NE(col, nullptr) << StoredQueryName(kind) << " accepts " << name
                              << ", which xds/data/query_parameters.tsv does not map";
    }
  // Every row of the compiled-in file is read: a malformed one (not four cells) would be lost.
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/xds/data/query_parameters.tsv");
  std::string line;
  size_t rows = 0;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') ++rows;
  EXPECT_EQ(rows, QueryParameterColumns().size());
}

// The table drives the query: each parameter's values land on its column, converted as its
// kind says (statuses by their last part, UUIDs bare and lower case, DTM as an instant).
TEST(XdsStoredQuery, ParametersFillTheRegistryQuery) {
  StoredQueryParse p =
      ParseText(Query("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",
                      Slot("$XDSDocumentEntryPatientId", {"'p1^^^&amp;1.2.3&amp;ISO'"}) +
                          Slot("$XDSDocumentEntryStatus",
                               {"('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"}) +
                          Slot("$XDSDocumentEntryClassCode", {"('c1^^s1','c2^^s2')"}) +
                          Slot("$XDSDocumentEntryCreationTimeFrom", {"20240102"})));
  ASSERT_TRUE(p.query);
  storage::RegistryQuery q = RegistryQueryOf(*p.query, 11);
  EXPECT_EQ(q.shape, storage::RegistryQueryShape::kPatientDocuments);
  EXPECT_EQ(q.limit, 11);
  EXPECT_EQ(q.patient_system, "urn:oid:1.2.3");
  EXPECT_EQ(q.patient_value, "p1");
  EXPECT_EQ(q.documents.statuses, std::vector<std::string>{"Approved"});
  ASSERT_EQ(q.documents.conditions.size(), 2u);
  bool class_seen = false, time_seen = false;
  for (const auto& c : q.documents.conditions) {
    if (c.column == "class") {
      class_seen = true;
      EXPECT_EQ(c.match, storage::RegistryMatch::kCode);
      EXPECT_EQ(c.groups, (std::vector<std::vector<std::string>>{{"c1^^s1", "c2^^s2"}}));
    }
    if (c.column == "creation_time") {
      time_seen = true;
      EXPECT_EQ(c.match, storage::RegistryMatch::kFrom);
      ASSERT_EQ(c.groups.size(), 1u);
      EXPECT_EQ(c.groups[0].size(), 1u);
    }
  }
  EXPECT_TRUE(class_seen);
  EXPECT_TRUE(time_seen);

  p = ParseText(Query(
      "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4",
      Slot("$XDSDocumentEntryEntryUUID", {"('urn:uuid:0A1B2C3D-0000-4000-8000-000000000001')"})));
  ASSERT_TRUE(p.query);
  q = RegistryQueryOf(*p.query, 2);
  EXPECT_EQ(q.shape, storage::RegistryQueryShape::kDocuments);
  EXPECT_EQ(q.documents.entry_uuids,
            std::vector<std::string>{"0a1b2c3d-0000-4000-8000-000000000001"});
  EXPECT_TRUE(q.documents.conditions.empty());
}

}  // namespace
}  // namespace carnet::xds
