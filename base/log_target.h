// Where the gateway's log lines go (base/log.h's LogLine): stdout, the local syslog, or both.
#pragma once

namespace carnet {

// stdout (the default), syslog (openlog ident "carnet", facility LOG_DAEMON; journald reads
// the same socket), or both. Call once at start-up, before threads. A line's syslog priority
// follows its "level" member: error -> LOG_ERR, warning -> LOG_WARNING, otherwise LOG_INFO.
void SetLogTarget(bool to_stdout, bool to_syslog);

}  // namespace carnet
