// Which launcher started a cluster run, for the report's cluster.launch (docs/cluster.md): a lab reading
// a cluster report needs to know whether the ranks came from Slurm's `srun` (and which job and step) or
// from `mpirun`, since the two place ranks on nodes by different rules. Read from the environment each
// launcher sets for its processes, so it needs no MPI and is tested without one.
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

namespace cmeter::cluster {

// {"kind": "srun" | "mpirun" | "unknown", "detail": words, plus the job's ids where known}.
// mpirun (Open MPI's OMPI_COMM_WORLD_SIZE) wins over Slurm's variables: mpirun inside a Slurm
// allocation sees both, and it is the one that started the ranks. `env` returns null for an unset name.
nlohmann::json launcher_facts(const std::function<const char*(const char*)>& env);

}  // namespace cmeter::cluster
