// Launcher facts: srun with its job and step, mpirun (also inside a Slurm allocation, where both sets of
// variables are present), and neither.
#include "core/cluster/launcher.h"

#include <map>
#include <string>

#include <doctest/doctest.h>

namespace cmeter::cluster {
namespace {

nlohmann::json facts_of(const std::map<std::string, std::string>& vars) {
  return launcher_facts([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST_CASE("launcher facts: srun, mpirun (inside Slurm too), unknown") {
  const auto srun = facts_of(
      {{"SLURM_JOB_ID", "17"}, {"SLURM_STEP_ID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_NUM_NODES", "2"}});
  CHECK(srun["kind"] == "srun");
  CHECK(srun["slurm_job_id"] == "17");
  CHECK(srun["detail"] == "srun (Slurm job 17, step 0, 4 tasks on 2 node(s))");
  const auto mpirun = facts_of({{"OMPI_COMM_WORLD_SIZE", "4"}});
  CHECK(mpirun["kind"] == "mpirun");
  CHECK(mpirun["detail"] == "mpirun (Open MPI), 4 processes");
  const auto inside =
      facts_of({{"OMPI_COMM_WORLD_SIZE", "8"}, {"SLURM_JOB_ID", "17"}, {"SLURM_STEP_ID", "1"}});
  CHECK(inside["kind"] == "mpirun");
  CHECK(inside["slurm_job_id"] == "17");
  // A Slurm batch script's own shell (a job id, no step) started nothing by srun.
  CHECK(facts_of({{"SLURM_JOB_ID", "17"}})["kind"] == "unknown");
  CHECK(facts_of({})["kind"] == "unknown");
}

}  // namespace
}  // namespace cmeter::cluster
