#include "bench/dossier.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "base/strings.h"

namespace carnet::bench {
namespace {

// SplitMix64: seeds derived from (seed, stream, index) so that each patient and each
// document has its own stream, whatever was generated before.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
uint64_t SeedOf(uint64_t seed, uint64_t stream, uint64_t index) {
  return Mix(Mix(seed ^ Mix(stream)) ^ index);
}

using Rng = std::mt19937_64;

int Uniform(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
double Unit(Rng& rng) { return std::uniform_real_distribution<double>(0, 1)(rng); }
bool Chance(Rng& rng, double p) { return Unit(rng) < p; }
template <typename T, size_t N>
const T& Pick(Rng& rng, const T (&items)[N]) {
  return items[Uniform(rng, 0, static_cast<int>(N) - 1)];
}

std::string Pad(long long v, int width) {
  std::string s = std::to_string(v);
  return std::string(width > static_cast<int>(s.size()) ? width - s.size() : 0, '0') + s;
}

// Days since 1970-01-01 <-> civil date (Howard Hinnant's algorithm), for dates in a range.
std::string DateOfDay(long long z) {
  z += 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = yoe + era * 400;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  long long d = doy - (153 * mp + 2) / 5 + 1;
  long long m = mp + (mp < 10 ? 3 : -9);
  return Pad(y + (m <= 2), 4) + "-" + Pad(m, 2) + "-" + Pad(d, 2);
}
constexpr long long kDay2019 = 17897;  // 2019-01-01
constexpr long long kDay2026 = 20454;  // 2026-01-01

std::string Instant(long long day, int minute_of_day) {
  return DateOfDay(day) + "T" + Pad(minute_of_day / 60, 2) + ":" + Pad(minute_of_day % 60, 2) +
         ":00Z";
}

JsonValue Json(const std::string& text) {
  auto v = ParseJson(text);
  if (!v.ok()) {
    std::fprintf(stderr, "carnet-bench: generator template does not parse: %s\n%s\n",
                 v.status().ToString().c_str(), text.c_str());
    std::abort();
  }
  return std::move(v).value();
}

std::string Q(const std::string& s) { return "\"" + JsonEscape(s) + "\""; }

// --- names and codes -------------------------------------------------------------------

const char* const kFamilies[] = {"MARTIN",   "BERNARD", "THOMAS", "PETIT",   "ROBERT",   "RICHARD",
                                 "DURAND",   "DUBOIS",  "MOREAU", "LAURENT", "SIMON",    "MICHEL",
                                 "LEFEBVRE", "LEROY",   "ROUX",   "DAVID",   "BERTRAND", "MOREL",
                                 "FOURNIER", "GIRARD",  "BONNET", "DUPONT",  "LAMBERT",  "FONTAINE",
                                 "ROUSSEAU", "VINCENT", "MULLER", "LEFEVRE", "FAURE",    "ANDRE"};
const char* const kGivenF[] = {"Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Camille",
                               "Léa",   "Chloé",    "Manon",    "Inès",   "Françoise", "Monique"};
const char* const kGivenM[] = {"Jean",  "Pierre", "Michel", "Philippe", "Nicolas",  "Thomas",
                               "Lucas", "Hugo",   "Louis",  "Gabriel",  "François", "Jérôme"};
const char* const kCities[][2] = {
    {"Paris", "75011"},    {"Lyon", "69003"},       {"Marseille", "13005"}, {"Toulouse", "31000"},
    {"Nantes", "44000"},   {"Lille", "59000"},      {"Rennes", "35000"},    {"Brest", "29200"},
    {"Grenoble", "38000"}, {"Strasbourg", "67000"}, {"Limoges", "87000"},   {"Ajaccio", "20000"}};

const char* const kLoinc = "http://loinc.org";
const char* const kDmpTypes = "urn:oid:1.2.250.1.213.1.1.4.12";   // TRE_A05 (local DMP types)
const char* const kDmpClasses = "urn:oid:1.2.250.1.213.1.1.4.1";  // TRE_A03 (classCode)
const char* const kFacilities = "urn:oid:1.2.250.1.71.4.2.4";     // TRE_R02 (facility type)
const char* const kSettings = "urn:oid:1.2.250.1.213.1.1.4.9";    // TRE_A00 (practice setting)

// The French mix (issue 8): share in percent, and the size range of the kind.
struct DocKind {
  const char* system;
  const char* code;
  const char* display;
  const char* class_code;
  const char* class_display;
  int share;
  double min_kb, max_kb;
  const char* facility;  // healthcareFacilityTypeCode
  const char* setting;   // practiceSettingCode
};
const DocKind kKinds[] = {
    {kLoinc, "11502-2", "CR d'examens biologiques", "10", "Compte rendu", 40, 20, 600, "SA25",
     "AMBULATOIRE"},
    {kLoinc, "57833-6", "Prescription de produits de santé", "30", "Prescription", 25, 20, 150,
     "SA07", "AMBULATOIRE"},
    {kLoinc, "11490-0", "Lettre de liaison à la sortie", "10", "Compte rendu", 15, 40, 1000, "SA01",
     "ETABLISSEMENT"},
    {kLoinc, "18748-4", "CR d'imagerie médicale", "20", "Imagerie médicale", 5, 200, 2000, "SA29",
     "AMBULATOIRE"},
    {kDmpTypes, "CERT_MED", "Certificat médical", "60", "Certificat", 5, 20, 100, "SA07",
     "AMBULATOIRE"},
    {kLoinc, "60591-5", "Volet de synthèse médicale", "11", "Synthèse", 5, 40, 500, "SA07",
     "AMBULATOIRE"},
    {kDmpTypes, "DOC_PATIENT", "Document déposé par le patient", "90", "Dépôt du patient", 5, 20,
     2000, "SA07", "AMBULATOIRE"},
};

// Laboratory results: LOINC, display, UCUM unit, reference range, decimals.
struct Analyte {
  const char* code;
  const char* display;
  const char* unit;
  double low, high;
  int decimals;
};
const Analyte kAnalytes[] = {
    {"2345-7", "Glucose [Mass/volume] in Serum or Plasma", "g/L", 0.70, 1.10, 2},
    {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/L", 6, 12, 1},
    {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12, 17, 1},
    {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4, 6, 1},
    {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "g/L", 1.5, 2.0, 2},
    {"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.0, 1},
    {"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 136, 145, 0},
    {"6690-2", "Leukocytes [#/volume] in Blood", "10*9/L", 4, 10, 1},
    {"777-3", "Platelets [#/volume] in Blood", "10*9/L", 150, 400, 0},
    {"1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 7,
     40, 0},
};

const char* const kAllergies[][3] = {{"764146007", "Penicillin", "medication"},
                                     {"372687004", "Amoxicillin", "medication"},
                                     {"387458008", "Aspirin", "medication"},
                                     {"256349002", "Peanut", "food"},
                                     {"102263004", "Eggs", "food"},
                                     {"111088007", "Latex", "environment"},
                                     {"256259004", "Pollen", "environment"}};
const char* const kMedications[][3] = {
    {"A10BA02", "metformine", "1 comprimé matin et soir"},
    {"C09AA05", "ramipril", "1 comprimé le matin"},
    {"C10AA05", "atorvastatine", "1 comprimé le soir"},
    {"N02BE01", "paracétamol", "1 g si douleur, 3 fois par jour au plus"},
    {"R03AC02", "salbutamol", "2 bouffées si gêne respiratoire"},
    {"H03AA01", "lévothyroxine", "1 comprimé le matin à jeun"},
    {"C07AB07", "bisoprolol", "1 comprimé le matin"},
    {"B01AC06", "acide acétylsalicylique", "75 mg par jour"},
    {"N06AB10", "escitalopram", "10 mg le matin"},
    {"A02BC01", "oméprazole", "20 mg le soir"}};
const char* const kVaccines[][2] = {{"141", "Influenza, seasonal, injectable"},
                                    {"208", "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose"},
                                    {"115", "Tdap"},
                                    {"03", "MMR"},
                                    {"08", "Hep B, adolescent or pediatric"},
                                    {"133", "Pneumococcal conjugate PCV 13"},
                                    {"62", "HPV, quadrivalent"}};

// --- professionals ---------------------------------------------------------------------

struct Profession {
  const char* code;       // TRE_G15
  const char* specialty;  // TRE_R38
  int weight;
};
const Profession kProfessions[] = {{"10", "SM54", 40}, {"10", "SM04", 8}, {"10", "SM15", 5},
                                   {"10", "SM26", 2},  {"21", "", 15},    {"60", "", 15},
                                   {"50", "", 5},      {"70", "", 10}};
constexpr int kProfessionals = 400;

std::vector<profiles::Actor> MakeProfessionals() {
  std::vector<profiles::Actor> out;
  Rng rng(SeedOf(7, 1, 0));  // the same pool whatever the seed
  int total = 0;
  for (const auto& p : kProfessions) total += p.weight;
  for (int j = 0; j < kProfessionals; ++j) {
    int roll = Uniform(rng, 0, total - 1);
    const Profession* prof = &kProfessions[0];
    for (const auto& p : kProfessions)
      if ((roll -= p.weight) < 0) {
        prof = &p;
        break;
      }
    profiles::Actor a;
    a.kind = profiles::ActorKind::kProfessional;
    a.issuer = "https://auth.esante.gouv.fr/auth/realms/esante-wallet";
    a.national_id = "810" + Pad(j + 1, 8);
    a.subject = a.national_id;
    a.profession = prof->code;
    a.specialty = prof->specialty;
    a.organisation = "750" + Pad(100000 + j / 4, 6);  // FINESS-like, four per structure
    a.consent_asserted = true;
    out.push_back(std::move(a));
  }
  return out;
}

// The doctors among the professionals: the authors of documents.
const std::vector<int>& Doctors() {
  static const std::vector<int> doctors = [] {
    std::vector<int> d;
    const auto& pros = AccessActors();
    for (size_t j = 0; j < pros.size(); ++j)
      if (pros[j].profession == "10") d.push_back(static_cast<int>(j));
    return d;
  }();
  return doctors;
}

// --- document bytes --------------------------------------------------------------------

// A PDF-like byte stream (xoshiro256**, incompressible) of `size` bytes for document n:
// returns its first `keep` bytes and sets *sha1_b64 to the SHA-1 of all of them, in base64
// (FHIR attachment.hash). The stream is produced in blocks, so that a 2 MB document is never
// held in memory unless kept whole.
std::string DocumentBytes(uint64_t seed, long long n, size_t size, size_t keep,
                          std::string* sha1_b64) {
  uint64_t s[4];
  for (int i = 0; i < 4; ++i) s[i] = SeedOf(seed, 3, static_cast<uint64_t>(n) * 4 + i);
  auto next = [&s]() {
    auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  };
  static const std::string kHeader = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha1(), nullptr);
  std::string kept;
  kept.reserve(std::min(size, keep));
  std::string block(64 * 1024, '\0');
  for (size_t done = 0; done < size;) {
    size_t n_bytes = std::min(block.size(), size - done);
    for (size_t i = 0; i < n_bytes; i += 8) {
      uint64_t r = next();
      std::memcpy(&block[i], &r, std::min<size_t>(8, n_bytes - i));
    }
    if (done == 0)
      block.replace(0, std::min(kHeader.size(), n_bytes), kHeader, 0,
                    std::min(kHeader.size(), n_bytes));
    EVP_DigestUpdate(md, block.data(), n_bytes);
    if (kept.size() < keep) kept.append(block, 0, std::min(n_bytes, keep - kept.size()));
    done += n_bytes;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(md, digest, &len);
  EVP_MD_CTX_free(md);
  *sha1_b64 = Base64Encode(std::string_view(reinterpret_cast<char*>(digest), len));
  return kept;
}

// A deterministic version-4-shaped UUID (the entryUUID of an XDS document).
std::string UuidOf(uint64_t a, uint64_t b) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    uint64_t word = i < 16 ? a : b;
    int nibble = static_cast<int>((word >> (4 * (15 - i % 16))) & 15);
    if (i == 12) nibble = 4;
    if (i == 16) nibble = 8 | (nibble & 3);
    out.push_back(kHex[nibble]);
    if (i == 7 || i == 11 || i == 15 || i == 19) out.push_back('-');
  }
  return out;
}

// --- the resources ---------------------------------------------------------------------

struct PatientFacts {
  bool female = false;
  long long birth_day = 0;  // days since the epoch
  std::string family, given;
};

// Sex and birth date follow from the patient number alone (the INS is built from them and
// carnet-bench http computes INS without knowing the seed).
PatientFacts FactsOf(int p) {
  Rng rng(SeedOf(11, 2, static_cast<uint64_t>(p)));
  PatientFacts f;
  f.female = Chance(rng, 0.52);
  f.birth_day = Uniform(rng, -18262, 18262 + 365 * 4);  // 1920 to 2023
  f.family = Pick(rng, kFamilies);
  f.given = f.female ? Pick(rng, kGivenF) : Pick(rng, kGivenM);
  return f;
}

JsonValue PatientResource(int p, const PatientFacts& f, Rng& rng) {
  const auto& city = Pick(rng, kCities);
  std::string phone = "06" + Pad(Uniform(rng, 0, 99999999), 8);
  return Json(
      R"({"resourceType":"Patient","id":)" + Q(PatientId(p)) +
      R"(,"identifier":[{"use":"official","type":{"coding":[{"system":"http://interopsante.org/fhir/CodeSystem/fr-v2-0203","code":"INS-NIR"}]},"system":"urn:oid:1.2.250.1.213.1.4.10","value":)" +
      Q(Ins(p)) + R"(}],"active":true,"name":[{"use":"official","family":)" + Q(f.family) +
      R"(,"given":[)" + Q(f.given) + R"(]}],"telecom":[{"system":"phone","value":)" + Q(phone) +
      R"(,"use":"mobile"}],"gender":)" + Q(f.female ? "female" : "male") + R"(,"birthDate":)" +
      Q(DateOfDay(f.birth_day)) + R"(,"address":[{"use":"home","city":)" + Q(city[0]) +
      R"(,"postalCode":)" + Q(city[1]) + R"(,"country":"FRA"}]})");
}

struct DocumentPlan {
  long long n = 0;  // global number
  const DocKind* kind = nullptr;
  long long day = 0;
  int minute = 0;
  size_t size = 0;
  int author = 0;  // index in AccessActors()
  bool masked = false;
};

JsonValue DocumentReferenceResource(const Dossier& d, const DocumentPlan& plan,
                                    const std::string& hash, uint64_t seed) {
  const DocKind& k = *plan.kind;
  std::string id = DocumentId(plan.n);
  std::string when = Instant(plan.day, plan.minute);
  std::string author_ref, contained;
  if (std::string(k.code) == "DOC_PATIENT") {
    author_ref = "Patient/" + d.patient_id;
  } else {
    const profiles::Actor& a = AccessActors()[plan.author];
    author_ref = "#author";
    contained =
        R"("contained":[{"resourceType":"Practitioner","id":"author","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1","value":)" +
        Q(a.national_id) + R"(}],"name":[{"family":)" + Q(kFamilies[plan.author % 30]) +
        R"(,"given":[)" + Q(kGivenM[plan.author % 12]) + R"(],"prefix":["Dr"]}]}],)";
  }
  std::string labels =
      R"({"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N","display":"normal"}]})";
  if (plan.masked)
    labels +=
        R"(,{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS","display":"Masqué aux professionnels de santé"}]})";
  std::string entry_uuid = UuidOf(SeedOf(seed, 4, static_cast<uint64_t>(plan.n)),
                                  SeedOf(seed, 5, static_cast<uint64_t>(plan.n)));
  return Json(
      "{\"resourceType\":\"DocumentReference\",\"id\":" + Q(id) + "," + contained +
      R"("masterIdentifier":{"system":"urn:ietf:rfc:3986","value":"urn:oid:1.2.250.1.999.77.)" +
      std::to_string(plan.n) +
      R"("},"identifier":[{"use":"official","system":"urn:ietf:rfc:3986","value":"urn:uuid:)" +
      entry_uuid + R"("}],"status":"current","type":{"coding":[{"system":)" + Q(k.system) +
      R"(,"code":)" + Q(k.code) + R"(,"display":)" + Q(k.display) +
      R"(}]},"category":[{"coding":[{"system":)" + Q(kDmpClasses) + R"(,"code":)" +
      Q(k.class_code) + R"(,"display":)" + Q(k.class_display) + R"(}]}],"subject":{"reference":)" +
      Q("Patient/" + d.patient_id) + R"(},"date":)" + Q(when) + R"(,"author":[{"reference":)" +
      Q(author_ref) + R"(}],"securityLabel":[)" + labels +
      R"(],"content":[{"attachment":{"contentType":"application/pdf","language":"fr-FR","url":)" +
      Q("Binary/" + id + "-bin") + R"(,"size":)" + std::to_string(plan.size) + R"(,"hash":)" +
      Q(hash) + R"(,"title":)" + Q(k.display) + R"(,"creation":)" + Q(when) +
      R"(},"format":{"system":"urn:oid:1.3.6.1.4.1.19376.1.2.3","code":"urn:ihe:iti:xds-sd:pdf:2008","display":"PDF embedded in CDA"}}],"context":{"period":{"start":)" +
      Q(when) + R"(,"end":)" + Q(when) + R"(},"facilityType":{"coding":[{"system":)" +
      Q(kFacilities) + R"(,"code":)" + Q(k.facility) +
      R"(}]},"practiceSetting":{"coding":[{"system":)" + Q(kSettings) + R"(,"code":)" +
      Q(k.setting) + R"(}]}}})");
}

JsonValue BinaryResource(const std::string& dr_id, const std::string& bytes) {
  JsonValue bin = JsonValue::Object();
  bin.Set("resourceType", JsonValue::String("Binary"));
  bin.Set("id", JsonValue::String(dr_id + "-bin"));
  bin.Set("contentType", JsonValue::String("application/pdf"));
  JsonValue ctx = JsonValue::Object();
  ctx.Set("reference", JsonValue::String("DocumentReference/" + dr_id));
  bin.Set("securityContext", std::move(ctx));
  bin.Set("data", JsonValue::String(Base64Encode(bytes)));
  return bin;
}

std::string Decimal(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

JsonValue LabObservation(const Dossier& d, const std::string& id, const std::string& dr_id,
                         const Analyte& a, const std::string& when, Rng& rng) {
  double mid = (a.low + a.high) / 2, spread = (a.high - a.low) / 2;
  double v = std::max(0.0, mid + spread * 1.2 * std::normal_distribution<double>(0, 1)(rng));
  std::string unit = Q(a.unit);
  return Json(
      R"({"resourceType":"Observation","id":)" + Q(id) +
      R"(,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":)" +
      Q(a.code) + R"(,"display":)" + Q(a.display) + R"(}]},"subject":{"reference":)" +
      Q("Patient/" + d.patient_id) + R"(},"effectiveDateTime":)" + Q(when) + R"(,"issued":)" +
      Q(when) + R"(,"valueQuantity":{"value":)" + Decimal(v, a.decimals) + R"(,"unit":)" + unit +
      R"(,"system":"http://unitsofmeasure.org","code":)" + unit +
      R"(},"referenceRange":[{"low":{"value":)" + Decimal(a.low, a.decimals) + R"(,"unit":)" +
      unit + R"(,"system":"http://unitsofmeasure.org","code":)" + unit + R"(},"high":{"value":)" +
      Decimal(a.high, a.decimals) + R"(,"unit":)" + unit +
      R"(,"system":"http://unitsofmeasure.org","code":)" + unit +
      R"(}}],"derivedFrom":[{"reference":)" + Q("DocumentReference/" + dr_id) + "}]}");
}

JsonValue VitalSign(const Dossier& d, const std::string& id, bool weight, double value,
                    const std::string& when) {
  std::string code = weight ? "29463-7" : "8302-2",
              display = weight ? "Body weight" : "Body height";
  std::string unit = weight ? "kg" : "cm";
  return Json(
      R"({"resourceType":"Observation","id":)" + Q(id) +
      R"(,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}]}],"code":{"coding":[{"system":"http://loinc.org","code":)" +
      Q(code) + R"(,"display":)" + Q(display) + R"(}]},"subject":{"reference":)" +
      Q("Patient/" + d.patient_id) + R"(},"effectiveDateTime":)" + Q(when) +
      R"(,"valueQuantity":{"value":)" + Decimal(value, 1) + R"(,"unit":)" + Q(unit) +
      R"(,"system":"http://unitsofmeasure.org","code":)" + Q(unit) + "}}");
}

JsonValue Allergy(const Dossier& d, const std::string& id, int which, const std::string& date,
                  Rng& rng) {
  const auto& a = kAllergies[which];
  return Json(
      R"({"resourceType":"AllergyIntolerance","id":)" + Q(id) +
      R"(,"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification","code":"confirmed"}]},"type":"allergy","category":[)" +
      Q(a[2]) + R"(],"criticality":)" + Q(Chance(rng, 0.2) ? "high" : "low") +
      R"(,"code":{"coding":[{"system":"http://snomed.info/sct","code":)" + Q(a[0]) +
      R"(,"display":)" + Q(a[1]) + R"(}]},"patient":{"reference":)" + Q("Patient/" + d.patient_id) +
      R"(},"recordedDate":)" + Q(date) + "}");
}

JsonValue Medication(const Dossier& d, const std::string& id, int which, const std::string& start,
                     bool active) {
  const auto& m = kMedications[which];
  return Json(
      R"({"resourceType":"MedicationStatement","id":)" + Q(id) + R"(,"status":)" +
      Q(active ? "active" : "completed") +
      R"(,"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":)" +
      Q(m[0]) + R"(,"display":)" + Q(m[1]) + R"(}]},"subject":{"reference":)" +
      Q("Patient/" + d.patient_id) + R"(},"effectivePeriod":{"start":)" + Q(start) +
      R"(},"dateAsserted":)" + Q(start) + R"(,"dosage":[{"text":)" + Q(m[2]) + "}]}");
}

JsonValue Vaccination(const Dossier& d, const std::string& id, int which, const std::string& date,
                      int dose, Rng& rng) {
  const auto& v = kVaccines[which];
  return Json(
      R"({"resourceType":"Immunization","id":)" + Q(id) +
      R"(,"status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":)" +
      Q(v[0]) + R"(,"display":)" + Q(v[1]) + R"(}]},"patient":{"reference":)" +
      Q("Patient/" + d.patient_id) + R"(},"occurrenceDateTime":)" + Q(date) +
      R"(,"primarySource":true,"lotNumber":)" + Q("L" + Pad(Uniform(rng, 0, 999999), 6)) +
      R"(,"protocolApplied":[{"doseNumberPositiveInt":)" + std::to_string(dose) + "}]}");
}

// --- a dossier -------------------------------------------------------------------------

std::vector<DocumentPlan> PlanDocuments(long long first, long long count, Rng& rng) {
  int total = 0;
  for (const auto& k : kKinds) total += k.share;
  std::vector<DocumentPlan> plans;
  std::vector<long long> days;
  for (long long i = 0; i < count; ++i) days.push_back(Uniform(rng, kDay2019, kDay2026 - 1));
  std::sort(days.begin(), days.end());  // a record grows in time order
  const auto& doctors = Doctors();
  for (long long i = 0; i < count; ++i) {
    DocumentPlan plan;
    plan.n = first + i;
    int roll = Uniform(rng, 0, total - 1);
    for (const auto& k : kKinds)
      if ((roll -= k.share) < 0) {
        plan.kind = &k;
        break;
      }
    plan.day = days[i];
    plan.minute = Uniform(rng, 7 * 60, 19 * 60);
    // Skewed towards small documents: min * (max/min)^(u^2).
    double u = Unit(rng);
    plan.size = static_cast<size_t>(1000 * plan.kind->min_kb *
                                    std::pow(plan.kind->max_kb / plan.kind->min_kb, u * u));
    plan.author = doctors[Uniform(rng, 0, static_cast<int>(doctors.size()) - 1)];
    plan.masked = Chance(rng, 0.02);
    plans.push_back(plan);
  }
  return plans;
}

void AddDocuments(Dossier& d, const std::vector<DocumentPlan>& plans, const DossierOptions& o,
                  Rng& rng) {
  for (const DocumentPlan& plan : plans) {
    std::string id = DocumentId(plan.n);
    // Which documents keep their bytes: a per-document draw, independent of the others.
    double draw = static_cast<double>(SeedOf(o.seed, 6, static_cast<uint64_t>(plan.n)) >> 11) /
                  9007199254740992.0;
    bool whole = draw < o.content_fraction;
    std::string hash;
    std::string bytes =
        DocumentBytes(o.seed, plan.n, plan.size, whole ? plan.size : o.elided_bytes, &hash);
    d.writes.push_back({"DocumentReference", id, DocumentReferenceResource(d, plan, hash, o.seed)});
    d.writes.push_back({"Binary", id + "-bin", BinaryResource(id, bytes)});
    ++d.documents;
    if (std::string(plan.kind->code) != "11502-2") continue;
    // A lab report's results become profile entries.
    int results = Uniform(rng, 2, 6);
    int start = Uniform(rng, 0, 9);
    for (int r = 0; r < results; ++r) {
      std::string oid = id + "-o" + std::to_string(r);
      d.writes.push_back({"Observation", oid,
                          LabObservation(d, oid, id, kAnalytes[(start + r) % 10],
                                         Instant(plan.day, plan.minute), rng)});
    }
  }
}

void AddProfile(Dossier& d, const PatientFacts& f, Rng& rng) {
  auto day = [&] { return DateOfDay(Uniform(rng, kDay2019, kDay2026 - 1)); };
  int allergies = Chance(rng, 0.25) ? (Chance(rng, 0.2) ? 2 : 1) : 0;
  for (int i = 0; i < allergies; ++i) {
    std::string id = d.patient_id + "-a" + std::to_string(i);
    d.writes.push_back({"AllergyIntolerance", id, Allergy(d, id, Uniform(rng, 0, 6), day(), rng)});
  }
  // Older patients take more treatments.
  double age = (kDay2026 - f.birth_day) / 365.25;
  int treatments =
      std::min(8, static_cast<int>(std::poisson_distribution<int>(0.3 + age / 25)(rng)));
  for (int i = 0; i < treatments; ++i) {
    std::string id = d.patient_id + "-m" + std::to_string(i);
    d.writes.push_back({"MedicationStatement", id,
                        Medication(d, id, Uniform(rng, 0, 9), day(), Chance(rng, 0.7))});
  }
  int vaccinations = Uniform(rng, 2, 8);
  for (int i = 0; i < vaccinations; ++i) {
    std::string id = d.patient_id + "-v" + std::to_string(i);
    d.writes.push_back(
        {"Immunization", id, Vaccination(d, id, Uniform(rng, 0, 6), day(), 1 + i / 3, rng)});
  }
  int vitals = Uniform(rng, 0, 3);
  for (int i = 0; i < vitals; ++i) {
    std::string id = d.patient_id + "-s" + std::to_string(i);
    bool weight = i % 2 == 0;
    double value = weight ? 45 + 40 * Unit(rng) : 150 + 40 * Unit(rng);
    d.writes.push_back({"Observation", id, VitalSign(d, id, weight, value, day() + "T09:00:00Z")});
  }
}

// The access history: care episodes (a professional searches the record, then reads some
// documents and, one time in two, their content) and the patient reading their documents.
void AddAccesses(Dossier& d, const std::vector<DocumentPlan>& plans, Rng& rng) {
  int n = 0;
  auto add = [&](int actor, std::string path, std::string query) {
    Access a;
    a.actor = actor;
    a.path = std::move(path);
    a.query = std::move(query);
    a.request_id = "bench-" + d.patient_id + "-r" + std::to_string(n++);
    a.client_address =
        actor < 0 ? "192.0.2." + std::to_string(1 + d.patient % 250)
                  : "10.20." + std::to_string(actor / 250) + "." + std::to_string(1 + actor % 250);
    d.accesses.push_back(std::move(a));
  };
  auto read_some = [&](int actor, int count) {
    for (int i = 0; i < count && !plans.empty(); ++i) {
      std::string id = DocumentId(plans[Uniform(rng, 0, static_cast<int>(plans.size()) - 1)].n);
      add(actor, "/fhir/DocumentReference/" + id, "");
      if (Chance(rng, 0.5)) add(actor, "/fhir/Binary/" + id + "-bin", "");
    }
  };
  static const int kEpisodeWeights[] = {25, 35, 25, 10, 5};
  int roll = Uniform(rng, 0, 99), episodes = 0;
  while (episodes < 4 && (roll -= kEpisodeWeights[episodes]) >= 0) ++episodes;
  for (int e = 0; e < episodes; ++e) {
    int actor = Uniform(rng, 0, kProfessionals - 1);
    add(actor, "/fhir/DocumentReference", "patient=" + d.patient_id);
    read_some(actor, Uniform(rng, 1, 3));
  }
  if (Chance(rng, 0.3)) read_some(-1, Uniform(rng, 1, 3));
}

}  // namespace

std::string PatientId(int p) { return "bench-p" + std::to_string(p); }
std::string DocumentId(long long n) { return "bench-d" + std::to_string(n); }

// A test INS (13 digits, NIR-shaped): sex, year and month of birth, then the patient number
// on eight digits where a NIR has its place of birth and order number (unique by design).
std::string Ins(int p) {
  PatientFacts f = FactsOf(p);
  std::string date = DateOfDay(f.birth_day);
  return std::string(f.female ? "2" : "1") + date.substr(2, 2) + date.substr(5, 2) + Pad(p, 8);
}

bool IsMinor(int p) { return (kDay2026 - FactsOf(p).birth_day) / 365.25 < 18; }

const profiles::Actor& LoaderActor() {
  static const profiles::Actor loader = [] {
    profiles::Actor a;
    a.kind = profiles::ActorKind::kSystem;
    a.client_id = "bench-loader";
    a.scopes = profiles::ParseSmartScopes("system/*.cruds");
    return a;
  }();
  return loader;
}

const std::vector<profiles::Actor>& AccessActors() {
  static const std::vector<profiles::Actor> pros = MakeProfessionals();
  return pros;
}

profiles::Actor PatientActor(const Dossier& d) {
  profiles::Actor a;
  a.kind = profiles::ActorKind::kPatient;
  a.issuer = "https://carnet.example.org/idp";
  a.subject = "bench-user-" + std::to_string(d.patient);
  a.patient_ins = d.ins;
  return a;
}

DossierGenerator::DossierGenerator(DossierOptions options) : options_(std::move(options)) {
  // Documents per patient: lognormal weights (a few patients with many documents, many
  // with few), scaled to the total asked for; the remainder goes one each to the first ones.
  int n = std::max(1, options_.patients);
  std::vector<double> w(n);
  double total = 0;
  for (int p = 0; p < n; ++p) {
    Rng rng(SeedOf(options_.seed, 8, static_cast<uint64_t>(p)));
    total += w[p] = std::exp(0.9 * std::normal_distribution<double>(0, 1)(rng));
  }
  std::vector<long long> counts(n);
  long long given = 0;
  for (int p = 0; p < n; ++p)
    given += counts[p] = static_cast<long long>(options_.documents * w[p] / total);
  for (int p = 0; given < options_.documents; p = (p + 1) % n, ++given) ++counts[p];
  first_document_.assign(n + 1, 0);
  for (int p = 0; p < n; ++p) first_document_[p + 1] = first_document_[p] + counts[p];
}

Dossier DossierGenerator::Generate(int p) const {
  Rng rng(SeedOf(options_.seed, 9, static_cast<uint64_t>(p)));
  PatientFacts facts = FactsOf(p);
  Dossier d;
  d.patient = p;
  d.patient_id = PatientId(p);
  d.ins = Ins(p);
  d.writes.push_back({"Patient", d.patient_id, PatientResource(p, facts, rng)});
  auto plans = PlanDocuments(first_document_[p], first_document_[p + 1] - first_document_[p], rng);
  AddDocuments(d, plans, options_, rng);
  AddProfile(d, facts, rng);
  AddAccesses(d, plans, rng);
  return d;
}

}  // namespace carnet::bench
