#include "profiles/habilitation_matrix.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "profiles/rows.h"

namespace carnet::profiles {

// Defined in the file generated from profiles/data/habilitation_matrix.tsv by
// cmake/embed_text.cmake.
const char* EmbeddedHabilitationMatrix();

namespace {

bool IsCategory(std::string_view name) {
  return std::find(std::begin(kDmpCategories), std::end(kDmpCategories), name) !=
         std::end(kDmpCategories);
}

}  // namespace

Result<HabilitationMatrix> HabilitationMatrix::Parse(std::string_view text,
                                                     std::string_view origin) {
  HabilitationMatrix m;
  struct Pending {
    std::string profession;
    AccessRow row;
    std::string where;
  };
  std::vector<Pending> pending;
  Status rows = ForEachRow(text, origin, [&](std::string_view line, const std::string& where) {
    std::vector<std::string> f = RowFields(line);
    if (f[0] == "category") {
      if (f.size() < 2 || !IsCategory(f[1]))
        return BadRequest(
            where + ": category rows name one of the 11 DMP categories or administrative_papers");
    } else if (f[0] == "shareable") {
      if (f.size() != 2 || !IsCategory(f[1]))
        return BadRequest(where + ": expected 'shareable CATEGORY' naming a declared category");
      m.shareable_categories_.push_back(f[1]);
    } else if (f[0] == "type" || f[0] == "resource") {
      f = RowFields(line, 4);
      if (f.size() < 3)
        return BadRequest(where + ": expected '" + f[0] + " CODE CATEGORY DISPLAY'");
      if (!IsCategory(f[2])) return BadRequest(where + ": unknown category " + f[2]);
      if (m.type_index_.count(f[1])) return BadRequest(where + ": type " + f[1] + " listed twice");
      m.type_index_[f[1]] = m.types_.size();
      m.types_.push_back({f[1], f[2], f.size() > 3 ? f[3] : std::string(), f[0] == "resource"});
    } else if (f[0] == "access") {
      if (f.size() != 5)
        return BadRequest(where + ": expected 'access PROFESSION SPECIALTY TARGET RIGHTS'");
      Rights r;
      if (f[4] == "r")
        r.read = true;
      else if (f[4] == "w")
        r.write = true;
      else if (f[4] == "rw")
        r.read = r.write = true;
      else if (f[4] != "-")
        return BadRequest(where + ": rights are r, w, rw or -");
      pending.push_back({f[1], AccessRow{f[2], f[3], r}, where});
    } else {
      return BadRequest(where + ": unknown row kind " + f[0]);
    }
    return Status::Ok();
  });
  if (!rows.ok()) return rows;
  // Access rows are checked once every type is known, so that rows may come first.
  for (auto& p : pending) {
    const std::string& t = p.row.target;
    if (t.rfind("category:", 0) == 0) {
      if (!IsCategory(t.substr(9))) return BadRequest(p.where + ": unknown category in " + t);
    } else if (t != "*" && !m.type_index_.count(t)) {
      return BadRequest(p.where + ": access to undeclared type " + t);
    }
    m.rows_by_profession_[p.profession].push_back(std::move(p.row));
  }
  return m;
}

Result<HabilitationMatrix> HabilitationMatrix::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return BadRequest("cannot read habilitation matrix " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return Parse(s.str(), path);
}

std::string_view HabilitationMatrix::BuiltinText() { return EmbeddedHabilitationMatrix(); }

const HabilitationMatrix& HabilitationMatrix::Builtin() {
  // The compiled-in file is checked by the unit tests; should it ever be broken, the
  // matrix is empty, so that nothing is granted by mistake.
  static const HabilitationMatrix kBuiltin = [] {
    auto m = Parse(BuiltinText(), "builtin habilitation_matrix.tsv");
    return m.ok() ? *m : HabilitationMatrix();
  }();
  return kBuiltin;
}

Result<HabilitationMatrix> HabilitationMatrix::Load(const std::string& path) {
  if (path.empty()) return Builtin();
  return LoadFile(path);
}

const DocumentTypeInfo* HabilitationMatrix::FindType(std::string_view code) const {
  auto it = type_index_.find(code);
  return it == type_index_.end() ? nullptr : &types_[it->second];
}

Rights HabilitationMatrix::RightsFor(std::string_view profession, std::string_view specialty,
                                     std::string_view type_code) const {
  Rights r;
  const DocumentTypeInfo* type = FindType(type_code);
  auto rows = rows_by_profession_.find(profession);
  if (!type || rows == rows_by_profession_.end()) return r;
  for (const AccessRow& row : rows->second) {
    if (row.specialty != "*" && row.specialty != specialty) continue;
    bool matches =
        row.target == "*" || row.target == type->code ||
        (row.target.rfind("category:", 0) == 0 && row.target.substr(9) == type->category);
    if (matches) r = row.rights;  // the last matching row wins
  }
  return r;
}

bool HabilitationMatrix::ReadableByAnyProfession(std::string_view type_code) const {
  const DocumentTypeInfo* type = FindType(type_code);
  if (!type) return false;
  if (IsPatientShareable(type_code)) return true;
  for (const auto& [profession, rows] : rows_by_profession_) {
    // Every specialty a row names, and one no row names (rows for "*" only).
    if (MayRead(profession, "", type_code)) return true;
    for (const AccessRow& row : rows)
      if (row.specialty != "*" && MayRead(profession, row.specialty, type_code)) return true;
  }
  return false;
}

std::vector<std::string> HabilitationMatrix::ReadableTypes(std::string_view profession,
                                                           std::string_view specialty) const {
  std::vector<std::string> out;
  for (const auto& t : types_)
    if (!t.resource_type && MayRead(profession, specialty, t.code)) out.push_back(t.code);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> HabilitationMatrix::PatientShareableTypes() const {
  std::vector<std::string> out;
  for (const auto& t : types_)
    if (!t.resource_type && IsPatientShareable(t.code)) out.push_back(t.code);
  std::sort(out.begin(), out.end());
  return out;
}

bool HabilitationMatrix::IsPatientShareable(std::string_view type_code) const {
  const DocumentTypeInfo* t = FindType(type_code);
  return t && !t->resource_type &&
         std::find(shareable_categories_.begin(), shareable_categories_.end(), t->category) !=
             shareable_categories_.end();
}

bool HabilitationMatrix::GovernsResourceType(std::string_view type) const {
  const DocumentTypeInfo* t = FindType(type);
  return t && t->resource_type;
}

std::vector<std::string> HabilitationMatrix::UnreadableResourceTypes(
    std::string_view profession, std::string_view specialty) const {
  std::vector<std::string> out;
  for (const auto& t : types_)
    if (t.resource_type && !MayRead(profession, specialty, t.code)) out.push_back(t.code);
  std::sort(out.begin(), out.end());
  return out;
}

bool HabilitationMatrix::KnowsProfession(std::string_view profession) const {
  return rows_by_profession_.count(profession) > 0;
}

bool HabilitationMatrix::MayWriteAnything(std::string_view profession,
                                          std::string_view specialty) const {
  for (const auto& t : types_)
    if (MayWrite(profession, specialty, t.code)) return true;
  return false;
}

}  // namespace carnet::profiles
