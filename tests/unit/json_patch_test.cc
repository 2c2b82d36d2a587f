#include "fhir/json_patch.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace carnet::fhir {
namespace {

JsonValue Json(std::string_view text) {
  auto v = ParseJson(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString() << " in " << text;
  return v.ok() ? *v : JsonValue();
}

// The standard json-patch test suite (github.com/json-patch/json-patch-tests format, the
// RFC 6902 appendix cases as shipped in FHIR/fhir-test-cases r4/patch).
TEST(JsonPatchTest, OfficialSuite) {
  const std::filesystem::path file = "/work/shared/testdata/fhir/patch/json-patch-tests.json";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << file << " not available";
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  auto suite = ParseJson(text.str());
  ASSERT_TRUE(suite.ok()) << suite.status().ToString();
  ASSERT_TRUE(suite->is_array());
  int ran = 0, skipped = 0;
  for (const JsonValue& t : suite->items()) {
    std::string name = t.GetString("comment");
    const JsonValue* disabled = t.Find("disabled");
    if (disabled && disabled->is_bool() && disabled->as_bool()) {
      ++skipped;
      continue;
    }
    const JsonValue* doc = t.Find("doc");
    const JsonValue* patch = t.Find("patch");
    ASSERT_TRUE(doc && patch) << name;
    ++ran;
    JsonValue work = *doc;
    Status s = ApplyJsonPatch(*patch, &work);
    if (t.Find("error")) {
      EXPECT_FALSE(s.ok()) << name << ": expected error " << t.GetString("error");
      EXPECT_EQ(work, *doc) << name << ": a failed patch must leave the document unchanged";
    } else {
      ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
      if (const JsonValue* expected = t.Find("expected")) {
        // The suite's expectations are written with the same literals as its inputs, so
        // literal comparison is right here; JsonPatchEquals would also accept 1 vs 1.0.
        EXPECT_EQ(work, *expected) << name << ": got " << WriteJson(work);
      }
    }
  }
  std::cout << "[ json-patch suite ] ran " << ran << ", skipped (disabled) " << skipped
            << std::endl;
  EXPECT_GT(ran, 0);
}

TEST(JsonPatchTest, AddRemoveReplaceMoveCopy) {
  JsonValue doc = Json(R"({"a":{"b":[1,2,3]},"c":"x"})");
  ASSERT_TRUE(ApplyJsonPatch(Json(R"([
    {"op":"add","path":"/a/b/-","value":4},
    {"op":"add","path":"/a/b/0","value":0},
    {"op":"remove","path":"/a/b/1"},
    {"op":"replace","path":"/c","value":{"d":true}},
    {"op":"copy","from":"/c","path":"/e"},
    {"op":"move","from":"/a/b","path":"/f"},
    {"op":"test","path":"/f","value":[0,2,3,4]}
  ])"),
                             &doc)
                  .ok());
  EXPECT_EQ(doc, Json(R"({"a":{},"c":{"d":true},"e":{"d":true},"f":[0,2,3,4]})"));
  // Member order is kept; new members go last.
  EXPECT_EQ(WriteJson(doc), R"({"a":{},"c":{"d":true},"e":{"d":true},"f":[0,2,3,4]})");
}

TEST(JsonPatchTest, WholeDocumentAndEscapes) {
  JsonValue doc = Json(R"({"a/b":1,"m~n":2})");
  ASSERT_TRUE(ApplyJsonPatch(Json(R"([{"op":"test","path":"/a~1b","value":1},
                                      {"op":"test","path":"/m~0n","value":2},
                                      {"op":"remove","path":"/a~1b"}])"),
                             &doc)
                  .ok());
  EXPECT_EQ(doc, Json(R"({"m~n":2})"));
  ASSERT_TRUE(ApplyJsonPatch(Json(R"([{"op":"replace","path":"","value":[1]}])"), &doc).ok());
  EXPECT_EQ(doc, Json("[1]"));
  ASSERT_TRUE(ApplyJsonPatch(Json(R"([{"op":"add","path":"","value":{"z":0}}])"), &doc).ok());
  EXPECT_EQ(doc, Json(R"({"z":0})"));
  // "" is a valid member name: "/" points at it.
  ASSERT_TRUE(ApplyJsonPatch(Json(R"([{"op":"add","path":"/","value":5}])"), &doc).ok());
  EXPECT_EQ(doc, Json(R"({"z":0,"":5})"));
}

TEST(JsonPatchTest, NumbersCompareByValueInTest) {
  JsonValue doc = Json(R"({"n":1.0,"m":[10E-1,0]})");
  EXPECT_TRUE(ApplyJsonPatch(Json(R"([{"op":"test","path":"/n","value":1},
                                      {"op":"test","path":"/m","value":[1,-0.0]}])"),
                             &doc)
                  .ok());
  EXPECT_FALSE(ApplyJsonPatch(Json(R"([{"op":"test","path":"/n","value":1.01}])"), &doc).ok());
  EXPECT_FALSE(ApplyJsonPatch(Json(R"([{"op":"test","path":"/n","value":"1.0"}])"), &doc).ok());
  // The document keeps its literals.
  EXPECT_EQ(WriteJson(doc), R"({"n":1.0,"m":[10E-1,0]})");
  EXPECT_TRUE(JsonPatchEquals(Json("123e-2"), Json("1.23")));
  EXPECT_FALSE(JsonPatchEquals(JsonValue::Number("1e400"), JsonValue::Number("1e401")));
  EXPECT_TRUE(JsonPatchEquals(JsonValue::Number("1e400"), JsonValue::Number("10e399")));
}

TEST(JsonPatchTest, ArrayIndexRules) {
  const JsonValue original = Json(R"({"a":[1,2]})");
  auto code = [&](std::string_view patch) {
    JsonValue doc = original;
    Status s = ApplyJsonPatch(Json(patch), &doc);
    if (!s.ok()) {
      EXPECT_EQ(doc, original) << patch;
    }
    return s.code();
  };
  EXPECT_EQ(code(R"([{"op":"add","path":"/a/2","value":3}])"), ErrorCode::kOk);  // == size
  EXPECT_EQ(code(R"([{"op":"add","path":"/a/3","value":3}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"add","path":"/a/01","value":3}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"add","path":"/a/-1","value":3}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"remove","path":"/a/2"}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"remove","path":"/a/-"}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"replace","path":"/a/-","value":0}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"replace","path":"/b","value":0}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"add","path":"/a/0/x","value":0}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"remove","path":""}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"move","from":"/a","path":"/a/0"}])"), ErrorCode::kInvalid);
  EXPECT_EQ(code(R"([{"op":"move","from":"/a","path":"/a"}])"), ErrorCode::kOk);
  EXPECT_EQ(code(R"([{"op":"copy","from":"/nope","path":"/b"}])"), ErrorCode::kInvalid);
}

TEST(JsonPatchTest, MalformedPatchesAreBadRequestsAndAtomic) {
  const JsonValue original = Json(R"({"a":1})");
  auto fails_with = [&](std::string_view patch) {
    JsonValue doc = original;
    Status s = ApplyJsonPatch(Json(patch), &doc);
    EXPECT_EQ(doc, original) << patch;
    return s.code();
  };
  EXPECT_EQ(fails_with(R"({"op":"add"})"), ErrorCode::kBadRequest);
  EXPECT_EQ(fails_with(R"([1])"), ErrorCode::kBadRequest);
  EXPECT_EQ(fails_with(R"([{"path":"/a"}])"), ErrorCode::kBadRequest);
  EXPECT_EQ(fails_with(R"([{"op":"frob","path":"/a"}])"), ErrorCode::kBadRequest);
  EXPECT_EQ(fails_with(R"([{"op":"add","path":"/b"}])"), ErrorCode::kBadRequest);
  EXPECT_EQ(fails_with(R"([{"op":"add","path":"b","value":1}])"), ErrorCode::kBadRequest);
  EXPECT_EQ(fails_with(R"([{"op":"add","path":"/~2","value":1}])"), ErrorCode::kBadRequest);
  EXPECT_EQ(fails_with(R"([{"op":"move","path":"/b"}])"), ErrorCode::kBadRequest);
  // The first operations succeed, the last fails: nothing is applied, and the location
  // names the failing operation.
  JsonValue doc = original;
  Status s = ApplyJsonPatch(
      Json(R"([{"op":"add","path":"/b","value":2},{"op":"test","path":"/a","value":2}])"), &doc);
  EXPECT_EQ(s.code(), ErrorCode::kInvalid);
  EXPECT_EQ(s.location(), "/1");
  EXPECT_EQ(doc, original);
}

}  // namespace
}  // namespace carnet::fhir
