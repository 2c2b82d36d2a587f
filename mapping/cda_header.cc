#include "mapping/cda_header.h"

#include <cctype>
#include <ctime>
#include <string>
#include <vector>

#include "base/tsv.h"
#include "mapping/ebrim_xml.h"

namespace carnet::mapping {

const char* EmbeddedDocumentCodes();  // generated from mapping/data/document_codes.tsv

namespace {

using xds::Child;
using xds::Is;
using xds::ParseXml;
using xds::Text;
using xds::Trim;

constexpr std::string_view kHl7 = "urn:hl7-org:v3";

constexpr const char* kClassScheme = "1.2.250.1.213.1.1.4.1";
constexpr const char* kFormatScheme = "1.3.6.1.4.1.19376.1.2.3";

// One row of mapping/data/document_codes.tsv.
struct CodeRow {
  std::string kind, key, code, display;
};

// The tables, read once from the embedded file; a malformed row is skipped (the table is
// checked by tests/unit/cda_header_test.cc, which fails on any).
const std::vector<CodeRow>& DocumentCodes() {
  static const std::vector<CodeRow> rows = [] {
    std::vector<CodeRow> out;
    for (const TsvRow& row : ReadTsv(EmbeddedDocumentCodes())) {
      const auto& cells = row.cells;
      if (cells.size() == 4 && (cells[0] == "class" || cells[0] == "format"))
        out.push_back({cells[0], cells[1], cells[2], cells[3]});
    }
    return out;
  }();
  return rows;
}

bool IsInsRoot(std::string_view root) {
  return root == "1.2.250.1.213.1.4.8" || root == "1.2.250.1.213.1.4.9" ||
         root == "1.2.250.1.213.1.4.10" || root == "1.2.250.1.213.1.4.11";
}

std::string Attr(pugi::xml_node n, const char* name) { return n ? n.attribute(name).value() : ""; }

pugi::xml_node Path(pugi::xml_node n, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (!n) return n;
    n = Child(n, kHl7, name);
  }
  return n;
}

xds::Code CodeOf(pugi::xml_node n) {
  xds::Code c;
  c.code = Attr(n, "code");
  c.scheme = Attr(n, "codeSystem");
  c.display = Attr(n, "displayName");
  if (c.display.empty()) c.display = c.code;
  return c;
}

// XCN from an assignedAuthor/assignedEntity: id^family^given^^^^^^&root&ISO.
std::string Xcn(pugi::xml_node entity, const char* person_element) {
  pugi::xml_node id = Child(entity, kHl7, "id");
  pugi::xml_node name = Path(entity, {person_element, "name"});
  std::string family = Trim(Text(Child(name, kHl7, "family")));
  std::string given = Trim(Text(Child(name, kHl7, "given")));
  std::string ext = Attr(id, "extension"), root = Attr(id, "root");
  std::string out = ext + "^" + family + "^" + given + "^^^^^^";
  if (!root.empty()) out += "&" + root + "&ISO";
  return out;
}

}  // namespace

xds::Code ClassCodeForType(const std::string& type_code) {
  for (const auto& row : DocumentCodes())
    if (row.kind == "class" && row.key == type_code)
      return {row.code, kClassScheme, row.display, ""};
  return {};
}

std::string DtmFromHl7Ts(std::string_view ts) {
  size_t digits = 0;
  while (digits < ts.size() && std::isdigit(static_cast<unsigned char>(ts[digits]))) ++digits;
  std::string base(ts.substr(0, digits));
  if (digits < 4) return "";
  std::string_view rest = ts.substr(digits);
  if (!rest.empty() && rest[0] == '.') {  // fractional seconds: dropped
    size_t k = 1;
    while (k < rest.size() && std::isdigit(static_cast<unsigned char>(rest[k]))) ++k;
    rest = rest.substr(k);
  }
  if (rest.empty() || base.size() < 10) return base.size() > 14 ? base.substr(0, 14) : base;
  if (rest.size() != 5 || (rest[0] != '+' && rest[0] != '-')) return "";
  // Four digits, checked: std::stoi throws on "ab" and reads "1a" as 1 (found by fuzzing).
  for (char c : rest.substr(1))
    if (!std::isdigit(static_cast<unsigned char>(c))) return "";
  int sign = rest[0] == '+' ? 1 : -1;
  int offset = sign * (std::stoi(std::string(rest.substr(1, 2))) * 60 +
                       std::stoi(std::string(rest.substr(3, 2))));
  std::string padded = base;
  while (padded.size() < 14) padded += "0";
  std::tm tm{};
  tm.tm_year = std::stoi(padded.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(padded.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(padded.substr(6, 2));
  tm.tm_hour = std::stoi(padded.substr(8, 2));
  tm.tm_min = std::stoi(padded.substr(10, 2));
  tm.tm_sec = std::stoi(padded.substr(12, 2));
  std::time_t t = timegm(&tm) - offset * 60;
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return std::string(buf).substr(0, base.size());
}

Result<CdaHeader> ReadCdaHeader(std::string_view xml) {
  auto doc = ParseXml(xml);
  if (!doc.ok()) return doc.status();
  pugi::xml_node root = (*doc)->document_element();
  if (!Is(root, kHl7, "ClinicalDocument"))
    return BadRequest(
        "not a CDA R2 document (root element must be urn:hl7-org:v3 ClinicalDocument)");
  CdaHeader h;
  xds::DocumentEntry& e = h.entry;
  e.object_type = std::string(xds::uuids::kDocumentEntryStable);
  e.mime_type = "text/xml";
  pugi::xml_node id = Child(root, kHl7, "id");
  if (Attr(id, "root").empty())
    return Invalid("the CDA header has no id: no uniqueId", "ClinicalDocument/id");
  e.unique_id =
      Attr(id, "root") + (Attr(id, "extension").empty() ? "" : "^" + Attr(id, "extension"));
  e.title = Trim(Text(Child(root, kHl7, "title")));
  pugi::xml_node code = Child(root, kHl7, "code");
  if (Attr(code, "code").empty())
    return Invalid("the CDA header has no code: no typeCode", "ClinicalDocument/code");
  e.type_code = CodeOf(code);
  for (const auto& row : DocumentCodes())
    if (row.kind == "class" && e.type_code.code == row.key)
      e.class_code = {row.code, kClassScheme, row.display, ""};
  e.creation_time = DtmFromHl7Ts(Attr(Child(root, kHl7, "effectiveTime"), "value"));
  if (e.creation_time.empty())
    return Invalid("the CDA header has no valid effectiveTime: no creationTime",
                   "ClinicalDocument/effectiveTime");
  pugi::xml_node conf = Child(root, kHl7, "confidentialityCode");
  if (conf) e.confidentiality_codes.push_back(CodeOf(conf));
  e.language_code = Attr(Child(root, kHl7, "languageCode"), "code");
  h.set_id = Attr(Child(root, kHl7, "setId"), "root");
  h.version_number = Attr(Child(root, kHl7, "versionNumber"), "value");
  for (const auto& row : DocumentCodes()) {
    if (row.kind != "format" || !e.format_code.code.empty()) continue;
    for (pugi::xml_node t = root.first_child(); t; t = t.next_sibling())
      if (Is(t, kHl7, "templateId") && Attr(t, "root") == row.key)
        e.format_code = {row.code, kFormatScheme, row.display, ""};
  }
  if (e.format_code.code.empty())
    e.format_code = {"urn:ihe:iti:xds:2017:mimeTypeSufficient", kFormatScheme,
                     "Format from mimeType", ""};

  // Patient: the INS is the patientId; a local id the sourcePatientId.
  pugi::xml_node patient_role = Path(root, {"recordTarget", "patientRole"});
  for (pugi::xml_node n = patient_role.first_child(); n; n = n.next_sibling()) {
    if (!Is(n, kHl7, "id")) continue;
    std::string r = Attr(n, "root"), x = Attr(n, "extension");
    if (IsInsRoot(r) && h.patient_ins.empty()) {
      h.patient_ins = x;
      h.patient_ins_oid = r;
      e.patient_id = x + "^^^&" + r + "&ISO^NH";
    } else if (e.source_patient_id.empty() && !x.empty()) {
      e.source_patient_id = x + "^^^&" + r + "&ISO^PI";
    }
  }
  if (h.patient_ins.empty())
    return Invalid("the CDA recordTarget carries no national identity (INS)",
                   "ClinicalDocument/recordTarget");
  if (e.source_patient_id.empty()) e.source_patient_id = e.patient_id;
  pugi::xml_node person = Child(patient_role, kHl7, "patient");
  pugi::xml_node name = Child(person, kHl7, "name");
  std::string family = Trim(Text(Child(name, kHl7, "family"))),
              given = Trim(Text(Child(name, kHl7, "given")));
  if (!family.empty()) e.source_patient_info.push_back("PID-5|" + family + "^" + given + "^^^");
  std::string birth = Attr(Child(person, kHl7, "birthTime"), "value");
  if (!birth.empty()) e.source_patient_info.push_back("PID-7|" + birth.substr(0, 8));
  std::string gender = Attr(Child(person, kHl7, "administrativeGenderCode"), "code");
  if (!gender.empty()) e.source_patient_info.push_back("PID-8|" + gender);

  for (pugi::xml_node a = root.first_child(); a; a = a.next_sibling()) {
    if (!Is(a, kHl7, "author")) continue;
    pugi::xml_node assigned = Child(a, kHl7, "assignedAuthor");
    xds::Author author;
    if (Child(assigned, kHl7, "assignedPerson")) author.person = Xcn(assigned, "assignedPerson");
    std::string org = Trim(Text(Path(assigned, {"representedOrganization", "name"})));
    if (!org.empty()) author.institutions.push_back(org);
    pugi::xml_node spec = Child(assigned, kHl7, "code");
    if (spec)
      author.specialties.push_back(Attr(spec, "code") + "^" + Attr(spec, "displayName") + "^" +
                                   Attr(spec, "codeSystem"));
    pugi::xml_node role = Child(a, kHl7, "functionCode");
    if (role)
      author.roles.push_back(Attr(role, "code") + "^" + Attr(role, "displayName") + "^" +
                             Attr(role, "codeSystem"));
    e.authors.push_back(std::move(author));
  }
  pugi::xml_node legal = Path(root, {"legalAuthenticator", "assignedEntity"});
  if (legal) e.legal_authenticator = Xcn(legal, "assignedPerson");

  for (pugi::xml_node d = root.first_child(); d; d = d.next_sibling()) {
    if (!Is(d, kHl7, "documentationOf")) continue;
    pugi::xml_node event = Child(d, kHl7, "serviceEvent");
    pugi::xml_node ev_code = Child(event, kHl7, "code");
    if (ev_code && !Attr(ev_code, "code").empty()) e.event_codes.push_back(CodeOf(ev_code));
    pugi::xml_node time = Child(event, kHl7, "effectiveTime");
    if (e.service_start_time.empty())
      e.service_start_time = DtmFromHl7Ts(Attr(Child(time, kHl7, "low"), "value"));
    if (e.service_stop_time.empty())
      e.service_stop_time = DtmFromHl7Ts(Attr(Child(time, kHl7, "high"), "value"));
    pugi::xml_node setting = Path(event, {"performer", "assignedEntity", "representedOrganization",
                                          "standardIndustryClassCode"});
    if (setting && e.practice_setting_code.code.empty()) e.practice_setting_code = CodeOf(setting);
  }
  pugi::xml_node facility = Path(
      root, {"componentOf", "encompassingEncounter", "location", "healthCareFacility", "code"});
  if (facility) e.healthcare_facility_type_code = CodeOf(facility);
  for (pugi::xml_node r = root.first_child(); r; r = r.next_sibling()) {
    if (!Is(r, kHl7, "relatedDocument") || std::string(Attr(r, "typeCode")) != "RPLC") continue;
    pugi::xml_node pid = Path(r, {"parentDocument", "id"});
    h.replaces_unique_id =
        Attr(pid, "root") + (Attr(pid, "extension").empty() ? "" : "^" + Attr(pid, "extension"));
  }
  return h;
}

}  // namespace carnet::mapping
