/*
 * process.h - the entry point of the process driver's shim, for the hidden
 * `commandcenter shim DIR --ready-fd N` subcommand (src/cli/cmd_shim.c).
 *
 * The driver itself is orch_process_ops (driver.h). The shim is started
 * detached by start(), one per running instance, like containerd-shim: it
 * owns the service's process group, cgroup and log files, records the exit
 * in state.json and exits. It outlives the daemon, so a daemon killed and
 * restarted re-adopts its services and still learns their exit codes.
 */
#ifndef CC_ORCHESTRATOR_PROCESS_H
#define CC_ORCHESTRATOR_PROCESS_H

/* argv: {"shim", DIR, "--ready-fd", N}. Returns the process exit status:
 * 0 the service ran (whatever its own exit code), 1 it could not start,
 * 2 usage. Writes "ok\n" or "err <message>\n" to the ready fd once the
 * service has been exec'd or has failed to. */
int orch_process_shim_main(int argc, char **argv);

#endif
