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

#include "base/files.h"
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
    // Of two processes starting together one key wins and both use it (CreateFileOnce).
    auto key = RandomKey();
    if (!key.ok()) return key.status();
    std::string text = *key + "\n";
    CARNET_RETURN_IF_ERROR(CreateFileOnce(path, text));
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
