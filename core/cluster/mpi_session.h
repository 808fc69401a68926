// MPI for cluster metering (`mpirun -n N cmeter run --mpi`, docs/cluster.md): one rank per node, each
// running its node's cases; this class is everything that talks MPI: start-up and the node names,
// the per-case barrier, the gather of node reports on rank 0, and the `collective` workload (allreduce
// and all-to-all over host memory). Every wait has a deadline (non-blocking MPI calls polled until
// then), so a rank that dies or hangs costs only its own node: the others go on and rank 0 names it
// missing. Open MPI aborts the whole job when a rank dies unless mpirun runs with `--enable-recovery`.
// MPI is optional at build time: without it (CMETER_HAVE_MPI unset) `start` says this build has none.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/profile/profile.h"
#include "core/util/result.h"

namespace cmeter::cluster {

// True when this build has MPI.
bool mpi_built();

class MpiSession {
 public:
  // MPI_Init (errors returned, never aborting), the ranks' node names (CMETER_NODE_NAME or the host
  // name, gathered from every rank). Fails when the build has no MPI.
  static Result<std::unique_ptr<MpiSession>> start();
  ~MpiSession();  // MPI_Finalize, unless a rank is gone (finalize would wait for it)
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::vector<std::string>& node_names() const { return nodes_; }  // per rank
  // Library, its version text, MPI standard version, ranks, the distinct nodes and real host names.
  nlohmann::json launch_facts() const;

  // Rank 0's text on every rank (at start-up, while every rank is alive).
  std::string broadcast(const std::string& from_root);
  // All ranks reach this point within `timeout_s`, or an error saying it timed out.
  Status barrier(double timeout_s);
  // Each rank's text on rank 0 (index = rank; nullopt for a rank that sent nothing within
  // `timeout_s`); other ranks get an empty vector once their text is delivered (or the time is up).
  std::vector<std::optional<std::string>> gather_to_root(const std::string& mine, double timeout_s);
  // Rank 0 tells every other rank whether all ranks delivered (tag of its own; each rank waits at most
  // `timeout_s`); true on a rank that heard "complete". A rank that hears nothing or "incomplete"
  // should abandon() (a peer is gone and MPI_Finalize would wait for it).
  bool agree_complete(bool complete_on_root, double timeout_s);
  // The `collective` workload case on every rank (op: allreduce | alltoall, bytes per rank): timed,
  // validated, bandwidths by the nccl-tests definitions (docs/cluster.md). The row is complete on
  // rank 0.
  nlohmann::json run_collective(const profile::Case& spec, double timeout_s);
  // A rank is gone: skip MPI_Finalize at exit.
  void abandon() { abandoned_ = true; }

 private:
  MpiSession() = default;
  int rank_ = 0;
  int size_ = 1;
  std::vector<std::string> nodes_;
  std::vector<std::string> hosts_;
  bool abandoned_ = false;
  std::set<int> delivered_;  // rank 0: the ranks whose report arrived
};

}  // namespace cmeter::cluster
