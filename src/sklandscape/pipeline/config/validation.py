"""Config checks that run while Snakemake parses the workflow, before any job starts.

The schema says what shape each value has; this module says it in words a person can act
on (the key path, what was found, what is allowed) and adds what a schema cannot know:
that a name refers to something defined, that a weight exists in its network, that a
sample row exists in its data, that a user's data file is usable. All problems are
collected and reported together, so one edit can fix them all.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sklandscape.data.datasets import MIN_TRAINING_ROWS
from sklandscape.errors import ConfigError
from sklandscape.kinds import KINDS
from sklandscape.model.network import n_parameters, parameter_names, parse_parameter_name
from sklandscape.options import items_problem
from sklandscape.pipeline.config.dataset_facts import DatasetFacts, dataset_facts
from sklandscape.pipeline.config.resources import (
    data_problems,
    machine_memory,
    network_problems,
    resource_problems,
)
from sklandscape.pipeline.config.seeds import expand_seeds, members


def raise_if(problems: list[str], config_files) -> None:
    if not problems:
        return
    source = ", ".join(str(f) for f in config_files) or "the config"
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    lines = "\n".join(f"  - {p}" for p in problems)
    raise ConfigError(f"invalid config ({source}), {count}:\n{lines}")


# --- the schema, in words --------------------------------------------------------


def key_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "config"


_TYPE_WORDS = {
    "object": "a mapping (key: value)", "array": "a list", "string": "a string",
    "integer": "an integer", "number": "a number", "boolean": "true or false",
}


# Keys and kinds renamed to scikit-learn's names, or not to shadow a builtin (CHANGELOG): an
# old config is told the new name.
RENAMED = {"seed": "random_state", "input": "input_space", "range": "alpha_range"}


def _describe(error) -> str:
    """One schema error as a sentence; the schema's own `description` explains intent."""
    schema, instance, kind = error.schema, error.instance, error.validator
    description = schema.get("description", "") if isinstance(schema, dict) else ""
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        words = []
        for key in extra:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if RENAMED.get(key) in allowed:
                hint = f" (renamed {RENAMED[key]!r}: see the changelog)"
            words.append(f"unknown key {key!r}{hint}")
        return f"{'; '.join(words)}; allowed keys: {', '.join(allowed)}"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing key {missing!r}" + (f" ({description})" if description else "")
    if kind == "type":
        expected = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in expected)
        return f"{instance!r} is not {words}"
    if kind in ("oneOf", "anyOf"):
        options = schema[kind]
        if all(set(option) == {"required"} for option in options):  # one of these keys
            named = [key for option in options for key in option["required"]]
            keys = ", ".join(map(repr, named))
            given = [key for key in named if isinstance(instance, dict) and key in instance]
            problem = (f"give only one of {keys}, not both" if len(given) > 1 and kind == "oneOf"
                       else f"missing key: one of {keys}")
            return problem + (f" ({description})" if description else "")
        return f"{instance!r} is not allowed here" + (f": {description}" if description else "")
    if kind == "pattern" and description:
        return f"{instance!r} is not allowed: {description}"
    if kind in ("minItems", "maxItems"):  # jsonschema's "is too short" names no number
        return items_problem(instance, schema)
    if kind == "enum":
        renamed = RENAMED.get(instance) if isinstance(instance, str) else None
        hint = f" (renamed {renamed!r}: see the changelog)" if renamed in schema["enum"] else ""
        return f"{instance!r} is not one of {', '.join(map(repr, schema['enum']))}{hint}"
    return error.message + (f" ({description})" if description else "")


def schema_problems(config: dict, schema: dict) -> list[str]:
    """Every way `config` breaks `schema`, as 'key.path: sentence', sorted by path."""
    from jsonschema import Draft202012Validator, validators

    # JSON Schema counts 11.0 as an integer; Python's range() and array shapes do not: a
    # count written as 11.0 would pass here and fail in a job.
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool))
    strict = validators.extend(Draft202012Validator, type_checker=checker)
    validator = strict(schema)
    problems = []
    for error in validator.iter_errors(config):
        path = list(error.absolute_path)
        if "propertyNames" in error.absolute_schema_path:
            # a name (not a value) is wrong: the instance is the key itself
            description = error.schema.get("description", error.message)
            problems.append(
                f"{key_path(path)}: name {error.instance!r} is not allowed: {description}"
            )
            continue
        problems.append(f"{key_path(path)}: {_describe(error)}")
    return sorted(dict.fromkeys(problems))


def check_schema(config: dict, schema_path, config_files=()) -> None:
    """Raise a ConfigError listing every schema violation, each with its key path, and what
    the files say that a schema cannot see: keys given twice, NaN or infinite values, names
    with a line break."""
    from sklandscape.pipeline.config.files import (
        duplicate_key_problems,
        file_problems,
        name_problems,
        value_problems,
    )

    # First what reading the config costs: a file that is no file, too large, or whose aliases
    # expand without bound (a YAML "billion laughs") is refused before anything walks it.
    raise_if(file_problems(config_files), config_files)
    schema = yaml.safe_load(Path(schema_path).read_text())
    problems = duplicate_key_problems(config_files) + value_problems(config)
    problems += name_problems(config) + schema_problems(config, schema)
    raise_if(problems, config_files)


def expand_networks(config: dict, config_files=()) -> None:
    """One network per extra seed of a network's `seeds` (sklandscape.pipeline.config.seeds),
    or a ConfigError saying why not."""
    raise_if(expand_seeds(config), config_files)


# --- what the schema cannot know ---------------------------------------------------


def check_config(config: dict, config_files=()) -> dict[str, DatasetFacts]:
    """Cross-references and data files; returns what is known of each dataset.

    `config` must already satisfy the schema (with its defaults filled in).
    """
    problems: list[str] = []
    facts = {}
    for name, spec in config["datasets"].items():
        found = dataset_facts(f"datasets.{name}", spec, problems)
        if found is not None:
            facts[name] = found
    for name, spec in config["networks"].items():
        _check_network(f"networks.{name}", spec, config, facts, problems)
    for name, spec in (config.get("landscapes") or {}).items():
        _check_landscape(f"landscapes.{name}", spec, config, facts, problems)
    for name, spec in (config.get("analyses") or {}).items():
        _check_analysis(f"analyses.{name}", spec, config, problems)
    if not problems:  # sizes are known only once the config is consistent
        problems += _resource_problems(config, facts)
    raise_if(problems, config_files)
    return facts


def _resource_problems(config: dict, facts: dict) -> list[str]:
    """Memory each landscape and curvature job would need, against this machine's."""
    memory = machine_memory()
    landscapes = config.get("landscapes") or {}

    def sizes_of(landscape: dict):
        network = config["networks"][landscape["network"]]
        known = facts.get(network["dataset"])
        return None if known is None else layer_sizes(network, known.n_features, known.n_classes, known.n_targets)

    problems = []
    for name, spec in (config.get("datasets") or {}).items():
        known = facts.get(name)
        if known is not None:
            key = "n_samples" if "function" in spec else ("path" if "path" in spec else "sklearn")
            problems += data_problems(f"datasets.{name}", known.n_rows, known.n_features, key,
                                      memory)
    for name, network in (config.get("networks") or {}).items():
        known = facts.get(network.get("dataset"))
        if known is not None:
            sizes = layer_sizes(network, known.n_features, known.n_classes, known.n_targets)
            problems += network_problems(f"networks.{name}", sizes, known.n_rows,
                                         network.get("max_iter", 200), memory)
    for name, spec in landscapes.items():
        problems += resource_problems(f"landscapes.{name}", spec["kind"], spec, sizes_of(spec),
                                      memory)
    for name, spec in (config.get("analyses") or {}).items():
        if spec["kind"] == "curvature":
            problems += resource_problems(f"analyses.{name}", "curvature", spec,
                                          sizes_of(landscapes[spec["landscape"]]), memory)
    return problems


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _check_network(where, spec, config, facts, problems) -> None:
    dataset = spec["dataset"]
    if dataset not in config["datasets"]:
        problems.append(_undefined(f"{where}.dataset", dataset, "datasets", config["datasets"]))
        return
    known = facts.get(dataset)
    if known is None:
        return
    if known.n_rows < MIN_TRAINING_ROWS:
        problems.append(
            f"{where}: dataset {dataset!r} ({known.path}) has {_rows(known.n_rows)}; "
            f"training needs at least {MIN_TRAINING_ROWS}"
        )
    classifier = spec.get("estimator", "regressor") == "classifier"
    if classifier and known.n_targets > 1:
        problems.append(
            f"{where}.estimator: a classifier learns one target column, but dataset {dataset!r} "
            f"has {known.n_targets} (targets); use estimator: regressor, or give one target")
        return
    if not classifier and not known.numeric_target:
        problems.append(
            f"{where}.estimator: a regressor needs numeric targets, but dataset {dataset!r}'s "
            f"target holds labels such as {known.example_label!r}; set estimator: classifier")
    if classifier and (known.continuous or known.n_classes > MAX_CLASSES):
        problems.append(
            f"{where}.estimator: a classifier needs class labels, but dataset {dataset!r}'s target "
            f"has {known.n_classes} distinct values in {_rows(known.n_rows)} (a continuous "
            f"target?); use estimator: regressor")
    if classifier and known.n_classes < 2:
        problems.append(f"{where}.estimator: a classifier needs at least 2 classes; dataset "
                        f"{dataset!r}'s target has {known.n_classes}")
    share = spec.get("holdout")
    if share:
        _check_holdout(f"{where}.holdout", share, classifier, dataset, known, problems)


def _check_holdout(where, share, classifier, dataset, known, problems) -> None:
    """Both parts get rows (and, stratified, every class gets a row in each)."""
    n_heldout = int(np.ceil(share * known.n_rows))
    n_train = known.n_rows - n_heldout
    if n_train < MIN_TRAINING_ROWS or n_heldout < 1:
        problems.append(f"{where}: {share} of dataset {dataset!r}'s {_rows(known.n_rows)} leaves "
                        f"{n_train} to train on and {n_heldout} held out")
        return
    if not classifier or known.class_counts is None:
        return
    smallest = min(known.class_counts, key=known.class_counts.get)
    if known.class_counts[smallest] < 2:
        problems.append(
            f"{where}: a stratified hold-out needs at least 2 rows of every class; class "
            f"{smallest!r} of dataset {dataset!r} has {known.class_counts[smallest]}")
    elif min(n_heldout, n_train) < known.n_classes:
        problems.append(
            f"{where}: {share} of {_rows(known.n_rows)} holds out {n_heldout} and trains on "
            f"{n_train}; a stratified split needs at least one row of each of the "
            f"{known.n_classes} classes in both")


# More distinct target values than this is not a set of classes.
MAX_CLASSES = 100


def layer_sizes(network: dict, n_features: int, n_classes: int = 0, n_targets: int = 1
                ) -> list[int]:
    """[inputs, *hidden, outputs]: one output unit per target for a regressor, one for a
    binary classifier (sklearn's logistic output), one per class for a multiclass one
    (softmax)."""
    outputs = n_targets
    if network.get("estimator") == "classifier":
        outputs = n_classes if n_classes > 2 else 1
    return [n_features, *network["hidden_layer_sizes"], outputs]


def describe_names(sizes: list[int], limit: int = 30) -> str:
    """Every weight name, or for a big network each layer's names as index ranges (counted,
    never listed: a network of 10^10 weights is described in a line, not in memory)."""
    if n_parameters(sizes) <= limit:
        return ", ".join(parameter_names(sizes))
    parts = []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        parts.append(f"W{layer}[i,j] for i in 0..{n_in - 1}, j in 0..{n_out - 1}")
        parts.append(f"b{layer}[j] for j in 0..{n_out - 1}")
    return "; ".join(parts)


def _check_landscape(where, spec, config, facts, problems) -> None:
    tiles = spec.get("tiles", 1)
    if tiles > spec["resolution"]:
        problems.append(
            f"{where}.tiles: {tiles} tiles, more than the grid's {spec['resolution']} rows "
            f"(resolution); a tile is at least one row"
        )
    network_name = spec["network"]
    if network_name not in config["networks"]:
        problems.append(
            _undefined(f"{where}.network", network_name, "networks", config["networks"])
        )
        return
    network = config["networks"][network_name]
    dataset = network["dataset"]
    known = facts.get(dataset)
    if known is None:  # its dataset is undefined or broken: reported already
        return
    if spec["kind"] == "input_space":
        _check_input_plane(where, spec, dataset, known, problems)
        return
    sizes = layer_sizes(network, known.n_features, known.n_classes, known.n_targets)
    if spec["kind"] == "weights":
        _check_weight_names(f"{where}.axes", spec["axes"], network_name, sizes, problems)
        if len(spec["axes"]) == 2 and spec["axes"][0] == spec["axes"][1]:
            problems.append(f"{where}.axes: the two axes must be different weights, got "
                            f"{spec['axes'][0]!r} twice")
    elif spec["kind"] == "weight_pairs":
        _check_pair_axes(f"{where}.axes", spec.get("axes", "all"), network_name, sizes, problems)
    elif spec["kind"] == "interpolation" and "alpha_range" in spec:
        low, high = spec["alpha_range"]
        if not low < high:
            problems.append(f"{where}.alpha_range: [{low}, {high}] is no interval: the first value "
                            f"(alpha at the start) must be below the second")
    samples = spec.get("samples", "all")
    rows = [samples] if isinstance(samples, int) else ([] if samples == "all" else samples)
    for row in rows:
        if not 0 <= row < known.n_rows:
            problems.append(
                f"{where}.samples: row {row} is out of range: dataset {dataset!r} has "
                f"{known.n_rows} rows (valid 0..{known.n_rows - 1})"
            )
            break


def _check_input_plane(where, spec, dataset, known, problems) -> None:
    """An input landscape's two features exist and differ; its reference row exists."""
    names = known.feature_names
    features = spec.get("features")
    if features is None and known.n_features < 2:
        problems.append(f"{where}: kind 'input_space' maps the loss over two input features, but "
                        f"dataset {dataset!r} has {known.n_features} ({known.described})")
    for k, feature in enumerate(features or []):
        if feature not in names:
            close = difflib.get_close_matches(feature, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{where}.features[{k}]: dataset {dataset!r} has no feature "
                            f"{feature!r}{hint}; its features: {', '.join(names)}")
    reference = spec.get("reference", "median")
    if isinstance(reference, int) and not 0 <= reference < known.n_rows:
        problems.append(f"{where}.reference: row {reference} is out of range: dataset "
                        f"{dataset!r} has {known.n_rows} rows (valid 0..{known.n_rows - 1})")


def has_weight(name, sizes: list[int]) -> bool:
    """Whether the network of these layer sizes has a weight of this name, written exactly as
    parameter_names writes it, by arithmetic on the name's indices (its names are never all
    listed: a network of 10^10 weights has them)."""
    try:
        kind, layer, i, j = parse_parameter_name(name)
    except (ValueError, AttributeError):
        return False
    if name != (f"W{layer}[{i},{j}]" if kind == "weight" else f"b{layer}[{j}]"):
        return False  # spaces, leading zeros: not a name the tables use
    if not 1 <= layer < len(sizes):
        return False
    return j < sizes[layer] and (i is None or i < sizes[layer - 1])


def _check_weight_names(where, names, network_name, sizes, problems) -> None:
    for k, name in enumerate(names):
        if not has_weight(name, sizes):
            problems.append(
                f"{where}[{k}]: network {network_name!r} (layer sizes {sizes}) has no weight "
                f"{name!r}; its weights are: {describe_names(sizes)}"
            )


def _check_pair_axes(where, axes, network_name, sizes, problems) -> None:
    """A weight_pairs landscape's axes: 'all', names, or [name, name] pairs (schema-checked)."""
    from sklandscape.directions.planes import MAX_CORNER_WEIGHTS

    involved = (n_parameters(sizes) if axes == "all"
                else len({n for item in axes for n in ([item] if isinstance(item, str) else item)}))
    if involved > MAX_CORNER_WEIGHTS:
        problems.append(
            f"{where}: {involved} weights of network {network_name!r} are more than a "
            f"corner plot can show ({MAX_CORNER_WEIGHTS} at most); list the weights to pair")
    if axes == "all":
        return
    if all(isinstance(a, str) for a in axes):
        _check_weight_names(where, axes, network_name, sizes, problems)
        return
    seen = set()
    for k, pair in enumerate(axes):
        _check_weight_names(f"{where}[{k}]", pair, network_name, sizes, problems)
        if pair[0] == pair[1]:
            problems.append(f"{where}[{k}]: a pair needs two different weights, got "
                            f"{pair[0]!r} twice")
        if frozenset(pair) in seen:
            problems.append(f"{where}[{k}]: the pair {list(pair)} is listed twice")
        seen.add(frozenset(pair))


def _check_analysis(where, spec, config, problems) -> None:
    of = KINDS[spec["kind"]].of  # "network", or "landscape:<the kind it works on>"
    if of == "network":
        networks = config.get("networks") or {}
        name = spec["network"]
        if name not in networks:
            problems.append(_undefined(f"{where}.network", name, "networks", networks))
        elif spec["kind"] == "connectivity" and len(members(name, networks[name])) < 2:
            problems.append(f"{where}.network: a connectivity analysis compares a network's "
                            f"seeds, and networks.{name} has one; give it seeds, e.g. "
                            "seeds: [0, 1, 2]")
        return
    landscapes = config.get("landscapes") or {}
    name = spec["landscape"]
    if name not in landscapes:
        problems.append(_undefined(f"{where}.landscape", name, "landscapes", landscapes))
        return
    landscape, wanted = landscapes[name], of.removeprefix("landscape:")
    if landscape["kind"] != wanted:
        problems.append(
            f"{where}: a {spec['kind']} analysis needs a landscape of kind {wanted!r}; "
            f"landscapes.{name} is of kind {landscape['kind']!r}"
        )
        return
    if spec["kind"] == "optimizers":
        # The window is trained value +- span on each axis, so an offset must stay within it.
        span = landscape["span"]
        for k, offset in enumerate(spec["start_offsets"]):
            if any(abs(value) > span for value in offset):
                problems.append(
                    f"{where}.start_offsets[{k}]: {offset} starts outside landscape {name!r}'s "
                    f"window: each offset from the trained value must be within its span, {span:g}"
                )


def _undefined(where: str, name: Any, section: str, defined) -> str:
    close = difflib.get_close_matches(str(name), list(defined), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{where}: {name!r} is not defined under {section}{hint}; defined: {', '.join(defined)}"
