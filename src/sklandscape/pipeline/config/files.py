"""What a config file says before any schema sees it: a key written twice in one mapping
(YAML lets the last one win without a word, so a pasted block silently replaces another), and
values that pass a schema but fail late: NaN or infinite numbers, a whole number written as
1.0 where a count is meant."""

from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

from sklandscape.errors import DuplicateKeyError


class _Strict(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping, naming both lines."""


def _mapping(loader: _Strict, node: yaml.MappingNode, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the SafeLoader reports it itself
            continue
        if first is not None:
            raise DuplicateKeyError(key, first.start_mark.line + 1, key_node.start_mark.line + 1)
        seen[key] = key_node
    return loader.construct_mapping_plain(node, deep)


_Strict.construct_mapping_plain = yaml.SafeLoader.construct_mapping
_Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


MAX_CONFIG_BYTES = 1024**2  # a config of a thousand landscapes is ~200 kB
# Values a config may hold once its YAML aliases (*name) are expanded: a config of a thousand
# landscapes has ~20,000. Nine nested aliases of ten make 10^9 (a YAML "billion laughs"):
# walking them hung the check.
MAX_EXPANDED_VALUES = 200_000


def expanded_values(text: str) -> int:
    """How many values the YAML document holds with every alias expanded, counted on YAML's
    event stream: nothing is expanded, or even built."""
    sizes: dict[str, int] = {}  # anchor -> its node's expanded size
    stack: list[list] = [[None, 0]]  # [anchor, size so far] of each open collection
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
            stack[-1][1] += size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                sizes[event.anchor] = 1
            stack[-1][1] += 1
        elif isinstance(event, yaml.AliasEvent):
            stack[-1][1] += sizes.get(event.anchor, 1)
    return stack[0][1]


def file_problems(paths) -> list[str]:
    """Config files that cannot be read at a bounded cost: not a regular file, larger than
    MAX_CONFIG_BYTES, or whose aliases expand to more than MAX_EXPANDED_VALUES values."""
    import os
    import stat

    problems = []
    for path in paths:
        try:
            info = os.stat(path)
        except OSError as error:
            problems.append(f"{path}: cannot be read ({error.strerror})")
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{path}: not a regular file")
            continue
        if info.st_size > MAX_CONFIG_BYTES:
            problems.append(f"{path}: {info.st_size} bytes, more than a config may have "
                            f"({MAX_CONFIG_BYTES // 1024} kB)")
            continue
        try:
            values = expanded_values(Path(path).read_text())
        except yaml.YAMLError:
            continue  # not YAML: Snakemake says so itself
        if values > MAX_EXPANDED_VALUES:
            problems.append(f"{path}: its YAML aliases (*name) expand to {values} values, more "
                            f"than {MAX_EXPANDED_VALUES}; write the values out")
    return problems


def duplicate_key_problems(paths) -> list[str]:
    """'file: key … twice (lines a and b)' for every config file that repeats a key."""
    problems = []
    for path in paths:
        try:
            yaml.load(Path(path).read_text(), Loader=_Strict)  # noqa: S506 (a SafeLoader)
        except DuplicateKeyError as error:
            problems.append(f"{path}: {error}")
        except (OSError, yaml.YAMLError):
            continue  # unreadable or not YAML: Snakemake says so itself
    return problems


def value_problems(config, path: str = "") -> list[str]:
    """Every NaN or infinite number in the config, by key path: no setting means either."""
    problems = []
    if isinstance(config, dict):
        for key, value in config.items():
            problems += value_problems(value, f"{path}.{key}" if path else str(key))
    elif isinstance(config, list):
        for k, value in enumerate(config):
            problems += value_problems(value, f"{path}[{k}]")
    elif isinstance(config, float) and not math.isfinite(config):
        problems.append(f"{path or 'config'}: {config!r} is not a finite number")
    return problems


# A name becomes a file name and a Snakemake wildcard. The schema's pattern (letters, digits,
# underscores, at most 64) ends in "$", which in Python also matches before a final line
# break: those names are caught here, matched whole.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
NAMED_SECTIONS = ("datasets", "networks", "landscapes", "analyses")


def name_problems(config: dict) -> list[str]:
    problems = []
    for section in NAMED_SECTIONS:
        entries = config.get(section)
        if not isinstance(entries, dict):
            continue
        for name in entries:
            if isinstance(name, str) and NAME.fullmatch(name.rstrip("\n")) and "\n" in name:
                problems.append(f"{section}: name {name!r} is not allowed: it ends in a line "
                                "break (it becomes a file name)")
    return problems
