import atexit
from pathlib import Path
import json
import os
import re
import subprocess
import sys
import uuid

from snakemake.utils import validate

from sklandscape.provenance import canonical_json, code_sha256, stable_hash
from sklandscape.kinds import KINDS, job_outputs, names as kind_names
from sklandscape.pipeline.stages.software_versions import installed_versions
from sklandscape.pipeline.tracking.records import process_key
from sklandscape.pipeline.tracking.service import TrackingService, log_leftovers
from sklandscape.pipeline.config.seeds import members
from sklandscape.pipeline.config.validation import check_config, check_schema, expand_networks

# Bad config stops here, before any job starts or any file is written: first the schema
# in words (every problem, each with its key path), then snakemake's own validation,
# which fills in the defaults, then what only the data can tell (names, rows, files).
SCHEMA = os.path.join(workflow.basedir, "schemas", "config.schema.yaml")
check_schema(config, SCHEMA, workflow.configfiles)
expand_networks(config, workflow.configfiles)  # a network's `seeds`: one network per seed
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
# Where jobs write their run records: absolute, the same for jobs on other nodes.
RECORDS = os.path.abspath(f"{RESULTS}/.tracking")
# An id and the host:pid:start of this invocation, so that a later one can tell a dead
# invocation's runs (to be marked KILLED) from those of one still running on the same
# store. The main process always makes its own: values inherited from the environment
# (a shell, or a Python process that once parsed this file) would name another process,
# perhaps a live one, and its runs would never be marked. Job processes re-parse this
# file and keep their invocation's values.
if workflow.is_main_process:
    os.environ.update(
        SKLANDSCAPE_RUN_RECORDS=RECORDS,
        SKLANDSCAPE_INVOCATION=uuid.uuid4().hex,
        SKLANDSCAPE_INVOCATION_PROCESS=process_key(),
    )
else:
    os.environ.setdefault("SKLANDSCAPE_RUN_RECORDS", RECORDS)
    os.environ.setdefault("SKLANDSCAPE_INVOCATION", uuid.uuid4().hex)
    os.environ.setdefault("SKLANDSCAPE_INVOCATION_PROCESS", process_key())


def dry_run(argv):
    """Whether this snakemake only plans (-n, also inside -np or -pn): then no file is
    deleted. Read with Snakemake's own parser; a command line that is not snakemake's (the
    workflow parsed through the API) only reports."""
    from snakemake.cli import get_argument_parser

    program = Path(argv[0])  # .../bin/snakemake, or .../snakemake/__main__.py (python -m)
    if "snakemake" not in (program.name, program.parent.name):
        return True
    try:
        return bool(get_argument_parser().parse_known_args(argv[1:])[0].dryrun)
    except SystemExit:
        return True


# Damaged intermediates: a table cut short (a full disk, a copy interrupted) still looks
# finished to Snakemake ("Nothing to be done"). Every table's header and footer are checked
# before the DAG is built; a damaged one is deleted, so this run makes it again and what
# depends on it (a dry run only says so). Damage inside a table fails the job that reads it,
# by its page checksums, and that job deletes it (sklandscape.pipeline.jobs).
if workflow.is_main_process:
    from sklandscape.io import remove_damaged_tables

    _dry = dry_run(sys.argv)
    for _table, _why in remove_damaged_tables(RESULTS, dry_run=_dry):
        _done = (
            "is damaged ({}): a real run deletes and rebuilds it"
            if _dry
            else ("was damaged ({}): deleted, so this run rebuilds it and what depends on it")
        )
        print(f"{_table} {_done.format(_why)}", file=sys.stderr)


# Local runs: no more jobs at once than this machine has CPUs, whatever --cores says
# (the default profile gives every job one `cpu_slots`). More single-threaded jobs than
# CPUs only share them, and pay for it in switching and memory. Not on a cluster, where
# each job has its own node share; and not if the command line set a cap itself.
if (
    workflow.is_main_process
    and workflow.local_exec
    and "cpu_slots" not in workflow.global_resources
):
    workflow.register_resource("cpu_slots", os.cpu_count() or 1)


def _git_state():
    """(commit, "true" or "false": whether the package's or the workflow's files differ from it)
    of the code: the workflow's checkout, else the sklandscape package's (an editable install
    run from a copy of the workflow); ("", "") where neither is a git checkout."""
    import sklandscape

    package = os.path.dirname(sklandscape.__file__)
    for folder in (workflow.basedir, package):
        try:
            git = ["git", "-C", folder]
            commit, top = subprocess.run(
                git + ["rev-parse", "HEAD", "--show-toplevel"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            inside = [p for p in (package, workflow.basedir) if Path(p).is_relative_to(top)]
            changed = subprocess.run(
                git + ["status", "--porcelain", "--untracked-files=no", "--", *inside],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            return commit, "true" if changed else "false"
        except (OSError, subprocess.CalledProcessError):
            continue
    return "", ""


if workflow.is_main_process:
    _commit, _dirty = _git_state()
    os.environ.update(SKLANDSCAPE_GIT_COMMIT=_commit, SKLANDSCAPE_GIT_DIRTY=_dirty)
else:
    os.environ.setdefault("SKLANDSCAPE_GIT_COMMIT", "")
    os.environ.setdefault("SKLANDSCAPE_GIT_DIRTY", "")

CODE = {}


def code_hash(script, kind=None):
    """What a rule's job runs, by content: its script and the sklandscape source it imports
    (sklandscape.provenance.code_sha256), and for a direction kind the module of its registry
    entry's `result`, which the shared script imports by name. A param, so that an edit to the
    library reruns the jobs whose code it changes (an edit to curvature code reruns curvature,
    not training; to random_plane's, not interpolation) and reverting the edit reruns them
    again; Snakemake's own code trigger sees the script only."""
    modules = (KINDS[kind].result.split(":")[0],) if kind else ()
    if (script, modules) not in CODE:
        CODE[script, modules] = code_sha256(
            os.path.join(workflow.basedir, "scripts", script), modules
        )
    return CODE[script, modules]


def _choice(names):
    return "|".join(re.escape(n) for n in names) or "^$"


wildcard_constraints:
    dataset=_choice(DATASETS),
    network=_choice(NETWORKS),
    landscape=_choice(LANDSCAPES),


def dataset_spec(name):
    """The dataset's entry, keys sorted (see analysis_spec)."""
    return json.loads(canonical_json(config["datasets"][name]))


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
    """What the trainer needs: the network's entry without the dataset reference, its
    scaling written out (standard for bundled data and users' files, none for generated
    data), keys sorted so that reordering them in the config reruns nothing."""
    entry = config["networks"][network]
    generated = "function" in config["datasets"][entry["dataset"]]
    # `seeds` makes other networks (common: expand_networks); it does not change this one's fit
    settings = {k: v for k, v in entry.items() if k not in ("dataset", "seeds")}
    settings.setdefault("scaling", "none" if generated else "standard")
    return json.loads(canonical_json(settings))


def landscape_spec(landscape):
    """What the table depends on: the landscape's entry without `tiles`, which only says
    how many jobs compute it (the tiles are joined into the same table, bit for bit). Keys
    sorted: Snakemake compares params in order, and validation inserts defaults wherever it
    puts them, so writing out a default would otherwise rerun the landscape."""
    spec = {k: v for k, v in config["landscapes"][landscape].items() if k != "tiles"}
    return json.loads(canonical_json(spec))


def landscape_tiles(landscape):
    return int(config["landscapes"][landscape].get("tiles", 1))


def landscape_network(landscape):
    return config["landscapes"][landscape]["network"]


def landscape_kind(landscape):
    return config["landscapes"][landscape]["kind"]


def landscapes_of_kind(*kinds):
    """Names of the landscapes of these kinds: each kind has its own rule(s)."""
    return [n for n, spec in (config.get("landscapes") or {}).items() if spec["kind"] in kinds]


# The kinds the `landscape` rule makes (and draws); other kinds have their own rules.
GRID_KINDS = kind_names("landscape", grid=True)
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
    if landscape_kind(wc.landscape) != "input_space":
        return None
    return dataset_function(network_dataset(landscape_network(wc.landscape)))


def landscape_report_labels(landscape):
    """The report's label for a landscape figure: its name and what it maps.

    One label only: the report turns a second label with two values into a toggle, which
    breaks when two landscapes of a network differ in it.
    """
    spec = config["landscapes"][landscape]
    kind, axes = spec["kind"], spec.get("axes", "all")
    # "N1_interpolation: interpolation" says it twice: the kind only where the name lacks it.
    text = landscape if kind in landscape else f"{landscape}: {kind}"
    if kind == "weights":
        text += f" over {' × '.join(axes)}, samples {spec.get('samples', 'all')}"
    elif kind == "weight_pairs":
        text += " of all weights" if axes == "all" else f" of {axes}"
    elif kind == "random_plane":
        text += f", seed {spec.get('seeds', [0])[0]}"
    elif kind == "hessian_plane":
        text += f", {spec.get('directions', 'top_two')}"
    return {"figure": text}


def landscape_page_labels(landscape):
    """The report's label for a landscape's interactive 3-D page (unique beside its PNG's)."""
    return {"figure": landscape_report_labels(landscape)["figure"] + ", interactive 3-D"}


def landscape_report(suffix):
    """A landscape's figure ("png") or its interactive 3-D page ("html") as a report entry:
    under its network, labelled with what it maps."""
    png = suffix == "png"
    labels = landscape_report_labels if png else landscape_page_labels
    return report(
        f"{RESULTS}/figures/landscape_{{landscape}}.{suffix}",
        caption="../report/landscape.rst" if png else "../report/landscape_page.rst",
        category="3. Loss landscapes",
        subcategory=lambda wc: landscape_network(wc.landscape),
        labels=lambda wc: labels(wc.landscape),
    )


def analysis_report(figure, what, suffix="png"):
    """An analysis' figure results/figures/{figure}_{analysis}.{suffix} as a report entry,
    captioned by workflow/report/{figure}.rst (a page: {figure}_page.rst)."""
    caption = figure if suffix == "png" else f"{figure}_page"
    return report(
        f"{RESULTS}/figures/{figure}_{{analysis}}.{suffix}",
        caption=f"../report/{caption}.rst",
        category="4. Analyses",
        subcategory="{analysis}",
        labels={"figure": f"{{analysis}}: {what}"},
    )


# The kinds whose landscape is a 2-D surface: each also gets an interactive 3-D page.
PAGE_KINDS = kind_names(page=True)


# Landscapes along chosen directions (workflow/rules/directions.smk): every landscape kind
# that the `landscape` rule does not make. Each has a rule made from its registry entry.
DIRECTION_KINDS = kind_names("landscape", grid=False)


def direction_inputs(kind):
    """An input function: the network's weights, the data, and each file the kind reads."""
    reads = KINDS[kind].reads

    def inputs(wc):
        network = landscape_network(wc.landscape)
        found = landscape_inputs(wc)
        found |= {r: f"{RESULTS}/models/{network}/{r}.parquet" for r in reads}
        return found

    return inputs


def direction_outputs(kind):
    """The kind's outputs (sklandscape.kinds.job_outputs), its figures and 3-D page as report
    entries: the main figure captioned by landscape.rst, each other by <figure>.rst."""
    found = {}
    for key, path in job_outputs(kind).items():
        path = f"{RESULTS}/{path.format(name='{landscape}')}"
        if key == "figure":
            path = landscape_report("png")
        elif key == "page":
            path = landscape_report("html")
        elif key.endswith("_figure"):
            path = figure_report(path, key.removesuffix("_figure"))
        found[key] = path
    return found


def figure_report(path, figure):
    """A direction kind's other figure as a report entry, captioned by <figure>.rst."""
    what = figure.replace("_", " ")
    return report(
        path,
        caption=f"../report/{figure}.rst",
        category="3. Loss landscapes",
        subcategory=lambda wc: landscape_network(wc.landscape),
        labels=lambda wc: {"figure": f"{landscape_report_labels(wc.landscape)['figure']}, {what}"},
    )


def direction_targets():
    """Every figure, table page and 3-D page of the direction kinds' landscapes."""
    targets = []
    for kind in DIRECTION_KINDS:
        for key, path in job_outputs(kind).items():
            if not path.endswith(".parquet"):
                targets += expand(
                    f"{RESULTS}/{path.format(name='{landscape}')}",
                    landscape=landscapes_of_kind(kind),
                )
    return targets


def network_file(name):
    """An input function: results/models/{network}/{name} of the landscape's network."""
    return lambda wc: f"{RESULTS}/models/{landscape_network(wc.landscape)}/{name}"


def landscape_data(wc):
    return f"{RESULTS}/data/{network_dataset(landscape_network(wc.landscape))}.parquet"


# Analyses of a landscape (workflow/rules/analysis.smk).

ANALYSES = dict(config.get("analyses") or {})


def analyses_of(kind):
    return [name for name, spec in ANALYSES.items() if spec["kind"] == kind]


def optimizer_analyses(animated):
    return [n for n in analyses_of("optimizers") if ANALYSES[n].get("animation", True) == animated]


def analysis_spec(analysis):
    """The analysis' config with keys sorted at every level: Snakemake compares params in
    order, and schema defaults are inserted wherever validation puts them, so without this
    writing out a default (or reordering keys) would rerun the analysis. `animation` only
    chooses the rule (with or without the GIF), so it is not part of the spec."""
    spec = {k: v for k, v in ANALYSES[analysis].items() if k != "animation"}
    return json.loads(canonical_json(spec))


def analysis_inputs(wc):
    if ANALYSES[wc.analysis]["kind"] == "connectivity":  # of every seed of a network
        network = ANALYSES[wc.analysis]["network"]
        return {
            "weights": [f"{RESULTS}/models/{m}/weights.parquet" for m in seed_members(network)],
            "data": f"{RESULTS}/data/{network_dataset(network)}.parquet",
        }
    if ANALYSES[wc.analysis]["kind"] == "learning_rates":  # of a network, not a landscape
        network = ANALYSES[wc.analysis]["network"]
        return {
            "weights": f"{RESULTS}/models/{network}/weights.parquet",
            "model": f"{RESULTS}/models/{network}/model.skops",
            "data": f"{RESULTS}/data/{network_dataset(network)}.parquet",
        }
    landscape = ANALYSES[wc.analysis]["landscape"]
    network = landscape_network(landscape)
    return {
        "weights": f"{RESULTS}/models/{network}/weights.parquet",
        "data": f"{RESULTS}/data/{network_dataset(network)}.parquet",
        "landscape": f"{RESULTS}/landscapes/{landscape}.parquet",
    }


def seed_members(network):
    """The networks of a network's seeds, itself first (config: `seeds`)."""
    return members(network, config["networks"][network])


def analysis_landscape(wc):
    return f"{RESULTS}/landscapes/{ANALYSES[wc.analysis]['landscape']}.parquet"


def attack_target_function(wc):
    """The generating function the input-space error is measured against."""
    network = landscape_network(ANALYSES[wc.analysis]["landscape"])
    return dataset_function(network_dataset(network))


def analysis_targets():
    targets = []
    for name in analyses_of("curvature"):
        targets += [
            f"{RESULTS}/figures/{figure}_{name}.png"
            for figure in ("hessian", "spectrum", "cuts", "convexity", "plateau")
        ]
    for name in analyses_of("optimizers"):
        targets.append(f"{RESULTS}/figures/optimizers_{name}.png")
        targets.append(f"{RESULTS}/figures/optimizers_{name}.html")
        if ANALYSES[name].get("animation", True):
            targets.append(f"{RESULTS}/figures/optimizers_{name}.gif")
    for name in analyses_of("input_attack"):
        targets.append(f"{RESULTS}/figures/attack_{name}.png")
    for name in analyses_of("learning_rates"):
        targets.append(f"{RESULTS}/figures/learning_rates_{name}.png")
    for name in analyses_of("connectivity"):
        targets += [
            f"{RESULTS}/figures/connectivity_{figure}_{name}.{suffix}"
            for figure, suffix in (("barriers", "png"), ("plane", "png"), ("plane", "html"))
        ]
        targets.append(f"{RESULTS}/figures/connectivity_paths_{name}")
    return targets


ANALYSIS_DIR = f"{RESULTS}/analyses/{{analysis}}"


def all_targets():
    targets = expand(f"{RESULTS}/figures/dataset_{{dataset}}.png", dataset=DATASETS)
    targets += expand(f"{RESULTS}/figures/network_{{network}}.png", network=NETWORKS)
    targets += expand(f"{RESULTS}/figures/fit_{{network}}.png", network=NETWORKS)
    targets += expand(
        f"{RESULTS}/figures/landscape_{{landscape}}.png", landscape=landscapes_of_kind(*GRID_KINDS)
    )
    return targets


# MLflow: jobs write run records (sklandscape.pipeline.tracking.records); a logging process started
# here logs them while the jobs run, so no job imports mlflow. onstart checks a tracking
# server and starts that process, which creates the store and experiment once (before
# parallel writers could race to) and marks KILLED the runs a dead invocation left
# RUNNING; onsuccess/onerror log what is left once every job has ended. Records that
# cannot be logged now (a server gone) stay on disk and are logged by the next run here,
# even one with nothing to do (at exit).
TRACKING = TrackingService(config["experiment"])


onstart:
    from sklandscape.io import remove_temporaries

    # A job killed mid-write leaves its temporary file (the real output is written whole or
    # not at all): nothing writes yet, so what is there now is debris.
    for leftover in remove_temporaries(RESULTS):
        print(f"removed the temporary file {leftover} of an interrupted job", flush=True)
    TRACKING.start()


onsuccess:
    TRACKING.close()


onerror:
    TRACKING.close()


def _log_leftover_records():
    """At exit: log what is left, also after a run that started no job (nothing to be
    done) but found records of an interrupted invocation. Not for a dry run, a lint or an
    unlock."""
    if TRACKING.started:  # closed here if no hook did (a crash)
        TRACKING.close()
        return
    plugin = workflow.executor_plugin
    if plugin is None:
        return
    if plugin.common_settings.dryrun_exec or plugin.common_settings.touch_exec:
        return
    log_leftovers(config["experiment"])


if workflow.is_main_process:
    atexit.register(_log_leftover_records)
