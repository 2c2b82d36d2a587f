// Files a process creates once and shares with others started at the same time (keys).
#pragma once

#include <string>

#include "base/status.h"

namespace carnet {

// Creates `path` holding `content`, owner-only (0600), unless a file is there already: the
// content goes to a temporary name, is synced, and is linked into place. link() never
// replaces an existing file, so of two processes starting together one file wins and both
// read it afterwards. An existing file is left as it is (Ok).
Status CreateFileOnce(const std::string& path, const std::string& content);

}  // namespace carnet
