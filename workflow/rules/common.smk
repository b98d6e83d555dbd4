import os
import re
import subprocess
import uuid

from snakemake.utils import validate

from losscape.provenance import stable_hash


validate(config, "../schemas/config.schema.yaml")

DATASETS = list(config["datasets"])
NETWORKS = list(config["networks"])
LANDSCAPES = list(config.get("landscapes") or {})
RESULTS = "results"


def _check_references():
    for name, net in config["networks"].items():
        if net["dataset"] not in config["datasets"]:
            raise ValueError(
                f"config: networks.{name}.dataset names {net['dataset']!r}, which is not "
                f"under datasets (defined: {', '.join(DATASETS)})"
            )
    for name, spec in (config.get("landscapes") or {}).items():
        if spec["network"] not in config["networks"]:
            raise ValueError(
                f"config: landscapes.{name}.network names {spec['network']!r}, which is not "
                f"under networks (defined: {', '.join(NETWORKS)})"
            )


_check_references()


# Where runs are tracked is the environment's business, so that moving the store
# reruns nothing; the experiment name is set here from config for every job.
os.environ["MLFLOW_EXPERIMENT_NAME"] = config["experiment"]
os.environ.setdefault("MLFLOW_TRACKING_URI", "sqlite:///mlflow.db")
os.environ.setdefault("LOSSCAPE_INVOCATION", uuid.uuid4().hex)


def _git_commit():
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=workflow.basedir
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


def network_dataset(network):
    return config["networks"][network]["dataset"]


def training_settings(network):
    """What the trainer needs: the network's entry without the dataset reference."""
    return {k: v for k, v in config["networks"][network].items() if k != "dataset"}


def landscape_spec(landscape):
    return dict(config["landscapes"][landscape])


def landscape_network(landscape):
    return config["landscapes"][landscape]["network"]


def landscape_kind(landscape):
    return config["landscapes"][landscape]["kind"]


def landscape_config_hash(landscape):
    """Hash of every config value that the landscape's table depends on."""
    network = landscape_network(landscape)
    return stable_hash(
        {
            "landscape": landscape_spec(landscape),
            "network": training_settings(network),
            "dataset": dataset_spec(network_dataset(network)),
        }
    )


def all_targets():
    targets = expand(f"{RESULTS}/figures/dataset_{{dataset}}.png", dataset=DATASETS)
    targets += expand(f"{RESULTS}/figures/network_{{network}}.png", network=NETWORKS)
    targets += expand(f"{RESULTS}/figures/fit_{{network}}.png", network=NETWORKS)
    targets += expand(f"{RESULTS}/figures/landscape_{{landscape}}.png", landscape=LANDSCAPES)
    return targets


onstart:
    # Create the MLflow store and experiment once, before parallel jobs race to.
    from losscape.tracking import prepare_store

    prepare_store(config["experiment"])
