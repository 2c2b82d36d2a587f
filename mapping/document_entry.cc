#include "mapping/document_entry.h"

#include <cctype>
#include <cstdio>
#include <ctime>

#include "base/http.h"
#include "base/strings.h"

namespace carnet::mapping {
namespace {

std::string Ext(const char* name) { return std::string(kExtensionBase) + name; }

JsonValue StringExtension(const std::string& url, const std::string& value) {
  JsonValue e = JsonValue::Object();
  e.Set("url", JsonValue::String(url));
  e.Set("valueString", JsonValue::String(value));
  return e;
}

void AddExtension(JsonValue& target, JsonValue extension) {
  JsonValue* list = target.Find("extension");
  if (!list) list = &target.Set("extension", JsonValue::Array());
  list->Append(std::move(extension));
}

// Values of the extensions with this url (valueString), in order.
std::vector<std::string> ExtensionStrings(const JsonValue& node, const std::string& url) {
  std::vector<std::string> out;
  const JsonValue* list = node.Find("extension");
  if (!list || !list->is_array()) return out;
  for (const auto& e : list->items())
    if (e.GetString("url") == url) out.push_back(e.GetString("valueString"));
  return out;
}

std::string ExtensionString(const JsonValue& node, const std::string& url) {
  auto all = ExtensionStrings(node, url);
  return all.empty() ? std::string() : all.front();
}

bool IsOid(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  bool digit_seen = false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)))
      digit_seen = true;
    else if (c != '.')
      return false;
  }
  return digit_seen && s.front() != '.' && s.back() != '.';
}

JsonValue CodingOf(const xds::Code& code) {
  JsonValue c = JsonValue::Object();
  c.Set("system", JsonValue::String(SystemFromScheme(code.scheme)));
  c.Set("code", JsonValue::String(code.code));
  if (!code.display.empty()) c.Set("display", JsonValue::String(code.display));
  return c;
}

JsonValue ConceptOf(const xds::Code& code) {
  JsonValue cc = JsonValue::Object();
  JsonValue codings = JsonValue::Array();
  codings.Append(CodingOf(code));
  cc.Set("coding", std::move(codings));
  return cc;
}

xds::Code CodeOfCoding(const JsonValue& coding) {
  xds::Code c;
  c.code = coding.GetString("code");
  c.scheme = SchemeFromSystem(coding.GetString("system"));
  c.display = coding.GetString("display");
  return c;
}

xds::Code CodeOfConcept(const JsonValue* cc) {
  if (!cc) return {};
  const JsonValue* codings = cc->Find("coding");
  if (!codings || !codings->is_array() || codings->items().empty()) return {};
  return CodeOfCoding(codings->items()[0]);
}

// A date-time element with the DTM it came from kept beside it, when the FHIR form alone
// would not give the same DTM back (minutes precision, for instance).
void SetDateTime(JsonValue& target, const std::string& name, const std::string& dtm) {
  if (dtm.empty()) return;
  std::string fhir = FhirDateTimeFromDtm(dtm);
  if (fhir.empty()) return;
  target.Set(name, JsonValue::String(fhir));
  if (DtmFromFhirDateTime(fhir) != dtm) {
    JsonValue ext = JsonValue::Object();
    AddExtension(ext, StringExtension(Ext("xds-dtm"), dtm));
    target.Set("_" + name, std::move(ext));
  }
}

std::string GetDateTime(const JsonValue& source, const std::string& name) {
  if (const JsonValue* ext = source.Find("_" + name)) {
    std::string dtm = ExtensionString(*ext, Ext("xds-dtm"));
    if (!dtm.empty()) return dtm;
  }
  return DtmFromFhirDateTime(source.GetString(name));
}

// XCN "id^family^given^middle^suffix^prefix^^^&assigningOID&ISO" -> a contained Practitioner.
JsonValue PractitionerFromXcn(const std::string& id, const std::string& xcn) {
  std::vector<std::string> f;
  size_t start = 0;
  while (start <= xcn.size()) {
    size_t caret = xcn.find('^', start);
    f.push_back(xcn.substr(start, caret == std::string::npos ? std::string::npos : caret - start));
    start = caret == std::string::npos ? xcn.size() + 1 : caret + 1;
  }
  f.resize(std::max<size_t>(f.size(), 9));
  JsonValue p = JsonValue::Object();
  p.Set("resourceType", JsonValue::String("Practitioner"));
  p.Set("id", JsonValue::String(id));
  if (!f[0].empty()) {
    JsonValue ident = JsonValue::Object();
    std::string authority = f[8];
    size_t amp = authority.find('&');
    if (amp != std::string::npos) {
      std::string oid = authority.substr(amp + 1, authority.find('&', amp + 1) - amp - 1);
      if (IsOid(oid)) ident.Set("system", JsonValue::String("urn:oid:" + oid));
    }
    ident.Set("value", JsonValue::String(f[0]));
    JsonValue list = JsonValue::Array();
    list.Append(std::move(ident));
    p.Set("identifier", std::move(list));
  }
  if (!f[1].empty() || !f[2].empty()) {
    JsonValue name = JsonValue::Object();
    if (!f[1].empty()) name.Set("family", JsonValue::String(f[1]));
    JsonValue given = JsonValue::Array();
    for (int i : {2, 3})
      if (!f[i].empty()) given.Append(JsonValue::String(f[i]));
    if (!given.items().empty()) name.Set("given", std::move(given));
    JsonValue names = JsonValue::Array();
    names.Append(std::move(name));
    p.Set("name", std::move(names));
  }
  return p;
}

// An XDS author, kept whole (raw XCN/XON/XTN strings) in a carnet extension.
JsonValue AuthorExtension(const xds::Author& a) {
  JsonValue ext = JsonValue::Object();
  ext.Set("url", JsonValue::String(Ext("xds-author")));
  if (!a.person.empty()) AddExtension(ext, StringExtension("person", a.person));
  for (const auto& v : a.institutions) AddExtension(ext, StringExtension("institution", v));
  for (const auto& v : a.roles) AddExtension(ext, StringExtension("role", v));
  for (const auto& v : a.specialties) AddExtension(ext, StringExtension("specialty", v));
  for (const auto& v : a.telecommunications) AddExtension(ext, StringExtension("telecom", v));
  return ext;
}

xds::Author AuthorFromExtension(const JsonValue& x) {
  xds::Author a;
  a.person = ExtensionString(x, "person");
  a.institutions = ExtensionStrings(x, "institution");
  a.roles = ExtensionStrings(x, "role");
  a.specialties = ExtensionStrings(x, "specialty");
  a.telecommunications = ExtensionStrings(x, "telecom");
  return a;
}

JsonValue ReferenceTo(const std::string& ref) {
  JsonValue r = JsonValue::Object();
  r.Set("reference", JsonValue::String(ref));
  return r;
}

}  // namespace

std::string SystemFromScheme(const std::string& scheme) {
  if (scheme == "2.16.840.1.113883.6.1") return "http://loinc.org";
  if (scheme == "2.16.840.1.113883.6.96") return "http://snomed.info/sct";
  if (scheme == "2.16.840.1.113883.5.25")
    return "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
  if (IsOid(scheme)) return "urn:oid:" + scheme;
  // Connectathon-style names ("Connect-a-thon classCodes") are not URIs: keep them
  // reversibly in a URN of ours.
  return "urn:carnet:xds-scheme:" + PercentEncode(scheme);
}

std::string SchemeFromSystem(const std::string& system) {
  if (system == "http://loinc.org") return "2.16.840.1.113883.6.1";
  if (system == "http://snomed.info/sct") return "2.16.840.1.113883.6.96";
  if (system == "http://terminology.hl7.org/CodeSystem/v3-Confidentiality")
    return "2.16.840.1.113883.5.25";
  if (system.rfind("urn:oid:", 0) == 0) return system.substr(8);
  if (system.rfind("urn:carnet:xds-scheme:", 0) == 0)
    return PercentDecode(system.substr(22), false);
  return system;
}

std::string FhirDateTimeFromDtm(const std::string& dtm) {
  for (char c : dtm)
    if (!std::isdigit(static_cast<unsigned char>(c))) return "";
  size_t n = dtm.size();
  if (n < 4 || n > 14 || n % 2 != 0) return "";
  std::string out = dtm.substr(0, 4);
  if (n >= 6) out += "-" + dtm.substr(4, 2);
  if (n >= 8) out += "-" + dtm.substr(6, 2);
  if (n >= 10) {
    // FHIR dateTime with a time needs seconds and a zone; XDS times are UTC.
    out += "T" + dtm.substr(8, 2) + ":" + (n >= 12 ? dtm.substr(10, 2) : "00") + ":" +
           (n >= 14 ? dtm.substr(12, 2) : "00") + "Z";
  }
  return out;
}

std::string TimestampFromDtm(const std::string& dtm) {
  std::string fhir = FhirDateTimeFromDtm(dtm);
  if (fhir.size() == 4) fhir += "-01-01";
  if (fhir.size() == 7) fhir += "-01";
  return fhir;
}

std::string DtmFromFhirDateTime(const std::string& dt) {
  if (dt.empty()) return "";
  std::string digits;
  if (dt.find('T') == std::string::npos) {
    for (char c : dt)
      if (std::isdigit(static_cast<unsigned char>(c))) digits.push_back(c);
    return digits;
  }
  // Convert to UTC seconds precision.
  auto secs = EpochSeconds(dt);
  if (!secs) return "";
  std::time_t t = static_cast<std::time_t>(*secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string Base64FromHex(const std::string& hex) {
  if (hex.size() % 2 != 0) return "";
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = std::isxdigit(static_cast<unsigned char>(hex[i]))
                 ? std::stoi(hex.substr(i, 1), nullptr, 16)
                 : -1;
    int lo = std::isxdigit(static_cast<unsigned char>(hex[i + 1]))
                 ? std::stoi(hex.substr(i + 1, 1), nullptr, 16)
                 : -1;
    if (hi < 0 || lo < 0) return "";
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return Base64Encode(bytes);
}

std::string HexFromBase64(const std::string& b64) {
  auto bytes = Base64Decode(b64);
  if (!bytes) return "";
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : *bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

JsonValue DocumentReferenceFromEntry(const xds::DocumentEntry& e,
                                     const std::string& patient_reference,
                                     const std::string& content_url) {
  JsonValue dr = JsonValue::Object();
  dr.Set("resourceType", JsonValue::String("DocumentReference"));
  std::string uuid = e.id.rfind("urn:uuid:", 0) == 0 ? e.id.substr(9) : e.id;
  for (auto& c : uuid) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  dr.Set("id", JsonValue::String(uuid));

  JsonValue contained = JsonValue::Array();
  // XDS-only attributes, kept as extensions (raw values, reversible).
  if (!e.repository_unique_id.empty())
    AddExtension(dr, StringExtension(Ext("xds-repository-unique-id"), e.repository_unique_id));
  if (e.OnDemand()) AddExtension(dr, StringExtension(Ext("xds-on-demand"), "true"));
  if (!e.home.empty()) AddExtension(dr, StringExtension(Ext("xds-home-community-id"), e.home));
  if (!e.lid.empty() && e.lid != e.id)
    AddExtension(dr, StringExtension(Ext("xds-logical-id"), e.lid));
  if (!e.version.empty()) AddExtension(dr, StringExtension(Ext("xds-version"), e.version));
  if (e.limited_metadata) AddExtension(dr, StringExtension(Ext("xds-limited-metadata"), "true"));
  if (!e.uri.empty()) AddExtension(dr, StringExtension(Ext("xds-uri"), e.uri));
  if (!e.document_availability.empty())
    AddExtension(dr, StringExtension(Ext("xds-document-availability"), e.document_availability));
  for (const auto& slot : e.other_slots) {
    JsonValue s = JsonValue::Object();
    s.Set("url", JsonValue::String(Ext("xds-slot")));
    AddExtension(s, StringExtension("name", slot.name));
    for (const auto& v : slot.values) AddExtension(s, StringExtension("value", v));
    AddExtension(dr, std::move(s));
  }
  int author_index = 0;
  for (const auto& a : e.authors) {
    AddExtension(dr, AuthorExtension(a));
    if (!a.person.empty()) {
      std::string id = "author" + std::to_string(++author_index);
      contained.Append(PractitionerFromXcn(id, a.person));
    }
  }
  if (!e.source_patient_id.empty())
    AddExtension(dr, StringExtension(Ext("xds-source-patient-id"), e.source_patient_id));
  for (const auto& info : e.source_patient_info)
    AddExtension(dr, StringExtension(Ext("xds-source-patient-info"), info));
  if (!e.legal_authenticator.empty()) {
    AddExtension(dr, StringExtension(Ext("xds-legal-authenticator"), e.legal_authenticator));
    contained.Append(PractitionerFromXcn("legal", e.legal_authenticator));
  }
  if (!contained.items().empty()) dr.Set("contained", std::move(contained));

  if (!e.unique_id.empty()) {
    JsonValue mi = JsonValue::Object();
    mi.Set("system", JsonValue::String("urn:ietf:rfc:3986"));
    mi.Set("value", JsonValue::String(IsOid(e.unique_id) ? "urn:oid:" + e.unique_id : e.unique_id));
    dr.Set("masterIdentifier", std::move(mi));
  }
  {
    JsonValue ids = JsonValue::Array();
    JsonValue ident = JsonValue::Object();
    ident.Set("use", JsonValue::String("official"));
    ident.Set("system", JsonValue::String("urn:ietf:rfc:3986"));
    ident.Set("value", JsonValue::String(e.id));
    ids.Append(std::move(ident));
    dr.Set("identifier", std::move(ids));
  }
  dr.Set("status",
         JsonValue::String(e.status == xds::kStatusDeprecated ? "superseded" : "current"));
  if (!e.type_code.code.empty()) dr.Set("type", ConceptOf(e.type_code));
  if (!e.class_code.code.empty()) {
    JsonValue cat = JsonValue::Array();
    cat.Append(ConceptOf(e.class_code));
    dr.Set("category", std::move(cat));
  }
  if (!patient_reference.empty()) dr.Set("subject", ReferenceTo(patient_reference));
  if (author_index > 0) {
    JsonValue authors = JsonValue::Array();
    for (int i = 1; i <= author_index; ++i)
      authors.Append(ReferenceTo("#author" + std::to_string(i)));
    dr.Set("author", std::move(authors));
  }
  if (!e.legal_authenticator.empty()) dr.Set("authenticator", ReferenceTo("#legal"));
  if (!e.comments.empty()) dr.Set("description", JsonValue::String(e.comments));
  if (!e.confidentiality_codes.empty()) {
    JsonValue labels = JsonValue::Array();
    for (const auto& c : e.confidentiality_codes) labels.Append(ConceptOf(c));
    dr.Set("securityLabel", std::move(labels));
  }
  JsonValue attachment = JsonValue::Object();
  if (!e.mime_type.empty()) attachment.Set("contentType", JsonValue::String(e.mime_type));
  if (!e.language_code.empty()) attachment.Set("language", JsonValue::String(e.language_code));
  if (!content_url.empty()) attachment.Set("url", JsonValue::String(content_url));
  if (!e.size.empty() && e.size.find_first_not_of("0123456789") == std::string::npos) {
    // A JSON (and FHIR) integer has no leading zeros; some sources send "061224".
    std::string size = e.size.substr(std::min(e.size.find_first_not_of('0'), e.size.size() - 1));
    attachment.Set("size", JsonValue::Number(size));
  }
  if (!e.hash.empty()) {
    std::string b64 = Base64FromHex(e.hash);
    if (!b64.empty()) attachment.Set("hash", JsonValue::String(b64));
  }
  if (!e.title.empty()) attachment.Set("title", JsonValue::String(e.title));
  SetDateTime(attachment, "creation", e.creation_time);
  JsonValue content = JsonValue::Object();
  content.Set("attachment", std::move(attachment));
  if (!e.format_code.code.empty()) content.Set("format", CodingOf(e.format_code));
  JsonValue contents = JsonValue::Array();
  contents.Append(std::move(content));
  dr.Set("content", std::move(contents));

  JsonValue context = JsonValue::Object();
  if (!e.event_codes.empty()) {
    JsonValue events = JsonValue::Array();
    for (const auto& c : e.event_codes) events.Append(ConceptOf(c));
    context.Set("event", std::move(events));
  }
  if (!e.service_start_time.empty() || !e.service_stop_time.empty()) {
    JsonValue period = JsonValue::Object();
    SetDateTime(period, "start", e.service_start_time);
    SetDateTime(period, "end", e.service_stop_time);
    if (!period.members().empty()) context.Set("period", std::move(period));
  }
  if (!e.healthcare_facility_type_code.code.empty())
    context.Set("facilityType", ConceptOf(e.healthcare_facility_type_code));
  if (!e.practice_setting_code.code.empty())
    context.Set("practiceSetting", ConceptOf(e.practice_setting_code));
  if (!e.reference_id_list.empty()) {
    JsonValue related = JsonValue::Array();
    for (const auto& ref : e.reference_id_list) {
      JsonValue r = JsonValue::Object();
      JsonValue ident = JsonValue::Object();
      ident.Set("value", JsonValue::String(ref));
      r.Set("identifier", std::move(ident));
      related.Append(std::move(r));
    }
    context.Set("related", std::move(related));
  }
  if (!context.members().empty()) dr.Set("context", std::move(context));
  return dr;
}

Result<xds::DocumentEntry> EntryFromDocumentReference(const JsonValue& dr,
                                                      const std::string& patient_cx,
                                                      const ReferenceResolver& resolve) {
  if (dr.GetString("resourceType") != "DocumentReference")
    return Invalid("not a DocumentReference");
  xds::DocumentEntry e;
  std::string id = dr.GetString("id");
  e.id = id.rfind("urn:uuid:", 0) == 0 ? id : "urn:uuid:" + id;
  // The entryUUID of this metadata version: after an ITI-57 update it is no longer the
  // resource id (the DocumentReference keeps its id across versions).
  if (const JsonValue* ids = dr.Find("identifier"); ids && ids->is_array())
    for (const auto& ident : ids->items()) {
      std::string v = ident.GetString("value");
      if (ident.GetString("use") == "official" && v.rfind("urn:uuid:", 0) == 0) e.id = v;
    }
  e.object_type = std::string(ExtensionString(dr, Ext("xds-on-demand")) == "true"
                                  ? xds::uuids::kDocumentEntryOnDemand
                                  : xds::uuids::kDocumentEntryStable);
  e.patient_id = patient_cx;
  e.repository_unique_id = ExtensionString(dr, Ext("xds-repository-unique-id"));
  e.home = ExtensionString(dr, Ext("xds-home-community-id"));
  e.lid = ExtensionString(dr, Ext("xds-logical-id"));
  e.version = ExtensionString(dr, Ext("xds-version"));
  e.limited_metadata = ExtensionString(dr, Ext("xds-limited-metadata")) == "true";
  e.uri = ExtensionString(dr, Ext("xds-uri"));
  e.document_availability = ExtensionString(dr, Ext("xds-document-availability"));
  e.source_patient_id = ExtensionString(dr, Ext("xds-source-patient-id"));
  e.source_patient_info = ExtensionStrings(dr, Ext("xds-source-patient-info"));
  e.legal_authenticator = ExtensionString(dr, Ext("xds-legal-authenticator"));
  if (const JsonValue* exts = dr.Find("extension"); exts && exts->is_array()) {
    for (const auto& x : exts->items()) {
      if (x.GetString("url") == Ext("xds-author")) {
        e.authors.push_back(AuthorFromExtension(x));
      } else if (x.GetString("url") == Ext("xds-slot")) {
        xds::Slot s;
        s.name = ExtensionString(x, "name");
        s.values = ExtensionStrings(x, "value");
        e.other_slots.push_back(std::move(s));
      }
    }
  }
  if (const JsonValue* mi = dr.Find("masterIdentifier")) {
    std::string v = mi->GetString("value");
    e.unique_id = v.rfind("urn:oid:", 0) == 0 ? v.substr(8) : v;
  }
  std::string status = dr.GetString("status");
  e.status = std::string(status == "superseded" ? xds::kStatusDeprecated : xds::kStatusApproved);
  e.type_code = CodeOfConcept(dr.Find("type"));
  if (const JsonValue* cat = dr.Find("category"); cat && cat->is_array() && !cat->items().empty())
    e.class_code = CodeOfConcept(&cat->items()[0]);
  e.comments = dr.GetString("description");
  if (const JsonValue* labels = dr.Find("securityLabel"); labels && labels->is_array())
    for (const auto& l : labels->items()) e.confidentiality_codes.push_back(CodeOfConcept(&l));
  if (const JsonValue* contents = dr.Find("content");
      contents && contents->is_array() && !contents->items().empty()) {
    const JsonValue& content = contents->items()[0];
    if (const JsonValue* att = content.Find("attachment")) {
      e.mime_type = att->GetString("contentType");
      e.language_code = att->GetString("language");
      if (const JsonValue* size = att->Find("size"); size && size->is_number())
        e.size = size->text();
      e.hash = HexFromBase64(att->GetString("hash"));
      e.title = att->GetString("title");
      e.creation_time = GetDateTime(*att, "creation");
    }
    if (const JsonValue* format = content.Find("format")) e.format_code = CodeOfCoding(*format);
  }
  if (const JsonValue* ctx = dr.Find("context")) {
    if (const JsonValue* events = ctx->Find("event"); events && events->is_array())
      for (const auto& ev : events->items()) e.event_codes.push_back(CodeOfConcept(&ev));
    if (const JsonValue* period = ctx->Find("period")) {
      e.service_start_time = GetDateTime(*period, "start");
      e.service_stop_time = GetDateTime(*period, "end");
    }
    e.healthcare_facility_type_code = CodeOfConcept(ctx->Find("facilityType"));
    e.practice_setting_code = CodeOfConcept(ctx->Find("practiceSetting"));
    if (const JsonValue* related = ctx->Find("related"); related && related->is_array())
      for (const auto& r : related->items())
        if (const JsonValue* ident = r.Find("identifier"))
          e.reference_id_list.push_back(ident->GetString("value"));
  }
  // A DocumentReference written through FHIR has no XDS author extension: its authors are
  // the resources it names, contained or (UnContained) referenced.
  auto target_of = [&](const std::string& ref) -> JsonValue {
    if (ref.rfind("#", 0) == 0) {
      if (const JsonValue* contained = dr.Find("contained"); contained && contained->is_array())
        for (const auto& c : contained->items())
          if (c.GetString("id") == ref.substr(1)) return c;
      return JsonValue();
    }
    return ref.empty() || !resolve ? JsonValue() : resolve(ref);
  };
  if (e.authors.empty()) {
    if (const JsonValue* authors = dr.Find("author"); authors && authors->is_array())
      for (const auto& a : authors->items()) {
        JsonValue target = target_of(a.GetString("reference"));
        if (!target.is_object()) continue;
        xds::Author author = AuthorFromResource(target, target_of);
        if (!author.person.empty() || !author.institutions.empty())
          e.authors.push_back(std::move(author));
      }
  }
  if (e.legal_authenticator.empty())
    if (const JsonValue* auth = dr.Find("authenticator")) {
      JsonValue target = target_of(auth->GetString("reference"));
      if (target.GetString("resourceType") == "Practitioner" ||
          target.GetString("resourceType") == "PractitionerRole")
        e.legal_authenticator = AuthorFromResource(target, target_of).person;
    }
  return e;
}

}  // namespace carnet::mapping

namespace carnet::mapping {

// A List of IHE MHD profile `profile` whose id is the entryUUID `id` (urn:uuid: dropped,
// lower case).
static JsonValue NewMhdList(const std::string& id, const char* profile) {
  JsonValue list = JsonValue::Object();
  list.Set("resourceType", JsonValue::String("List"));
  std::string uuid = id.rfind("urn:uuid:", 0) == 0 ? id.substr(9) : id;
  for (auto& c : uuid) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  list.Set("id", JsonValue::String(uuid));
  JsonValue profiles = JsonValue::Array();
  profiles.Append(JsonValue::String(
      std::string("https://profiles.ihe.net/ITI/MHD/StructureDefinition/") + profile));
  JsonValue meta = JsonValue::Object();
  meta.Set("profile", std::move(profiles));
  list.Set("meta", std::move(meta));
  return list;
}

// The MHD designationType extension: a SubmissionSet's contentTypeCode, a Folder's codeList.
static JsonValue DesignationTypeExtension(const xds::Code& code) {
  JsonValue ext = JsonValue::Object();
  ext.Set("url", JsonValue::String(
                     "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType"));
  ext.Set("valueCodeableConcept", ConceptOf(code));
  return ext;
}

// What a SubmissionSet List and a Folder List share (IHE MHD), in this order: the entryUUID
// and uniqueId identifiers, status, mode, title, the MHD list type, subject, date, note and
// the member entries.
static void SetListCommon(JsonValue& list, const std::string& id, const std::string& unique_id,
                          const std::string& title, const char* list_type,
                          const std::string& patient_reference, const std::string& date,
                          const std::string& comments,
                          const std::vector<std::string>& member_references) {
  JsonValue ids = JsonValue::Array();
  JsonValue entry_uuid = JsonValue::Object();
  entry_uuid.Set("use", JsonValue::String("official"));
  entry_uuid.Set("system", JsonValue::String("urn:ietf:rfc:3986"));
  entry_uuid.Set("value", JsonValue::String(id));
  ids.Append(std::move(entry_uuid));
  if (!unique_id.empty()) {
    JsonValue unique = JsonValue::Object();
    unique.Set("use", JsonValue::String("usual"));
    unique.Set("system", JsonValue::String("urn:ietf:rfc:3986"));
    unique.Set("value", JsonValue::String(IsOid(unique_id) ? "urn:oid:" + unique_id : unique_id));
    ids.Append(std::move(unique));
  }
  list.Set("identifier", std::move(ids));
  list.Set("status", JsonValue::String("current"));
  list.Set("mode", JsonValue::String("working"));
  if (!title.empty()) list.Set("title", JsonValue::String(title));
  JsonValue code = JsonValue::Object();
  JsonValue codings = JsonValue::Array();
  JsonValue coding = JsonValue::Object();
  coding.Set("system",
             JsonValue::String("https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"));
  coding.Set("code", JsonValue::String(list_type));
  codings.Append(std::move(coding));
  code.Set("coding", std::move(codings));
  list.Set("code", std::move(code));
  if (!patient_reference.empty()) list.Set("subject", ReferenceTo(patient_reference));
  SetDateTime(list, "date", date);
  if (!comments.empty()) {
    JsonValue notes = JsonValue::Array();
    JsonValue note = JsonValue::Object();
    note.Set("text", JsonValue::String(comments));
    notes.Append(std::move(note));
    list.Set("note", std::move(notes));
  }
  if (!member_references.empty()) {
    JsonValue entries = JsonValue::Array();
    for (const auto& ref : member_references) {
      JsonValue e = JsonValue::Object();
      e.Set("item", ReferenceTo(ref));
      entries.Append(std::move(e));
    }
    list.Set("entry", std::move(entries));
  }
}

JsonValue ListFromSubmissionSet(const xds::SubmissionSet& set, const std::string& patient_reference,
                                const std::vector<std::string>& member_references) {
  JsonValue list = NewMhdList(set.id, "IHE.MHD.Minimal.SubmissionSet");
  if (!set.source_id.empty())
    AddExtension(
        list, StringExtension("https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
                              "urn:oid:" + set.source_id));
  for (const auto& a : set.authors) {
    AddExtension(list, AuthorExtension(a));
  }
  if (!set.content_type_code.code.empty())
    AddExtension(list, DesignationTypeExtension(set.content_type_code));
  SetListCommon(list, set.id, set.unique_id, set.title, "submissionset", patient_reference,
                set.submission_time, set.comments, member_references);
  return list;
}

}  // namespace carnet::mapping

namespace carnet::mapping {

// What SetListCommon wrote, read back into the registry object of a SubmissionSet or Folder
// List: entryUUID, uniqueId, title, comments, the patient (given, as CX) and the status
// (Approved); returns the List's date as a DTM.
static std::string ReadListCommon(const JsonValue& list, const std::string& patient_cx,
                                  xds::RegistryObject& object) {
  object.id = "urn:uuid:" + list.GetString("id");
  object.patient_id = patient_cx;
  object.status = std::string(xds::kStatusApproved);
  object.title = list.GetString("title");
  if (const JsonValue* ids = list.Find("identifier"); ids && ids->is_array())
    for (const auto& ident : ids->items()) {
      std::string v = ident.GetString("value");
      if (ident.GetString("use") == "official" && v.rfind("urn:uuid:", 0) == 0) object.id = v;
      if (ident.GetString("use") == "usual")
        object.unique_id = v.rfind("urn:oid:", 0) == 0 ? v.substr(8) : v;
    }
  if (const JsonValue* notes = list.Find("note");
      notes && notes->is_array() && !notes->items().empty())
    object.comments = notes->items()[0].GetString("text");
  return GetDateTime(list, "date");
}

xds::SubmissionSet SubmissionSetFromList(const JsonValue& list, const std::string& patient_cx) {
  xds::SubmissionSet set;
  set.submission_time = ReadListCommon(list, patient_cx, set);
  if (const JsonValue* exts = list.Find("extension"); exts && exts->is_array())
    for (const auto& x : exts->items()) {
      std::string url = x.GetString("url");
      if (url.find("ihe-sourceId") != std::string::npos) {
        set.source_id = x.GetString("valueString");
        if (set.source_id.rfind("urn:oid:", 0) == 0) set.source_id = set.source_id.substr(8);
      } else if (url.find("ihe-designationType") != std::string::npos) {
        set.content_type_code = CodeOfConcept(x.Find("valueCodeableConcept"));
      } else if (url == Ext("xds-author")) {
        set.authors.push_back(AuthorFromExtension(x));
      }
    }
  return set;
}

}  // namespace carnet::mapping

namespace carnet::mapping {

std::string MhdListType(const JsonValue& list) {
  if (const JsonValue* code = list.Find("code");
      code && code->Find("coding") && code->Find("coding")->is_array())
    for (const auto& c : code->Find("coding")->items()) {
      std::string v = c.GetString("code");
      if (v == "submissionset" || v == "folder") return v;
    }
  return "";
}

JsonValue ListFromFolder(const xds::Folder& folder, const std::string& patient_reference,
                         const std::vector<std::string>& member_references) {
  JsonValue list = NewMhdList(folder.id, "IHE.MHD.Minimal.Folder");
  for (const auto& code : folder.codes) AddExtension(list, DesignationTypeExtension(code));
  SetListCommon(list, folder.id, folder.unique_id, folder.title, "folder", patient_reference,
                folder.last_update_time, folder.comments, member_references);
  return list;
}

xds::Folder FolderFromList(const JsonValue& list, const std::string& patient_cx) {
  xds::Folder folder;
  folder.last_update_time = ReadListCommon(list, patient_cx, folder);
  if (const JsonValue* exts = list.Find("extension"); exts && exts->is_array())
    for (const auto& x : exts->items())
      if (x.GetString("url").find("ihe-designationType") != std::string::npos)
        folder.codes.push_back(CodeOfConcept(x.Find("valueCodeableConcept")));
  return folder;
}

}  // namespace carnet::mapping

namespace carnet::mapping {
namespace {

std::string FirstIdentifierSystemOid(const JsonValue& resource, std::string* value) {
  if (const JsonValue* ids = resource.Find("identifier");
      ids && ids->is_array() && !ids->items().empty()) {
    const JsonValue& id = ids->items()[0];
    *value = id.GetString("value");
    std::string system = id.GetString("system");
    return system.rfind("urn:oid:", 0) == 0 ? system.substr(8) : "";
  }
  return "";
}

// "code^display^codingSchemeOid" of a CodeableConcept's first coding.
std::string CodedString(const JsonValue* cc) {
  if (!cc) return "";
  const JsonValue* codings = cc->Find("coding");
  if (!codings || !codings->is_array() || codings->items().empty()) return "";
  const JsonValue& c = codings->items()[0];
  return c.GetString("code") + "^" + c.GetString("display") + "^" +
         SchemeFromSystem(c.GetString("system"));
}

// An Organization as an XON: name^^^^^&oid&ISO^XX^^^identifier.
std::string XonFromOrganization(const JsonValue& org) {
  std::string value, oid = FirstIdentifierSystemOid(org, &value);
  std::string out = org.GetString("name");
  if (!value.empty())
    out += "^^^^^" + (oid.empty() ? std::string() : "&" + oid + "&ISO") + "^XX^^^" + value;
  return out;
}

}  // namespace

std::string XcnFromPractitioner(const JsonValue& p) {
  std::string value, oid = FirstIdentifierSystemOid(p, &value);
  std::string family, given;
  if (const JsonValue* names = p.Find("name");
      names && names->is_array() && !names->items().empty()) {
    family = names->items()[0].GetString("family");
    if (const JsonValue* g = names->items()[0].Find("given");
        g && g->is_array() && !g->items().empty())
      given = g->items()[0].text();
  }
  std::string out = value + "^" + family + "^" + given + "^^^^^^";
  if (!oid.empty()) out += "&" + oid + "&ISO";
  return out;
}

xds::Author AuthorFromResource(const JsonValue& resource, const ReferenceResolver& resolve) {
  xds::Author a;
  std::string type = resource.GetString("resourceType");
  if (type == "Practitioner") {
    a.person = XcnFromPractitioner(resource);
  } else if (type == "Organization") {
    std::string xon = XonFromOrganization(resource);
    if (!xon.empty()) a.institutions.push_back(xon);
  } else if (type == "PractitionerRole") {
    auto target = [&](const char* element) {
      const JsonValue* ref = resource.Find(element);
      std::string r = ref ? ref->GetString("reference") : "";
      return r.empty() || !resolve ? JsonValue() : resolve(r);
    };
    JsonValue practitioner = target("practitioner"), organization = target("organization");
    if (practitioner.is_object()) a.person = XcnFromPractitioner(practitioner);
    if (organization.is_object()) {
      std::string xon = XonFromOrganization(organization);
      if (!xon.empty()) a.institutions.push_back(xon);
    }
    if (const JsonValue* codes = resource.Find("code"); codes && codes->is_array())
      for (const auto& c : codes->items())
        if (std::string s = CodedString(&c); !s.empty()) a.roles.push_back(s);
    if (const JsonValue* specs = resource.Find("specialty"); specs && specs->is_array())
      for (const auto& c : specs->items())
        if (std::string s = CodedString(&c); !s.empty()) a.specialties.push_back(s);
  }
  return a;
}

}  // namespace carnet::mapping
