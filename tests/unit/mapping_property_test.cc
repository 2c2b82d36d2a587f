// Property tests of the XDS <-> FHIR mapping (issue 7): metadata generated at random (a fixed
// seed per run, printed, so that a failure can be replayed with CARNET_PROPERTY_SEED) goes
// XDS -> FHIR -> XDS and FHIR -> XDS -> FHIR and comes back as it went in.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "mapping/document_entry.h"
#include "model/validator.h"

namespace carnet::mapping {
namespace {

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool Coin() { return Int(0, 1) == 1; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Int(0, static_cast<int>(v.size()) - 1)]; }

  std::string Digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + Int(i == 0 ? 1 : 0, 9)));
    return s;
  }
  std::string Oid() { return "1.2.250.1." + Digits(Int(1, 4)) + "." + Digits(Int(1, 6)); }
  std::string Uuid() {
    static const char* kHex = "0123456789abcdef";
    std::string u;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) u.push_back('-');
      u.push_back(kHex[Int(0, 15)]);
    }
    return "urn:uuid:" + u;
  }
  std::string Text() {
    static const std::vector<std::string> kWords = {"Compte", "rendu", "d'hospitalisation", "Ébène", "naïve",
                                                    "<b>", "&", "\"quoted\"", "Lettre", "de", "liaison", "√"};
    std::string s;
    for (int i = 0, n = Int(1, 5); i < n; ++i) s += (i ? " " : "") + Pick(kWords);
    return s;
  }
  std::string Dtm() {
    std::string full = std::to_string(Int(1990, 2030)) + Pad(Int(1, 12)) + Pad(Int(1, 28)) + Pad(Int(0, 23)) +
                       Pad(Int(0, 59)) + Pad(Int(0, 59));
    static const std::vector<size_t> kLengths = {4, 6, 8, 12, 14};
    return full.substr(0, Pick(kLengths));
  }
  xds::Code Code(const std::string& scheme_hint = "") {
    xds::Code c;
    c.code = Pick(std::vector<std::string>{"11502-2", "11490-0", "REPORTS", "SA01", "N", "R", "MASQUE_PS", "urn:ihe:iti:xds:2017:mimeTypeSufficient", "Med" + Digits(3)});
    c.scheme = scheme_hint.empty() ? Pick(std::vector<std::string>{"2.16.840.1.113883.6.1", "1.2.250.1.213.1.1.4.1",
                                                                  "1.2.250.1.213.1.1.4.13", Oid()})
                                   : scheme_hint;
    if (Coin()) c.display = Text();
    return c;
  }
  std::string Xcn() {
    return Digits(Int(3, 11)) + "^" + Pick(std::vector<std::string>{"MARTIN", "DUPONT", "Lévêque"}) + "^" +
           Pick(std::vector<std::string>{"Paul", "Anne", ""}) + "^^^" + Pick(std::vector<std::string>{"Dr", ""}) +
           "^^^&1.2.250.1.71.4.2.1&ISO";
  }
  xds::Author Author() {
    xds::Author a;
    if (Coin()) a.person = Xcn();
    for (int i = 0, n = Int(a.person.empty() ? 1 : 0, 2); i < n; ++i)
      a.institutions.push_back(Text() + "^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^" + Digits(9));
    for (int i = 0, n = Int(0, 2); i < n; ++i) a.roles.push_back(Pick(std::vector<std::string>{"10^Médecin^1.2.250.1.71.1.2.7", "ATTENDING"}));
    for (int i = 0, n = Int(0, 2); i < n; ++i) a.specialties.push_back("SM" + Digits(2) + "^Spécialité^1.2.250.1.71.4.2.5");
    for (int i = 0, n = Int(0, 1); i < n; ++i) a.telecommunications.push_back("^^Internet^" + Digits(5) + "@example.org");
    return a;
  }

  xds::DocumentEntry Entry() {
    xds::DocumentEntry e;
    e.id = Uuid();
    if (Coin()) {
      e.lid = Uuid();
      e.version = std::to_string(Int(1, 9));
    }
    e.status = Coin() ? std::string(xds::kStatusApproved) : std::string(xds::kStatusDeprecated);
    if (Coin()) e.home = "urn:oid:" + Oid();
    if (Coin()) e.title = Text();
    if (Coin()) e.comments = Text();
    e.unique_id = Coin() ? Oid() : Oid() + "^" + Digits(Int(1, 10));
    e.patient_id = Digits(Int(5, 15)) + "^^^&1.2.250.1.213.1.4.10&ISO";
    e.object_type = Int(0, 4) == 0 ? std::string(xds::uuids::kDocumentEntryOnDemand) : std::string(xds::uuids::kDocumentEntryStable);
    e.mime_type = Pick(std::vector<std::string>{"text/xml", "application/pdf", "text/plain", "image/jpeg"});
    e.class_code = Code("1.2.250.1.213.1.1.4.1");
    e.type_code = Code("2.16.840.1.113883.6.1");
    e.format_code = Code("1.2.250.1.213.1.1.4.2.282");
    e.healthcare_facility_type_code = Code("1.2.250.1.71.4.2.4");
    e.practice_setting_code = Code("1.2.250.1.213.1.1.4.9");
    for (int i = 0, n = Int(1, 3); i < n; ++i) e.confidentiality_codes.push_back(Code());
    for (int i = 0, n = Int(0, 3); i < n; ++i) e.event_codes.push_back(Code());
    for (int i = 0, n = Int(0, 3); i < n; ++i) e.authors.push_back(Author());
    if (Coin()) e.legal_authenticator = Xcn();
    if (!e.OnDemand()) e.creation_time = Dtm();
    if (Coin()) e.service_start_time = Dtm();
    if (Coin()) e.service_stop_time = Dtm();
    // A service does not stop before it starts (R4 per-1 on DocumentReference.context.period).
    if (!e.service_start_time.empty() && !e.service_stop_time.empty()) {
      size_t n = std::min(e.service_start_time.size(), e.service_stop_time.size());
      if (e.service_start_time.compare(0, n, e.service_stop_time, 0, n) > 0)
        std::swap(e.service_start_time, e.service_stop_time);
    }
    e.language_code = Pick(std::vector<std::string>{"fr-FR", "en-US", "de"});
    if (!e.OnDemand()) {
      static const char* kHex = "0123456789abcdef";
      for (int i = 0; i < 40; ++i) e.hash.push_back(kHex[Int(0, 15)]);
      e.size = std::to_string(Int(1, 100000000));
    } else {
      e.document_availability = Coin() ? "urn:ihe:iti:2010:DocumentAvailability:Online"
                                       : "urn:ihe:iti:2010:DocumentAvailability:Offline";
    }
    e.repository_unique_id = Oid();
    if (Coin()) e.source_patient_id = Digits(6) + "^^^&1.2.3.4&ISO";
    if (Coin()) e.source_patient_info = {"PID-3|" + Digits(6) + "^^^&1.2.3.4&ISO", "PID-5|DUPONT^Jean^^^", "PID-7|19700101"};
    for (int i = 0, n = Int(0, 2); i < n; ++i)
      e.reference_id_list.push_back(Digits(5) + "^^^&" + Oid() + "&ISO^urn:ihe:iti:xds:2013:order");
    return e;
  }

 private:
  static std::string Pad(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }
  std::mt19937 rng_;
};

xds::SubmissionSet GenerateSet(Generator& g) {
  xds::SubmissionSet set;
  set.id = g.Uuid();
  set.status = std::string(xds::kStatusApproved);
  if (g.Coin()) set.title = g.Text();
  if (g.Coin()) set.comments = g.Text();
  set.unique_id = g.Oid();
  set.patient_id = g.Digits(8) + "^^^&1.2.250.1.213.1.4.10&ISO";
  set.submission_time = g.Dtm();
  set.source_id = g.Oid();
  set.content_type_code = g.Code("1.2.250.1.213.1.1.4.1");
  for (int i = 0, n = g.Int(0, 2); i < n; ++i) set.authors.push_back(g.Author());
  return set;
}

xds::Folder GenerateFolder(Generator& g) {
  xds::Folder f;
  f.id = g.Uuid();
  f.status = std::string(xds::kStatusApproved);
  if (g.Coin()) f.title = g.Text();
  if (g.Coin()) f.comments = g.Text();
  f.unique_id = g.Oid();
  f.patient_id = g.Digits(8) + "^^^&1.2.250.1.213.1.4.10&ISO";
  f.last_update_time = g.Dtm();
  for (int i = 0, n = g.Int(0, 3); i < n; ++i) f.codes.push_back(g.Code());
  return f;
}

xds::DocumentEntry Comparable(xds::DocumentEntry e) {
  for (xds::Code* c : {&e.class_code, &e.type_code, &e.format_code, &e.healthcare_facility_type_code,
                       &e.practice_setting_code})
    c->classification_id.clear();
  for (auto& c : e.confidentiality_codes) c.classification_id.clear();
  for (auto& c : e.event_codes) c.classification_id.clear();
  for (auto& a : e.authors) a.classification_id.clear();
  e.unique_id_ref.clear();
  e.patient_id_ref.clear();
  return e;
}

unsigned Seed() {
  const char* s = std::getenv("CARNET_PROPERTY_SEED");
  return s ? static_cast<unsigned>(std::strtoul(s, nullptr, 10)) : std::random_device{}();
}

TEST(MappingPropertyTest, XdsToFhirToXdsAndBackAreLossless) {
  unsigned seed = Seed();
  std::printf("[ property ] CARNET_PROPERTY_SEED=%u\n", seed);
  Generator g(seed);
  int failures = 0;
  for (int i = 0; i < 500 && failures < 3; ++i) {
    xds::DocumentEntry entry = g.Entry();
    JsonValue dr = DocumentReferenceFromEntry(entry, "Patient/p1", entry.OnDemand() ? "" : "Binary/b1");
    for (const auto& issue : model::ValidateResource(dr))
      if (issue.severity == "error") {
        ADD_FAILURE() << "seed " << seed << " case " << i << ": invalid FHIR: " << issue.expression << ": "
                      << issue.message << "\n" << WriteJson(dr, true);
        ++failures;
      }
    auto back = EntryFromDocumentReference(dr, entry.patient_id);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    if (!(Comparable(*back) == Comparable(entry))) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << " case " << i << ": XDS -> FHIR -> XDS changed the entry\n"
                    << WriteJson(dr, true);
    }
    // FHIR -> XDS -> FHIR: the DocumentReference made from the entry read back is the same.
    JsonValue again = DocumentReferenceFromEntry(*back, "Patient/p1", entry.OnDemand() ? "" : "Binary/b1");
    if (WriteJson(again) != WriteJson(dr)) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << " case " << i << ": FHIR -> XDS -> FHIR changed the resource\n"
                    << WriteJson(dr, true) << "\n---\n" << WriteJson(again, true);
    }
  }
  EXPECT_EQ(failures, 0) << "replay with CARNET_PROPERTY_SEED=" << seed;
}

// SubmissionSets and Folders as MHD Lists and back.
TEST(MappingPropertyTest, SubmissionSetsAndFoldersAreLossless) {
  unsigned seed = Seed();
  std::printf("[ property ] CARNET_PROPERTY_SEED=%u\n", seed);
  Generator g(seed);
  int failures = 0;
  for (int i = 0; i < 300 && failures < 3; ++i) {
    xds::SubmissionSet set = GenerateSet(g);
    JsonValue list = ListFromSubmissionSet(set, "Patient/p1", {"DocumentReference/d1"});
    for (const auto& issue : model::ValidateResource(list))
      if (issue.severity == "error") {
        ++failures;
        ADD_FAILURE() << "seed " << seed << " set " << i << ": " << issue.expression << ": " << issue.message;
      }
    xds::SubmissionSet back = SubmissionSetFromList(list, set.patient_id);
    for (auto& a : back.authors) a.classification_id.clear();
    set.content_type_code.classification_id.clear();
    back.content_type_code.classification_id.clear();
    if (!(back == set)) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << " set " << i << ": SubmissionSet -> List -> SubmissionSet changed it\n"
                    << WriteJson(list, true);
    }
    xds::Folder folder = GenerateFolder(g);
    JsonValue fl = ListFromFolder(folder, "Patient/p1", {"DocumentReference/d1"});
    for (const auto& issue : model::ValidateResource(fl))
      if (issue.severity == "error") {
        ++failures;
        ADD_FAILURE() << "seed " << seed << " folder " << i << ": " << issue.expression << ": " << issue.message;
      }
    xds::Folder fback = FolderFromList(fl, folder.patient_id);
    for (auto& c : fback.codes) c.classification_id.clear();
    if (!(fback == folder)) {
      ++failures;
      ADD_FAILURE() << "seed " << seed << " folder " << i << ": Folder -> List -> Folder changed it\n"
                    << WriteJson(fl, true);
    }
  }
  EXPECT_EQ(failures, 0) << "replay with CARNET_PROPERTY_SEED=" << seed;
}

}  // namespace
}  // namespace carnet::mapping
