#include "profiles/mail_address.h"

#include <map>
#include <mutex>

#include "base/strings.h"
#include "profiles/rows.h"

namespace carnet::profiles {

const char* EmbeddedMailProfessions();

namespace {

std::string& DomainStorage() {
  static std::string domain(kDefaultMailDomain);
  return domain;
}

const std::map<std::string, std::string>& ProfessionWords() {
  static const std::map<std::string, std::string> kWords = [] {
    std::map<std::string, std::string> words;
    Status st = ForEachRow(EmbeddedMailProfessions(), "mail_professions.tsv",
                           [&](std::string_view line, const std::string&) {
                             auto f = RowFields(line);
                             if (f.size() >= 2) words[f[0]] = f[1];
                             return Status::Ok();
                           });
    (void)st;
    return words;
  }();
  return kWords;
}

bool IsWordChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Latin-1 supplement letters (U+00C0..U+00FF, two UTF-8 bytes C3 xx) folded to ASCII.
char FoldLatin1(unsigned char second) {
  static const char* kFold =
      "AAAAAAACEEEEIIII"   // C0..CF
      "DNOOOOO*OUUUUYTs"   // D0..DF
      "aaaaaaaceeeeiiii"   // E0..EF
      "dnooooo/ouuuuyty";  // F0..FF
  unsigned code = 0xC0 + (second & 0x3F);
  if (code < 0xC0 || code > 0xFF) return 0;
  return kFold[code - 0xC0];
}

}  // namespace

void SetMailDomain(std::string domain) { DomainStorage() = AsciiLower(domain); }
const std::string& MailDomain() { return DomainStorage(); }

Status CheckMailDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return BadRequest("a mail domain is a DNS name");
  size_t label = 0;
  for (size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (label == 0 || label > 63 || domain[i - 1] == '-' || domain[i - label] == '-')
        return BadRequest("'" + std::string(domain) + "' is not a DNS name");
      label = 0;
      continue;
    }
    char c = static_cast<char>(AsciiLower(std::string_view(&domain[i], 1))[0]);
    if (!IsWordChar(c)) return BadRequest("'" + std::string(domain) + "' is not a DNS name");
    ++label;
  }
  return Status::Ok();
}

std::string ProfessionMailWord(std::string_view profession_code) {
  auto it = ProfessionWords().find(std::string(profession_code));
  return it == ProfessionWords().end() ? "professionnel" : it->second;
}

std::string MailLocalPart(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    char a = 0;
    if (c == 0xC3 && i + 1 < name.size()) {
      a = FoldLatin1(static_cast<unsigned char>(name[++i]));
      if (a == 'T' || a == 't' || a == '*' || a == '/') a = 0;  // thorn, x, division
      if (a == 's') out += 's';                                 // sharp s -> ss
    } else if (c == 0xC5 && i + 1 < name.size()) {
      unsigned char n = static_cast<unsigned char>(name[++i]);
      if (n == 0x92 || n == 0x93) out += "oe", a = 0;  // Œ œ
    } else if (c < 0x80) {
      a = static_cast<char>(c);
      if (a == ' ' || a == '\'' || a == '-' || a == '_') a = '-';
    } else {
      while (i + 1 < name.size() && (static_cast<unsigned char>(name[i + 1]) & 0xC0) == 0x80) ++i;
    }
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a == '-' && (out.empty() || out.back() == '-')) continue;
    if (a && IsWordChar(a)) out += a;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

Result<std::string> PatientMailAddress(std::string_view ins, std::string_view domain) {
  if (!AllDigits(ins) || ins.size() < 13 || ins.size() > 15)
    return BadRequest("a patient's address needs their INS (13 to 15 digits), not '" +
                      std::string(ins) + "'");
  return std::string(ins) + "@patient." + std::string(domain);
}

Result<std::string> ProfessionalMailAddress(std::string_view given, std::string_view family,
                                            std::string_view profession_code,
                                            std::string_view domain) {
  std::string first = MailLocalPart(given), last = MailLocalPart(family);
  if (first.empty() || last.empty())
    return BadRequest("a professional's address needs a given and a family name");
  return first + "." + last + "@" + ProfessionMailWord(profession_code) + "." + std::string(domain);
}

Result<MailAddress> ParseMailAddress(std::string_view address) {
  size_t at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos)
    return BadRequest("'" + std::string(address) + "' is not an address (one '@')");
  std::string local = std::string(address.substr(0, at));
  std::string host = AsciiLower(address.substr(at + 1));
  size_t dot = host.find('.');
  if (local.empty() || dot == std::string::npos || dot == 0)
    return BadRequest("'" + std::string(address) + "' is not <part>@<kind>.<domain>");
  MailAddress m;
  m.profession = host.substr(0, dot);
  m.domain = host.substr(dot + 1);
  CARNET_RETURN_IF_ERROR(CheckMailDomain(m.domain));
  for (char c : m.profession)
    if (!IsWordChar(c)) return BadRequest("'" + m.profession + "' is not a profession word");
  if (m.profession == "patient") {
    if (!AllDigits(local) || local.size() < 13 || local.size() > 15)
      return BadRequest("a patient's address starts with their INS, not '" + local + "'");
    m.patient = true;
    m.ins = local;
    m.profession.clear();
    return m;
  }
  std::string lower = AsciiLower(local);
  size_t sep = lower.find('.');
  if (sep == std::string::npos || sep == 0 || sep + 1 == lower.size() ||
      lower.find('.', sep + 1) != std::string::npos)
    return BadRequest("a professional's address is <first>.<last>@..., not '" + local + "'");
  for (char c : lower)
    if (c != '.' && !IsWordChar(c))
      return BadRequest("'" + local + "' holds a character an address part does not hold");
  m.first = lower.substr(0, sep);
  m.last = lower.substr(sep + 1);
  return m;
}

}  // namespace carnet::profiles
