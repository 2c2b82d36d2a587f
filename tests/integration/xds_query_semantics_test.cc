// ITI-18 stored-query semantics as ITI TF-2a 3.18.4.1.2.3.7 words them, against the live
// gateway: submissions with real SOAP bytes (ITI-41 / ITI-42), then stored queries whose answers
// are read object by object and association by association. The deviations a conformance tester
// found (issue 13): GetRelatedDocuments returning the original alone and SubmissionSet
// memberships; a SubmissionSet's HasMember of a Folder membership association never returned;
// GetSubmissionSets returning Folder memberships; GetSubmissionSetAndContents without its
// folders' memberships and keeping associations of filtered-out documents; SubmissionSetStatus
// required where ITI TF-3 4.2.2.1.1 does not require it.
#include <gtest/gtest.h>

#include <fstream>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <tuple>

#include "base/json.h"
#include "base/strings.h"
#include "mapping/xds_metadata.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"
#include "xds/requests.h"

namespace carnet::testing {
namespace {

constexpr const char* kHasMember = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
constexpr const char* kApnd = "urn:ihe:iti:2007:AssociationType:APND";
constexpr const char* kRplc = "urn:ihe:iti:2007:AssociationType:RPLC";
constexpr const char* kGetRelatedDocuments = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6";
constexpr const char* kGetAssociations = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155";
constexpr const char* kGetSubmissionSets = "urn:uuid:51224314-5390-4169-9b91-b1980040715a";
constexpr const char* kGetSubmissionSetAndContents =
    "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83";
constexpr const char* kGetFolderAndContents = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7";

// An association as the answer gives it: (type, source, target).
using Link = std::tuple<std::string, std::string, std::string>;

// What an AdhocQueryResponse holds, by id.
struct Answer {
  std::string status;
  std::set<std::string> documents, sets, folders, association_ids;
  std::set<Link> links;
  std::string body;
};

bool LocalNameIs(pugi::xml_node n, const char* local) {
  std::string name = n.name();
  size_t colon = name.find(':');
  return (colon == std::string::npos ? name : name.substr(colon + 1)) == local;
}

Answer ReadAnswer(const std::string& body) {
  Answer a;
  a.body = body;
  pugi::xml_document doc;
  if (!doc.load_string(body.c_str())) return a;
  struct Walker : pugi::xml_tree_walker {
    Answer* a;
    bool for_each(pugi::xml_node& n) override {
      if (LocalNameIs(n, "AdhocQueryResponse")) a->status = n.attribute("status").value();
      if (LocalNameIs(n, "ExtrinsicObject")) a->documents.insert(n.attribute("id").value());
      if (LocalNameIs(n, "RegistryPackage")) {
        // SubmissionSet or Folder, by the classification node it carries.
        bool folder = false;
        for (pugi::xml_node c : n.children())
          if (LocalNameIs(c, "Classification") &&
              std::string(c.attribute("classificationNode").value()) == xds::uuids::kFolderNode)
            folder = true;
        (folder ? a->folders : a->sets).insert(n.attribute("id").value());
      }
      if (LocalNameIs(n, "Association")) {
        a->association_ids.insert(n.attribute("id").value());
        a->links.insert({n.attribute("associationType").value(),
                         n.attribute("sourceObject").value(), n.attribute("targetObject").value()});
      }
      return true;
    }
  } walker;
  walker.a = &a;
  doc.traverse(walker);
  return a;
}

std::string Envelope(const std::string& action, const std::string& body) {
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action>" +
         action + "</a:Action><a:MessageID>urn:uuid:" + NewUuid() +
         "</a:MessageID></s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
}

// An ITI-18 request; each slot value is written as given (quoted string or list).
std::string Query(const std::string& id,
                  const std::vector<std::pair<std::string, std::string>>& slots) {
  std::string body =
      "<query:AdhocQueryRequest xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" "
      "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><query:ResponseOption "
      "returnComposedObjects=\"true\" returnType=\"LeafClass\"/><rim:AdhocQuery id=\"" +
      id + "\">";
  for (const auto& [name, value] : slots)
    body += "<rim:Slot name=\"" + name + "\"><rim:ValueList><rim:Value>" + value +
            "</rim:Value></rim:ValueList></rim:Slot>";
  return Envelope("urn:ihe:iti:2007:RegistryStoredQuery",
                  body + "</rim:AdhocQuery></query:AdhocQueryRequest>");
}

std::string Uid() {
  return "1.2.250.1.999.31." + std::to_string(std::stoll(RandomHex(6), nullptr, 16));
}

xds::Association Assoc(const std::string& type, const std::string& source,
                       const std::string& target, const std::string& status = "") {
  xds::Association a;
  a.id = "urn:uuid:" + NewUuid();
  a.type_uri = type;
  a.type = xds::AssociationTypeFromUri(type);
  a.source = source;
  a.target = target;
  a.submission_set_status = status;
  return a;
}

// A submission that makes a Folder and puts two documents in it (d1: format xphr,
// confidentiality N; d2: format PDF, confidentiality R): SubmissionSet -> DocumentEntry,
// SubmissionSet -> Folder, Folder -> DocumentEntry and SubmissionSet -> (Folder ->
// DocumentEntry) HasMembers; `status` is the SubmissionSetStatus of the last two kinds.
struct FolderSubmission {
  xds::RegistryObjectList m;
  std::string d1, d2, ss, f, ss_d1, ss_d2, ss_f, f_d1, f_d2, ss_fd1, ss_fd2;
};

class XdsQuerySemanticsTest : public SharedGatewayTest {
 protected:
  std::string Url(const std::string& path) { return gateway_->base_url() + path; }

  // A fresh record (identifier urn:oid:1.1|<random>); its CX.
  std::string NewPatient() {
    std::string value = "sq" + RandomHex(8);
    auto r = client_.Request(
        "POST", Url("/fhir/Patient"), {"Content-Type: application/fhir+json"},
        R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.1","value":")" + value +
            R"("}]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return value + "^^^&1.1&ISO";
  }

  // The first object of one kind in pnr.xml for `patient`, with a fresh uniqueId and fresh ids
  // throughout (entryUUID, classifications, external identifiers).
  template <typename T>
  static T FromSample(std::vector<T> xds::RegistryObjectList::*kind, const std::string& patient) {
    xds::RegistryObjectList one;
    (one.*kind).push_back((Sample().*kind)[0]);
    xds::AssignUuidsToSymbolicIds(&one);
    T object = (one.*kind)[0];
    object.unique_id = Uid();
    object.patient_id = patient;
    return object;
  }
  // The sample DocumentEntry with the format and confidentiality codes given.
  xds::DocumentEntry Entry(const std::string& patient, const std::string& format,
                           const std::string& confidentiality) {
    xds::DocumentEntry e = FromSample(&xds::RegistryObjectList::documents, patient);
    e.hash.clear();
    e.size.clear();
    e.format_code = {format, "1.3.6.1.4.1.19376.1.2.3", format, ""};
    e.confidentiality_codes = {{confidentiality, "2.16.840.1.113883.5.25", confidentiality, ""}};
    return e;
  }
  xds::SubmissionSet Set(const std::string& patient) {
    return FromSample(&xds::RegistryObjectList::submission_sets, patient);
  }
  xds::Folder NewFolder(const std::string& patient) {
    xds::Folder f;
    f.id = "urn:uuid:" + NewUuid();
    f.unique_id = Uid();
    f.patient_id = patient;
    f.title = "Suivi";
    f.codes.push_back({"SUIVI", "1.2.250.1.213.1.1.4.99", "Suivi", "urn:uuid:" + NewUuid()});
    return f;
  }

  // ITI-41 of `m` with one small text content per document; the RegistryResponse.
  std::string Provide(const xds::RegistryObjectList& m) {
    std::string body =
        R"(<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">)" +
        xds::WriteSubmitObjectsRequest(m);
    for (const auto& d : m.documents)
      body += "<xdsb:Document id=\"" + d.id + "\">" + Base64Encode("content of " + d.unique_id) +
              "</xdsb:Document>";
    body += "</xdsb:ProvideAndRegisterDocumentSetRequest>";
    auto r = client_.Request("POST", Url("/xds/repository"), {kSoap},
                             Envelope("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b", body));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  // ITI-42 of `m` (no documents); the RegistryResponse.
  std::string Register(const xds::RegistryObjectList& m) {
    auto r = client_.Request(
        "POST", Url("/xds/registry"), {kSoap},
        Envelope("urn:ihe:iti:2007:RegisterDocumentSet-b", xds::WriteSubmitObjectsRequest(m)));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  // ITI-62 of the objects and associations named; the RegistryResponse.
  std::string Remove(const std::vector<std::string>& ids) {
    std::string body =
        "<lcm:RemoveObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\" "
        "xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\"><rim:ObjectRefList>";
    for (const auto& id : ids) body += "<rim:ObjectRef id=\"" + id + "\"/>";
    body += "</rim:ObjectRefList></lcm:RemoveObjectsRequest>";
    auto r = client_.Request("POST", Url("/xds/registry"), {kSoap},
                             Envelope("urn:ihe:iti:2010:DeleteDocumentSet", body));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }
  // `headers` beside the SOAP content type: another caller's Authorization, say.
  Answer Ask(const std::string& id, const std::vector<std::pair<std::string, std::string>>& slots,
             std::vector<std::string> headers = {}) {
    headers.push_back(kSoap);
    auto r = client_.Request("POST", Url("/xds/registry"), headers, Query(id, slots));
    EXPECT_EQ(r.status, 200) << r.body;
    return ReadAnswer(r.body);
  }

  FolderSubmission FolderWithTwoDocuments(const std::string& patient, const std::string& status);

  static const xds::RegistryObjectList& Sample() {
    static const xds::RegistryObjectList sample = [] {
      std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/../shared/testdata/xds/messages/pnr.xml");
      std::stringstream ss;
      ss << in.rdbuf();
      pugi::xml_document doc;
      doc.load_string(ss.str().c_str());
      auto sub = xds::ReadSubmissionElement(doc.document_element(), nullptr);
      EXPECT_TRUE(sub.ok()) << sub.status().ToString();
      return sub.ok() ? sub->metadata : xds::RegistryObjectList{};
    }();
    return sample;
  }

  HttpClient client_;
};

constexpr const char* kSuccess = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";

bool Succeeded(const std::string& body) {
  return body.find("ResponseStatusType:Success") != std::string::npos &&
         body.find("RegistryError ") == std::string::npos;
}

// ITI TF-2a 3.18.4.1.2.3.7.13: GetRelatedDocuments returns the DocumentEntries related to the
// given one by the association types asked for, with those associations; with no related
// document it returns nothing at all, not the original alone. The associations are between
// DocumentEntries: a SubmissionSet's or a Folder's HasMember is no relation between documents.
TEST_F(XdsQuerySemanticsTest, GetRelatedDocumentsReturnsOnlyRelatedDocuments) {
  std::string patient = NewPatient();
  xds::RegistryObjectList first;
  first.documents.push_back(Entry(patient, "urn:ihe:iti:xds:2017:mimeTypeSufficient", "N"));
  first.submission_sets.push_back(Set(patient));
  first.folders.push_back(NewFolder(patient));
  const std::string d1 = first.documents[0].id, ss1 = first.submission_sets[0].id,
                    f1 = first.folders[0].id;
  first.associations.push_back(Assoc(kHasMember, ss1, d1, "Original"));
  first.associations.push_back(Assoc(kHasMember, ss1, f1, "Original"));
  first.associations.push_back(Assoc(kHasMember, f1, d1));
  first.associations.push_back(Assoc(kHasMember, ss1, first.associations.back().id, "Original"));
  std::string sent = Provide(first);
  ASSERT_TRUE(Succeeded(sent)) << sent;

  const std::string every_type =
      std::string("('") + kRplc + "','" + kApnd + "','urn:ihe:iti:2007:AssociationType:XFRM','" +
      "urn:ihe:iti:2007:AssociationType:XFRM_RPLC','urn:ihe:iti:2007:AssociationType:signs','" +
      kHasMember + "')";
  // Nothing is related to d1 yet: an empty list, Success.
  Answer none = Ask(kGetRelatedDocuments, {{"$XDSDocumentEntryEntryUUID", "'" + d1 + "'"},
                                           {"$AssociationTypes", every_type}});
  EXPECT_EQ(none.status, kSuccess) << none.body;
  EXPECT_TRUE(none.documents.empty())
      << "the original alone is not a related document: " << none.body;
  EXPECT_TRUE(none.sets.empty() && none.folders.empty() && none.links.empty()) << none.body;

  // d2 appends to d1 (ITI-42 of d2's metadata is enough for the registry).
  xds::RegistryObjectList second;
  second.documents.push_back(Entry(patient, "urn:ihe:iti:xds:2017:mimeTypeSufficient", "N"));
  second.submission_sets.push_back(Set(patient));
  const std::string d2 = second.documents[0].id, ss2 = second.submission_sets[0].id;
  second.associations.push_back(Assoc(kHasMember, ss2, d2, "Original"));
  second.associations.push_back(Assoc(kApnd, d2, d1));
  const std::string apnd = second.associations.back().id;
  sent = Provide(second);
  ASSERT_TRUE(Succeeded(sent)) << sent;

  for (const std::string& asked : {d1, d2}) {
    Answer related = Ask(kGetRelatedDocuments, {{"$XDSDocumentEntryEntryUUID", "'" + asked + "'"},
                                                {"$AssociationTypes", every_type}});
    EXPECT_EQ(related.status, kSuccess) << related.body;
    EXPECT_EQ(related.documents, (std::set<std::string>{d1, d2})) << related.body;
    EXPECT_EQ(related.association_ids, std::set<std::string>{apnd})
        << "only the APND between the two documents, no HasMember: " << related.body;
    EXPECT_TRUE(related.sets.empty() && related.folders.empty()) << related.body;
  }
  // Asked for another type only (RPLC): nothing, again not the original alone.
  Answer other = Ask(kGetRelatedDocuments,
                     {{"$XDSDocumentEntryUniqueId", "'" + first.documents[0].unique_id + "'"},
                      {"$AssociationTypes", std::string("('") + kRplc + "')"}});
  EXPECT_EQ(other.status, kSuccess) << other.body;
  EXPECT_TRUE(other.documents.empty() && other.links.empty()) << other.body;
}

FolderSubmission XdsQuerySemanticsTest::FolderWithTwoDocuments(const std::string& patient,
                                                               const std::string& status) {
  FolderSubmission s;
  s.m.documents.push_back(Entry(patient, "urn:ihe:pcc:xphr:2007", "N"));
  s.m.documents.push_back(Entry(patient, "urn:ihe:rad:PDF", "R"));
  s.m.submission_sets.push_back(Set(patient));
  s.m.folders.push_back(NewFolder(patient));
  s.d1 = s.m.documents[0].id;
  s.d2 = s.m.documents[1].id;
  s.ss = s.m.submission_sets[0].id;
  s.f = s.m.folders[0].id;
  s.m.associations = {Assoc(kHasMember, s.ss, s.d1, "Original"),
                      Assoc(kHasMember, s.ss, s.d2, "Original"),
                      Assoc(kHasMember, s.ss, s.f, status), Assoc(kHasMember, s.f, s.d1),
                      Assoc(kHasMember, s.f, s.d2)};
  s.m.associations.push_back(Assoc(kHasMember, s.ss, s.m.associations[3].id, status));
  s.m.associations.push_back(Assoc(kHasMember, s.ss, s.m.associations[4].id, status));
  s.ss_d1 = s.m.associations[0].id;
  s.ss_d2 = s.m.associations[1].id;
  s.ss_f = s.m.associations[2].id;
  s.f_d1 = s.m.associations[3].id;
  s.f_d2 = s.m.associations[4].id;
  s.ss_fd1 = s.m.associations[5].id;
  s.ss_fd2 = s.m.associations[6].id;
  return s;
}

// ITI TF-3 4.2.2.1.1: SubmissionSetStatus is required on a SubmissionSet -> DocumentEntry
// HasMember only; SubmissionSet -> Folder and SubmissionSet -> association may leave it out.
TEST_F(XdsQuerySemanticsTest, SubmissionSetStatusOnlyRequiredOnDocumentMembers) {
  std::string patient = NewPatient();
  FolderSubmission s = FolderWithTwoDocuments(patient, "");
  // SubmissionSet -> DocumentEntry without SubmissionSetStatus is still refused.
  xds::RegistryObjectList bare = s.m;
  bare.associations[0].submission_set_status.clear();
  std::string refused = Provide(bare);
  EXPECT_NE(refused.find("XDSRegistryMetadataError"), std::string::npos) << refused;
  EXPECT_NE(refused.find("needs Slot SubmissionSetStatus"), std::string::npos) << refused;
  std::string sent = Provide(s.m);
  ASSERT_TRUE(Succeeded(sent)) << "SubmissionSetStatus is not required on SS -> Folder nor on SS "
                                  "-> association: "
                               << sent;
  Answer contents =
      Ask(kGetSubmissionSetAndContents, {{"$XDSSubmissionSetEntryUUID", "'" + s.ss + "'"}});
  EXPECT_EQ(contents.association_ids,
            (std::set<std::string>{s.ss_d1, s.ss_d2, s.ss_f, s.f_d1, s.f_d2, s.ss_fd1, s.ss_fd2}))
      << contents.body;
}

// The queries that return associations, over a folder submission (ITI TF-2a 3.18.4.1.2.3.7.7,
// .10, .11, .12).
TEST_F(XdsQuerySemanticsTest, FolderMembershipsAndTheirSubmissionSet) {
  std::string patient = NewPatient();
  FolderSubmission s = FolderWithTwoDocuments(patient, "Original");
  const std::string &d1 = s.d1, &d2 = s.d2, &ss = s.ss, &f = s.f, &ss_d1 = s.ss_d1,
                    &ss_d2 = s.ss_d2, &ss_f = s.ss_f, &f_d1 = s.f_d1, &f_d2 = s.f_d2,
                    &ss_fd1 = s.ss_fd1, &ss_fd2 = s.ss_fd2;
  std::string sent = Provide(s.m);
  ASSERT_TRUE(Succeeded(sent)) << sent;

  const std::set<Link> all_links = {
      {kHasMember, ss, d1}, {kHasMember, ss, d2},   {kHasMember, ss, f},   {kHasMember, f, d1},
      {kHasMember, f, d2},  {kHasMember, ss, f_d1}, {kHasMember, ss, f_d2}};
  const std::string ss_uuid = "'" + ss + "'";

  // GetSubmissionSetAndContents: the set, its documents and folder, and every association of
  // the submission, the folder's memberships and the set's HasMembers of them included.
  Answer contents = Ask(kGetSubmissionSetAndContents, {{"$XDSSubmissionSetEntryUUID", ss_uuid}});
  EXPECT_EQ(contents.status, kSuccess) << contents.body;
  EXPECT_EQ(contents.sets, std::set<std::string>{ss});
  EXPECT_EQ(contents.documents, (std::set<std::string>{d1, d2}));
  EXPECT_EQ(contents.folders, std::set<std::string>{f});
  EXPECT_EQ(contents.links, all_links) << contents.body;
  EXPECT_EQ(contents.association_ids,
            (std::set<std::string>{ss_d1, ss_d2, ss_f, f_d1, f_d2, ss_fd1, ss_fd2}));

  // With a formatCode filter, d2 goes and so does every association that touches it.
  const std::set<Link> d1_links = {
      {kHasMember, ss, d1}, {kHasMember, ss, f}, {kHasMember, f, d1}, {kHasMember, ss, f_d1}};
  Answer by_format =
      Ask(kGetSubmissionSetAndContents,
          {{"$XDSSubmissionSetEntryUUID", ss_uuid},
           {"$XDSDocumentEntryFormatCode", "('urn:ihe:pcc:xphr:2007^^1.3.6.1.4.1.19376.1.2.3')"}});
  EXPECT_EQ(by_format.status, kSuccess) << by_format.body;
  EXPECT_EQ(by_format.documents, std::set<std::string>{d1}) << by_format.body;
  EXPECT_EQ(by_format.folders, std::set<std::string>{f});
  EXPECT_EQ(by_format.links, d1_links) << by_format.body;
  // With a confidentialityCode filter, d1 goes.
  Answer by_confidentiality =
      Ask(kGetSubmissionSetAndContents,
          {{"$XDSSubmissionSetEntryUUID", ss_uuid},
           {"$XDSDocumentEntryConfidentialityCode", "('R^^2.16.840.1.113883.5.25')"}});
  EXPECT_EQ(by_confidentiality.documents, std::set<std::string>{d2}) << by_confidentiality.body;
  EXPECT_EQ(
      by_confidentiality.links,
      (std::set<Link>{
          {kHasMember, ss, d2}, {kHasMember, ss, f}, {kHasMember, f, d2}, {kHasMember, ss, f_d2}}))
      << by_confidentiality.body;

  // GetFolderAndContents with the same filters: the folder's membership of the filtered-out
  // document goes with it.
  Answer folder =
      Ask(kGetFolderAndContents,
          {{"$XDSFolderEntryUUID", "'" + f + "'"},
           {"$XDSDocumentEntryFormatCode", "('urn:ihe:pcc:xphr:2007^^1.3.6.1.4.1.19376.1.2.3')"}});
  EXPECT_EQ(folder.status, kSuccess) << folder.body;
  EXPECT_EQ(folder.folders, std::set<std::string>{f});
  EXPECT_EQ(folder.documents, std::set<std::string>{d1}) << folder.body;
  EXPECT_EQ(folder.links, (std::set<Link>{{kHasMember, f, d1}})) << folder.body;
  Answer folder_conf =
      Ask(kGetFolderAndContents,
          {{"$XDSFolderEntryUUID", "'" + f + "'"},
           {"$XDSDocumentEntryConfidentialityCode", "('R^^2.16.840.1.113883.5.25')"}});
  EXPECT_EQ(folder_conf.documents, std::set<std::string>{d2}) << folder_conf.body;
  EXPECT_EQ(folder_conf.links, (std::set<Link>{{kHasMember, f, d2}})) << folder_conf.body;

  // GetAll: every association of the record, the set's HasMembers of memberships included.
  std::string cx = patient;
  for (size_t at = cx.find('&'); at != std::string::npos; at = cx.find('&', at + 1))
    cx.replace(at, 1, "&amp;");
  const std::string approved = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
  Answer all =
      Ask("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", {{"$patientId", "'" + cx + "'"},
                                                            {"$XDSDocumentEntryStatus", approved},
                                                            {"$XDSSubmissionSetStatus", approved},
                                                            {"$XDSFolderStatus", approved}});
  EXPECT_EQ(all.status, kSuccess) << all.body;
  EXPECT_EQ(all.links, all_links) << all.body;

  // GetAssociations of the set: all its HasMembers, those of the folder memberships included;
  // of a folder membership: the set's HasMember of it.
  Answer of_set = Ask(kGetAssociations, {{"$uuid", "('" + ss + "')"}});
  EXPECT_EQ(of_set.association_ids, (std::set<std::string>{ss_d1, ss_d2, ss_f, ss_fd1, ss_fd2}))
      << of_set.body;
  Answer of_membership = Ask(kGetAssociations, {{"$uuid", "('" + f_d1 + "')"}});
  EXPECT_EQ(of_membership.links, (std::set<Link>{{kHasMember, ss, f_d1}})) << of_membership.body;

  // GetSubmissionSets: the sets holding the objects, and their HasMembers only (a Folder's
  // membership of d1 is no submission set's).
  Answer sets_of_doc = Ask(kGetSubmissionSets, {{"$uuid", "('" + d1 + "')"}});
  EXPECT_EQ(sets_of_doc.sets, std::set<std::string>{ss}) << sets_of_doc.body;
  EXPECT_EQ(sets_of_doc.links, (std::set<Link>{{kHasMember, ss, d1}})) << sets_of_doc.body;
  Answer sets_of_membership = Ask(kGetSubmissionSets, {{"$uuid", "('" + f_d2 + "')"}});
  EXPECT_EQ(sets_of_membership.sets, std::set<std::string>{ss}) << sets_of_membership.body;
  EXPECT_EQ(sets_of_membership.links, (std::set<Link>{{kHasMember, ss, f_d2}}))
      << sets_of_membership.body;

  // A later submission (ITI-42) adds an existing document to the existing folder: the new
  // set's HasMember of that membership is returned by its queries.
  xds::RegistryObjectList later;
  later.documents.push_back(Entry(patient, "urn:ihe:rad:PDF", "N"));
  later.submission_sets.push_back(Set(patient));
  const std::string d3 = later.documents[0].id, ss3 = later.submission_sets[0].id;
  later.associations.push_back(Assoc(kHasMember, ss3, d3, "Original"));
  sent = Provide(later);
  ASSERT_TRUE(Succeeded(sent)) << sent;
  xds::RegistryObjectList add;
  add.submission_sets.push_back(Set(patient));
  const std::string ss4 = add.submission_sets[0].id;
  add.associations.push_back(Assoc(kHasMember, f, d3));
  const std::string f_d3 = add.associations[0].id;
  add.associations.push_back(Assoc(kHasMember, ss4, f_d3));
  const std::string ss4_fd3 = add.associations[1].id;
  sent = Register(add);
  ASSERT_TRUE(Succeeded(sent)) << sent;
  Answer added =
      Ask(kGetSubmissionSetAndContents, {{"$XDSSubmissionSetEntryUUID", "'" + ss4 + "'"}});
  EXPECT_EQ(added.sets, std::set<std::string>{ss4}) << added.body;
  EXPECT_EQ(added.links, (std::set<Link>{{kHasMember, ss4, f_d3}, {kHasMember, f, d3}}))
      << added.body;
  Answer sets_of_added = Ask(kGetSubmissionSets, {{"$uuid", "('" + f_d3 + "')"}});
  EXPECT_EQ(sets_of_added.sets, std::set<std::string>{ss4}) << sets_of_added.body;
  EXPECT_EQ(sets_of_added.association_ids, std::set<std::string>{ss4_fd3}) << sets_of_added.body;
  // The first set's contents are unchanged: d3 joined the folder in another submission.
  Answer again = Ask(kGetSubmissionSetAndContents, {{"$XDSSubmissionSetEntryUUID", ss_uuid}});
  EXPECT_EQ(again.links, all_links) << again.body;

  // ITI-62: the folder membership cannot go while the set's HasMember of it stays
  // (ReferencesExistException); with the set and that HasMember it goes, and d3 leaves the
  // folder.
  std::string refused = Remove({f_d3});
  EXPECT_NE(refused.find("ReferencesExistException"), std::string::npos) << refused;
  EXPECT_EQ(Ask(kGetAssociations, {{"$uuid", "('" + f_d3 + "')"}}).association_ids,
            std::set<std::string>{ss4_fd3});
  std::string removed = Remove({ss4, ss4_fd3, f_d3});
  EXPECT_TRUE(Succeeded(removed)) << removed;
  EXPECT_TRUE(Ask(kGetAssociations, {{"$uuid", "('" + f_d3 + "')"}}).links.empty());
  Answer folder_after = Ask(kGetFolderAndContents, {{"$XDSFolderEntryUUID", "'" + f + "'"}});
  EXPECT_EQ(folder_after.documents, (std::set<std::string>{d1, d2})) << folder_after.body;
}

// What a caller may not see is filtered in the stored query's SQL (issue 14), with the
// semantics the per-object decisions had: an object one may not see is not returned, nor any
// association with an end one may not see, nor a SubmissionSet's HasMember of a membership that
// reaches it. A doctor asserting the patient's consent reads both documents' type (lab reports)
// but not d2, masked from professionals (MASQUE_PS as a confidentialityCode).
TEST_F(XdsQuerySemanticsTest, AssociationsToWhatTheCallerMayNotSeeAreNotReturned) {
  std::string patient = NewPatient();
  FolderSubmission s = FolderWithTwoDocuments(patient, "Original");
  for (auto& d : s.m.documents)
    d.type_code = {"11502-2", "2.16.840.1.113883.6.1", "CR d'examens biologiques", ""};
  s.m.documents[1].confidentiality_codes.push_back(
      {"MASQUE_PS", "1.2.250.1.213.1.1.4.13", "Masque aux professionnels de sante", ""});
  std::string sent = Provide(s.m);
  ASSERT_TRUE(Succeeded(sent)) << sent;
  std::vector<std::string> doctor = {
      "Authorization: Bearer " + Token({"--actor", "professional", "--id", "810000000031",
                                        "--profession", "10", "--org", "org-a"}),
      "X-Patient-Consent: true"};

  Answer contents = Ask(kGetSubmissionSetAndContents,
                        {{"$XDSSubmissionSetEntryUUID", "'" + s.ss + "'"}}, doctor);
  EXPECT_EQ(contents.status, kSuccess) << contents.body;
  EXPECT_EQ(contents.sets, (std::set<std::string>{s.ss})) << contents.body;
  EXPECT_EQ(contents.folders, (std::set<std::string>{s.f})) << contents.body;
  EXPECT_EQ(contents.documents, (std::set<std::string>{s.d1})) << contents.body;
  EXPECT_EQ(contents.association_ids, (std::set<std::string>{s.ss_d1, s.ss_f, s.f_d1, s.ss_fd1}))
      << contents.body;

  Answer folder =
      Ask(kGetFolderAndContents, {{"$XDSFolderEntryUUID", "'" + s.f + "'"}}, doctor);
  EXPECT_EQ(folder.documents, (std::set<std::string>{s.d1})) << folder.body;
  EXPECT_EQ(folder.association_ids, (std::set<std::string>{s.f_d1})) << folder.body;

  Answer of_hidden = Ask(kGetAssociations, {{"$uuid", "('" + s.d2 + "')"}}, doctor);
  EXPECT_EQ(of_hidden.status, kSuccess) << of_hidden.body;
  EXPECT_TRUE(of_hidden.association_ids.empty()) << of_hidden.body;
  Answer of_set = Ask(kGetAssociations, {{"$uuid", "('" + s.ss + "')"}}, doctor);
  EXPECT_EQ(of_set.association_ids, (std::set<std::string>{s.ss_d1, s.ss_f, s.ss_fd1}))
      << of_set.body;

  // The depositor sees it all.
  Answer all = Ask(kGetSubmissionSetAndContents, {{"$XDSSubmissionSetEntryUUID", "'" + s.ss + "'"}});
  EXPECT_EQ(all.documents, (std::set<std::string>{s.d1, s.d2})) << all.body;
  EXPECT_EQ(all.association_ids.size(), 7u) << all.body;
}

}  // namespace
}  // namespace carnet::testing
