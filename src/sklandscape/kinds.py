"""The registry of kinds: every landscape kind and analysis, declared once; and where each
public name of the package lives (PUBLIC).

What the package, the pipeline and the tests need to know about a kind that is not its
computation lives here, and is read from here:

- `sklandscape.<name>` is the public function in `module` (sklandscape/__init__.py);
- `options` are its option rules, the JSON Schema fragments the config schema gives the same
  keys (checked before any work by sklandscape.options; a test compares them with
  workflow/schemas/config.schema.yaml, whose kind enums must list exactly these kinds);
- `grid`, `two_d` and `page` say which rules make it and what it gets: the `landscape` rule
  and its tiles (grid kinds), topology (2-D grids), an interactive 3-D page
  (workflow/rules/common.smk, sklandscape.api.topology);
- `of` says what an analysis reads: a landscape of a kind, or a network (the config check);
- `summary` is the sentence its MLflow runs are described by (pipeline.stages.descriptions);
- for a landscape kind that is not a grid, what its generated rule and job need
  (workflow/rules/directions.smk, sklandscape.pipeline.stages.directions): `result`, the
  function that makes its Result from the loaded network and data; `reads`, the network's
  files it reads besides weights.parquet; `tables`, its tables besides the main one and the
  topology (each written to <name>.<table>.parquet); `figures`, its figures besides the main
  one (each to results/figures/<figure>_<name>.png, captioned by workflow/report/<figure>.rst);
- `example` is a small config entry of it (on network N1 of the API-equals-pipeline test):
  its case there, unless the test has one of its own.

The API-equals-pipeline test runs one case per kind listed here and fails when one has none.
docs/architecture.md walks through adding a kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RESOLUTION = {"type": "integer", "minimum": 2, "maximum": 5001}
SPAN = {"type": "number", "exclusiveMinimum": 0, "maximum": 1.0e100}
MARGIN = {"type": "number", "minimum": 0, "maximum": 1.0e100}
SEEDS = {"type": "array", "minItems": 1, "uniqueItems": True,
         "items": {"type": "integer", "minimum": 0}}
TWO_AXES = {"type": "array", "minItems": 2, "maxItems": 2}
RANDOM_STATE = {"type": "integer", "minimum": 0}
BOTTOM_MAX_PRODUCTS = {"type": "integer", "minimum": 10, "maximum": 1000000}
LANDSCAPES = "sklandscape.api.landscape_functions"
PATHS = "sklandscape.api.path_functions"
ANALYSES = "sklandscape.api.analysis_functions"
DIRECTIONS = "sklandscape.api.directions"


@dataclass(frozen=True)
class Kind:
    name: str
    family: str  # "landscape" or "analysis"
    module: str  # where the public function sklandscape.<name> lives
    # what it computes and what it holds fixed: its runs' description; "{axes}" and "{span}"
    # are filled from the config entry
    summary: str
    options: dict = field(default_factory=dict)  # option -> the schema's rule for it
    grid: bool = False  # made by the `landscape` rule, its rows split into tiles
    two_d: bool = False  # a 2-D grid of losses: it gets its topology
    page: bool = False  # it gets an interactive 3-D page
    of: str = ""  # an analysis': "landscape:<kind>" or "network"
    # a direction kind's job (see the module's docstring)
    result: str = ""  # "module:function", called as (net, X, y, spec, name, *, heldout,
    # samples, n_jobs, weights_file, config_hash, <read>_file for each of `reads`)
    reads: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    example: dict = field(default_factory=dict)


_KINDS = (
    Kind("weights", "landscape", LANDSCAPES,
         "over {axes} ± {span}; every other weight held at its trained value",
         {"resolution": RESOLUTION, "span": SPAN, "axes": TWO_AXES},
         grid=True, two_d=True, page=True),
    Kind("input_space", "landscape", LANDSCAPES,
         "over two inputs; the others at their reference values, the weights trained",
         {"resolution": RESOLUTION, "margin": MARGIN}, grid=True, two_d=True, page=True),
    Kind("weight_pairs", "landscape", LANDSCAPES,
         "over every listed pair of weights; in each, the others held",
         {"resolution": RESOLUTION, "span": SPAN}, two_d=True,
         result=f"{DIRECTIONS}:weight_pairs_result", tables=("stats",)),
    Kind("random_plane", "landscape", LANDSCAPES,
         "over theta + a d1 + b d2, filter-normalised random directions",
         {"resolution": RESOLUTION, "span": SPAN, "seeds": SEEDS}, two_d=True, page=True,
         result=f"{DIRECTIONS}:random_plane_result", tables=("directions", "stats"),
         figures=("seed_spread",)),
    Kind("hessian_plane", "landscape", "sklandscape.api.hessian_plane",
         "over theta + a v1 + b v2, unit eigenvectors of the Hessian",
         {"resolution": RESOLUTION, "span": SPAN,
          "directions": {"enum": ["top_two", "top_bottom"]},
          "bottom_max_products": BOTTOM_MAX_PRODUCTS, "random_state": RANDOM_STATE},
         two_d=True, page=True,
         result="sklandscape.api.hessian_plane:hessian_plane_result", tables=("directions",)),
    Kind("interpolation", "landscape", PATHS,
         "from the initial to the trained weights",
         {"resolution": RESOLUTION,
          "alpha_range": {"type": "array", "minItems": 2, "maxItems": 2,
                    "items": {"type": "number", "minimum": -1.0e100, "maximum": 1.0e100}}},
         result=f"{PATHS}:interpolation_from_files", reads=("initial_weights",)),
    Kind("trajectory_pca", "landscape", PATHS,
         "on the PCA plane of the training path",
         {"resolution": RESOLUTION, "margin": MARGIN}, two_d=True, page=True,
         result=f"{PATHS}:trajectory_pca_from_files", reads=("trajectory",), tables=("path",)),
    Kind("curvature", "analysis", ANALYSES,
         "the Hessian at the trained weights (spectrum, trace, sharpness, cuts) and the "
         "slice's convexity and plateau maps; the landscape's slice, grid and data rows held "
         "fixed",
         {"plateau_threshold": {"type": "number", "exclusiveMinimum": 0},
          "eigenvalue_rtol": {"type": "number", "exclusiveMinimum": 0},
          "full_hessian_max_weights": {"type": "integer", "minimum": 0, "maximum": 20000},
          "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
          "trace_probes": {"type": "integer", "minimum": 2, "maximum": 100000},
          "density_probes": {"type": "integer", "minimum": 1, "maximum": 1000},
          "lanczos_steps": {"type": "integer", "minimum": 2, "maximum": 1000},
          "bottom_max_products": BOTTOM_MAX_PRODUCTS,
          "random_state": RANDOM_STATE,
          "sharpness_epsilon": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
          "sharpness_steps": {"type": "integer", "minimum": 1, "maximum": 10000},
          "cut_points": {"type": "integer", "minimum": 3, "maximum": 10001}},
         of="landscape:weights"),
    Kind("optimizers", "analysis", ANALYSES,
         "GD, heavy ball, Nesterov and Adam on the slice, each at its best learning rate; "
         "the landscape's slice, grid and data rows held fixed",
         {"start_offsets": {"type": "array", "minItems": 1,
                            "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                      "items": {"type": "number"}}},
          "learning_rates": {"type": "array", "minItems": 1,
                             "items": {"type": "number", "exclusiveMinimum": 0}},
          "epsilon": {"type": "number", "exclusiveMinimum": 0},
          "max_steps": {"type": "integer", "minimum": 1, "maximum": 100000}},
         of="landscape:weights"),
    Kind("input_attack", "analysis", ANALYSES,
         "the worst data points and a gradient-ascent adversary on the input plane; the "
         "landscape's inputs and window held fixed",
         {"top_k": {"type": "integer", "minimum": 1},
          "arrows": {"type": "integer", "minimum": 2, "maximum": 200},
          # the config nests these three under `ascent:`
          "step_size": {"type": "number", "exclusiveMinimum": 0},
          "steps": {"type": "integer", "minimum": 1, "maximum": 10000},
          "radius": {"type": "number", "exclusiveMinimum": 0}},
         of="landscape:input_space"),
    Kind("learning_rates", "analysis", "sklandscape.api.learning_rates",
         "the largest stable full-batch learning rate predicted from the Hessian's top "
         "eigenvalue, checked by the estimator's own sgd from the trained weights",
         {"momenta": {"type": "array", "minItems": 1, "uniqueItems": True,
                      "items": {"type": "number", "minimum": 0, "exclusiveMaximum": 1}},
          "factors": {"type": "array", "minItems": 2, "uniqueItems": True,
                      "items": {"type": "number", "minimum": 1.0e-6, "maximum": 1.0e6}},
          "max_iter": {"type": "integer", "minimum": 2, "maximum": 100000},
          "perturbation": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
          "random_state": RANDOM_STATE},
         of="network"),
    Kind("connectivity", "analysis", "sklandscape.api.connectivity",
         "the network's seeds joined by straight lines (before and after aligning their "
         "hidden units) and by trained Bézier curves, with each path's loss barrier",
         {"method": {"enum": ["weight", "activation"]},
          "resolution": {"type": "integer", "minimum": 3, "maximum": 10001},
          "curve_points": {"type": "integer", "minimum": 1, "maximum": 1000},
          "curve_max_iter": {"type": "integer", "minimum": 1, "maximum": 100000},
          "plane_resolution": {"type": "integer", "minimum": 3, "maximum": 1001},
          "margin": {"type": "number", "minimum": 0, "maximum": 10}},
         of="network"),
)

KINDS = {kind.name: kind for kind in _KINDS}


def names(family: str | None = None, **flags) -> tuple[str, ...]:
    """The kinds' names, in registry order: of one family, with the given flags, e.g.
    names("landscape", grid=False)."""
    return tuple(k.name for k in _KINDS if (family is None or k.family == family)
                 and all(getattr(k, flag) == value for flag, value in flags.items()))


def job_outputs(kind: str) -> dict[str, str]:
    """The files a direction kind's job writes, by output name: a path under results/ with
    "{name}" for the landscape's name (its rule in workflow/rules/directions.smk declares
    them, sklandscape.pipeline.stages.directions writes them)."""
    entry = KINDS[kind]
    found = {"table": "landscapes/{name}.parquet"}
    if entry.two_d:
        found["topology"] = "landscapes/{name}.topology.parquet"
    for table in entry.tables:
        found[table] = f"landscapes/{{name}}.{table}.parquet"
        if table == "stats":
            found |= {"csv": "tables/{name}.csv", "html": "tables/{name}.html"}
    found["figure"] = "figures/landscape_{name}.png"
    for figure in entry.figures:
        found[f"{figure}_figure"] = f"figures/{figure}_{{name}}.png"
    if entry.page:
        found["page"] = "figures/landscape_{name}.html"
    return found


# Where each public name of the package lives: every kind's function, and the rest. They are
# imported on first use, not with the package (sklandscape/__init__.py): a pipeline job imports
# sklandscape.pipeline.<stage> and must not pay for the whole API (pandas, matplotlib, scipy).
PUBLIC = {name: kind.module for name, kind in KINDS.items()} | {
    "fit": PATHS,
    "Fit": PATHS,
    "align": "sklandscape.api.connectivity",
    "topology": "sklandscape.analyses.topology",
    "Result": "sklandscape.api.result",
    "LandscapeDisplay": "sklandscape.api.display",
    "InterpolationDisplay": "sklandscape.api.display",
    "CutsDisplay": "sklandscape.api.analysis_displays",
    "SpectrumDisplay": "sklandscape.api.analysis_displays",
    "Network": "sklandscape.model.network",
    "SklandscapeError": "sklandscape.errors",
    "OptionError": "sklandscape.errors",
}
