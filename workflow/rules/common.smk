import os
import re
import socket
import subprocess
import uuid

from snakemake.utils import validate

from losscape.provenance import stable_hash
from losscape.validation import check_config, check_schema

# Bad config stops here, before any job starts or any file is written: first the schema
# in words (every problem, each with its key path), then snakemake's own validation,
# which fills in the defaults, then what only the data can tell (names, rows, files).
SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
check_schema(config, SCHEMA, workflow.configfiles)
validate(config, "../schemas/config.schema.yaml")
DATASET_FACTS = check_config(config, workflow.configfiles)

DATASETS = list(config["datasets"])
NETWORKS = list(config["networks"])
LANDSCAPES = list(config.get("landscapes") or {})
RESULTS = "results"


# Where runs are tracked is the environment's business, so that moving the store
# reruns nothing; the experiment name is set here from config for every job.
# (update(), because `snakemake --lint` takes os.environ[...] for a read it wants declared.)
os.environ.update(MLFLOW_EXPERIMENT_NAME=config["experiment"])
os.environ.setdefault("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
os.environ.setdefault("LOSSCAPE_INVOCATION", uuid.uuid4().hex)
# host:pid of this invocation, so that a later one can tell a dead invocation's runs
# (to be marked KILLED) from those of one still running on the same store.
os.environ.setdefault("LOSSCAPE_INVOCATION_PROCESS", f"{socket.gethostname()}:{os.getpid()}")


def _git_commit():
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=workflow.basedir,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


os.environ.setdefault("LOSSCAPE_GIT_COMMIT", _git_commit())


def _choice(names):
    return "|".join(re.escape(n) for n in names) or "^$"


wildcard_constraints:
    dataset=_choice(DATASETS),
    network=_choice(NETWORKS),
    landscape=_choice(LANDSCAPES),


def dataset_spec(name):
    return dict(config["datasets"][name])


def dataset_function(name):
    """The generating function of a generated dataset; None for a user's file."""
    return config["datasets"][name].get("function")


def dataset_source(wc):
    """A user's data file (content-hashed, so its timestamp alone reruns nothing)."""
    path = config["datasets"][wc.dataset].get("path")
    return {"source": ancient(path)} if path else {}


def dataset_source_sha256(name):
    return DATASET_FACTS[name].sha256


def network_dataset(network):
    return config["networks"][network]["dataset"]


def training_settings(network):
    """What the trainer needs: the network's entry without the dataset reference."""
    return {k: v for k, v in config["networks"][network].items() if k != "dataset"}


def landscape_spec(landscape):
    """What the table depends on: the landscape's entry without `tiles`, which only says
    how many jobs compute it (the tiles are joined into the same table, bit for bit)."""
    return {k: v for k, v in config["landscapes"][landscape].items() if k != "tiles"}


def landscape_tiles(landscape):
    return int(config["landscapes"][landscape].get("tiles", 1))


def landscape_network(landscape):
    return config["landscapes"][landscape]["network"]


def landscape_kind(landscape):
    return config["landscapes"][landscape]["kind"]


def landscapes_of_kind(*kinds):
    """Names of the landscapes of these kinds: each kind has its own rule(s)."""
    return [n for n, spec in (config.get("landscapes") or {}).items() if spec["kind"] in kinds]


# The kinds the `landscape` and `figure_landscape` rules make; other kinds have their own rules.
GRID_KINDS = ("input", "weights")
# Of those, the ones computed by one job, and the ones split into tiles (schema: grid kinds only).
UNTILED = [n for n in landscapes_of_kind(*GRID_KINDS) if landscape_tiles(n) == 1]
TILED = [n for n in landscapes_of_kind(*GRID_KINDS) if landscape_tiles(n) > 1]


def landscape_config_hash(landscape):
    """Hash of every config value that the landscape's table depends on."""
    network = landscape_network(landscape)
    dataset = network_dataset(network)
    inputs = {
        "landscape": landscape_spec(landscape),
        "network": training_settings(network),
        "dataset": dataset_spec(dataset),
    }
    if dataset_source_sha256(dataset):  # a user's file: its content, not just its path
        inputs["dataset_sha256"] = dataset_source_sha256(dataset)
    return stable_hash(inputs)


def landscape_inputs(wc):
    network = landscape_network(wc.landscape)
    return {
        "weights": f"{RESULTS}/models/{network}/weights.parquet",
        "data": f"{RESULTS}/data/{network_dataset(network)}.parquet",
    }


def landscape_tile_paths(wc):
    return [
        f"{RESULTS}/landscapes/tiles/{wc.landscape}/{tile}.parquet"
        for tile in range(landscape_tiles(wc.landscape))
    ]


def landscape_target_function(wc):
    """The generating function an input landscape compares against.

    None for a weights landscape, and for a user's data (its nearest data point is the target).
    """
    if landscape_kind(wc.landscape) != "input":
        return None
    return dataset_function(network_dataset(landscape_network(wc.landscape)))


def landscape_report_labels(landscape):
    """The report's label for a landscape figure: its name and what it maps.

    One label only: the report turns a second label with two values into a toggle, which
    breaks when two landscapes of a network differ in it.
    """
    spec = config["landscapes"][landscape]
    text = f"{landscape}: {spec['kind']}"
    if spec.get("axes"):
        text += " over " + " × ".join(spec["axes"])
    if spec["kind"] == "weights":
        text += f", samples {spec.get('samples', 'all')}"
    return {"figure": text}


def all_targets():
    targets = expand(f"{RESULTS}/figures/dataset_{{dataset}}.png", dataset=DATASETS)
    targets += expand(f"{RESULTS}/figures/network_{{network}}.png", network=NETWORKS)
    targets += expand(f"{RESULTS}/figures/fit_{{network}}.png", network=NETWORKS)
    targets += expand(
        f"{RESULTS}/figures/landscape_{{landscape}}.png", landscape=landscapes_of_kind(*GRID_KINDS)
    )
    return targets


onstart:
    # Snakemake calls this after building the DAG and before scheduling any job. It
    # creates the MLflow store and experiment once, before parallel jobs race to, and
    # marks KILLED the runs that a dead invocation left RUNNING.
    from losscape.tracking import prepare_store

    prepare_store(config["experiment"])
