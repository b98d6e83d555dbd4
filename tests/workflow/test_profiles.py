"""Profiles: local defaults picked up by a plain `snakemake`, and the SLURM profile's plan."""

from __future__ import annotations

import re

import pytest
import yaml

from workflow_support import REPO, SMALL_CONFIG, make_workspace, snakemake

pytestmark = pytest.mark.pipeline

ONE_DATASET = {
    "experiment": "sklandscape-profile",
    "datasets": {"curve": SMALL_CONFIG["datasets"]["curve"]},
    "networks": {"N1": SMALL_CONFIG["networks"]["N1"]},
    "landscapes": {"N1_one": SMALL_CONFIG["landscapes"]["N1_one"]},
}


@pytest.fixture
def workspace(tmp_path):
    root = make_workspace(tmp_path / "ws", ONE_DATASET)
    return root


def load_profile(name: str) -> dict:
    return yaml.safe_load((REPO / "profiles" / name / "config.yaml").read_text())


def test_a_plain_snakemake_uses_the_default_profile(workspace):
    """`cores` comes from profiles/default: without it, Snakemake refuses to run."""
    target = "results/data/curve.parquet"
    without = snakemake(workspace, "--workflow-profile", "none", target, check=False)
    assert without.returncode != 0 and "--cores" in without.stderr
    done = snakemake(workspace, target)
    assert "workflow specific profile profiles/default" in done.stderr
    assert f"Provided cores: {load_profile('default')['cores']}" in done.stderr
    assert (workspace / target).is_file()


def planned_resources(output: str) -> dict[str, dict[str, str]]:
    """rule -> the resources (and threads) its first job in a dry run's plan gets."""
    plan = {}
    # (the rules of a group job are listed indented under it)
    for block in re.split(r"\n(?=[ \t]*(?:local)?rule \w+:)", output):
        rule = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not rule or rule[1] == "all" or rule[1] in plan:
            continue
        found = re.search(r"resources: (.*)", block)
        resources = dict(item.split("=", 1) for item in found[1].split(", ")) if found else {}
        threads = re.search(r"threads: (\d+)", block)
        resources["threads"] = threads[1] if threads else "1"
        plan[rule[1]] = resources
    return plan


def every_rule_config() -> dict:
    """The default config plus what it leaves out: a tiled landscape, optimizers without GIF.

    Only planned (a dry run), so its size costs nothing; every rule gets a job."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["landscapes"]["N1_tiled"] = {**config["landscapes"]["N1_all_points"], "tiles": 2}
    optimizers = next(k for k, a in config["analyses"].items() if a["kind"] == "optimizers")
    config["analyses"]["still"] = {**config["analyses"][optimizers], "animation": False}
    # the default config leaves the learning-rate checks to config/findings.yaml
    config["analyses"]["rates"] = {"kind": "learning_rates", "network": "N1"}
    return config


def test_the_slurm_profile_plans_every_job_with_its_resources(tmp_path, slurm_python):
    profile = load_profile("slurm")
    assert profile["executor"] == "slurm"
    workspace = make_workspace(tmp_path / "cluster", every_rule_config())
    # A dry run executes locally and caps threads at --cores (1 unless given); on the
    # cluster each job gets its own node share, so lift the cap to see the profile's value.
    dry = snakemake(workspace, "--workflow-profile", "profiles/slurm", "--dry-run", "--cores", "64",
                    python=slurm_python)
    assert "workflow specific profile profiles/slurm" in dry.stderr
    plan = planned_resources(dry.stdout)
    rules = snakemake(workspace, "--list-rules").stdout.split()
    assert sorted(plan) == sorted(r for r in rules if r != "all")
    named = set(profile["set-resources"]) | set(profile.get("set-threads", {}))
    assert named <= set(rules), f"the profile names rules the workflow lacks: {named - set(rules)}"
    for rule, resources in plan.items():
        wanted = {**profile["default-resources"], **profile["set-resources"].get(rule, {})}
        for key in ("mem_mb", "runtime"):
            assert resources[key] == str(wanted[key]), (rule, key)
        assert resources["threads"] == str(profile.get("set-threads", {}).get(rule, 1)), rule
