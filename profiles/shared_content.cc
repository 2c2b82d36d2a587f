#include "profiles/shared_content.h"

#include "profiles/rows.h"

namespace carnet::profiles {

// Defined in the file generated from profiles/data/shared_content.tsv by cmake/embed_text.cmake.
const char* EmbeddedSharedContent();

Result<SharedContentRules> SharedContentRules::Parse(std::string_view text,
                                                     std::string_view origin) {
  SharedContentRules rules;
  Status rows = ForEachRow(text, origin, [&](std::string_view line, const std::string& where) {
    std::vector<std::string> f = RowFields(line);
    if (f[0] == "writers") {
      if (f.size() != 3) return BadRequest(where + ": expected 'writers TYPE KINDS'");
      std::set<ActorKind>& kinds = rules.writers_[f[1]];
      size_t start = 0;
      while (start <= f[2].size()) {
        size_t comma = f[2].find(',', start);
        if (comma == std::string::npos) comma = f[2].size();
        std::string name = f[2].substr(start, comma - start);
        auto kind = ParseActorKind(name);
        if (!kind || *kind == ActorKind::kDenied)
          return BadRequest(where + ": unknown writer '" + name + "'");
        kinds.insert(*kind);
        start = comma + 1;
      }
    } else if (f[0] == "standalone" || f[0] == "server") {
      if (f.size() != 2) return BadRequest(where + ": expected '" + f[0] + " TYPE'");
      (f[0] == "server" ? rules.server_ : rules.standalone_).insert(f[1]);
    } else if (f[0] == "filed") {
      if (f.size() != 3) return BadRequest(where + ": expected 'filed TYPE ELEMENT'");
      rules.filed_[f[1]] = f[2];
    } else {
      return BadRequest(where + ": unknown row kind " + f[0]);
    }
    return Status::Ok();
  });
  if (!rows.ok()) return rows;
  if (!rules.writers_.count("*")) return BadRequest(std::string(origin) + ": no 'writers *' row");
  return rules;
}

std::string_view SharedContentRules::BuiltinText() { return EmbeddedSharedContent(); }

const SharedContentRules& SharedContentRules::Builtin() {
  // The compiled-in file is checked by the unit tests; should it ever be broken, only
  // operators write shared content.
  static const SharedContentRules kBuiltin = [] {
    auto r = Parse(BuiltinText(), "builtin shared_content.tsv");
    if (r.ok()) return *r;
    SharedContentRules fallback;
    fallback.writers_["*"] = {ActorKind::kOperator};
    return fallback;
  }();
  return kBuiltin;
}

bool SharedContentRules::MayWrite(std::string_view type, ActorKind kind) const {
  if (WrittenByServer(type)) return false;
  auto it = writers_.find(type);
  if (it == writers_.end()) it = writers_.find("*");
  return it != writers_.end() && it->second.count(kind) > 0;
}

bool SharedContentRules::MayStandOutsideRecord(std::string_view type) const {
  return standalone_.count(type) > 0;
}

bool SharedContentRules::WrittenByServer(std::string_view type) const {
  return server_.count(type) > 0;
}

std::string SharedContentRules::FiledBy(std::string_view type) const {
  auto it = filed_.find(type);
  return it == filed_.end() ? "" : it->second;
}

}  // namespace carnet::profiles
