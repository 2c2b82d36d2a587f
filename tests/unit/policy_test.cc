// The policy decision point (profiles/policy.h): a table of actor kind x situation ->
// decision, then the search filters and the resource summary.
#include "profiles/policy.h"

#include <gtest/gtest.h>

#include <functional>

namespace carnet::profiles {
namespace {

constexpr long long kNow = 1'800'000'000;
const std::string kIns = "2770675123456";  // test INS of the record
const std::string kOtherIns = "1840675999999";
const std::string kTreating = "810000000001";  // treating physician (RPPS)
const std::string kCareTeam = "810000000002";  // care team member
const std::string kOutsider = "810000000003";  // a doctor who does not follow the patient

RecordContext Record() {
  RecordContext r;
  r.patient_key = 7;
  r.patient_id = "pat-7";
  r.ins = kIns;
  r.treating_physician = kTreating;
  r.care_team = {kCareTeam};
  r.authorised_apps = {
      {"app-1", ParseSmartScopes("patient/*.rs patient/Observation.c"), true, std::nullopt}};
  return r;
}

Actor Pro(const std::string& id, const std::string& profession = "10",
          const std::string& org = "ORG-1") {
  Actor a;
  a.kind = ActorKind::kProfessional;
  a.subject = "psc-" + id;
  a.national_id = id;
  a.profession = profession;
  a.organisation = org;
  return a;
}
Actor Emergency(const std::string& reason) {
  Actor a = Pro(kOutsider);
  a.emergency = true;
  a.emergency_reason = reason;
  return a;
}
Actor Consenting() {
  Actor a = Pro(kOutsider);
  a.consent_asserted = true;
  return a;
}
Actor Patient(const std::string& ins = kIns) {
  Actor a;
  a.kind = ActorKind::kPatient;
  a.subject = "citizen-1";
  a.patient_ins = ins;
  return a;
}
Actor Guardian() {
  Actor a;
  a.kind = ActorKind::kGuardian;
  a.subject = "parent-1";
  a.represented_ins = {kOtherIns, kIns};
  return a;
}
Actor App(const std::string& scopes = "patient/*.rs patient/Observation.c") {
  Actor a;
  a.kind = ActorKind::kApp;
  a.subject = "citizen-1";
  a.client_id = "app-1";
  a.patient_ins = kIns;
  a.scopes = ParseSmartScopes(scopes);
  return a;
}
Actor System() {
  Actor a;
  a.kind = ActorKind::kSystem;
  a.client_id = "lab-1";
  return a;
}
Actor Operator() {
  Actor a;
  a.kind = ActorKind::kOperator;
  a.subject = "op-1";
  return a;
}
Actor Insurer() {
  Actor a;
  a.kind = ActorKind::kDenied;
  a.subject = "mutuelle-1";
  a.denied_role = "insurer";
  return a;
}

ResourceSummary Doc(const std::string& type = "11490-0", std::vector<std::string> labels = {},
                    std::vector<std::string> authors = {"810000000099"}, std::string source = "") {
  ResourceSummary r;
  r.type = "DocumentReference";
  r.id = "doc-1";
  r.document_type = type;
  r.security = std::move(labels);
  r.author_ids = std::move(authors);
  r.source = std::move(source);
  return r;
}
ResourceSummary Res(const std::string& type) {
  ResourceSummary r;
  r.type = type;
  r.id = "x-1";
  return r;
}
// An Observation with these LOINC codes (a measurement, profiles/data/measurement_kinds.tsv).
ResourceSummary Measurement(std::vector<std::string> loinc) {
  ResourceSummary r = Res("Observation");
  r.loinc_codes = std::move(loinc);
  return r;
}

// kTold: refused, and the caller is told the record's state (a deposit source).
enum Expect { kAllow, kHidden, kForbidden, kToldClosed, kToldOpposed };

struct Case {
  std::string name;
  Actor actor;
  std::function<void(RecordContext&)> adjust;  // the situation
  ResourceSummary resource;
  Action action;
  Expect expect;
  bool emergency = false;
  bool consent = false;
};

const std::string kMasked(kMasquePs), kInvisiblePat(kInvisiblePatient),
    kInvisibleRep(kInvisibleRepresentants);

std::vector<Case> Cases() {
  auto same = [](RecordContext&) {};
  auto closed = [](RecordContext& r) { r.status = RecordStatus::kClosed; };
  auto opposed = [](RecordContext& r) { r.status = RecordStatus::kOpposed; };
  return {
      // Professionals: care relationship.
      {"care team doctor reads", Pro(kCareTeam), same, Doc(), Action::kRead, kAllow},
      {"treating physician reads", Pro(kTreating), same, Doc(), Action::kRead, kAllow},
      {"outsider without consent", Pro(kOutsider), same, Doc(), Action::kRead, kHidden},
      {"outsider with consent", Consenting(), same, Doc(), Action::kRead, kAllow, false, true},
      {"outsider with consent writes", Consenting(), same, Doc(), Action::kCreate, kAllow, false,
       true},
      // Blocks.
      {"blocked professional", Pro(kCareTeam),
       [](RecordContext& r) { r.blocked_professionals = {kCareTeam}; }, Doc(), Action::kRead,
       kHidden},
      {"blocked professional searches", Pro(kCareTeam),
       [](RecordContext& r) { r.blocked_professionals = {kCareTeam}; }, Doc(), Action::kSearch,
       kHidden},
      {"blocked organisation", Pro(kCareTeam),
       [](RecordContext& r) { r.blocked_organisations = {"ORG-1"}; }, Doc(), Action::kRead,
       kHidden},
      {"blocked professional even as author", Pro(kCareTeam),
       [](RecordContext& r) { r.blocked_professionals = {kCareTeam}; },
       Doc("11490-0", {}, {kCareTeam}), Action::kRead, kHidden},
      {"treating physician cannot be blocked", Pro(kTreating),
       [](RecordContext& r) {
         r.blocked_professionals = {kTreating};
         r.blocked_organisations = {"ORG-1"};
       },
       Doc(), Action::kRead, kAllow},
      // Masking and visibility.
      {"masked document, care team", Pro(kCareTeam), same, Doc("11490-0", {kMasked}), Action::kRead,
       kHidden},
      {"masked document, treating physician", Pro(kTreating), same, Doc("11490-0", {kMasked}),
       Action::kRead, kAllow},
      {"masked document, its author", Pro(kCareTeam), same, Doc("11490-0", {kMasked}, {kCareTeam}),
       Action::kRead, kAllow},
      {"author outside the care team sees their document", Pro(kOutsider), same,
       Doc("11490-0", {}, {kOutsider}), Action::kRead, kAllow},
      {"author outside the care team sees nothing else", Pro(kOutsider), same, Doc(), Action::kRead,
       kHidden},
      {"invisible-to-patient is visible to professionals", Pro(kCareTeam), same,
       Doc("11490-0", {kInvisiblePat}), Action::kRead, kAllow},
      // The habilitation matrix.
      {"unknown profession", Pro(kCareTeam, "99"), same, Doc(), Action::kRead, kHidden},
      {"pharmacist reads a prescription", Pro(kCareTeam, "21"), same, Doc("57833-6"), Action::kRead,
       kAllow},
      {"pharmacist reads a consultation note", Pro(kCareTeam, "21"), same, Doc("11488-4"),
       Action::kRead, kHidden},
      {"doctor reads the certificate of residence", Pro(kCareTeam), same, Doc("CERT_RESIDENCE"),
       Action::kRead, kHidden},
      {"document of an unknown type", Pro(kCareTeam), same, Doc("00000-0"), Action::kRead, kHidden},
      {"nurse may not write a discharge letter she may read", Pro(kCareTeam, "60"), same, Doc(),
       Action::kCreate, kForbidden},
      {"nurse writes a care plan", Pro(kCareTeam, "60"), same, Doc("18776-5"), Action::kCreate,
       kAllow},
      {"optician may not write a discharge letter she may not read", Pro(kCareTeam, "28"), same,
       Doc(), Action::kCreate, kHidden},
      {"doctor updates another's document", Pro(kCareTeam), same, Doc(), Action::kUpdate,
       kForbidden},
      {"doctor updates their document", Pro(kCareTeam), same, Doc("11490-0", {}, {kCareTeam}),
       Action::kUpdate, kAllow},
      {"professional masks a document", Pro(kTreating), same, Doc(), Action::kChangeVisibility,
       kForbidden},
      // Emergency.
      {"emergency with a reason", Emergency("coma, regulation SAMU"), same, Doc(), Action::kRead,
       kAllow, true},
      {"emergency search", Emergency("coma"), same, Doc(), Action::kSearch, kAllow, true},
      {"emergency without a reason", Emergency(""), same, Doc(), Action::kRead, kHidden},
      {"emergency opposed by the patient", Emergency("coma"),
       [](RecordContext& r) { r.emergency_opposed = true; }, Doc(), Action::kRead, kHidden},
      {"emergency on a masked document", Emergency("coma"), same, Doc("11490-0", {kMasked}),
       Action::kRead, kHidden},
      {"emergency is read-only", Emergency("coma"), same, Doc(), Action::kCreate, kForbidden},
      {"emergency inside its window", Emergency("coma"),
       [](RecordContext& r) { r.emergency_started_at = kNow - 600; }, Doc(), Action::kRead, kAllow,
       true},
      {"emergency window expired", Emergency("coma"),
       [](RecordContext& r) { r.emergency_started_at = kNow - 3600; }, Doc(), Action::kRead,
       kHidden},
      // Record status.
      {"closed record, treating physician", Pro(kTreating), closed, Doc(), Action::kRead, kHidden},
      {"closed record, patient reads the archive", Patient(), closed, Doc(), Action::kRead, kAllow},
      {"closed record, patient adds", Patient(), closed, Doc(), Action::kCreate, kForbidden},
      {"closed record, deposit", System(), closed, Doc(), Action::kCreate, kToldClosed},
      {"opposed record, patient", Patient(), opposed, Doc(), Action::kRead, kHidden},
      {"opposed record, treating physician", Pro(kTreating), opposed, Doc(), Action::kRead,
       kHidden},
      {"opposed record, deposit refused", System(), opposed, Doc(), Action::kCreate, kToldOpposed},
      {"opposed record, operator manages it", Operator(), opposed, Res("Patient"), Action::kUpdate,
       kAllow},
      // Patient.
      {"patient reads their document", Patient(), same, Doc(), Action::kRead, kAllow},
      {"patient reads a masked document", Patient(), same, Doc("11490-0", {kMasked}), Action::kRead,
       kAllow},
      {"invisible to the patient", Patient(), same, Doc("11490-0", {kInvisiblePat}), Action::kRead,
       kHidden},
      {"another patient's record", Patient(kOtherIns), same, Doc(), Action::kRead, kHidden},
      {"patient adds a document", Patient(), same, Doc("DOC_PATIENT"), Action::kCreate, kAllow},
      {"patient adds a profile entry", Patient(), same, Res("AllergyIntolerance"), Action::kCreate,
       kAllow},
      {"patient masks a document", Patient(), same, Doc(), Action::kChangeVisibility, kAllow},
      {"patient unmasks what they cannot see", Patient(), same, Doc("11490-0", {kInvisiblePat}),
       Action::kChangeVisibility, kHidden},
      {"patient rewrites a professional's document", Patient(), same, Doc(), Action::kUpdate,
       kForbidden},
      {"patient removes what they added", Patient(), same, Doc("DOC_PATIENT", {}, {}, "citizen-1"),
       Action::kDelete, kAllow},
      {"patient reads profile entries", Patient(), same, Res("Observation"), Action::kRead, kAllow},
      // Guardian.
      {"guardian reads the minor's document", Guardian(), same, Doc(), Action::kRead, kAllow},
      {"invisible to legal representatives", Guardian(), same, Doc("11490-0", {kInvisibleRep}),
       Action::kRead, kHidden},
      {"invisible to the patient hides from the guardian", Guardian(), same,
       Doc("11490-0", {kInvisiblePat}), Action::kRead, kHidden},
      {"patient still sees what guardians do not", Patient(), same, Doc("11490-0", {kInvisibleRep}),
       Action::kRead, kAllow},
      {"guardian of other children", Guardian(), [](RecordContext& r) { r.ins = "2990675000000"; },
       Doc(), Action::kRead, kHidden},
      // Apps.
      {"authorised app reads", App(), same, Doc(), Action::kRead, kAllow},
      {"app hidden document", App(), same, Doc("11490-0", {kInvisiblePat}), Action::kRead, kHidden},
      {"revoked app", App(), [](RecordContext& r) { r.authorised_apps.clear(); }, Doc(),
       Action::kRead, kHidden},
      {"inactive authorisation", App(),
       [](RecordContext& r) { r.authorised_apps[0].active = false; }, Doc(), Action::kRead,
       kHidden},
      {"app writes with a read scope", App(), same, Doc(), Action::kCreate, kForbidden},
      {"app creates an Observation (both allow)", App(), same, Res("Observation"), Action::kCreate,
       kAllow},
      {"app scope wider than the patient's consent", App("patient/*.cruds"), same, Doc(),
       Action::kCreate, kForbidden},
      {"patient consented to Observations only", App(),
       [](RecordContext& r) {
         r.authorised_apps[0].scopes = ParseSmartScopes("patient/Observation.rs");
       },
       Doc(), Action::kRead, kHidden},
      {"app of another patient", App(), [](RecordContext& r) { r.ins = kOtherIns; }, Doc(),
       Action::kRead, kHidden},
      // The kinds of measurement the patient lets the app write.
      {"app writes a consented kind", App(),
       [](RecordContext& r) {
         r.authorised_apps[0].measurement_kinds = std::vector<std::string>{"weight"};
       },
       Measurement({"29463-7"}), Action::kCreate, kAllow},
      {"app writes a kind not consented", App(),
       [](RecordContext& r) {
         r.authorised_apps[0].measurement_kinds = std::vector<std::string>{"weight"};
       },
       Measurement({"2339-0"}), Action::kCreate, kForbidden},
      {"app writes an Observation of no kind when kinds are chosen", App(),
       [](RecordContext& r) {
         r.authorised_apps[0].measurement_kinds = std::vector<std::string>{"weight"};
       },
       Measurement({"1234-5"}), Action::kCreate, kForbidden},
      {"app reads a kind it may not write", App(),
       [](RecordContext& r) {
         r.authorised_apps[0].measurement_kinds = std::vector<std::string>{"weight"};
       },
       Measurement({"2339-0"}), Action::kRead, kAllow},
      {"no kind chosen: every kind", App(), same, Measurement({"2339-0"}), Action::kCreate, kAllow},
      {"app does not block professionals", App(), same, Doc(), Action::kChangeVisibility,
       kForbidden},
      // Deposit source.
      {"deposit in any active record", System(), same, Doc(), Action::kCreate, kAllow},
      {"deposit source reads back its deposit", System(), same, Doc("11490-0", {}, {}, "lab-1"),
       Action::kRead, kAllow},
      {"deposit source reads another's document", System(), same, Doc(), Action::kRead, kHidden},
      {"deposit source creates a Condition", System(), same, Res("Condition"), Action::kCreate,
       kForbidden},
      // Operator.
      {"operator reads the record identity", Operator(), same, Res("Patient"), Action::kRead,
       kAllow},
      {"operator reads no medical content", Operator(), same, Doc(), Action::kRead, kHidden},
      {"operator reads no observations", Operator(), same, Res("Observation"), Action::kSearch,
       kHidden},
      // Denied parties.
      {"insurer", Insurer(), same, Doc(), Action::kRead, kHidden},
      {"insurer searches", Insurer(), same, Res("Patient"), Action::kSearch, kHidden},
      // The access history.
      {"patient reads their access history", Patient(), same, Res("AuditEvent"), Action::kSearch,
       kAllow},
      {"guardian reads the minor's history", Guardian(), same, Res("AuditEvent"), Action::kRead,
       kAllow},
      {"professional reads the access history", Pro(kTreating), same, Res("AuditEvent"),
       Action::kSearch, kHidden},
      {"nobody writes the access history", Patient(), same, Res("AuditEvent"), Action::kUpdate,
       kForbidden},
  };
}

TEST(PolicyTest, DecisionTable) {
  PolicyEnv env;
  env.now = kNow;
  for (const Case& c : Cases()) {
    RecordContext record = Record();
    c.adjust(record);
    Decision d = Decide(c.actor, record, c.resource, c.action, env);
    SCOPED_TRACE(c.name + " -> " + d.reason);
    switch (c.expect) {
      case kAllow:
        EXPECT_TRUE(d.allowed);
        EXPECT_EQ(d.refusal, ErrorCode::kOk);
        EXPECT_TRUE(d.ToStatus("DocumentReference/doc-1").ok());
        break;
      case kHidden:
        EXPECT_FALSE(d.allowed);
        EXPECT_EQ(d.refusal, ErrorCode::kNotFound);
        // Word for word what a missing resource answers.
        EXPECT_EQ(d.ToStatus("DocumentReference/doc-1").message(),
                  "DocumentReference/doc-1 is not known");
        break;
      case kForbidden:
        EXPECT_FALSE(d.allowed);
        EXPECT_EQ(d.refusal, ErrorCode::kForbidden);
        EXPECT_EQ(d.ToStatus("x").code(), ErrorCode::kForbidden);
        break;
      case kToldClosed:
      case kToldOpposed: {
        EXPECT_FALSE(d.allowed);
        ErrorCode code =
            c.expect == kToldClosed ? ErrorCode::kForbidden : ErrorCode::kUnknownPatient;
        EXPECT_EQ(d.refusal, code);
        EXPECT_EQ(d.ToStatus("x").code(), code);
        EXPECT_NE(d.ToStatus("x").message().find(c.expect == kToldClosed ? "closed" : "opposed"),
                  std::string::npos);
        // Reads stay hidden: only a deposit is told.
        Decision read = Decide(c.actor, record, c.resource, Action::kRead, env);
        EXPECT_EQ(read.refusal, ErrorCode::kNotFound);
        EXPECT_TRUE(read.shown.empty());
        break;
      }
    }
    EXPECT_FALSE(d.reason.empty());
    if (c.expect == kAllow) {
      EXPECT_EQ(d.emergency, c.emergency);
      EXPECT_EQ(d.consent, c.consent);
    }
  }
}

TEST(PolicyTest, EmergencyOpensItsWindowOnce) {
  PolicyEnv env;
  env.now = kNow;
  RecordContext r = Record();
  Decision first = Decide(Emergency("coma"), r, Doc(), Action::kRead, env);
  EXPECT_TRUE(first.opens_emergency_window);
  r.emergency_started_at = kNow;
  Decision later = Decide(Emergency("coma"), r, Doc(), Action::kRead, env);
  EXPECT_TRUE(later.allowed);
  EXPECT_FALSE(later.opens_emergency_window);
  env.emergency_window_s = 60;
  env.now = kNow + 61;
  Actor old_token = Emergency("coma");
  old_token.issued_at = kNow - 5;
  EXPECT_FALSE(Decide(old_token, r, Doc(), Action::kRead, env).allowed);
  // A new assertion after the window closed opens a new one.
  Actor new_token = Emergency("coma again");
  new_token.issued_at = kNow + 61;
  Decision reopened = Decide(new_token, r, Doc(), Action::kRead, env);
  EXPECT_TRUE(reopened.allowed);
  EXPECT_TRUE(reopened.opens_emergency_window);
}

TEST(PolicyTest, RecordLevelDecisions) {
  PolicyEnv env;
  env.now = kNow;
  RecordContext r = Record();
  EXPECT_TRUE(DecideOnRecord(Patient(), r, Action::kManageBlocks, env).allowed);
  EXPECT_TRUE(DecideOnRecord(Guardian(), r, Action::kDeclareTreatingPhysician, env).allowed);
  EXPECT_EQ(DecideOnRecord(Pro(kTreating), r, Action::kManageBlocks, env).refusal,
            ErrorCode::kForbidden);
  EXPECT_EQ(DecideOnRecord(Pro(kOutsider), r, Action::kManageBlocks, env).refusal,
            ErrorCode::kNotFound);
  EXPECT_TRUE(DecideOnRecord(Patient(), r, Action::kReadAccessHistory, env).allowed);
  EXPECT_FALSE(DecideOnRecord(Pro(kTreating), r, Action::kReadAccessHistory, env).allowed);
  EXPECT_TRUE(DecideOnRecord(Operator(), r, Action::kManageRecord, env).allowed);
  EXPECT_EQ(DecideOnRecord(Patient(), r, Action::kManageRecord, env).refusal,
            ErrorCode::kForbidden);
  EXPECT_TRUE(DecideOnRecord(Pro(kCareTeam), r, Action::kSearch, env).allowed);
  EXPECT_FALSE(DecideOnRecord(Pro(kCareTeam, "99"), r, Action::kSearch, env).allowed);
  EXPECT_EQ(DecideOnRecord(Emergency("coma"), r, Action::kCreate, env).refusal,
            ErrorCode::kForbidden);
  r.status = RecordStatus::kClosed;
  EXPECT_EQ(DecideOnRecord(Patient(), r, Action::kManageBlocks, env).refusal,
            ErrorCode::kForbidden);
  EXPECT_TRUE(DecideOnRecord(Patient(), r, Action::kReadAccessHistory, env).allowed);
}

// Closing one's own record and reading its settings (issue 18): the patient, a guardian and
// the operator; reopening works on the closed archive; professionals never.
TEST(PolicyTest, ThePatientClosesAndReadsTheirRecord) {
  PolicyEnv env;
  env.now = kNow;
  RecordContext r = Record();
  for (Action a : {Action::kCloseRecord, Action::kReadRecordChoices}) {
    EXPECT_TRUE(DecideOnRecord(Patient(), r, a, env).allowed) << ActionName(a);
    EXPECT_TRUE(DecideOnRecord(Guardian(), r, a, env).allowed) << ActionName(a);
    EXPECT_TRUE(DecideOnRecord(Operator(), r, a, env).allowed) << ActionName(a);
    EXPECT_EQ(DecideOnRecord(Pro(kTreating), r, a, env).refusal, ErrorCode::kForbidden);
    EXPECT_EQ(DecideOnRecord(Pro(kOutsider), r, a, env).refusal, ErrorCode::kNotFound);
  }
  r.status = RecordStatus::kClosed;
  EXPECT_TRUE(DecideOnRecord(Patient(), r, Action::kCloseRecord, env).allowed) << "reopens";
  EXPECT_TRUE(DecideOnRecord(Patient(), r, Action::kReadRecordChoices, env).allowed);
  EXPECT_FALSE(DecideOnRecord(Pro(kTreating), r, Action::kCloseRecord, env).allowed);
  r.status = RecordStatus::kOpposed;
  EXPECT_EQ(DecideOnRecord(Patient(), r, Action::kCloseRecord, env).refusal, ErrorCode::kNotFound);
  EXPECT_TRUE(DecideOnRecord(Operator(), r, Action::kCloseRecord, env).allowed);
}

TEST(PolicyTest, SharedResourcesAndBlocks) {
  ResourceSummary practitioner = Res("Practitioner");
  practitioner.shared = true;
  EXPECT_TRUE(DecideShared(Pro(kOutsider), practitioner, Action::kRead).allowed);
  EXPECT_FALSE(DecideShared(Insurer(), practitioner, Action::kRead).allowed);
  EXPECT_TRUE(DecideShared(Operator(), practitioner, Action::kUpdate).allowed);
  EXPECT_EQ(DecideShared(Pro(kCareTeam), practitioner, Action::kUpdate).refusal,
            ErrorCode::kForbidden);
  PolicyEnv env;
  EXPECT_TRUE(Decide(Patient(), Record(), practitioner, Action::kRead, env).allowed);

  RecordContext r = Record();
  Status tp = CheckBlockRequest(r, "professional", kTreating);
  EXPECT_EQ(tp.code(), ErrorCode::kConflict);
  EXPECT_NE(tp.message().find("treating physician cannot be blocked"), std::string::npos);
  EXPECT_TRUE(CheckBlockRequest(r, "professional", kCareTeam).ok());
  EXPECT_TRUE(CheckBlockRequest(r, "organisation", "ORG-1").ok());
  EXPECT_FALSE(CheckBlockRequest(r, "insurer", "x").ok());
}

TEST(PolicyTest, SearchFilters) {
  PolicyEnv env;
  env.now = kNow;
  RecordContext r = Record();

  AccessFilter care = FilterFor(Pro(kCareTeam, "21"), r, env);
  EXPECT_EQ(care.patient_keys, std::vector<long long>{7});
  EXPECT_EQ(care.excluded_security, std::vector<std::string>{kMasked});
  EXPECT_EQ(care.author_exempt_ids, std::vector<std::string>{kCareTeam});
  ASSERT_TRUE(care.document_types);
  EXPECT_EQ(*care.document_types, env.matrix->ReadableTypes("21", ""));
  EXPECT_FALSE(care.resource_types);

  AccessFilter treating = FilterFor(Pro(kTreating), r, env);
  EXPECT_TRUE(treating.excluded_security.empty());  // the treating physician sees masked documents

  AccessFilter emergency = FilterFor(Emergency("coma"), r, env);
  EXPECT_TRUE(emergency.emergency);
  EXPECT_TRUE(emergency.opens_emergency_window);
  EXPECT_EQ(emergency.excluded_security, std::vector<std::string>{kMasked});

  AccessFilter outsider = FilterFor(Pro(kOutsider), r, env);  // their own documents only
  EXPECT_EQ(outsider.patient_keys, std::vector<long long>{7});
  ASSERT_TRUE(outsider.document_types);
  EXPECT_TRUE(outsider.document_types->empty());
  EXPECT_EQ(outsider.author_exempt_ids, std::vector<std::string>{kOutsider});

  r.blocked_professionals = {kCareTeam};
  EXPECT_TRUE(FilterFor(Pro(kCareTeam), r, env).patient_keys.empty());
  r = Record();
  EXPECT_TRUE(FilterFor(Pro(kCareTeam, "99"), r, env).patient_keys.empty());
  AccessFilter insurer = FilterFor(Insurer(), r, env);
  EXPECT_TRUE(insurer.patient_keys.empty());
  EXPECT_FALSE(insurer.include_shared);

  AccessFilter patient = FilterFor(Patient(), r, env);
  EXPECT_EQ(patient.patient_keys, std::vector<long long>{7});
  EXPECT_EQ(patient.excluded_security, std::vector<std::string>{kInvisiblePat});
  EXPECT_FALSE(patient.document_types);

  AccessFilter guardian = FilterFor(Guardian(), r, env);
  EXPECT_EQ(guardian.excluded_security, (std::vector<std::string>{kInvisiblePat, kInvisibleRep}));

  AccessFilter system = FilterFor(System(), r, env);
  ASSERT_TRUE(system.sources);
  EXPECT_EQ(*system.sources, std::vector<std::string>{"lab-1"});
  ASSERT_TRUE(system.resource_types);

  AccessFilter op = FilterFor(Operator(), r, env);
  EXPECT_EQ(*op.resource_types, std::vector<std::string>{"Patient"});

  AccessFilter app = FilterFor(App(), r, env);
  EXPECT_FALSE(app.resource_types);  // patient/*.rs on both sides
  r.authorised_apps[0].scopes = ParseSmartScopes("patient/Observation.rs patient/Condition.r");
  app = FilterFor(App(), r, env);
  ASSERT_TRUE(app.resource_types);
  EXPECT_EQ(*app.resource_types,
            std::vector<std::string>{"Observation"});  // Condition: read, not search
  // A query-restricted scope narrows its type in the filter, on each side.
  r.authorised_apps[0].scopes = ParseSmartScopes("patient/Observation.rs?category=vital-signs");
  app = FilterFor(App(), r, env);
  ASSERT_TRUE(app.resource_types);
  EXPECT_EQ(*app.resource_types, std::vector<std::string>{"Observation"});
  ASSERT_EQ(app.restrictions.size(), 1u);  // the token's patient/*.rs leaves it unrestricted
  EXPECT_EQ(app.restrictions[0].type, "Observation");
  ASSERT_EQ(app.restrictions[0].alternatives.size(), 1u);
  EXPECT_EQ(app.restrictions[0].alternatives[0].conditions[0].code, "vital-signs");
  // The single-resource decision checks the resource's own codes.
  ResourceSummary vital = Res("Observation");
  vital.tokens = {
      {"category", "http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs"}};
  EXPECT_TRUE(Decide(App(), r, vital, Action::kRead, env).allowed);
  ResourceSummary lab = Res("Observation");
  lab.tokens = {{"category", "", "laboratory"}};
  EXPECT_FALSE(Decide(App(), r, lab, Action::kRead, env).allowed);
  EXPECT_FALSE(Decide(App(), r, Res("Observation"), Action::kRead, env).allowed);
  r.authorised_apps.clear();
  EXPECT_TRUE(FilterFor(App(), r, env).patient_keys.empty());

  // A guardian's two children merge; different rules do not.
  RecordContext child2 = Record();
  child2.patient_key = 8;
  child2.ins = kOtherIns;
  auto merged =
      MergeFilters({FilterFor(Guardian(), Record(), env), FilterFor(Guardian(), child2, env)});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->patient_keys, (std::vector<long long>{7, 8}));
  EXPECT_FALSE(MergeFilters({FilterFor(Pro(kTreating), Record(), env),
                             FilterFor(Pro(kCareTeam), Record(), env)})
                   .ok());
}

TEST(PolicyTest, SummarisesADocumentReference) {
  auto doc = ParseJson(R"({
    "resourceType":"DocumentReference","id":"d1",
    "meta":{"source":"lab-1","security":[{"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]},
    "contained":[{"resourceType":"PractitionerRole","id":"role","practitioner":{"reference":"#p"}},
                 {"resourceType":"Practitioner","id":"p","identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000002"}]}],
    "type":{"coding":[{"system":"urn:oid:1.2.250.1.213.1.1.4.12","code":"LOCAL"},{"system":"http://loinc.org","code":"11490-0"}]},
    "securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"},
                                {"system":"urn:oid:1.2.250.1.213.1.1.4.13","code":"MASQUE_PS"}]}],
    "author":[{"reference":"#role"},{"identifier":{"value":"810000000005"}}],
    "status":"current","content":[{"attachment":{"contentType":"text/plain"}}]})");
  ASSERT_TRUE(doc.ok());
  ResourceSummary s = SummariseResource(*doc);
  EXPECT_EQ(s.type, "DocumentReference");
  EXPECT_EQ(s.id, "d1");
  EXPECT_EQ(s.document_type, "11490-0");
  EXPECT_EQ(s.source, "lab-1");
  EXPECT_EQ(s.security, (std::vector<std::string>{"MASQUE_PS", "N"}));
  EXPECT_EQ(s.author_ids, (std::vector<std::string>{"810000000002", "810000000005"}));
  // The author sees the masked document, another care team member does not.
  PolicyEnv env;
  RecordContext r = Record();
  r.care_team.push_back("810000000005");
  EXPECT_TRUE(Decide(Pro("810000000002"), r, s, Action::kRead, env).allowed);
  Actor other = Pro("810000000004");
  r.care_team.push_back("810000000004");
  EXPECT_FALSE(Decide(other, r, s, Action::kRead, env).allowed);
}

}  // namespace
}  // namespace carnet::profiles
