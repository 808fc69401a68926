// Launcher facts from the environment (see launcher.h).
#include "core/cluster/launcher.h"

#include <string>

#include <fmt/format.h>

namespace cmeter::cluster {

nlohmann::json launcher_facts(const std::function<const char*(const char*)>& env) {
  auto get = [&](const char* name) {
    const char* v = env(name);
    return v != nullptr ? std::string(v) : std::string();
  };
  const std::string ompi_size = get("OMPI_COMM_WORLD_SIZE"), job = get("SLURM_JOB_ID"),
                    step = get("SLURM_STEP_ID"), tasks = get("SLURM_NTASKS"),
                    nodes = get("SLURM_JOB_NUM_NODES");
  if (!ompi_size.empty()) {
    nlohmann::json facts = {
        {"kind", "mpirun"},
        {"detail", fmt::format("mpirun (Open MPI), {} processes{}", ompi_size,
                               job.empty() ? "" : fmt::format(", inside Slurm job {}", job))}};
    if (!job.empty()) facts["slurm_job_id"] = job;
    return facts;
  }
  if (!job.empty() && !step.empty()) {
    nlohmann::json facts = {
        {"kind", "srun"},
        {"detail", fmt::format("srun (Slurm job {}, step {}{}{})", job, step,
                               tasks.empty() ? "" : fmt::format(", {} tasks", tasks),
                               nodes.empty() ? "" : fmt::format(" on {} node(s)", nodes))},
        {"slurm_job_id", job},
        {"slurm_step_id", step}};
    if (!tasks.empty()) facts["slurm_tasks"] = tasks;
    return facts;
  }
  return {{"kind", "unknown"},
          {"detail",
           "neither mpirun's (OMPI_COMM_WORLD_SIZE) nor srun's (SLURM_JOB_ID, SLURM_STEP_ID) "
           "variables are set"}};
}

}  // namespace cmeter::cluster
