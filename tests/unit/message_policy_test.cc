// The policy on secure messages (profiles/policy.h, DecideMessage and the search filter): the
// parties only, who may write to whom, emergency access and apps kept out of the mailbox.
#include <gtest/gtest.h>

#include <algorithm>

#include "profiles/policy.h"
#include "storage/sql_builder.h"

namespace carnet::profiles {
namespace {

RecordContext Rec() {
  RecordContext r;
  r.patient_key = 7;
  r.patient_id = "p1";
  r.ins = "270000000000111";
  r.care_team = {"810000000001"};
  r.blocked_professionals = {"810000000003"};
  return r;
}

Actor Pro(const std::string& id) {
  Actor a;
  a.kind = ActorKind::kProfessional;
  a.national_id = id;
  a.subject = id;
  a.profession = "10";
  return a;
}

Actor Patient() {
  Actor a;
  a.kind = ActorKind::kPatient;
  a.subject = "pat";
  a.patient_ins = "270000000000111";
  return a;
}

ResourceSummary Msg(std::vector<std::string> sender,
                    std::vector<std::vector<std::string>> recipients) {
  ResourceSummary s;
  s.type = "Communication";
  s.id = "m1";
  s.message_sender = std::move(sender);
  s.message_recipients = std::move(recipients);
  return s;
}

PolicyEnv Env() {
  PolicyEnv env;
  env.now = 1000000;
  return env;
}

TEST(MessagePolicyTest, OnlyPartiesRead) {
  ResourceSummary m = Msg({"810000000001"}, {{"Patient/p1"}});
  EXPECT_TRUE(Decide(Pro("810000000001"), Rec(), m, Action::kRead, Env()).allowed);
  EXPECT_TRUE(Decide(Patient(), Rec(), m, Action::kRead, Env()).allowed);
  Decision colleague = Decide(Pro("810000000002"), RecordContext(Rec()), m, Action::kRead, Env());
  EXPECT_FALSE(colleague.allowed);
  RecordContext with_colleague = Rec();
  with_colleague.care_team.push_back("810000000002");
  colleague = Decide(Pro("810000000002"), with_colleague, m, Action::kRead, Env());
  EXPECT_FALSE(colleague.allowed);
  EXPECT_EQ(colleague.refusal, ErrorCode::kNotFound);
  Actor emergency = Pro("810000000001");
  emergency.emergency = true;
  emergency.emergency_reason = "coma";
  RecordContext outside = Rec();
  outside.care_team.clear();
  Decision e = Decide(emergency, outside, m, Action::kRead, Env());
  EXPECT_FALSE(e.allowed);
  EXPECT_EQ(e.refusal, ErrorCode::kNotFound);
}

TEST(MessagePolicyTest, WhoWritesToWhom) {
  RecordContext r = Rec();
  // A professional of the care team, in their own name, to the patient.
  EXPECT_TRUE(Decide(Pro("810000000001"), r, Msg({"810000000001"}, {{"Patient/p1"}}),
                     Action::kCreate, Env())
                  .allowed);
  Decision forged = Decide(Pro("810000000001"), r, Msg({"810000000009"}, {{"Patient/p1"}}),
                           Action::kCreate, Env());
  EXPECT_EQ(forged.refusal, ErrorCode::kForbidden);
  EXPECT_FALSE(forged.shown.empty());
  // Outside the care team, or blocked: the record is not theirs to see.
  EXPECT_EQ(Decide(Pro("810000000009"), r, Msg({"810000000009"}, {{"Patient/p1"}}), Action::kCreate,
                   Env())
                .refusal,
            ErrorCode::kNotFound);
  r.care_team.push_back("810000000003");
  EXPECT_FALSE(Decide(Pro("810000000003"), r, Msg({"810000000003"}, {{"Patient/p1"}}),
                      Action::kCreate, Env())
                   .allowed);
  // The patient to the care team and to those who wrote to them, nobody else.
  EXPECT_TRUE(Decide(Patient(), r, Msg({"Patient/p1"}, {{"810000000001"}}), Action::kCreate, Env())
                  .allowed);
  Decision stranger =
      Decide(Patient(), r, Msg({"Patient/p1"}, {{"810000000009"}}), Action::kCreate, Env());
  EXPECT_EQ(stranger.refusal, ErrorCode::kForbidden);
  r.message_correspondents = {"810000000009"};
  EXPECT_TRUE(Decide(Patient(), r, Msg({"Patient/p1"}, {{"810000000009"}}), Action::kCreate, Env())
                  .allowed);
  // A sent message is not rewritten; only a recipient marks it read.
  ResourceSummary m = Msg({"810000000001"}, {{"Patient/p1"}});
  EXPECT_EQ(Decide(Pro("810000000001"), r, m, Action::kUpdate, Env()).refusal,
            ErrorCode::kForbidden);
  EXPECT_EQ(Decide(Pro("810000000001"), r, m, Action::kMarkRead, Env()).refusal,
            ErrorCode::kForbidden);
  EXPECT_TRUE(Decide(Patient(), r, m, Action::kMarkRead, Env()).allowed);
}

Actor Guardian(const std::string& sub) {
  Actor a;
  a.kind = ActorKind::kGuardian;
  a.subject = sub;
  a.represented_ins = {"270000000000111"};
  return a;
}

// A guardian is a party of their own (issue 17): their RelatedPerson in the child's record.
TEST(MessagePolicyTest, GuardiansAreRelatedPersonsOfTheRecord) {
  RecordContext r = Rec();
  r.guardians = {{"rp1", "guard-1"}, {"rp2", "guard-2"}};
  EXPECT_EQ(GuardianPartyOf(Guardian("guard-1"), r), "RelatedPerson/rp1");
  EXPECT_EQ(GuardianPartyOf(Guardian("guard-3"), r), "");
  EXPECT_EQ(GuardianPartyOf(Patient(), r), "");
  EXPECT_EQ(MessagePartyIds(Guardian("guard-1"), r),
            (std::vector<std::string>{"Patient/p1", "270000000000111", "RelatedPerson/rp1"}));
  // Sends as their RelatedPerson, not as the child.
  EXPECT_TRUE(Decide(Guardian("guard-1"), r, Msg({"RelatedPerson/rp1"}, {{"810000000001"}}),
                     Action::kCreate, Env())
                  .allowed);
  EXPECT_EQ(Decide(Guardian("guard-1"), r, Msg({"Patient/p1"}, {{"810000000001"}}), Action::kCreate,
                   Env())
                .refusal,
            ErrorCode::kForbidden);
  EXPECT_EQ(Decide(Guardian("guard-2"), r, Msg({"RelatedPerson/rp1"}, {{"810000000001"}}),
                   Action::kCreate, Env())
                .refusal,
            ErrorCode::kForbidden);
  // The care team writes to a guardian of this record, to no other RelatedPerson.
  EXPECT_TRUE(Decide(Pro("810000000001"), r, Msg({"810000000001"}, {{"RelatedPerson/rp1"}}),
                     Action::kCreate, Env())
                  .allowed);
  Decision other = Decide(Pro("810000000001"), r,
                          Msg({"810000000001"}, {{"Patient/p1"}, {"RelatedPerson/elsewhere"}}),
                          Action::kCreate, Env());
  EXPECT_EQ(other.refusal, ErrorCode::kForbidden);
  EXPECT_NE(other.shown.find("RelatedPerson/elsewhere"), std::string::npos) << other.shown;
  // Each guardian reads and marks read what is addressed to them; the other does not see it.
  ResourceSummary to_first = Msg({"810000000001"}, {{"RelatedPerson/rp1"}});
  EXPECT_TRUE(Decide(Guardian("guard-1"), r, to_first, Action::kRead, Env()).allowed);
  EXPECT_TRUE(Decide(Guardian("guard-1"), r, to_first, Action::kMarkRead, Env()).allowed);
  EXPECT_EQ(Decide(Guardian("guard-2"), r, to_first, Action::kRead, Env()).refusal,
            ErrorCode::kNotFound);
  EXPECT_EQ(Decide(Patient(), r, to_first, Action::kRead, Env()).refusal, ErrorCode::kNotFound);
  // The child's own messages stay visible to both.
  ResourceSummary to_child = Msg({"810000000001"}, {{"Patient/p1"}});
  EXPECT_TRUE(Decide(Guardian("guard-2"), r, to_child, Action::kRead, Env()).allowed);
}

TEST(MessagePolicyTest, SearchFilterNamesTheParties) {
  AccessFilter pro = FilterFor(Pro("810000000001"), Rec(), Env());
  ASSERT_TRUE(pro.message_parties.has_value());
  EXPECT_EQ(*pro.message_parties, std::vector<std::string>{"810000000001"});
  AccessFilter patient = FilterFor(Patient(), Rec(), Env());
  ASSERT_TRUE(patient.message_parties.has_value());
  EXPECT_EQ(*patient.message_parties, (std::vector<std::string>{"Patient/p1", "270000000000111"}));
  Actor emergency = Pro("810000000009");
  emergency.emergency = true;
  emergency.emergency_reason = "coma";
  AccessFilter e = FilterFor(emergency, Rec(), Env());
  EXPECT_NE(std::find(e.excluded_types.begin(), e.excluded_types.end(), "Communication"),
            e.excluded_types.end());
  storage::SqlBuilder b;
  std::string sql = storage::AccessPredicate(pro, "r", b);
  EXPECT_NE(sql.find("'sender', 'recipient'"), std::string::npos) << sql;
}

}  // namespace
}  // namespace carnet::profiles
