#include "mapping/mhd.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace carnet::mapping {
namespace {

bool HasProfile(const JsonValue& r, const std::string& fragment) {
  if (const JsonValue* meta = r.Find("meta"))
    if (const JsonValue* profiles = meta->Find("profile"); profiles && profiles->is_array())
      for (const auto& p : profiles->items())
        if (p.is_string() && p.text().find(fragment) != std::string::npos) return true;
  return false;
}

bool IsSubmissionSet(const JsonValue& r) {
  if (r.GetString("resourceType") != "List") return false;
  if (const JsonValue* code = r.Find("code"); code && code->Find("coding") && code->Find("coding")->is_array())
    for (const auto& c : code->Find("coding")->items())
      if (c.GetString("code") == "submissionset") return true;
  return false;
}

bool HasExtension(const JsonValue& r, const std::string& fragment) {
  if (const JsonValue* exts = r.Find("extension"); exts && exts->is_array())
    for (const auto& x : exts->items())
      if (x.GetString("url").find(fragment) != std::string::npos) return true;
  return false;
}

}  // namespace

bool IsMhdProvideBundle(const JsonValue& bundle) {
  if (HasProfile(bundle, "IHE.MHD.") && HasProfile(bundle, "ProvideBundle")) return true;
  if (const JsonValue* entries = bundle.Find("entry"); entries && entries->is_array())
    for (const auto& e : entries->items())
      if (const JsonValue* r = e.Find("resource"); r && IsSubmissionSet(*r)) return true;
  return false;
}

Status ValidateMhdProvideBundle(const JsonValue& bundle) {
  std::vector<Status::Detail> problems;
  auto problem = [&](std::string message, std::string where) { problems.push_back({std::move(message), std::move(where)}); };
  bool comprehensive = HasProfile(bundle, "Comprehensive");
  // Comprehensive without "UnContained" carries authors, authenticator and sourcePatientInfo
  // as contained resources (what XDS-on-FHIR and XCA need); UnContained may reference them.
  bool contained_only = comprehensive && !HasProfile(bundle, "UnContained");
  const JsonValue* entries = bundle.Find("entry");
  std::map<std::string, std::string> type_of_full_url;  // fullUrl -> resourceType
  std::vector<std::pair<size_t, const JsonValue*>> lists, documents;
  if (entries && entries->is_array())
    for (size_t i = 0; i < entries->items().size(); ++i) {
      const JsonValue& e = entries->items()[i];
      const JsonValue* r = e.Find("resource");
      if (!r) continue;
      type_of_full_url[e.GetString("fullUrl")] = r->GetString("resourceType");
      if (IsSubmissionSet(*r)) lists.emplace_back(i, r);
      if (r->GetString("resourceType") == "DocumentReference") documents.emplace_back(i, r);
    }
  auto at = [](size_t i, const std::string& path) { return "Bundle.entry[" + std::to_string(i) + "].resource" + path; };
  if (lists.size() != 1)
    problem("an MHD Provide Document Bundle holds exactly one SubmissionSet List (found " +
                std::to_string(lists.size()) + ")",
            "Bundle.entry");
  std::string patient;
  std::set<std::string> listed;
  if (lists.size() == 1) {
    auto [li, list] = lists[0];
    const JsonValue* subject = list->Find("subject");
    patient = subject ? subject->GetString("reference") : "";
    if (patient.empty()) problem("the SubmissionSet names no patient (List.subject)", at(li, ".subject"));
    if (const JsonValue* items = list->Find("entry"); items && items->is_array())
      for (size_t k = 0; k < items->items().size(); ++k) {
        const JsonValue* item = items->items()[k].Find("item");
        std::string ref = item ? item->GetString("reference") : "";
        listed.insert(ref);
        bool in_bundle = type_of_full_url.count(ref) > 0;
        if (in_bundle && type_of_full_url[ref] != "DocumentReference" && type_of_full_url[ref] != "List")
          problem("a SubmissionSet lists DocumentReferences and Folders, not a " + type_of_full_url[ref],
                  at(li, ".entry[" + std::to_string(k) + "].item"));
        if (!in_bundle && ref.rfind("DocumentReference/", 0) != 0 && ref.rfind("List/", 0) != 0)
          problem("SubmissionSet entry " + ref + " names nothing in the Bundle or the registry",
                  at(li, ".entry[" + std::to_string(k) + "].item"));
      }
    if (comprehensive) {
      if (!HasExtension(*list, "designationType"))
        problem("the Comprehensive SubmissionSet needs its contentTypeCode (designationType extension)", at(li, ".extension"));
      if (!HasExtension(*list, "sourceId"))
        problem("the Comprehensive SubmissionSet needs its sourceId (ihe-sourceId extension)", at(li, ".extension"));
    }
  }
  if (documents.empty()) problem("an MHD Provide Document Bundle holds at least one DocumentReference", "Bundle.entry");
  for (auto [i, dr] : documents) {
    std::string full = entries->items()[i].GetString("fullUrl");
    if (!lists.empty() && !listed.count(full))
      problem("DocumentReference " + full + " is not an entry of the SubmissionSet", at(i, ""));
    const JsonValue* subject = dr->Find("subject");
    std::string s = subject ? subject->GetString("reference") : "";
    if (s.empty()) problem("the DocumentReference names no patient", at(i, ".subject"));
    else if (!patient.empty() && s != patient)
      problem("the DocumentReference's patient " + s + " is not the SubmissionSet's " + patient, at(i, ".subject"));
    if (!dr->Find("masterIdentifier")) problem("the DocumentReference needs a masterIdentifier (uniqueId)", at(i, ".masterIdentifier"));
    if (dr->GetString("status").empty()) problem("the DocumentReference needs a status", at(i, ".status"));
    const JsonValue* content = dr->Find("content");
    if (!content || !content->is_array() || content->items().empty()) {
      problem("the DocumentReference needs content", at(i, ".content"));
      continue;
    }
    const JsonValue& c0 = content->items()[0];
    const JsonValue* attachment = c0.Find("attachment");
    std::string url = attachment ? attachment->GetString("url") : "";
    bool data = attachment && attachment->Find("data");
    bool absolute = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
    if (!data && !absolute && !url.empty() && type_of_full_url.count(url) && type_of_full_url[url] != "Binary")
      problem("content.attachment.url names a " + type_of_full_url[url] + ", not a Binary", at(i, ".content[0].attachment.url"));
    else if (!data && !absolute && (url.empty() || (!type_of_full_url.count(url) && url.rfind("Binary/", 0) != 0)))
      problem("content.attachment.url names no Binary of the Bundle", at(i, ".content[0].attachment.url"));
    if (contained_only) {
      // A copy: clang before 16 cannot capture a structured binding (the fuzz build's clang 14).
      const auto entry = i;
      auto must_be_contained = [&](const JsonValue* holder, const std::string& where) {
        std::string ref = holder ? holder->GetString("reference") : "";
        if (!ref.empty() && ref[0] != '#')
          problem("the Comprehensive DocumentReference carries " + where.substr(1) +
                      " as a contained resource (" + ref +
                      " is a reference: claim IHE.MHD.UnContained.Comprehensive.ProvideBundle to send one)",
                  at(entry, where));
      };
      if (const JsonValue* authors = dr->Find("author"); authors && authors->is_array())
        for (size_t k = 0; k < authors->items().size(); ++k)
          must_be_contained(&authors->items()[k], ".author[" + std::to_string(k) + "]");
      must_be_contained(dr->Find("authenticator"), ".authenticator");
      if (const JsonValue* ctx = dr->Find("context"))
        must_be_contained(ctx->Find("sourcePatientInfo"), ".context.sourcePatientInfo");
    }
    if (comprehensive) {
      for (const char* field : {"type", "category", "securityLabel"})
        if (!dr->Find(field)) problem(std::string("the Comprehensive DocumentReference needs ") + field, at(i, std::string(".") + field));
      if (!c0.Find("format")) problem("the Comprehensive DocumentReference needs content.format (formatCode)", at(i, ".content[0].format"));
      if (!attachment || attachment->GetString("contentType").empty())
        problem("the Comprehensive DocumentReference needs content.attachment.contentType", at(i, ".content[0].attachment.contentType"));
      if (!attachment || attachment->GetString("creation").empty())
        problem("the Comprehensive DocumentReference needs content.attachment.creation", at(i, ".content[0].attachment.creation"));
      const JsonValue* ctx = dr->Find("context");
      if (!ctx || !ctx->Find("facilityType"))
        problem("the Comprehensive DocumentReference needs context.facilityType", at(i, ".context.facilityType"));
      if (!ctx || !ctx->Find("practiceSetting"))
        problem("the Comprehensive DocumentReference needs context.practiceSetting", at(i, ".context.practiceSetting"));
    }
  }
  if (problems.empty()) return Status::Ok();
  Status first = Invalid(problems[0].message, problems[0].location);
  problems.erase(problems.begin());
  return first.WithDetails(std::move(problems));
}

}  // namespace carnet::mapping
