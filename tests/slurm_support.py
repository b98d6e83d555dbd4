"""A real single-node SLURM cluster for the tests: munge, slurmctld and slurmd on 127.0.0.1,
started as plain processes (no systemd), with no accounting database; and a Python that has
snakemake-executor-plugin-slurm, kept out of the project's environment.

Why a separate Python: once SLURM's client tools are installed, the plugin, merely installed,
makes every `snakemake` start wait about 10 s for `scontrol show config` when no controller
answers (it asks while plugins load). The project's own environment therefore does not have
it; this one sees the project's packages (a .pth file) plus the plugin.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from contextlib import contextmanager
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
PLUGINS = ("snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep")
NODE = "sklandscape-node"


def slurm_unavailable() -> str | None:
    """Why a SLURM cluster cannot be started here, or None."""
    missing = [name for name in DAEMONS if shutil.which(name) is None]
    if missing:
        return (f"{', '.join(missing)} not found (Debian: apt-get install slurm-wlm munge; "
                ".ci/run does this as root)")
    if os.geteuid() != 0:
        return "starting slurmd and munged needs root"
    if Path("/etc/slurm/slurm.conf").exists():
        return "/etc/slurm/slurm.conf exists: this machine has a SLURM of its own, left alone"
    return None


def plugin_python(folder: Path) -> Path:
    """A virtual environment that sees this one's packages and adds the SLURM plugin."""
    python = folder / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # addsitedir, not a bare path: the parent's own .pth files (an editable install's) count too
    (Path(site) / "sklandscape_parent.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *PLUGINS], check=True)
    return python


SLURM_CONF = """\
ClusterName=sklandscape
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# finished jobs stay visible to squeue this long: the status checks need them (no sacct)
MinJobAge=600
SlurmdTimeout=60
NodeName={node} NodeHostname={hostname} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _munge() -> None:
    """munged on its default socket (SLURM's auth/munge looks there); one is enough."""
    if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
        return
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    key = Path("/etc/munge/munge.key")
    if not key.exists():
        subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True)
    subprocess.run(["munged", "--force"], check=True)
    for _ in range(50):
        if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("munged did not start")


@contextmanager
def single_node_slurm(folder: Path, cpus: int = 2, memory_mb: int = 4000):
    """Yields the environment (SLURM_CONF) under which sbatch, squeue, … reach the cluster."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool"):
        (folder / sub).mkdir(exist_ok=True)
    conf = folder / "slurm.conf"
    conf.write_text(SLURM_CONF.format(
        host=socket.gethostname(), hostname=socket.gethostname(), node=NODE, folder=folder,
        ctld_port=_free_port(), d_port=_free_port(), cpus=cpus, memory=memory_mb))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    # The plugin's job step (snakemake-executor-plugin-slurm-jobstep) strips every SLURM_*
    # variable but the allocation's before its `srun`, SLURM_CONF included: the step's srun
    # finds the cluster only through the default path. Put the config there, unless a real
    # one is there already (then this machine is a cluster node: not ours to change).
    default = Path("/etc/slurm/slurm.conf")
    if default.exists():
        raise RuntimeError(f"{default} exists: this machine has a SLURM configuration of its own")
    default.parent.mkdir(parents=True, exist_ok=True)
    default.symlink_to(conf)
    _munge()
    ctld = subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    slurmd = None
    try:
        _wait(lambda: subprocess.run(["scontrol", "ping"], env=env, capture_output=True,
                                     text=True).stdout.count("UP") > 0, "slurmctld", folder)
        slurmd = subprocess.Popen(["slurmd", "-D", "-N", NODE, "-f", str(conf)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait(lambda: "idle" in subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"], env=env, capture_output=True, text=True).stdout,
            "slurmd (node idle)", folder)
        yield env
    finally:
        for process in (slurmd, ctld):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        default.unlink(missing_ok=True)


def _wait(ready, what: str, folder: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                             for p in folder.glob("*.log"))
            raise RuntimeError(f"{what} did not come up within {timeout:g} s\n{logs}")
        time.sleep(0.5)
