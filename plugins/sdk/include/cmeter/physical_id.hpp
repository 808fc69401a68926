// cmeter/physical_id.hpp - the `physical.id` device attribute: which silicon a device runs on.
//
// Why this file exists: one chip can appear as several devices (the host CPU as `cpu:0` and as an
// OpenCL CPU device such as PoCL; a GPU under CUDA and OpenCL). Node totals must count each chip once,
// so every plugin names the silicon the same way (docs/abi-keys.md, "Device attributes"):
//   accelerators  `pci:<dddd:bb:dd.f>` (lower case, from the PCI bus id), else `uuid:<uuid>`
//   CPU devices   `host-cpu:package=<p>[,<p>...]`: the processor packages (sockets) of the CPUs the
//                 calling process may run on (its affinity mask), from Linux sysfs
// Header-only, Linux; nothing here crosses the ABI.
#ifndef CMETER_PHYSICAL_ID_HPP_
#define CMETER_PHYSICAL_ID_HPP_

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <string>

namespace cmeter::sdk {

// `pci:` and the bus id in lower case; "" for an empty bus id.
inline std::string pci_physical_id(const std::string& pci_bus_id) {
  if (pci_bus_id.empty()) return "";
  std::string out = "pci:";
  for (char c : pci_bus_id) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `host-cpu:package=0[,1...]` for the packages of the CPUs this process may run on; package 0 when
// sysfs does not say (one package assumed, which is what a kernel without the topology files has).
inline std::string host_cpu_physical_id() {
  std::set<int> packages;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (!CPU_ISSET(c, &set)) continue;
      std::ifstream f("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/physical_package_id");
      int package = -1;
      if (f >> package && package >= 0) packages.insert(package);
    }
  }
  if (packages.empty()) packages.insert(0);
  std::string out = "host-cpu:package=";
  bool first = true;
  for (int p : packages) {
    if (!first) out += ',';
    out += std::to_string(p);
    first = false;
  }
  return out;
}

}  // namespace cmeter::sdk

#endif  // CMETER_PHYSICAL_ID_HPP_
