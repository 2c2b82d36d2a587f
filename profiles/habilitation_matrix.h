// The habilitation matrix of the DMP: which profession (TRE_G15, optionally narrowed by
// specialty TRE_R38) may read and write which document type, each type filed in one of the
// 11 DMP categories (france.md, "Who may see what"). Data, not code: the matrix is a file
// (profiles/data/habilitation_matrix.tsv describes the format), loaded at start from the
// configured path, with a copy compiled in so that the binary works alone.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace carnet::profiles {

// The 11 categories of the arrêté of 26 October 2023, by their names in the matrix file, and
// the patient's administrative papers (Mon espace santé keeps them beside the DMP; no
// profession reads them).
inline constexpr std::string_view kDmpCategories[] = {
    "administrative_papers", "report",        "summary",           "imaging",
    "prescription",          "dispensation",  "care_plan",         "administered_treatment",
    "certificate",           "reimbursement", "patient_deposited", "management"};

struct DocumentTypeInfo {
  std::string code;  // LOINC code, or a local DMP code; a FHIR resource type for `resource` rows
  std::string category;  // one of kDmpCategories
  std::string display;
  // A `resource` row: clinical resources of this FHIR type (MedicationDispense, CarePlan...)
  // are judged as content of `category`, not as documents.
  bool resource_type = false;
};

struct Rights {
  bool read = false;
  bool write = false;
};

class HabilitationMatrix {
 public:
  // An empty matrix: nobody may read or write anything.
  HabilitationMatrix() = default;

  // Parses the matrix text; `origin` names it in error messages ("file:line: ...").
  // kBadRequest on any malformed row, unknown category or right, type or resource type listed
  // twice, or an
  // access row naming a type or category that is not declared.
  static Result<HabilitationMatrix> Parse(std::string_view text, std::string_view origin);
  // Reads and parses a file.
  static Result<HabilitationMatrix> LoadFile(const std::string& path);
  // The copy of profiles/data/habilitation_matrix.tsv compiled into the binary.
  static const HabilitationMatrix& Builtin();
  static std::string_view BuiltinText();
  // LoadFile(path) when `path` is set, else Builtin().
  static Result<HabilitationMatrix> Load(const std::string& path);

  // What `profession` with `specialty` may do with documents of type `type_code`. An
  // unknown profession or type yields no right.
  Rights RightsFor(std::string_view profession, std::string_view specialty,
                   std::string_view type_code) const;
  bool MayRead(std::string_view profession, std::string_view specialty,
               std::string_view type_code) const {
    return RightsFor(profession, specialty, type_code).read;
  }
  bool MayWrite(std::string_view profession, std::string_view specialty,
                std::string_view type_code) const {
    return RightsFor(profession, specialty, type_code).write;
  }
  // Every document type code the profession may read (sorted): the search filter's
  // allow-list for DocumentReference and Composition.
  std::vector<std::string> ReadableTypes(std::string_view profession,
                                         std::string_view specialty) const;
  // Whether a `resource` row files this FHIR resource type in a category.
  bool GovernsResourceType(std::string_view type) const;
  // The resource types of `resource` rows the profession may not read (sorted): left out of
  // its searches.
  std::vector<std::string> UnreadableResourceTypes(std::string_view profession,
                                                   std::string_view specialty) const;
  // The document types of the categories the patient may share one document at a time
  // (`shareable` rows; sorted): such a document carrying kPartagePs is read by every
  // profession that reads anything in the record, whatever its access rows say.
  std::vector<std::string> PatientShareableTypes() const;
  bool IsPatientShareable(std::string_view type_code) const;
  // Whether some profession (with some specialty) may read documents of this type, or the
  // patient may share them (shareable rows open them to every reading profession). A type the
  // matrix does not list gives nobody any right, so it is not readable either: the deposit
  // check (DecideDepositType) tells the two cases apart with FindType.
  bool ReadableByAnyProfession(std::string_view type_code) const;
  // Whether any access row names this profession.
  bool KnowsProfession(std::string_view profession) const;
  // Whether the profession may write at least one type (used for non-document writes).
  bool MayWriteAnything(std::string_view profession, std::string_view specialty) const;

  const DocumentTypeInfo* FindType(std::string_view code) const;
  const std::vector<DocumentTypeInfo>& types() const { return types_; }

 private:
  struct AccessRow {
    std::string specialty;  // "*" for any
    std::string target;     // "*", "category:NAME" or a type code
    Rights rights;
  };
  std::vector<DocumentTypeInfo> types_;
  std::vector<std::string> shareable_categories_;
  std::map<std::string, size_t, std::less<>> type_index_;
  std::map<std::string, std::vector<AccessRow>, std::less<>> rows_by_profession_;
};

}  // namespace carnet::profiles
