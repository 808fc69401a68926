// `cmeter topo`: the machine's topology from hwloc (or a saved XML file), as text or JSON.
#include <iostream>

#include <fmt/format.h>

#include "cli/common.h"
#include "core/topology/topology.h"

namespace cmeter::cli {

int run_topo(bool json, const std::string& xml) {
  auto topo = xml.empty() ? topology::Topology::load_system() : topology::Topology::load_xml(xml);
  if (!topo) {
    std::cerr << "error: " << topo.error().message << "\n";
    return kExitUsage;
  }
  if (json)
    std::cout << topo->to_json().dump(2) << "\n";
  else
    std::cout << topo->to_text();
  return kExitOk;
}

}  // namespace cmeter::cli
