// ebRIM 3.0 <-> metadata model and ITI TF-3 4.2 validation, on the NIST samples and on
// hand-made variants.
#include "mapping/xds_metadata.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "xds/metadata_validation.h"
#include "xds/requests.h"
#include "mapping/ebrim_xml.h"

namespace carnet::xds {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(CARNET_SOURCE_DIR) + "/tests/data/xds/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Parsed {
  std::unique_ptr<pugi::xml_document> doc;
  SubmissionRequest submission;
};

// A bare ProvideAndRegisterDocumentSetRequest / SubmitObjectsRequest sample.
Parsed ReadSubmission(const std::string& xml) {
  Parsed p;
  auto doc = ParseXml(xml);
  EXPECT_TRUE(doc.ok()) << doc.status().ToString();
  p.doc = std::move(doc).value();
  Result<SubmissionRequest> s = ReadSubmissionElement(p.doc->document_element(), nullptr);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (s.ok()) p.submission = std::move(s).value();
  return p;
}

ValidationResult Validate(const SubmissionRequest& s, SubmissionKind kind,
                          std::vector<std::string> document_ids = {}, bool limited = false) {
  ValidationContext c;
  c.kind = kind;
  c.document_ids = std::move(document_ids);
  c.accept_limited_metadata = limited;
  return ValidateSubmission(s.metadata, c, s.read_problems);
}

std::vector<std::string> Codes(const ValidationResult& r) {
  std::vector<std::string> out;
  for (const RegistryError& e : r.errors) out.push_back(e.error_code);
  return out;
}

bool Mentions(const ValidationResult& r, const std::string& code, const std::string& text) {
  return std::any_of(r.errors.begin(), r.errors.end(), [&](const RegistryError& e) {
    return e.error_code == code && e.code_context.find(text) != std::string::npos;
  });
}

std::string Dump(const ValidationResult& r) {
  std::string s;
  for (const RegistryError& e : r.errors) s += e.error_code + ": " + e.code_context + "\n";
  return s;
}

TEST(XdsMetadata, NistPnrReadsEveryAttribute) {
  Parsed p = ReadSubmission(ReadSample("pnr.xml"));
  const RegistryObjectList& m = p.submission.metadata;
  ASSERT_EQ(m.documents.size(), 2u);
  ASSERT_EQ(m.submission_sets.size(), 1u);
  ASSERT_EQ(m.associations.size(), 2u);
  EXPECT_TRUE(p.submission.read_problems.empty());
  const DocumentEntry& d = m.documents[0];
  EXPECT_EQ(d.id, "Document01");
  EXPECT_FALSE(IsUuidUrn(d.id));
  EXPECT_EQ(d.mime_type, "text/plain");
  EXPECT_EQ(d.object_type, uuids::kDocumentEntryStable);
  EXPECT_EQ(d.creation_time, "20051224");
  EXPECT_EQ(d.language_code, "en-us");
  EXPECT_EQ(d.service_start_time, "200512240800");
  EXPECT_EQ(d.service_stop_time, "200512241100");
  EXPECT_EQ(d.source_patient_id, "89765a87b^^^&3.4.5&ISO");
  EXPECT_EQ(d.source_patient_info.size(), 5u);
  EXPECT_EQ(d.title, "Physical");
  ASSERT_EQ(d.authors.size(), 2u);
  EXPECT_EQ(d.authors[0].person, "^Smitty^Gerald^^^");
  EXPECT_EQ(d.authors[0].institutions, (std::vector<std::string>{"Cleveland Clinic", "Parma Community"}));
  EXPECT_EQ(d.authors[1].roles, std::vector<std::string>{"Primary Surgon"});
  EXPECT_EQ(d.class_code, (Code{"Communication", "Connect-a-thon classCodes", "Education", "id_3"}));
  ASSERT_EQ(d.confidentiality_codes.size(), 1u);
  EXPECT_EQ(d.confidentiality_codes[0].code, "1.3.6.1.4.1.21367.2006.7.103");
  EXPECT_EQ(d.format_code.code, "CDAR2/IHE 1.0");
  EXPECT_EQ(d.healthcare_facility_type_code.code, "Hospital Setting");
  EXPECT_EQ(d.practice_setting_code.code, "General Medicine");
  EXPECT_EQ(d.type_code, (Code{"34108-1", "LOINC", "Outpatient Evaluation And Management", "id_8"}));
  EXPECT_EQ(d.patient_id, "53ff11cb404344e^^^&1.3.6.1.4.1.21367.2005.3.7&ISO");
  EXPECT_EQ(d.unique_id, "1.42.20100312105241.2");
  const SubmissionSet& s = m.submission_sets[0];
  EXPECT_EQ(s.id, "SubmissionSet01");
  EXPECT_EQ(s.submission_time, "20041225235050");
  EXPECT_EQ(s.comments, "Annual physical");
  EXPECT_EQ(s.source_id, "1.3.6.1.4.1.21367.2009.1.2.1");
  EXPECT_EQ(s.unique_id, "1.42.20100312105241.4");
  EXPECT_EQ(s.content_type_code.code, "History and Physical");
  EXPECT_EQ(s.classification_ref, "ID_6144893_3");  // the top-level marker Classification
  EXPECT_EQ(m.associations[0].type, AssociationType::kHasMember);
  EXPECT_EQ(m.associations[0].submission_set_status, "Original");
}

TEST(XdsMetadata, NistPnrValidatesCleanWithItsDocuments) {
  Parsed p = ReadSubmission(ReadSample("pnr.xml"));
  ValidationResult ok = Validate(p.submission, SubmissionKind::kProvideAndRegister, {"Document01", "Document02"});
  EXPECT_TRUE(ok.ok()) << Dump(ok);
  EXPECT_TRUE(ok.external_references.empty());
  // Without documents: each entry lacks its document.
  ValidationResult missing = Validate(p.submission, SubmissionKind::kProvideAndRegister);
  EXPECT_EQ(Codes(missing), (std::vector<std::string>{"XDSMissingDocument", "XDSMissingDocument"}));
  // A document with no entry, and one twice.
  ValidationResult extra = Validate(p.submission, SubmissionKind::kProvideAndRegister,
                                    {"Document01", "Document02", "Document03", "Document01"});
  EXPECT_TRUE(Mentions(extra, "XDSMissingDocumentMetadata", "Document03")) << Dump(extra);
  EXPECT_TRUE(Mentions(extra, "XDSRepositoryMetadataError", "Document01")) << Dump(extra);
  // As ITI-42 from a repository: hash, size and repositoryUniqueId are required.
  ValidationResult reg = Validate(p.submission, SubmissionKind::kRegister);
  EXPECT_TRUE(Mentions(reg, "XDSRegistryMetadataError", "hash is required")) << Dump(reg);
  EXPECT_TRUE(Mentions(reg, "XDSRegistryMetadataError", "repositoryUniqueId is required"));
  EXPECT_TRUE(Mentions(reg, "XDSRegistryMetadataError", "size is required"));
}

TEST(XdsMetadata, NistSoapPnrElementOrderIsAnError) {
  for (const char* f : {"pnr-element-order.xml"}) {
    Parsed p = ReadSubmission(ReadSample(f));
    ValidationResult r = Validate(p.submission, SubmissionKind::kProvideAndRegister, {"Document01", "Document02"});
    EXPECT_FALSE(r.ok()) << f;
    EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "out of the ebRIM 3.0 order")) << Dump(r);
  }
}

TEST(XdsMetadata, NistBadUplinkIsAnError) {
  Parsed p = ReadSubmission(ReadSample("pnr-bad-uplink.xml"));
  ValidationResult r = Validate(p.submission, SubmissionKind::kProvideAndRegister, {"Document01", "Document02"});
  ASSERT_EQ(r.errors.size(), 1u) << Dump(r);
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "classifiedObject=Document011"));
  EXPECT_EQ(r.errors[0].location, "Document01");
}

TEST(XdsMetadata, NistAssociationToItselfIsAnError) {
  Parsed p = ReadSubmission(ReadSample("pnr-assoc-to-self.xml"));
  ValidationResult r = Validate(p.submission, SubmissionKind::kProvideAndRegister, {"Document01"});
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "points at the association itself")) << Dump(r);
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "is not a member")) << Dump(r);
}

TEST(XdsMetadata, NistLimitedMetadata) {
  Parsed p = ReadSubmission(ReadSample("pnr-limited.xml"));
  EXPECT_TRUE(p.submission.metadata.documents[0].limited_metadata);
  EXPECT_TRUE(p.submission.metadata.submission_sets[0].limited_metadata);
  ValidationResult xds = Validate(p.submission, SubmissionKind::kProvideAndRegister, {"Document01"});
  EXPECT_TRUE(Mentions(xds, "XDSRegistryMetadataError", "Limited Metadata")) << Dump(xds);
  ValidationResult xdr = Validate(p.submission, SubmissionKind::kProvideAndRegister, {"Document01"}, true);
  EXPECT_TRUE(xdr.ok()) << Dump(xdr);
}

void ExpectRoundTrip(const RegistryObjectList& m) {
  std::string xml = WriteRegistryObjectList(m);
  auto doc = ParseXml(xml);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  std::vector<RegistryError> problems;
  Result<RegistryObjectList> back = ReadRegistryObjectList((*doc)->document_element(), &problems);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(problems.empty()) << problems[0].code_context;
  EXPECT_TRUE(*back == m) << xml;
}

TEST(XdsMetadata, RoundTripsThroughEbRim) {
  ExpectRoundTrip(ReadSubmission(ReadSample("pnr.xml")).submission.metadata);
  ExpectRoundTrip(ReadSubmission(ReadSample("pnr-limited.xml")).submission.metadata);
  // A LeafClass query response with hash, size, URI, repositoryUniqueId, status, lid, home.
  auto doc = ParseXml(ReadSample("sq-resp-lc.xml"));
  ASSERT_TRUE(doc.ok());
  std::vector<RegistryError> problems;
  Result<RegistryObjectList> lc = ReadRegistryObjectList(Child((*doc)->document_element(), kNsRim, "RegistryObjectList"),
                                                         &problems);
  ASSERT_TRUE(lc.ok());
  for (const RegistryError& e : problems) ADD_FAILURE() << e.code_context;
  ASSERT_FALSE(lc->documents.empty());
  EXPECT_EQ(lc->documents[0].hash, "e543712c0e10501972de13a5bfcbe826c49feb75");
  EXPECT_EQ(lc->documents[0].repository_unique_id, "1.19.6.24.109.42.1");
  EXPECT_EQ(lc->documents[0].status, kStatusApproved);
  EXPECT_EQ(lc->documents[0].lid, lc->documents[0].id);
  ExpectRoundTrip(*lc);

  // Every field set, including the ones the samples lack.
  RegistryObjectList m;
  DocumentEntry d;
  d.id = "urn:uuid:0a1b2c3d-0000-4000-8000-000000000001";
  d.object_type = std::string(uuids::kDocumentEntryOnDemand);
  d.mime_type = "text/xml";
  d.version = "2";
  d.legal_authenticator = "899700218896^DOC^JEAN^^^^^^&1.2.250.1.71.4.2.1&ISO";
  d.reference_id_list = {"ref1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession"};
  d.event_codes = {{"E1", "S1", "Event 1", "c1"}, {"E2", "S2", "Event 2", "c2"}};
  d.authors = {{"p", {"i1"}, {"r"}, {"s"}, {"^^Internet^a@b.fr"}, "a1"}};
  d.document_availability = "urn:ihe:iti:2010:DocumentAvailability:Online";
  d.other_slots = {{"urn:carnet:x", {"1", "2"}}};
  d.comments = "with \"quotes\" & <angles>\nand a newline";
  d.home = "urn:oid:1.2.3";
  m.documents.push_back(d);
  Folder f;
  f.id = "Folder01";
  f.title = "F";
  f.codes = {{"c", "s", "n", "fc1"}};
  f.last_update_time = "20240101";
  f.classification_ref = "fcl";
  m.folders.push_back(f);
  SubmissionSet s;
  s.id = "SS";
  s.intended_recipients = {"Hospital^^^^^^^^^1.2.3|^Wel^Marcus"};
  s.classification_ref = "sscl";
  m.submission_sets.push_back(s);
  Association a;
  a.id = "A";
  a.type = AssociationType::kUpdateAvailabilityStatus;
  a.type_uri = std::string(AssociationTypeUri(a.type));
  a.source = "SS";
  a.target = d.id;
  a.original_status = std::string(kStatusApproved);
  a.new_status = std::string(kStatusDeprecated);
  m.associations.push_back(a);
  m.object_refs.push_back({"urn:uuid:0a1b2c3d-0000-4000-8000-000000000009", "urn:oid:1.2"});
  ExpectRoundTrip(m);

  // ObjectRef form.
  auto refs = ParseXml(WriteRegistryObjectList(m, ReturnType::kObjectRef));
  ASSERT_TRUE(refs.ok());
  Result<RegistryObjectList> back = ReadRegistryObjectList((*refs)->document_element(), &problems);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->object_refs.size(), 5u);
  EXPECT_TRUE(back->documents.empty());
}

TEST(XdsMetadata, NistObjectRefResponse) {
  auto doc = ParseXml(ReadSample("sq-resp-objectref.xml"));
  ASSERT_TRUE(doc.ok());
  std::vector<RegistryError> problems;
  Result<RegistryObjectList> l = ReadRegistryObjectList(Child((*doc)->document_element(), kNsRim, "RegistryObjectList"),
                                                        &problems);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->object_refs.size(), 6u);
}

TEST(XdsMetadata, SymbolicIdsBecomeUuids) {
  RegistryObjectList m = ReadSubmission(ReadSample("pnr.xml")).submission.metadata;
  std::map<std::string, std::string> mapping = AssignUuidsToSymbolicIds(&m);
  ASSERT_TRUE(mapping.count("Document01"));
  EXPECT_TRUE(IsUuidUrn(mapping["Document01"]));
  EXPECT_EQ(m.documents[0].id, mapping["Document01"]);
  EXPECT_EQ(m.associations[0].source, mapping["SubmissionSet01"]);
  EXPECT_EQ(m.associations[0].target, mapping["Document01"]);
  EXPECT_TRUE(IsUuidUrn(m.documents[0].class_code.classification_id));
  EXPECT_TRUE(IsUuidUrn(m.submission_sets[0].classification_ref));
  ValidationResult r = ValidateSubmission(m, {SubmissionKind::kProvideAndRegister,
                                              {mapping["Document01"], mapping["Document02"]}, false});
  EXPECT_TRUE(r.ok()) << Dump(r);
}

TEST(XdsMetadata, EbRim21IsRefused) {
  auto doc = ParseXml("<rim:LeafRegistryObjectList xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1\"/>");
  ASSERT_TRUE(doc.ok());
  std::vector<RegistryError> problems;
  Result<RegistryObjectList> r = ReadRegistryObjectList((*doc)->document_element(), &problems);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2.1"), std::string::npos);
}

// Rule-by-rule checks on a mutated copy of the NIST submission.
class XdsMetadataRules : public ::testing::Test {
 protected:
  void SetUp() override { m = ReadSubmission(ReadSample("pnr.xml")).submission.metadata; }
  ValidationResult Run(SubmissionKind kind = SubmissionKind::kProvideAndRegister) {
    return ValidateSubmission(m, {kind, {"Document01", "Document02"}, false});
  }
  Association Assoc(AssociationType t, std::string source, std::string target) {
    Association a;
    a.id = "A" + std::to_string(m.associations.size());
    a.type = t;
    a.type_uri = std::string(AssociationTypeUri(t));
    a.source = std::move(source);
    a.target = std::move(target);
    return a;
  }
  RegistryObjectList m;
};

TEST_F(XdsMetadataRules, PatientIdMustMatchTheSubmissionSet) {
  m.documents[1].patient_id = "other^^^&1.3.6.1.4.1.21367.2005.3.7&ISO";
  ValidationResult r = Run();
  EXPECT_EQ(Codes(r), std::vector<std::string>{"XDSPatientIdDoesNotMatch"});
  EXPECT_EQ(r.errors[0].location, "Document02");
}

TEST_F(XdsMetadataRules, PatientIdFormat) {
  for (std::string pid : {"53ff11cb404344e", "53ff11cb404344e^^^1.2.3", "^^^&1.2.3&ISO", "x^^^&1.2.3&DNS"}) {
    m.submission_sets[0].patient_id = m.documents[0].patient_id = m.documents[1].patient_id = pid;
    EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "not in CX form")) << pid;
  }
  EXPECT_TRUE(IsValidCxPatientId("1234567890123^^^&1.2.250.1.213.1.4.10&ISO^NH"));
  EXPECT_TRUE(IsValidCxPatientId("53ff11cb404344e^^^&1.3.6.1.4.1.21367.2005.3.7&ISO"));
}

TEST_F(XdsMetadataRules, DuplicateUniqueIdInMessage) {
  m.documents[1].unique_id = m.documents[0].unique_id;
  EXPECT_EQ(Codes(Run()), std::vector<std::string>{"XDSRegistryDuplicateUniqueIdInMessage"});
  m.documents[1].unique_id = m.submission_sets[0].unique_id;
  EXPECT_EQ(Codes(Run()), std::vector<std::string>{"XDSRegistryDuplicateUniqueIdInMessage"});
}

TEST_F(XdsMetadataRules, UniqueIdFormats) {
  m.documents[0].unique_id = "1.2.3^abcdefghijklmnopq";  // extension of 17 characters
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "uniqueId"));
  m.documents[0].unique_id = "1.2.3^abcdefghijklmnop";
  EXPECT_TRUE(Run().ok());
  m.submission_sets[0].unique_id = "1.2.3^x";  // no extension for a SubmissionSet
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "SubmissionSet01: uniqueId"));
  EXPECT_FALSE(IsValidOid("1.02.3"));
  EXPECT_FALSE(IsValidOid("3.1"));
  EXPECT_FALSE(IsValidOid("1"));
  EXPECT_FALSE(IsValidOid("1." + std::string(63, '1')));
  EXPECT_TRUE(IsValidOid("2.25.329800735698586629295641978511506172918"));
}

TEST_F(XdsMetadataRules, RequiredAttributesAndCodes) {
  m.documents[0].class_code = {};
  m.documents[0].type_code.scheme.clear();
  m.documents[0].format_code.display.clear();
  m.documents[0].confidentiality_codes.clear();
  m.documents[0].creation_time.clear();
  m.submission_sets[0].source_id.clear();
  ValidationResult r = Run();
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "classCode is required")) << Dump(r);
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "typeCode 34108-1 has no codingScheme"));
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "formatCode CDAR2/IHE 1.0 has no display Name"));
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "confidentialityCode is required"));
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "creationTime is required"));
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "sourceId is required"));
  EXPECT_EQ(r.errors.size(), 6u) << Dump(r);
}

TEST_F(XdsMetadataRules, Timestamps) {
  for (std::string t : {"2005122", "20051324", "20050230", "200512242400", "2005-12-24", "20051224T08"}) {
    m.documents[0].creation_time = t;
    EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "not a UTC DTM")) << t;
  }
  EXPECT_TRUE(IsValidDtm("20040229"));
  EXPECT_FALSE(IsValidDtm("21000229"));
  m.documents[0].creation_time = "2005";
  m.documents[0].service_start_time = "200512250800";
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "serviceStartTime is after"));
}

TEST_F(XdsMetadataRules, HasMemberRules) {
  m.associations[1].submission_set_status.clear();
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "needs Slot SubmissionSetStatus"));
  m.associations[1].submission_set_status = "Reference";
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "status Original"));
  m.associations.pop_back();
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "Document02 is not a member"));
}

// ITI TF-3 4.2.2.1.1: SubmissionSetStatus is required on a SubmissionSet -> DocumentEntry
// HasMember (new entry, or an existing one by urn:uuid) only; a SubmissionSet -> Folder and a
// SubmissionSet -> (Folder -> DocumentEntry) HasMember may leave it out.
TEST_F(XdsMetadataRules, SubmissionSetStatusOnlyOnDocumentMembers) {
  Folder f;
  f.id = "Folder01";
  f.unique_id = "1.2.3.4.5.6";
  f.patient_id = m.submission_sets[0].patient_id;
  f.title = "Suivi";
  f.codes.push_back({"SUIVI", "1.2.250.1.213.1.1.4.99", "Suivi", "Fc1"});
  m.folders.push_back(f);
  m.associations.push_back(Assoc(AssociationType::kHasMember, "SubmissionSet01", "Folder01"));
  Association membership = Assoc(AssociationType::kHasMember, "Folder01", "Document01");
  m.associations.push_back(membership);
  m.associations.push_back(Assoc(AssociationType::kHasMember, "SubmissionSet01", membership.id));
  ValidationResult r = Run();
  EXPECT_TRUE(r.ok()) << Dump(r);
  m.associations.push_back(Assoc(AssociationType::kHasMember, "SubmissionSet01",
                                 "urn:uuid:0a1b2c3d-0000-4000-8000-00000000000b"));
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "needs Slot SubmissionSetStatus"))
      << "an existing DocumentEntry referenced by the SubmissionSet";
}

TEST_F(XdsMetadataRules, ReferencesOutsideTheMessage) {
  const std::string existing = "urn:uuid:0a1b2c3d-0000-4000-8000-00000000000a";
  Association ref = Assoc(AssociationType::kHasMember, "SubmissionSet01", existing);
  ref.submission_set_status = "Reference";
  m.associations.push_back(ref);
  ValidationResult r = Run();
  EXPECT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.external_references, std::set<std::string>{existing});
  m.associations.push_back(Assoc(AssociationType::kSigns, "Document01", "Document99"));
  r = Run();
  EXPECT_EQ(Codes(r), std::vector<std::string>{"UnresolvedReferenceException"});
}

TEST_F(XdsMetadataRules, ReplaceTransformAppendShapes) {
  const std::string original = "urn:uuid:0a1b2c3d-0000-4000-8000-00000000000b";
  for (AssociationType t : {AssociationType::kReplace, AssociationType::kTransform, AssociationType::kAppend,
                            AssociationType::kTransformAndReplace}) {
    SetUp();
    m.associations.push_back(Assoc(t, "Document01", original));
    ValidationResult r = Run();
    EXPECT_TRUE(r.ok()) << Dump(r);
    EXPECT_TRUE(r.external_references.count(original));
    // The original must be an existing entry, not one of the submission.
    m.associations.back().target = "Document02";
    EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "must be an existing DocumentEntry"));
    // The new entry must be in the submission.
    m.associations.back().source = "SubmissionSet01";
    m.associations.back().target = original;
    EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "must be a DocumentEntry of this submission"));
  }
}

TEST_F(XdsMetadataRules, UpdateOnlyAssociations) {
  Association uas = Assoc(AssociationType::kUpdateAvailabilityStatus, "SubmissionSet01",
                          "urn:uuid:0a1b2c3d-0000-4000-8000-00000000000c");
  uas.original_status = std::string(kStatusApproved);
  uas.new_status = std::string(kStatusDeprecated);
  m.associations.push_back(uas);
  EXPECT_TRUE(Mentions(Run(SubmissionKind::kProvideAndRegister), "XDSRegistryMetadataError", "ITI-57 only"));
  m.associations.back().new_status = "Gone";
  EXPECT_TRUE(Mentions(Run(SubmissionKind::kUpdate), "XDSRegistryMetadataError", "NewStatus 'Gone'"));
  // ITI-57: a new DocumentEntry version names its previous version.
  EXPECT_TRUE(Mentions(Run(SubmissionKind::kUpdate), "XDSRegistryMetadataError", "PreviousVersion"));
}

TEST_F(XdsMetadataRules, UnknownAssociationTypeAndDuplicateIds) {
  m.associations.push_back(Assoc(AssociationType::kUnknown, "SubmissionSet01", "Document01"));
  m.associations.back().type_uri = "HasMember";  // the ebRIM 2.1 short form
  m.associations.back().id = "Document02";
  ValidationResult r = Run();
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "unknown associationType 'HasMember'")) << Dump(r);
  EXPECT_TRUE(Mentions(r, "XDSRegistryMetadataError", "more than one object"));
}

TEST_F(XdsMetadataRules, FoldersAndOnDemand) {
  Folder f;
  f.id = "Folder01";
  f.patient_id = m.submission_sets[0].patient_id;
  f.unique_id = "1.42.99";
  f.title = "Folder";
  f.codes = {{"c", "s", "n", ""}};
  m.folders.push_back(f);
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "Folder Folder01 is not a member"));
  Association member = Assoc(AssociationType::kHasMember, "SubmissionSet01", "Folder01");
  member.submission_set_status = "Original";
  m.associations.push_back(member);
  Association in_folder = Assoc(AssociationType::kHasMember, "Folder01", "Document01");
  m.associations.push_back(in_folder);
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "(Folder membership) is not a member"));
  Association ss_to_fd = Assoc(AssociationType::kHasMember, "SubmissionSet01", in_folder.id);
  ss_to_fd.submission_set_status = "Original";
  m.associations.push_back(ss_to_fd);
  ValidationResult r = Run();
  EXPECT_TRUE(r.ok()) << Dump(r);
  m.folders[0].patient_id = "x^^^&1.2.3&ISO";
  EXPECT_EQ(Codes(Run()), std::vector<std::string>{"XDSPatientIdDoesNotMatch"});
  SetUp();
  m.documents[0].object_type = std::string(uuids::kDocumentEntryOnDemand);
  EXPECT_TRUE(Mentions(Run(), "XDSRegistryMetadataError", "On-Demand"));
}

}  // namespace
}  // namespace carnet::xds
