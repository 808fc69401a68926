// The cluster report: one report for a whole MPI run (`mpirun -n N cmeter run --mpi`), made on rank 0
// from the node reports the ranks sent it. It is a merge of those node reports (per-node sections under
// summary.nodes, cluster totals counting each physical device once) plus a `cluster` member: the MPI
// launch facts, every node with its status (a node whose rank died or hung is named missing, and only
// its results are lost), the per-node spread of each total (slowest and fastest node, coefficient of
// variation), the case synchronisation, and the `collective` workload's figures. Pure: no MPI here
// (core/cluster/mpi_session.h moves the bytes), so it is unit-tested without a launcher.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/report/merge.h"
#include "core/util/result.h"

namespace cmeter {

struct ClusterNode {
  std::string node;         // the node's name (CMETER_NODE_NAME or the host name)
  std::vector<int> ranks;   // the MPI ranks that ran on it
  std::string report_text;  // its report.json; empty when missing
  std::string missing_reason;
};

struct ClusterInputs {
  std::vector<ClusterNode> nodes;
  nlohmann::json launch = nlohmann::json::object();           // library, version, ranks, hosts
  nlohmann::json synchronisation = nlohmann::json::object();  // barriers, broken
  nlohmann::json collective = nlohmann::json::array();        // collective workload rows
  MergeOptions merge;
};

// The spread of one total over the nodes that have it.
struct NodeSpread {
  std::string metric;
  std::string unit;
  int nodes = 0;
  std::string slowest_node, fastest_node;
  double slowest = 0, fastest = 0, mean = 0;
  double cv = 0;  // population standard deviation / mean
};
// One spread per total key in summary.nodes[].totals, in catalogue order.
std::vector<NodeSpread> node_spreads(const nlohmann::json& summary_nodes);

Result<MergeOutcome> build_cluster_report(const ClusterInputs& inputs);

}  // namespace cmeter
