#include "profiles/pseudonym.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace carnet::profiles {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

Result<std::string> RandomKey() {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) return Internal("no random bytes for the pseudonym key");
  return Hex(key, sizeof key);
}

}  // namespace

std::string PseudonymKeyPath(const std::string& data_dir) {
  return data_dir + "/keys/log-pseudonym.key";
}

Result<Pseudonymiser> Pseudonymiser::LoadOrCreate(const std::string& data_dir) {
  if (data_dir.empty()) {
    auto key = RandomKey();
    if (!key.ok()) return key.status();
    return Pseudonymiser(*key);
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::path(data_dir) / "keys";
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  std::string path = PseudonymKeyPath(data_dir);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    // Written under a temporary name and linked into place: link() never replaces a key.
    auto key = RandomKey();
    if (!key.ok()) return key.status();
    std::string text = *key + "\n";
    std::string tmp = path + ".tmp." + RandomHex(6);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("cannot create " + tmp + ": " + std::strerror(errno));
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    int linked = ok ? ::link(tmp.c_str(), path.c_str()) : -1;
    int link_errno = errno;
    ::unlink(tmp.c_str());
    if (!ok || (linked != 0 && link_errno != EEXIST))
      return Internal("cannot write " + path + ": " + std::strerror(link_errno));
  }
  std::ifstream in(path);
  std::string key;
  if (!in || !std::getline(in, key) || key.size() < 32)
    return BadRequest(path +
                      " is not a pseudonym key (64 hex digits); remove it to make a new one");
  return Pseudonymiser(key);
}

std::string Pseudonymiser::Of(std::string_view id) const {
  if (id.empty()) return "";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
            reinterpret_cast<const unsigned char*>(id.data()), id.size(), mac, &len) ||
      len < 16)
    return "unavailable";
  return Hex(mac, 16);
}

}  // namespace carnet::profiles
