// The NIST XDS.b test kit (../shared/testdata/xds/testkit/, the test plans of the NIST XDS
// Toolkit, "xdstest") run against the live gateway: each test's sections in index.idx order,
// each TestStep's transaction sent as SOAP, its ExpectedStatus, expected error codes and
// ExpectedContents checked.
//
// What the harness does that xdstest does (and the plans rely on):
//   - the patient identity feed: the test patients are created through FHIR beforehand;
//     UseReport test="15817" ($patientid$) is that patient, "15817b" another one, and
//     <AltPatientId/> a patient the registry does not know;
//   - metadata written in ebRIM 2.1 (most submissions) is translated to 3.0 (Rim21To30);
//   - unless <NoPatientId/>, every patientId ExternalIdentifier is set to the test patient;
//   - unless <NoAssignUids/> (for all, or for one object id), uniqueIds get fresh OIDs,
//     recorded as the step's AssignedUids (and as reports "<id>_uid");
//   - <AssignUuids/> gives every object a urn:uuid id, recorded as AssignedUuids;
//   - UseId / UseReport substitute values from earlier steps; Report evaluates an XPath over
//     the submitted metadata (InputMetadata) or the answer (Result).
// The step outcomes are printed; a failed expectation fails the test with its location.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "tests/integration/harness.h"
#include "tests/integration/xds_messages.h"

namespace carnet::testing {
namespace {

namespace fs = std::filesystem;

const char* kRim30 = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
const char* kLcm30 = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
// identificationScheme of the uniqueId and patientId ExternalIdentifiers.
const std::set<std::string> kUniqueIdSchemes = {"urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
                                                "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
                                                "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"};
const std::set<std::string> kPatientIdSchemes = {"urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
                                                 "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
                                                 "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"};
const char* kSubmissionSetNode = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
const char* kFolderNode = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

std::string Local(const char* name) {
  std::string n = name;
  auto colon = n.find(':');
  return colon == std::string::npos ? n : n.substr(colon + 1);
}

std::string NewOid() {
  static int n = 0;
  return "1.2.250.1.999.42." + std::to_string(std::stoll(RandomHex(5), nullptr, 16)) + "." + std::to_string(++n);
}

// ebRIM 2.1 -> 3.0: the namespaces, LeafRegistryObjectList -> RegistryObjectList, the short
// association types -> their URNs, and the ids and references 3.0 requires (Classification
// and ExternalIdentifier ids, registryObject, Association ids).
void CopyAs30(pugi::xml_node from, pugi::xml_node to_parent, const std::string& parent_id, int& counter) {
  std::string local = Local(from.name());
  if (local == "LeafRegistryObjectList") local = "RegistryObjectList";
  pugi::xml_node to = to_parent.append_child(("rim:" + local).c_str());
  for (pugi::xml_attribute a : from.attributes()) {
    std::string name = a.name();
    if (name.rfind("xmlns", 0) == 0) continue;
    std::string value = a.value();
    if (local == "Association" && name == "associationType" && value.find(':') == std::string::npos)
      value = value == "HasMember" ? "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
                                   : "urn:ihe:iti:2007:AssociationType:" + value;
    to.append_attribute(name.c_str()) = value.c_str();
  }
  if ((local == "Classification" || local == "ExternalIdentifier" || local == "Association") && !to.attribute("id"))
    to.append_attribute("id") = (local + "_" + std::to_string(++counter)).c_str();
  if (local == "ExternalIdentifier" && !to.attribute("registryObject"))
    to.append_attribute("registryObject") = parent_id.c_str();
  if (local == "Classification" && !to.attribute("classifiedObject"))
    to.append_attribute("classifiedObject") = parent_id.c_str();
  std::string id = to.attribute("id") ? to.attribute("id").value() : parent_id;
  // 3.0 orders the children of a RegistryObject: Slot, Name, Description, VersionInfo,
  // Classification, ExternalIdentifier (2.1 put the Slots after Name and Description).
  static const std::vector<std::string> kOrder = {"Slot", "Name", "Description", "VersionInfo", "Classification",
                                                  "ExternalIdentifier"};
  auto rank = [](const std::string& n) {
    for (size_t i = 0; i < kOrder.size(); ++i)
      if (kOrder[i] == n) return static_cast<int>(i);
    return static_cast<int>(kOrder.size());
  };
  std::vector<pugi::xml_node> children;
  for (pugi::xml_node child : from.children()) {
    if (child.type() == pugi::node_pcdata) to.append_child(pugi::node_pcdata).set_value(child.value());
    if (child.type() == pugi::node_element) children.push_back(child);
  }
  if (local != "RegistryObjectList")
    std::stable_sort(children.begin(), children.end(), [&](pugi::xml_node a, pugi::xml_node b) {
      return rank(Local(a.name())) < rank(Local(b.name()));
    });
  for (pugi::xml_node child : children) CopyAs30(child, to, id, counter);
}

// 2.1 had no SubmissionSetStatus: a HasMember from the SubmissionSet is an "Original" member.
void AddSubmissionSetStatus(pugi::xml_document& doc) {
  std::set<std::string> sets;
  for (auto x : doc.select_nodes("//*[local-name()='Classification']"))
    if (std::string(x.node().attribute("classificationNode").value()) == kSubmissionSetNode)
      sets.insert(x.node().attribute("classifiedObject").value());
  for (auto x : doc.select_nodes("//*[local-name()='Association']")) {
    pugi::xml_node a = x.node();
    if (std::string(a.attribute("associationType").value()).find("HasMember") == std::string::npos) continue;
    if (!sets.count(a.attribute("sourceObject").value())) continue;
    bool has = false;
    for (pugi::xml_node slot : a.children())
      if (Local(slot.name()) == "Slot" && std::string(slot.attribute("name").value()) == "SubmissionSetStatus") has = true;
    if (has) continue;
    pugi::xml_node slot = a.prepend_child("rim:Slot");
    slot.append_attribute("name") = "SubmissionSetStatus";
    slot.append_child("rim:ValueList").append_child("rim:Value").text() = "Original";
  }
}

// The metadata as ebRIM 3.0 (unchanged when it already is).
void To30(pugi::xml_document& doc) {
  pugi::xml_node root = doc.document_element();
  std::string ns;
  for (pugi::xml_attribute a : root.attributes())
    if (std::string(a.name()).rfind("xmlns", 0) == 0) ns += a.value();
  if (ns.find("2.1") == std::string::npos) return;
  pugi::xml_document out;
  pugi::xml_node sor = out.append_child("lcm:SubmitObjectsRequest");
  sor.append_attribute("xmlns:lcm") = kLcm30;
  sor.append_attribute("xmlns:rim") = kRim30;
  int counter = 0;
  for (pugi::xml_node child : root.children())
    if (child.type() == pugi::node_element) CopyAs30(child, sor, "", counter);
  doc.reset(out);
  AddSubmissionSetStatus(doc);
}

std::string Xml(const pugi::xml_node& node) {
  std::ostringstream out;
  node.print(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

struct StepRecord {
  std::map<std::string, std::string> reports;
  std::map<std::string, std::string> uids;   // AssignedUids
  std::map<std::string, std::string> uuids;  // AssignedUuids
};

// What the answer holds, for ExpectedContents.
struct Contents {
  int documents = 0, sets = 0, folders = 0, associations = 0;
  int approved_docs = 0, deprecated_docs = 0, approved_sets = 0;
  std::set<std::string> association_types;
};

Contents ContentsOf(const pugi::xml_document& answer) {
  Contents c;
  std::set<std::string> set_ids, folder_ids;
  for (auto x : answer.select_nodes("//*[local-name()='Classification']")) {
    std::string node = x.node().attribute("classificationNode").value();
    std::string obj = x.node().attribute("classifiedObject").value();
    if (node == kSubmissionSetNode) set_ids.insert(obj);
    if (node == kFolderNode) folder_ids.insert(obj);
  }
  for (auto x : answer.select_nodes("//*[local-name()='RegistryObjectList']/*")) {
    pugi::xml_node n = x.node();
    std::string local = Local(n.name());
    std::string status = n.attribute("status").value();
    if (local == "ExtrinsicObject") {
      ++c.documents;
      if (status.find("Approved") != std::string::npos) ++c.approved_docs;
      if (status.find("Deprecated") != std::string::npos) ++c.deprecated_docs;
    } else if (local == "RegistryPackage") {
      std::string id = n.attribute("id").value();
      if (folder_ids.count(id)) {
        ++c.folders;
      } else {
        ++c.sets;
        if (status.find("Approved") != std::string::npos) ++c.approved_sets;
      }
    } else if (local == "Association") {
      ++c.associations;
      std::string type = n.attribute("associationType").value();
      c.association_types.insert(type.substr(type.rfind(':') + 1));
    }
  }
  return c;
}

class NistTestkit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gateway_ = new GatewayProcess();
    ASSERT_TRUE(gateway_->WaitHealthy()) << gateway_->Log();
    // The identity feed: two known patients (an unknown one stays unknown).
    std::string run = RandomHex(4);
    patient_ = "nist" + run + "a^^^&1.3.6.1.4.1.21367.13.20.1000&ISO";
    alt_patient_ = "nist" + run + "b^^^&1.3.6.1.4.1.21367.13.20.1000&ISO";
    unknown_patient_ = "nist" + run + "z^^^&1.3.6.1.4.1.21367.13.20.1000&ISO";
    HttpClient client;
    for (const char* suffix : {"a", "b"}) {
      auto r = client.Request("POST", gateway_->base_url() + "/fhir/Patient", {"Content-Type: application/fhir+json"},
                              R"({"resourceType":"Patient","identifier":[{"system":"urn:oid:1.3.6.1.4.1.21367.13.20.1000","value":"nist)" +
                                  run + suffix + R"("}]})");
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }
  static void TearDownTestSuite() {
    delete gateway_;
    gateway_ = nullptr;
  }

  // Runs one test of the kit; false (with messages) when a step's expectation fails.
  void RunTest(const std::string& test) {
    fs::path dir = Kit() / test;
    std::vector<std::string> sections;
    std::istringstream index(ReadFile(dir / "index.idx"));
    for (std::string line; std::getline(index, line);)
      if (!Trim(line).empty()) sections.push_back(Trim(line));
    if (sections.empty())
      for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory()) sections.push_back(e.path().filename().string());
    for (const auto& section : sections) {
      if (section == "patientFeed" || !fs::exists(dir / section / "testplan.xml")) continue;
      pugi::xml_document plan;
      ASSERT_TRUE(plan.load_file((dir / section / "testplan.xml").c_str())) << test << "/" << section;
      for (pugi::xml_node step : plan.document_element().children("TestStep"))
        RunStep(test, section, step);
    }
  }

  static fs::path Kit() { return fs::path(CARNET_SOURCE_DIR) / ".." / "shared" / "testdata" / "xds" / "testkit"; }

  void RunStep(const std::string& test, const std::string& section, pugi::xml_node step) {
    std::string step_id = step.attribute("id").value();
    std::string where = test + "/" + section + "/" + step_id;
    SCOPED_TRACE(where);
    std::string expected_status = Trim(step.child_value("ExpectedStatus"));
    std::vector<std::string> expected_errors;
    for (const char* tag : {"ExpectedErrorMessage", "ExpectedErrorCode"})
      for (pugi::xml_node e : step.children(tag)) expected_errors.push_back(Trim(e.text().get()));
    bool alt_patient = step.child("AltPatientId");
    pugi::xml_node tx;
    std::string kind;
    for (const char* k : {"ProvideAndRegisterTransaction", "RegisterTransaction", "StoredQueryTransaction",
                          "RetrieveTransaction", "MuTransaction", "RemoveMetadataTransaction"})
      if ((tx = step.child(k))) {
        kind = k;
        break;
      }
    if (kind.empty()) return;  // NullTransaction, the identity feed
    StepRecord& record = steps_[test + "/" + section + "/" + step_id];

    // The metadata, with the values of earlier steps substituted.
    fs::path section_dir = Kit() / test / section;
    std::string text = ReadFile(section_dir / Trim(tx.child_value("MetadataFile")));
    for (pugi::xml_node use : tx.children("UseId")) {
      std::string from = fs::path(use.attribute("testdir").value()).filename().string();
      const StepRecord& other = steps_[test + "/" + from + "/" + use.attribute("step").value()];
      const auto& table = std::string(use.attribute("section").value()) == "AssignedUids" ? other.uids : other.uuids;
      auto it = table.find(use.attribute("id").value());
      if (it != table.end()) ReplaceAll(text, use.attribute("symbol").value(), it->second);
    }
    for (pugi::xml_node use : tx.children("UseReport")) {
      std::string other_test = use.attribute("test").value();
      std::string value;
      if (other_test == "15817") {
        value = patient_;
      } else if (other_test == "15817b") {
        value = alt_patient_;
      } else {
        const StepRecord& other = steps_[test + "/" + use.attribute("section").value() + "/" + use.attribute("step").value()];
        auto it = other.reports.find(use.attribute("reportName").value());
        if (it != other.reports.end()) value = it->second;
      }
      ReplaceAll(text, use.attribute("useAs").value(), value);
    }
    pugi::xml_document metadata;
    ASSERT_TRUE(metadata.load_string(text.c_str())) << "metadata of " << where;
    bool submission = kind == "ProvideAndRegisterTransaction" || kind == "RegisterTransaction" || kind == "MuTransaction";
    std::map<std::string, std::string> documents;  // ExtrinsicObject id -> content
    if (submission) {
      To30(metadata);
      if (!tx.child("NoPatientId"))
        for (auto x : metadata.select_nodes("//*[local-name()='ExternalIdentifier']"))
          if (kPatientIdSchemes.count(x.node().attribute("identificationScheme").value()))
            x.node().attribute("value") = (alt_patient ? unknown_patient_ : patient_).c_str();
      pugi::xml_node no_uids = tx.child("NoAssignUids");
      for (auto x : metadata.select_nodes("//*[local-name()='ExternalIdentifier']")) {
        pugi::xml_node ei = x.node();
        if (!kUniqueIdSchemes.count(ei.attribute("identificationScheme").value())) continue;
        std::string owner = ei.attribute("registryObject").value();
        if (owner.empty()) owner = ei.parent().attribute("id").value();
        if (no_uids && (!no_uids.attribute("id") || owner == no_uids.attribute("id").value())) {
          record.uids[owner] = ei.attribute("value").value();
          continue;
        }
        std::string uid = NewOid();
        ei.attribute("value") = uid.c_str();
        record.uids[owner] = uid;
        record.reports[owner + "_uid"] = uid;
      }
      if (tx.child("AssignUuids")) {
        std::map<std::string, std::string> renamed;
        for (auto x : metadata.select_nodes("//*[local-name()='ExtrinsicObject' or local-name()='RegistryPackage' or "
                                            "local-name()='Association']")) {
          std::string id = x.node().attribute("id").value();
          if (id.rfind("urn:uuid:", 0) == 0 || id.empty()) continue;
          renamed[id] = "urn:uuid:" + NewUuid();
        }
        for (auto x : metadata.select_nodes("//*")) {
          for (pugi::xml_attribute a : x.node().attributes()) {
            std::string name = a.name();
            if (name != "id" && name != "classifiedObject" && name != "registryObject" && name != "sourceObject" &&
                name != "targetObject")
              continue;
            auto it = renamed.find(a.value());
            if (it != renamed.end()) a = it->second.c_str();
          }
        }
        for (const auto& [from, to] : renamed) {
          record.uuids[from] = to;
          record.reports[from + "_uuid"] = to;
        }
      }
      for (pugi::xml_node d : tx.children("Document")) {
        std::string id = d.attribute("id").value();
        if (record.uuids.count(id)) id = record.uuids[id];
        documents[id] = ReadFile(section_dir / Trim(d.text().get()));
      }
    }
    for (pugi::xml_node report : tx.children("Report"))
      if (std::string(report.attribute("section").value()) == "InputMetadata") {
        auto found = metadata.select_node(Trim(report.text().get()).c_str());
        if (found) record.reports[report.attribute("name").value()] =
                       found.attribute() ? found.attribute().value() : found.node().text().get();
      }

    // The request.
    std::string endpoint = "/xds/registry", action, body = Xml(metadata.document_element());
    if (kind == "ProvideAndRegisterTransaction") {
      endpoint = "/xds/repository";
      action = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
      std::string docs;
      for (const auto& [id, content] : documents)
        docs += "<xdsb:Document id=\"" + id + "\">" + Base64Encode(content) + "</xdsb:Document>";
      body = "<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\">" + body + docs +
             "</xdsb:ProvideAndRegisterDocumentSetRequest>";
    } else if (kind == "RegisterTransaction") {
      action = "urn:ihe:iti:2007:RegisterDocumentSet-b";
    } else if (kind == "StoredQueryTransaction") {
      action = "urn:ihe:iti:2007:RegistryStoredQuery";
    } else if (kind == "RetrieveTransaction") {
      endpoint = "/xds/repository";
      action = "urn:ihe:iti:2007:RetrieveDocumentSet";
    } else if (kind == "MuTransaction") {
      action = "urn:ihe:iti:2010:UpdateDocumentSet";
    } else {
      action = "urn:ihe:iti:2010:DeleteDocumentSet";
    }
    std::string envelope =
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://www.w3.org/2005/08/addressing\">"
        "<s:Header><a:Action s:mustUnderstand=\"1\">" + action + "</a:Action><a:MessageID>urn:uuid:" + NewUuid() +
        "</a:MessageID></s:Header><s:Body>" + body + "</s:Body></s:Envelope>";
    HttpResult r = client_.Request("POST", gateway_->base_url() + endpoint, {kSoap}, envelope);
    ASSERT_EQ(r.status, 200) << where << ": " << r.body.substr(0, 800);

    // The answer: its status and errors (the SOAP part of an MTOM answer).
    std::string soap = r.body;
    if (size_t start = soap.find("<?xml"); start != std::string::npos) soap = soap.substr(start);
    if (size_t end = soap.find("Envelope>"); end != std::string::npos) soap = soap.substr(0, end + 9);
    pugi::xml_document answer;
    ASSERT_TRUE(answer.load_string(soap.c_str())) << where << ": " << r.body.substr(0, 800);
    std::string status;
    for (auto x : answer.select_nodes("//*[@status]")) {
      std::string s = x.node().attribute("status").value();
      if (s.find("ResponseStatusType") != std::string::npos) {
        status = s.substr(s.rfind(':') + 1);
        break;
      }
    }
    std::string errors;
    for (auto x : answer.select_nodes("//*[local-name()='RegistryError']"))
      errors += std::string(x.node().attribute("errorCode").value()) + " (" + x.node().attribute("codeContext").value() + ") ";
    EXPECT_EQ(status, expected_status) << where << ": errors " << errors;
    for (const auto& e : expected_errors)
      EXPECT_NE(errors.find(e), std::string::npos) << where << ": expected error " << e << ", got " << errors;
    for (pugi::xml_node report : tx.children("Report"))
      if (std::string(report.attribute("section").value()) == "Result") {
        auto found = answer.select_node(Trim(report.text().get()).c_str());
        if (found) record.reports[report.attribute("name").value()] =
                       found.attribute() ? found.attribute().value() : found.node().text().get();
      }
    for (pugi::xml_node ref : tx.children("ReferenceDocument")) {
      std::string content = ReadFile(Kit() / test / Trim(ref.text().get()));
      EXPECT_NE(r.body.find(content), std::string::npos) << where << ": retrieved document " << ref.text().get();
    }
    if (pugi::xml_node expected = tx.child("ExpectedContents")) CheckContents(where, expected, ContentsOf(answer));
    std::printf("[ testkit  ] %-45s %-8s %s\n", where.c_str(), status.c_str(), errors.c_str());
  }

  static void CheckContents(const std::string& where, pugi::xml_node expected, const Contents& c) {
    for (pugi::xml_node e : expected.children()) {
      if (e.type() != pugi::node_element) continue;
      std::string what = e.name();
      int count = e.attribute("count").as_int(-1);
      SCOPED_TRACE(where + " ExpectedContents " + what);
      if (what == "SSwithOneDoc") {
        EXPECT_EQ(c.sets, 1);
        EXPECT_EQ(c.documents, 1);
      } else if (what == "SSwithTwoDoc") {
        EXPECT_EQ(c.sets, 1);
        EXPECT_EQ(c.documents, 2);
      } else if (what == "SSwithOneFol") {
        EXPECT_EQ(c.sets, 1);
        EXPECT_EQ(c.folders, 1);
      } else if (what == "SSwithOneDocOneFol") {
        EXPECT_EQ(c.sets, 1);
        EXPECT_EQ(c.documents, 1);
        EXPECT_EQ(c.folders, 1);
      } else if (what == "DocApp") {
        EXPECT_GT(c.documents, 0);
        EXPECT_EQ(c.approved_docs, c.documents);
      } else if (what == "DocDep") {
        EXPECT_GT(c.documents, 0);
        EXPECT_EQ(c.deprecated_docs, c.documents);
      } else if (what == "OneDocApp") {
        EXPECT_EQ(c.approved_docs, 1);
      } else if (what == "OneDocDep") {
        EXPECT_EQ(c.deprecated_docs, 1);
      } else if (what == "SSApproved") {
        EXPECT_GT(c.sets, 0);
        EXPECT_EQ(c.approved_sets, c.sets);
      } else if (what == "HasXFRM_RPLC") {
        EXPECT_TRUE(c.association_types.count("XFRM_RPLC"));
      } else if (what == "None") {
        EXPECT_EQ(c.documents + c.sets + c.folders + c.associations, 0);
      } else if (what == "Documents") {
        EXPECT_EQ(c.documents, count);
      } else if (what == "SubmissionSets") {
        EXPECT_EQ(c.sets, count);
      } else if (what == "Folders") {
        EXPECT_EQ(c.folders, count);
      } else if (what == "Associations") {
        EXPECT_EQ(c.associations, count);
      }
    }
  }

  static GatewayProcess* gateway_;
  static std::string patient_, alt_patient_, unknown_patient_;
  static std::map<std::string, StepRecord> steps_;
  HttpClient client_;
};

GatewayProcess* NistTestkit::gateway_ = nullptr;
std::string NistTestkit::patient_, NistTestkit::alt_patient_, NistTestkit::unknown_patient_;
std::map<std::string, StepRecord> NistTestkit::steps_;

// One gtest per kit test, so that a failure names its test.
#define KIT_TEST(number) \
  TEST_F(NistTestkit, Test##number) { RunTest(#number); }
KIT_TEST(11966)  // Provide and Register of a single document
KIT_TEST(11983)  // metadata and documents that do not match
KIT_TEST(11990)  // Register a single DocumentEntry
KIT_TEST(11991)  // Register two DocumentEntries
KIT_TEST(11992)  // Replace
KIT_TEST(11993)  // Replace and addendum
KIT_TEST(11994)  // Replace and transformation
KIT_TEST(11995)  // XFRM_RPLC
KIT_TEST(11996)  // unknown patient
KIT_TEST(11997)  // patient ids that do not match
KIT_TEST(11999)  // an empty folder
KIT_TEST(12000)  // a folder with its first document
KIT_TEST(12002)  // adding a document of another patient to a folder
KIT_TEST(12021)  // retrieve two documents
KIT_TEST(12084)  // all or nothing
KIT_TEST(12360)  // mimeType kept
KIT_TEST(12369)  // wrong size or hash
KIT_TEST(15800)  // DocumentEntry metadata update
KIT_TEST(15802)  // availability status updates
KIT_TEST(30000)  // ITI-62 of an unknown object
KIT_TEST(30001)  // ITI-62 reference checks

}  // namespace
}  // namespace carnet::testing
