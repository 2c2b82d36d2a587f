// Where the gateway's log lines go (base/log.h's LogLine): stdout, the local syslog, or both.
#pragma once

#include <string>

namespace carnet {

// stdout (the default), syslog, or both. Call once at start-up, before threads.
// Syslog lines are RFC 3164 datagrams as the C library's syslog(3) writes them locally
// ("<PRI>Mmm dd hh:mm:ss carnet[PID]: LINE", facility daemon), sent to the AF_UNIX datagram
// socket `syslog_socket` (/dev/log, which rsyslog and journald read; setting syslog_socket):
// written by carnet itself rather than through openlog(3), whose socket path is fixed, so that
// the path can be chosen and the output tested. A line's priority follows its "level" member:
// error -> err (3), warning -> warning (4), otherwise info (6). A socket that is missing or
// went away (the syslog daemon restarting) is reopened at the next line; lines sent while it
// is absent are lost, as with syslog(3).
void SetLogTarget(bool to_stdout, bool to_syslog, const std::string& syslog_socket = "/dev/log");

}  // namespace carnet
