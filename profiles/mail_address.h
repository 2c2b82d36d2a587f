// MSSante-style addresses of the parties of a secure message (issue 17): a patient's
// `<INS>@patient.<domain>`, a professional's `<first>.<last>@<profession>.<domain>`, the
// profession's word from profiles/data/mail_professions.tsv (TRE_G15 code -> word, compiled
// in). The domain is the process's `--mail-domain` setting (default `carnet.invalid`). carnet
// writes each party's address on the message as a ContactPoint (extension
// kMailAddressExtension on the sender and recipient references).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace carnet::profiles {

inline constexpr std::string_view kMailAddressExtension =
    "https://carnet.example.org/fhir/StructureDefinition/mssante-address";
inline constexpr std::string_view kDefaultMailDomain = "carnet.invalid";

// The domain of every address this process writes (set once at start).
void SetMailDomain(std::string domain);
const std::string& MailDomain();
// kBadRequest unless `domain` is a DNS name (labels of letters, digits and hyphens).
Status CheckMailDomain(std::string_view domain);

// The word of a TRE_G15 profession code ("10" -> "medecin"); "professionnel" when unknown.
std::string ProfessionMailWord(std::string_view profession_code);

// A name as an address part: lower case, accents folded (é -> e), spaces and apostrophes to
// hyphens, anything else left out. Empty when nothing remains.
std::string MailLocalPart(std::string_view name);

// `<ins>@patient.<domain>`; kBadRequest unless the INS is digits (13 to 15, key allowed).
Result<std::string> PatientMailAddress(std::string_view ins, std::string_view domain);
// `<first>.<last>@<word>.<domain>`; kBadRequest when a name leaves nothing.
Result<std::string> ProfessionalMailAddress(std::string_view given, std::string_view family,
                                            std::string_view profession_code,
                                            std::string_view domain);

// An address read back.
struct MailAddress {
  bool patient = false;
  std::string ins;    // patient
  std::string first;  // professional, as in the address
  std::string last;
  std::string profession;  // the word ("medecin")
  std::string domain;
};
// kBadRequest naming what is wrong: no '@', an empty part, characters an address of this
// shape cannot hold, a patient part that is not an INS, a professional part without a dot.
Result<MailAddress> ParseMailAddress(std::string_view address);

}  // namespace carnet::profiles
