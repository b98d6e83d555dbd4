"""The API's options, checked before any work by the config schema's own rules.

Each rule (declared with its kind, in sklandscape.kinds) is the fragment of JSON Schema that
workflow/schemas/config.schema.yaml gives the same key of the same kind (tests/unit/api/test_options.py compares them one by one), so a
value the pipeline refuses is refused here too, in the same words ("resolution: 1 is less than
the minimum of 2"), naming the option. The library does not need jsonschema for it: only the
keywords below occur. (A module of the lowest layer: the API checks options with it, the
pipeline's config validation words list lengths with it.) Unlike JSON Schema, a number must also be finite (nan passes every
comparison, and a nan span gave a grid of nan losses).
"""

from __future__ import annotations

import math
import numbers

from sklandscape.errors import OptionError
from sklandscape.kinds import KINDS

# Each kind's option rules are declared with the kind, in the registry.
OPTIONS = {name: kind.options for name, kind in KINDS.items()}

# Each optimizer's own settings (the schema's gd_, momentum_ and adam_settings).
_RATES = {"type": "array", "minItems": 1, "items": {"type": "number", "exclusiveMinimum": 0}}
_FRACTION = {"type": "number", "minimum": 0, "exclusiveMaximum": 1}
METHOD_SETTINGS = {
    "gd": {"learning_rates": _RATES},
    "momentum": {"learning_rates": _RATES, "beta": _FRACTION},
    "nesterov": {"learning_rates": _RATES, "beta": _FRACTION},
    "adam": {"learning_rates": _RATES, "beta1": _FRACTION, "beta2": _FRACTION,
             "eps": {"type": "number", "exclusiveMinimum": 0}},
}

_WORDS = {"integer": "an integer", "number": "a number", "array": "a list"}


def items_problem(value: list, rule: dict) -> str | None:
    """A list's length against minItems and maxItems, naming the count (jsonschema's "is too
    short" does not; the pipeline's config errors use these words too)."""
    items = "item" if len(value) == 1 else "items"
    for key, side, word in (("minItems", "at least", "needed"), ("maxItems", "at most", "allowed")):
        bound = rule.get(key)
        if bound is not None and (len(value) < bound if key == "minItems" else len(value) > bound):
            verb = "is" if bound == 1 else "are"
            return f"{value!r} has {len(value)} {items}; {side} {bound} {verb} {word}"
    return None


def problem(value, rule: dict) -> str | None:
    """What is wrong with `value` under `rule`, in jsonschema's words; None if nothing."""
    kind = rule.get("type")
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
        return f"{value!r} is not {_WORDS[kind]}"
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"{value!r} is not {_WORDS[kind]}"
        if not math.isfinite(value):
            return f"{value!r} is not a finite number"
    if kind == "array":
        if isinstance(value, str) or not hasattr(value, "__len__"):
            return f"{value!r} is not {_WORDS[kind]}"
        value = list(value)
        length = items_problem(value, rule)
        if length:
            return length
        if rule.get("uniqueItems") and len(set(value)) != len(value):
            return f"{value!r} has non-unique elements"
        for item in value:
            found = problem(item, rule.get("items", {}))
            if found:
                return found
        return None
    if "enum" in rule and value not in rule["enum"]:
        return f"{value!r} is not one of {', '.join(map(repr, rule['enum']))}"
    if "minimum" in rule and value < rule["minimum"]:
        return f"{value!r} is less than the minimum of {rule['minimum']!r}"
    if "exclusiveMinimum" in rule and value <= rule["exclusiveMinimum"]:
        return f"{value!r} is less than or equal to the minimum of {rule['exclusiveMinimum']!r}"
    if "maximum" in rule and value > rule["maximum"]:
        return f"{value!r} is greater than the maximum of {rule['maximum']!r}"
    if "exclusiveMaximum" in rule and value >= rule["exclusiveMaximum"]:
        return f"{value!r} is greater than or equal to the maximum of {rule['exclusiveMaximum']!r}"
    return None


def check_options(kind: str, **options) -> None:
    """Raise OptionError naming every option of `kind` whose value its rule refuses."""
    found = problems(OPTIONS[kind], options)
    if found:
        raise OptionError("; ".join(found))


def problems(rules: dict, options: dict, prefix: str = "") -> list[str]:
    """'name: what is wrong' for every option its rule refuses (an unknown name too)."""
    found = []
    for name, value in options.items():
        if name not in rules:
            found.append(f"{prefix}{name}: not an option here; expected one of "
                         f"{', '.join(rules)}")
        elif text := problem(value, rules[name]):
            found.append(f"{prefix}{name}: {text}")
    return found


def check_methods(methods) -> None:
    """The optimizers analysis' `methods`: known names, each with known, valid settings."""
    if not isinstance(methods, dict) or not methods:
        raise OptionError(f"methods: {methods!r} is not a non-empty mapping of method to settings"
                          f" (some of {', '.join(METHOD_SETTINGS)})")
    found = []
    for method, settings in methods.items():
        if method not in METHOD_SETTINGS:
            found.append(f"methods: {method!r} is not one of "
                         f"{', '.join(map(repr, METHOD_SETTINGS))}")
        elif settings is not None and not isinstance(settings, dict):
            found.append(f"methods.{method}: {settings!r} is not a mapping of settings")
        else:
            found += problems(METHOD_SETTINGS[method], settings or {}, f"methods.{method}.")
    if found:
        raise OptionError("; ".join(found))


def check_n_jobs(n_jobs) -> None:
    """joblib's n_jobs, as scikit-learn takes it: None (one process), a positive count, or a
    negative one (-1: every core, -2: all but one, ...)."""
    if n_jobs is None:
        return
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise OptionError(f"n_jobs: {n_jobs!r} is not None or a non-zero integer (-1: every "
                          "core)")
