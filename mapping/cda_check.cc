#include "mapping/cda_check.h"

#include <algorithm>
#include <cctype>

namespace carnet::mapping {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// CX "value^^^&oid&ISO^type" -> "value|oid".
std::string CxKey(const std::string& cx) {
  std::string value = cx.substr(0, cx.find('^'));
  std::string oid;
  if (size_t amp = cx.find('&'); amp != std::string::npos) {
    size_t end = cx.find('&', amp + 1);
    oid = cx.substr(amp + 1, end == std::string::npos ? std::string::npos : end - amp - 1);
  }
  return value + "|" + oid;
}

// The identifier of an XCN (its first component), empty when the person has none.
std::string XcnId(const std::string& xcn) { return xcn.substr(0, xcn.find('^')); }

std::string Show(const xds::Code& c) {
  return c.code + (c.scheme.empty() ? "" : " (" + c.scheme + ")");
}

bool SameCode(const xds::Code& a, const xds::Code& b) {
  return a.code == b.code && (a.scheme.empty() || b.scheme.empty() || a.scheme == b.scheme);
}

// Two DTMs agree when the longer starts with the shorter (a date agrees with a time of that day).
bool SameTime(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  return a.compare(0, n, b, 0, n) == 0;
}

}  // namespace

std::string HeaderMismatch::Message() const {
  return field + " '" + submitted + "' differs from the CDA document's '" + in_document + "'";
}

bool IsCdaMimeType(const std::string& mime_type) {
  std::string m = Lower(mime_type.substr(0, mime_type.find(';')));
  return m == "text/xml" || m == "application/xml" || m == "application/hl7-cda+xml" ||
         m == "application/hl7-v3+xml";
}

std::vector<HeaderMismatch> CompareWithCdaHeader(const CdaHeader& header,
                                                 const xds::DocumentEntry& s) {
  const xds::DocumentEntry& h = header.entry;
  std::vector<HeaderMismatch> out;
  auto add = [&](const char* field, const char* path, std::string submitted, std::string doc) {
    out.push_back({field, path, std::move(submitted), std::move(doc), false});
  };
  // A time both give, compared at the coarser precision.
  auto time = [&](const char* field, const char* path, const std::string& given,
                  const std::string& in_doc) {
    if (!given.empty() && !in_doc.empty() && !SameTime(given, in_doc))
      add(field, path, given, in_doc);
  };
  // A code both give.
  auto code = [&](const char* field, const char* path, const xds::Code& given,
                  const xds::Code& in_doc) {
    if (!given.code.empty() && !in_doc.code.empty() && !SameCode(given, in_doc))
      add(field, path, Show(given), Show(in_doc));
  };
  // Every code of the header among the submitted ones (when the submitter gave any).
  auto listed = [&](const char* field, const char* path, const std::vector<xds::Code>& given,
                    const std::vector<xds::Code>& in_doc) {
    if (given.empty()) return;
    for (const auto& c : in_doc)
      if (std::none_of(given.begin(), given.end(),
                       [&](const xds::Code& x) { return SameCode(x, c); })) {
        std::string shown;
        for (const auto& x : given) shown += (shown.empty() ? "" : ", ") + Show(x);
        add(field, path, shown, Show(c));
      }
  };
  if (!s.patient_id.empty() && CxKey(s.patient_id) != CxKey(h.patient_id)) {
    add("patientId", "DocumentReference.subject", s.patient_id, h.patient_id);
    out.back().patient = true;
  }
  if (!s.unique_id.empty() && s.unique_id != h.unique_id)
    add("uniqueId", "DocumentReference.masterIdentifier", s.unique_id, h.unique_id);
  if (!s.type_code.code.empty() && !SameCode(s.type_code, h.type_code))
    add("typeCode", "DocumentReference.type", Show(s.type_code), Show(h.type_code));
  if (!s.class_code.code.empty() && !h.class_code.code.empty() &&
      s.class_code.code != h.class_code.code)
    add("classCode", "DocumentReference.category", Show(s.class_code), Show(h.class_code));
  if (!s.creation_time.empty() && !SameTime(s.creation_time, h.creation_time))
    add("creationTime", "DocumentReference.content.attachment.creation", s.creation_time,
        h.creation_time);
  time("serviceStartTime", "DocumentReference.context.period.start", s.service_start_time,
       h.service_start_time);
  time("serviceStopTime", "DocumentReference.context.period.end", s.service_stop_time,
       h.service_stop_time);
  listed("confidentialityCode", "DocumentReference.securityLabel", s.confidentiality_codes,
         h.confidentiality_codes);
  if (!s.language_code.empty() && !h.language_code.empty() &&
      Lower(s.language_code) != Lower(h.language_code))
    add("languageCode", "DocumentReference.content.attachment.language", s.language_code,
        h.language_code);
  listed("eventCodeList", "DocumentReference.context.event", s.event_codes, h.event_codes);
  code("healthcareFacilityTypeCode", "DocumentReference.context.facilityType",
       s.healthcare_facility_type_code, h.healthcare_facility_type_code);
  code("practiceSettingCode", "DocumentReference.context.practiceSetting", s.practice_setting_code,
       h.practice_setting_code);
  if (!XcnId(s.legal_authenticator).empty() && !XcnId(h.legal_authenticator).empty() &&
      XcnId(s.legal_authenticator) != XcnId(h.legal_authenticator))
    add("legalAuthenticator", "DocumentReference.authenticator", s.legal_authenticator,
        h.legal_authenticator);
  // Authors: when both name persons by identifier, at least one of the document's authors must
  // be among the submitted ones (a submission may name fewer authors than the document).
  std::vector<std::string> given_ids, doc_ids;
  for (const auto& a : s.authors)
    if (!XcnId(a.person).empty()) given_ids.push_back(XcnId(a.person));
  for (const auto& a : h.authors)
    if (!XcnId(a.person).empty()) doc_ids.push_back(XcnId(a.person));
  if (!given_ids.empty() && !doc_ids.empty() &&
      std::none_of(doc_ids.begin(), doc_ids.end(), [&](const std::string& id) {
        return std::find(given_ids.begin(), given_ids.end(), id) != given_ids.end();
      })) {
    std::string a, b;
    for (const auto& x : given_ids) a += (a.empty() ? "" : ", ") + x;
    for (const auto& x : doc_ids) b += (b.empty() ? "" : ", ") + x;
    add("author", "DocumentReference.author", a, b);
  }
  return out;
}

std::vector<std::string> FillFromCdaHeader(const CdaHeader& header, xds::DocumentEntry* s) {
  const xds::DocumentEntry& h = header.entry;
  std::vector<std::string> filled;
  auto fill_string = [&](std::string& to, const std::string& from, const char* name) {
    if (to.empty() && !from.empty()) {
      to = from;
      filled.push_back(name);
    }
  };
  auto fill_code = [&](xds::Code& to, const xds::Code& from, const char* name) {
    if (to.code.empty() && !from.code.empty()) {
      to = from;
      to.classification_id.clear();
      filled.push_back(name);
    }
  };
  auto fill_codes = [&](std::vector<xds::Code>& to, const std::vector<xds::Code>& from,
                        const char* name) {
    if (to.empty() && !from.empty()) {
      to = from;
      for (auto& c : to) c.classification_id.clear();
      filled.push_back(name);
    }
  };
  fill_string(s->patient_id, h.patient_id, "patientId");
  fill_string(s->unique_id, h.unique_id, "uniqueId");
  fill_string(s->title, h.title, "title");
  fill_code(s->type_code, h.type_code, "typeCode");
  fill_code(s->class_code, h.class_code, "classCode");
  fill_code(s->format_code, h.format_code, "formatCode");
  fill_code(s->healthcare_facility_type_code, h.healthcare_facility_type_code,
            "healthcareFacilityTypeCode");
  fill_code(s->practice_setting_code, h.practice_setting_code, "practiceSettingCode");
  fill_codes(s->confidentiality_codes, h.confidentiality_codes, "confidentialityCode");
  fill_codes(s->event_codes, h.event_codes, "eventCodeList");
  fill_string(s->creation_time, h.creation_time, "creationTime");
  fill_string(s->service_start_time, h.service_start_time, "serviceStartTime");
  fill_string(s->service_stop_time, h.service_stop_time, "serviceStopTime");
  fill_string(s->language_code, h.language_code, "languageCode");
  fill_string(s->legal_authenticator, h.legal_authenticator, "legalAuthenticator");
  fill_string(s->source_patient_id, h.source_patient_id, "sourcePatientId");
  if (s->source_patient_info.empty() && !h.source_patient_info.empty()) {
    s->source_patient_info = h.source_patient_info;
    filled.push_back("sourcePatientInfo");
  }
  if (s->authors.empty() && !h.authors.empty()) {
    s->authors = h.authors;
    filled.push_back("author");
  }
  return filled;
}

}  // namespace carnet::mapping
