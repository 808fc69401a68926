// The messages between cmeter and its plugin workers (ARCHITECTURE.md section 4). A worker is cmeter
// re-executed as `cmeter __worker --plugin FILE`: it loads one plugin, reports the plugin row and its
// devices, then runs cases on request. Messages travel as framed JSON (core/util/subprocess.h); this
// file is their shape, with a message version checked on the first message, so a parent and a worker
// from different builds refuse each other clearly instead of misreading.
//
//   worker -> parent  {"type":"ready","version":1,"pid":N,"plugin":{row},"devices":[{"id","attributes"}]}
//   parent -> worker  {"type":"run_case","device":"cpu:0","case":{case},"seed":N,"bind":locality|null}
//   worker -> parent  {"type":"case_result","result":{CaseResult},"rss_bytes_before":N,"rss_bytes_after":N}
//   parent -> worker  {"type":"shutdown"}            (the worker shuts the plugin down and exits 0)
//   worker -> parent  {"type":"error","message":"..."}   (a request it could not understand)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/device_facts.h"
#include "core/model/plugin_row.h"
#include "core/profile/profile.h"
#include "core/util/result.h"

namespace cmeter::worker {

inline constexpr int kMessageVersion = 1;
// The hidden subcommand that makes cmeter a worker.
inline constexpr const char* kWorkerCommand = "__worker";

nlohmann::json case_to_json(const profile::Case& spec);
// Errors name the missing or mistyped field.
Result<profile::Case> case_from_json(const nlohmann::json& j);

// Plugin rows and devices travel in their model JSON forms (core/model/plugin_row.h, device_facts.h).

}  // namespace cmeter::worker
