#include "base/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace carnet {

Status CreateFileOnce(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + RandomHex(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create " + tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  int linked = ok ? ::link(tmp.c_str(), path.c_str()) : -1;
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!ok || (linked != 0 && link_errno != EEXIST))
    return Internal("cannot write " + path + ": " + std::strerror(link_errno));
  return Status::Ok();
}

}  // namespace carnet
