// `cmeter topo [--json] [--xml FILE]`: the machine's topology from hwloc (or a saved XML file), as text
// or JSON (both rendered by core/topology).
#include <iostream>
#include <memory>

#include "cli/common.h"
#include "core/topology/topology.h"

namespace cmeter::cli {

Subcommand register_topo(CLI::App& app) {
  struct TopoOptions {
    bool json = false;
    std::string xml;
  };
  auto options = std::make_shared<TopoOptions>();
  auto* cmd = app.add_subcommand(
      "topo", "Show the machine topology (hwloc): packages, NUMA nodes, caches, PCI devices");
  cmd->add_flag("--json", options->json, "Print JSON");
  cmd->add_option("--xml", options->xml, "Read a saved hwloc XML topology instead of this machine");
  return {cmd, [options](const std::vector<std::string>&) {
            auto topo = options->xml.empty() ? topology::Topology::load_system()
                                             : topology::Topology::load_xml(options->xml);
            if (!topo) {
              std::cerr << "error: " << topo.error().message << "\n";
              return kExitUsage;
            }
            std::cout << (options->json ? topo->to_json().dump(2) + "\n" : topo->to_text());
            return kExitOk;
          }};
}

}  // namespace cmeter::cli
