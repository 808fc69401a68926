// The keys a user trusts to sign reports: given on the command line (--pubkey FILE, repeatable) and
// kept in a trust directory (every *.pub file there; default $XDG_CONFIG_HOME/cmeter/trusted-keys, or
// ~/.config/cmeter/trusted-keys). `report verify`, `report show` and `compare` trust only these, so a
// report re-signed by anyone else does not pass for signed.
#pragma once

#include <string>
#include <vector>

#include "core/report/integrity.h"
#include "core/report/report_reader.h"
#include "core/util/result.h"

namespace cmeter {

// The default trust directory from the environment ("" when neither XDG_CONFIG_HOME nor HOME is set).
std::string default_trust_dir();

// The trust policy of `pubkey_files` plus every *.pub in `trust_dir` (a missing directory holds no keys;
// an unreadable or malformed key file, given or in the directory, is an error naming it).
Result<TrustPolicy> load_trust_policy(const std::vector<std::string>& pubkey_files,
                                      const std::string& trust_dir, bool require_signature);

// Verifies a loaded report with `policy` and sets its signature_status (what renderers print), so no
// output says "signed" about a signature that does not verify or whose key is not trusted.
VerifyOutcome verify_loaded_report(LoadedReport& report, const TrustPolicy& policy);

}  // namespace cmeter
