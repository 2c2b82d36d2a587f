// Posted profiles and value sets (model/profile.h) over an in-memory ConformanceSource: what is
// looked up and when (once per canonical per validation, compiled once per stored version),
// value sets by expansion, import and exclusion, pattern[x], slicing that cannot be evaluated
// told as information, and a profile chain.
#include "model/profile.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/json.h"

namespace carnet::model {
namespace {

class FakeSource : public ConformanceSource {
 public:
  // Stores (or replaces: a new version) the resource under its url.
  void Put(const std::string& json) {
    JsonValue v = *ParseJson(json);
    std::string key = v.GetString("resourceType") + " " + v.GetString("url");
    Stored& s = stored_[key];
    s.content = std::move(v);
    ++s.version;
  }
  void Remove(const std::string& type, const std::string& url) { stored_.erase(type + " " + url); }

  Result<std::optional<ConformanceHandle>> Locate(const std::string& type, const std::string& url,
                                                  const std::string& version) override {
    ++locates;
    auto it = stored_.find(type + " " + url);
    if (it == stored_.end() ||
        (!version.empty() && it->second.content.GetString("version") != version))
      return std::optional<ConformanceHandle>();
    return std::optional<ConformanceHandle>(ConformanceHandle{
        url, "fake/" + type + "/" + url + "/" + std::to_string(it->second.version)});
  }
  Result<JsonValue> Load(const std::string& type, const ConformanceHandle& handle) override {
    ++loads;
    return stored_.at(type + " " + handle.id).content;
  }

  int locates = 0;
  int loads = 0;

 private:
  struct Stored {
    JsonValue content;
    int version = 0;
  };
  std::map<std::string, Stored> stored_;
};

std::vector<ValidationIssue> Check(FakeSource& source, ConformanceCache& cache,
                                   const std::string& resource,
                                   const std::vector<std::string>& asked) {
  Conformance conformance(source, cache);
  auto issues = ValidateProfiles(*ParseJson(resource), asked, conformance);
  EXPECT_TRUE(issues.ok());
  return issues.ok() ? *issues : std::vector<ValidationIssue>{};
}

std::string Describe(const std::vector<ValidationIssue>& issues) {
  std::string out;
  for (const auto& i : issues)
    out += "  " + i.severity + " " + i.code + " @ " + i.expression + ": " + i.message + "\n";
  return out;
}

int Count(const std::vector<ValidationIssue>& issues, const std::string& severity,
          const std::string& text = "") {
  int n = 0;
  for (const auto& i : issues)
    if (i.severity == severity && i.message.find(text) != std::string::npos) ++n;
  return n;
}

std::string Sd(const std::string& url, const std::string& elements,
               const std::string& base = "http://hl7.org/fhir/StructureDefinition/Observation") {
  return R"({"resourceType":"StructureDefinition","url":")" + url +
         R"(","name":"P","status":"active","kind":"resource","abstract":false,"type":"Observation",)"
         R"("baseDefinition":")" +
         base + R"(","derivation":"constraint","differential":{"element":[)" + elements + "]}}";
}

std::string Obs(const std::string& members) {
  return R"({"resourceType":"Observation","status":"final","code":{"text":"x"})" +
         (members.empty() ? "" : "," + members) + "}";
}

TEST(PostedProfileTest, LookedUpOncePerValidationCompiledOncePerVersion) {
  FakeSource source;
  ConformanceCache cache;
  source.Put(Sd("urn:p", R"({"id":"Observation.issued","path":"Observation.issued","min":1},)"
                         R"({"id":"Observation.code","path":"Observation.code","binding":)"
                         R"({"strength":"required","valueSet":"urn:vs"}},)"
                         R"({"id":"Observation.method","path":"Observation.method","binding":)"
                         R"({"strength":"required","valueSet":"urn:vs"}})"));
  source.Put(
      R"({"resourceType":"ValueSet","url":"urn:vs","status":"active",)"
      R"("expansion":{"timestamp":"2026-01-01T00:00:00Z","contains":[{"system":"urn:s","code":"a"}]}})");
  std::string obs =
      R"({"resourceType":"Observation","meta":{"profile":["urn:p"]},"status":"final",)"
      R"("code":{"coding":[{"system":"urn:s","code":"b"}]},)"
      R"("method":{"coding":[{"system":"urn:s","code":"a"}]}})";
  auto issues = Check(source, cache, obs, {});
  EXPECT_EQ(Count(issues, "error", "Observation.issued: minimum required = 1"), 1)
      << Describe(issues);
  EXPECT_EQ(Count(issues, "error", "urn:s|b is in the value set urn:vs"), 1) << Describe(issues);
  EXPECT_EQ(Count(issues, "error"), 2) << Describe(issues);
  // The profile and the value set, each located once though the value set binds two elements.
  EXPECT_EQ(source.locates, 2);
  EXPECT_EQ(source.loads, 2);
  // The next validation locates them again (a write may have come) but compiles nothing.
  Check(source, cache, obs, {});
  EXPECT_EQ(source.locates, 4);
  EXPECT_EQ(source.loads, 2);
  // A new version of the value set is read and used at once.
  source.Put(
      R"({"resourceType":"ValueSet","url":"urn:vs","status":"active",)"
      R"("expansion":{"timestamp":"2026-01-01T00:00:00Z","contains":[{"system":"urn:s","code":"a"},)"
      R"({"system":"urn:s","code":"b"}]}})");
  issues = Check(source, cache, obs, {});
  EXPECT_EQ(source.loads, 3);
  EXPECT_EQ(Count(issues, "error"), 1) << Describe(issues);
  // Removed, the profile is not known any more: a claim of it is a warning, a request an error.
  source.Remove("StructureDefinition", "urn:p");
  issues = Check(source, cache, obs, {});
  EXPECT_EQ(Count(issues, "error"), 0) << Describe(issues);
  EXPECT_EQ(Count(issues, "warning", "profile not known to this server, not checked: urn:p"), 1)
      << Describe(issues);
  issues = Check(source, cache, Obs(""), {"urn:p"});
  EXPECT_EQ(Count(issues, "error", "profile not known: urn:p"), 1) << Describe(issues);
}

TEST(PostedProfileTest, NoClaimNoLookup) {
  FakeSource source;
  ConformanceCache cache;
  auto issues = Check(source, cache,
                      R"({"resourceType":"Observation","meta":{"profile":[)"
                      R"("http://hl7.org/fhir/StructureDefinition/Observation"]},"status":"final",)"
                      R"("code":{"text":"x"}})",
                      {});
  EXPECT_TRUE(issues.empty()) << Describe(issues);
  EXPECT_EQ(source.locates, 0);
}

TEST(PostedProfileTest, ValueSetComposition) {
  FakeSource source;
  ConformanceCache cache;
  source.Put(
      R"({"resourceType":"CodeSystem","url":"urn:cs","status":"active","content":"complete",)"
      R"("concept":[{"code":"a","concept":[{"code":"a1"}]},{"code":"b"},{"code":"c"}]})");
  source.Put(R"({"resourceType":"ValueSet","url":"urn:inner","status":"active","compose":)"
             R"({"include":[{"system":"urn:cs","concept":[{"code":"a1"},{"code":"b"}]}]}})");
  // Codes of urn:cs that are also in urn:inner, but not b; and a core value set imported.
  source.Put(R"({"resourceType":"ValueSet","url":"urn:outer","status":"active","compose":)"
             R"({"include":[{"system":"urn:cs","valueSet":["urn:inner"]},)"
             R"({"valueSet":["http://hl7.org/fhir/ValueSet/observation-status"]}],)"
             R"("exclude":[{"system":"urn:cs","concept":[{"code":"b"}]}]}})");
  source.Put(Sd("urn:p", R"({"id":"Observation.method","path":"Observation.method","binding":)"
                         R"({"strength":"required","valueSet":"urn:outer"}})"));
  auto method = [](const std::string& system, const std::string& code) {
    return Obs(R"("method":{"coding":[{"system":")" + system + R"(","code":")" + code + R"("}]})");
  };
  EXPECT_EQ(Count(Check(source, cache, method("urn:cs", "a1"), {"urn:p"}), "error"), 0);
  EXPECT_EQ(Count(Check(source, cache, method("urn:cs", "b"), {"urn:p"}), "error"), 1);
  EXPECT_EQ(Count(Check(source, cache, method("urn:cs", "c"), {"urn:p"}), "error"), 1);
  EXPECT_EQ(Count(Check(source, cache, method("http://hl7.org/fhir/observation-status", "final"),
                        {"urn:p"}),
                  "error"),
            0);
  // A code system included in full but not posted: not checked, said so, never refused.
  source.Put(R"({"resourceType":"ValueSet","url":"urn:loinc","status":"active","compose":)"
             R"({"include":[{"system":"http://loinc.org"}]}})");
  source.Put(Sd("urn:p2", R"({"id":"Observation.method","path":"Observation.method","binding":)"
                          R"({"strength":"required","valueSet":"urn:loinc"}})"));
  auto issues = Check(source, cache, method("http://loinc.org", "1-8"), {"urn:p2"});
  EXPECT_EQ(Count(issues, "error"), 0) << Describe(issues);
  EXPECT_EQ(Count(issues, "information", "not known in full to this server"), 1)
      << Describe(issues);
}

TEST(PostedProfileTest, PatternAndUncheckableSlicing) {
  FakeSource source;
  ConformanceCache cache;
  source.Put(Sd("urn:p",
                R"({"id":"Observation.code","path":"Observation.code","patternCodeableConcept":)"
                R"({"coding":[{"system":"http://loinc.org","code":"29463-7"}]}},)"
                R"({"id":"Observation.extension","path":"Observation.extension","slicing":)"
                R"({"discriminator":[{"type":"profile","path":"$this"}],"rules":"open"}},)"
                R"({"id":"Observation.extension:x","path":"Observation.extension","sliceName":"x",)"
                R"("min":1,"max":"1"})"));
  std::string fine = R"({"resourceType":"Observation","status":"final","code":{"coding":[)"
                     R"({"system":"http://loinc.org","code":"29463-7","display":"Weight"},)"
                     R"({"system":"urn:local","code":"w"}]},)"
                     R"("extension":[{"url":"urn:e","valueString":"v"}]})";
  auto issues = Check(source, cache, fine, {"urn:p"});
  EXPECT_EQ(Count(issues, "error"), 0) << Describe(issues);
  EXPECT_EQ(Count(issues, "information", "slicing not checked (discriminator of type profile"), 1)
      << Describe(issues);
  issues = Check(source, cache, Obs(""), {"urn:p"});
  EXPECT_EQ(Count(issues, "error", "must match the pattern"), 1) << Describe(issues);
}

TEST(PostedProfileTest, DifferentialChainAndWrongType) {
  FakeSource source;
  ConformanceCache cache;
  source.Put(Sd("urn:base", R"({"id":"Observation.issued","path":"Observation.issued","min":1})"));
  source.Put(Sd("urn:derived", R"({"id":"Observation.note","path":"Observation.note","max":"0"})",
                "urn:base"));
  source.Put(Sd("urn:orphan", R"({"id":"Observation.note","path":"Observation.note","max":"0"})",
                "urn:missing"));
  auto issues = Check(source, cache, Obs(R"("note":[{"text":"n"}])"), {"urn:derived"});
  EXPECT_EQ(Count(issues, "error",
                  "Observation.issued: minimum required = 1, but only found 0 "
                  "(profile urn:derived, through its base urn:base)"),
            1)
      << Describe(issues);
  EXPECT_EQ(Count(issues, "error", "Observation.note: not allowed (max 0)"), 1) << Describe(issues);
  issues = Check(source, cache, Obs(""), {"urn:orphan"});
  EXPECT_EQ(Count(issues, "warning", "derives from urn:missing, not known"), 1) << Describe(issues);
  issues =
      Check(source, cache, R"({"resourceType":"Patient","meta":{"profile":["urn:base"]}})", {});
  EXPECT_EQ(Count(issues, "error",
                  "the resource is a Patient, but the profile urn:base constrains "
                  "Observation"),
            1)
      << Describe(issues);
}

}  // namespace
}  // namespace carnet::model
