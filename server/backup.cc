#include "server/backup.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "base/strings.h"
#include "storage/audit_store.h"
#include "storage/migrations.h"
#include "storage/pg_tools.h"

namespace carnet {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "carnet-backup 1";

// Hex SHA-256 of a file, read in blocks (a dump may be larger than memory).
Result<std::string> FileSha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

Status CopyFile(const fs::path& from, const fs::path& to, fs::perms perms) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return Internal("copy " + from.string() + " -> " + to.string() + ": " + ec.message());
  fs::permissions(to, perms, ec);
  return Status::Ok();
}

// Every regular file under `dir`, as paths relative to it, sorted.
std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file()) out.push_back(fs::relative(it->path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::unique_ptr<storage::Connection>> Open(const Config& config) {
  return storage::Connection::Open(config.EffectiveConninfo());
}

// INFO: "key value" lines.
std::map<std::string, std::string> ReadInfo(const fs::path& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    if (sp != std::string::npos) out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

}  // namespace

Status BackupStore(const Config& config, const std::string& out_dir, std::ostream& log) {
  if (out_dir.empty()) return BadRequest("backup: --out DIR is required");
  fs::path out = fs::absolute(out_dir);
  std::error_code ec;
  if (fs::exists(out, ec))
    return Conflict("backup: " + out.string() + " exists already; name a new directory");
  auto conn = Open(config);
  if (!conn.ok()) return conn.status();
  auto version = storage::CurrentSchemaVersion(**conn);
  if (!version.ok()) return version.status();
  if (*version == 0) return BadRequest("backup: the database holds no carnet schema");
  conn->reset();

  fs::path work = out.string() + ".partial-" + std::to_string(getpid());
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  if (ec) return Internal("backup: cannot create " + work.string() + ": " + ec.message());
  fs::permissions(work, fs::perms::owner_all, ec);  // keys and health data: owner only
  auto fail = [&](Status st) {
    fs::remove_all(work, ec);
    return st;
  };

  log << "dumping the database (pg_dump, one snapshot)...\n";
  Status st = storage::DumpDatabase(config.pg_bin_dir, config.EffectiveConninfo(),
                                    (work / "database.dump").string());
  if (!st.ok()) return fail(st);
  // The dump must be readable by pg_restore before it is called a backup.
  st = storage::RunProgram(
      {config.pg_bin_dir + "/pg_restore", "--list", (work / "database.dump").string()});
  if (!st.ok()) return fail(Internal("backup: the dump does not read back: " + st.message()));

  fs::path keys = fs::path(config.data_dir) / "keys";
  int key_files = 0;
  if (fs::is_directory(keys, ec)) {
    fs::create_directories(work / "keys");
    fs::permissions(work / "keys", fs::perms::owner_all, ec);
    for (const auto& rel : FilesUnder(keys)) {
      fs::create_directories((work / "keys" / rel).parent_path(), ec);
      st =
          CopyFile(keys / rel, work / "keys" / rel, fs::perms::owner_read | fs::perms::owner_write);
      if (!st.ok()) return fail(st);
      ++key_files;
    }
  }
  // The configuration and the files it names, for the operator to put back (not restored:
  // a new machine may keep them elsewhere).
  int etc_files = 0;
  for (const std::string& f : {config.config_file, config.jwks_file,
                               config.habilitation_matrix_file, config.client_organisations_file}) {
    if (f.empty() || !fs::is_regular_file(f, ec)) continue;
    fs::create_directories(work / "etc", ec);
    fs::path to = work / "etc" / fs::path(f).filename();
    if (fs::exists(to, ec)) continue;
    st = CopyFile(f, to, fs::perms::owner_read | fs::perms::owner_write);
    if (!st.ok()) return fail(st);
    ++etc_files;
  }
  {
    std::ofstream info(work / "INFO");
    info << kFormat << "\n"
         << "created " << FormatUtc(std::chrono::system_clock::now()) << "\n"
         << "schema_version " << *version << "\n"
         << "carnet_latest_migration " << storage::LatestVersion(storage::BuiltinMigrations())
         << "\n"
         << "database database.dump\n";
    if (!info) return fail(Internal("backup: cannot write INFO"));
  }
  std::ostringstream manifest;
  for (const auto& rel : FilesUnder(work)) {
    auto sum = FileSha256(work / rel);
    if (!sum.ok()) return fail(sum.status());
    manifest << *sum << "  " << rel << "\n";
  }
  {
    std::ofstream m(work / "MANIFEST");
    m << manifest.str();
    if (!m) return fail(Internal("backup: cannot write MANIFEST"));
  }
  fs::rename(work, out, ec);
  if (ec) return fail(Internal("backup: rename to " + out.string() + ": " + ec.message()));
  log << "backup written to " << out.string() << ": schema version " << *version
      << ", database.dump " << fs::file_size(out / "database.dump", ec) << " bytes, " << key_files
      << " key file(s), " << etc_files << " configuration file(s); check with: cd " << out.string()
      << " && sha256sum -c MANIFEST\n";
  return Status::Ok();
}

Status RestoreStore(const Config& config, const std::string& from_dir, std::ostream& log) {
  if (from_dir.empty()) return BadRequest("restore: --from DIR is required");
  fs::path from = fs::absolute(from_dir);
  std::error_code ec;
  // 1. Every file is what the backup wrote.
  std::ifstream manifest(from / "MANIFEST");
  if (!manifest) return NotFound("restore: " + (from / "MANIFEST").string() + " not found");
  std::string line;
  std::vector<std::string> listed;
  while (std::getline(manifest, line)) {
    if (line.empty()) continue;
    auto sep = line.find("  ");
    if (sep != 64) return BadRequest("restore: MANIFEST line not 'SHA256  path': " + line);
    std::string want = line.substr(0, sep), rel = line.substr(sep + 2);
    fs::path p = fs::path(rel).lexically_normal();
    if (p.is_absolute() || rel.empty() || *p.begin() == "..")
      return BadRequest("restore: MANIFEST names a path outside the backup: " + rel);
    auto got = FileSha256(from / p);
    if (!got.ok()) return BadRequest("restore: " + rel + " is listed in MANIFEST but missing");
    if (*got != want)
      return BadRequest("restore: " + rel + " does not match its MANIFEST hash (damaged backup)");
    listed.push_back(p.string());
  }
  for (const auto& rel : FilesUnder(from))
    if (rel != "MANIFEST" && std::find(listed.begin(), listed.end(), rel) == listed.end())
      return BadRequest("restore: " + rel + " is not listed in MANIFEST");
  auto info = ReadInfo(from / "INFO");
  if (std::find(listed.begin(), listed.end(), "INFO") == listed.end() ||
      std::find(listed.begin(), listed.end(), "database.dump") == listed.end())
    return BadRequest("restore: not a carnet backup (INFO and database.dump expected)");
  std::ifstream first(from / "INFO");
  std::getline(first, line);
  if (line != kFormat) return BadRequest("restore: unknown backup format '" + line + "'");
  int version = std::atoi(info["schema_version"].c_str());
  int latest = storage::LatestVersion(storage::BuiltinMigrations());
  if (version > latest)
    return Conflict("restore: the backup's schema version " + std::to_string(version) +
                    " is newer than this carnet (knows up to " + std::to_string(latest) +
                    "): restore with the carnet that made it");
  log << "backup " << from.string() << " checked: " << listed.size()
      << " file(s) match MANIFEST, made " << info["created"] << ", schema version " << version
      << "\n";

  // 2. The target is empty, and the keys do not clash with different ones already there.
  auto conn = Open(config);
  if (!conn.ok()) return conn.status();
  auto tables = storage::UserTables(**conn);
  if (!tables.ok()) return tables.status();
  if (!tables->empty())
    return Conflict("restore: the target database already holds " + std::to_string(tables->size()) +
                    " table(s) (" + (*tables)[0] + "...): restore goes onto a new, empty database");
  fs::path keys = fs::path(config.data_dir) / "keys";
  std::vector<std::string> key_files;
  for (const auto& rel : listed)
    if (rel.rfind("keys/", 0) == 0) key_files.push_back(rel.substr(5));
  for (const auto& k : key_files) {
    if (!fs::exists(keys / k, ec)) continue;
    auto here = FileSha256(keys / k);
    auto there = FileSha256(from / "keys" / k);
    if (!here.ok() || !there.ok() || *here != *there)
      return Conflict("restore: " + (keys / k).string() +
                      " exists with other content: restore into a new data directory");
  }

  // 3. The database, in one transaction.
  log << "restoring the database (pg_restore)...\n";
  Status st = storage::RestoreDatabase(config.pg_bin_dir, config.EffectiveConninfo(),
                                       (from / "database.dump").string());
  if (!st.ok()) return st;
  // 4. The keys.
  if (!key_files.empty()) {
    fs::create_directories(keys, ec);
    fs::permissions(keys, fs::perms::owner_all, ec);
    for (const auto& k : key_files) {
      fs::create_directories((keys / k).parent_path(), ec);
      st = CopyFile(from / "keys" / k, keys / k, fs::perms::owner_read | fs::perms::owner_write);
      if (!st.ok()) return st;
    }
  }
  // 5. What came back is whole: the audit chains verify.
  auto verified = storage::VerifyAuditChains(**conn, std::nullopt);
  if (!verified.ok()) return verified.status();
  if (verified->first_break)
    return Internal("restore: the restored audit chain is broken at patient_key " +
                    std::to_string(verified->first_break->chain_key) + ", seq " +
                    std::to_string(verified->first_break->seq) + ": " +
                    verified->first_break->problem);
  log << "restored: schema version " << version << ", " << key_files.size() << " key file(s) in "
      << keys.string() << ", audit chains intact (" << verified->chains << " chain(s), "
      << verified->events << " event(s))";
  if (version < latest)
    log << "; the gateway migrates it from " << version << " to " << latest << " at start";
  log << "\n";
  if (fs::is_directory(from / "etc", ec))
    log << "configuration files of the old machine are in " << (from / "etc").string()
        << " (not restored: put them where your configuration names them)\n";
  return Status::Ok();
}

Status MigrateDryRun(const Config& config, std::ostream& out) {
  auto conn = Open(config);
  if (!conn.ok()) return conn.status();
  auto current = storage::CurrentSchemaVersion(**conn);
  if (!current.ok()) return current.status();
  auto pending = storage::PendingMigrations(**conn, storage::BuiltinMigrations());
  if (!pending.ok()) return pending.status();
  out << "schema at version " << *current << "; " << pending->size()
      << " pending migration(s) (dry run: nothing applied)\n";
  for (const storage::Migration* m : *pending) {
    char num[8];
    std::snprintf(num, sizeof num, "%04d", m->version);
    out << num << "_" << m->name << "\n";
    // What it changes: its leading comment, then the first line of each statement.
    std::istringstream sql(m->sql);
    std::string line;
    bool leading = true;
    while (std::getline(sql, line)) {
      if (leading && line.rfind("--", 0) == 0) {
        out << "    " << line << "\n";
        continue;
      }
      leading = false;
      static const char* kVerbs[] = {"CREATE", "ALTER",   "DROP",  "INSERT", "UPDATE",
                                     "DELETE", "COMMENT", "GRANT", "REVOKE"};
      for (const char* verb : kVerbs)
        if (line.rfind(verb, 0) == 0) {
          out << "      " << (line.size() > 110 ? line.substr(0, 107) + "..." : line) << "\n";
          break;
        }
    }
  }
  return Status::Ok();
}

}  // namespace carnet
