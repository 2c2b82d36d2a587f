// The libcurl fetcher of the trusted issuers' JWKS (profiles/remote_jwks.h): one GET, no
// redirect followed (security.md 16: outbound calls go only where configured), http and https
// only, at most 1 MiB, within `timeout_ms`; the max-age of the answer's Cache-Control.
#pragma once

#include "profiles/remote_jwks.h"

namespace carnet {

profiles::JwksFetcher CurlJwksFetcher(long timeout_ms);

}  // namespace carnet
