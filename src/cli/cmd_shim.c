/*
 * cmd_shim.c - `commandcenter shim DIR --ready-fd N`: the process driver's
 * per-instance shim (src/orchestrator/process_shim.c). Internal: started by
 * the daemon, hidden from the help.
 */
#include "cli/cli.h"
#include "orchestrator/process.h"

int cmd_shim(int argc, char **argv, char *const *envp)
{
    return orch_process_shim_main(argc, argv);
}
