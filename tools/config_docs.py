"""config/README.md, written from the config schema so the two cannot drift apart.

    python tools/config_docs.py            # rewrite config/README.md
    python tools/config_docs.py --check    # exit 1 if it is stale

Reads workflow/schemas/config.schema.yaml (JSON Schema 2020-12) and renders every key:
its type and bounds, its default, whether it is required, and its description. A named
section (datasets, networks, landscapes) documents the keys of one entry; keys that only
some entries take (an `if`/`then` on `kind`, or `oneOf` alternatives) get a table each.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
README = REPO / "config" / "README.md"

HEADER = """\
# Configuration

<!-- Generated from workflow/schemas/config.schema.yaml by `make config-docs`
     (python tools/config_docs.py). Edit the schema, not this file:
     tests/workflow/test_conventions.py fails when the two differ. -->

The workflow reads `config/config.yaml`, and Snakemake validates it against
`workflow/schemas/config.schema.yaml` before any job runs: an unknown key, a wrong type or
a value out of range stops it with a message naming the key. Defaults below are filled in
by the validation, so writing one out changes nothing and reruns nothing.
"""


def load_schema(path: Path = SCHEMA) -> dict:
    return yaml.safe_load(Path(path).read_text())


class Renderer:
    def __init__(self, schema: dict):
        self.schema = schema

    def resolve(self, node: dict) -> dict:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"config schema: only local $refs are supported, not {ref!r}")
            target: Any = self.schema
            for part in ref[2:].split("/"):
                target = target[part]
            node = target
        return node

    def describe(self, node: dict) -> str:
        """The type and bounds of a value, in words."""
        node = self.resolve(node)
        if "enum" in node:
            return "one of " + ", ".join(code(v) for v in node["enum"])
        if "const" in node:
            return code(node["const"])
        for key in ("oneOf", "anyOf"):
            if key in node:
                return " or ".join(self.describe(option) for option in node[key])
        kind = node.get("type")
        if kind == "array":
            text = "list" + length(node, "items")
            if "items" in node:
                text += " of " + plural(self.describe(node["items"]))
            return text
        if kind in ("integer", "number"):
            return kind + bounds(node)
        if kind == "string":
            text = "string" + length(node, "characters", "minLength", "maxLength")
            if "pattern" in node:
                text += f" matching {code(node['pattern'])}"
            return text
        if kind == "object":
            return "mapping"
        if kind == "boolean":
            return "true or false"
        return "any value"

    def table(self, node: dict, skip: frozenset = frozenset()) -> list[str]:
        """One row per key of an object schema; `skip` names keys documented elsewhere."""
        header = ["| key | required | type | default | description |", "|---|---|---|---|---|"]
        return header + self.rows(node, "", skip)

    def rows(self, node: dict, prefix: str, skip: frozenset = frozenset()) -> list[str]:
        """Rows for the keys of `node`, and of any mapping under them as `key.subkey`."""
        node = self.resolve(node)
        required = set(node.get("required", []))
        rows = []
        for name, sub in node.get("properties", {}).items():
            if name in skip or sub == {}:
                continue  # `{}` only permits a key that the base entry defines
            resolved = self.resolve(sub)
            default = code(resolved["default"]) if "default" in resolved else ""
            description = " ".join(str(resolved.get("description", "")).split())
            rows.append(
                f"| `{prefix}{name}` | {'yes' if name in required else ''} | "
                f"{cell(self.describe(sub))} | {cell(default)} | {cell(description)} |"
            )
            if resolved.get("properties"):
                rows += self.rows(resolved, f"{prefix}{name}.")
        return rows

    def entry(self, node: dict) -> list[str]:
        """The keys of one named entry, then the keys each variant adds."""
        node = self.resolve(node)
        base = frozenset(node.get("properties", {}))
        lines = self.table(node) if base else []
        conditions = [node] if "if" in node else []
        conditions += [c for c in node.get("allOf", []) if "if" in c]
        for condition in conditions:
            skip = base | self.discriminators(condition)
            when = self.condition(condition["if"])
            if "then" in condition:
                lines += self.variant(f"Keys when {when}", condition["then"], skip)
            if "else" in condition:
                lines += self.variant("Keys otherwise", condition["else"], skip)
        for key in ("oneOf", "anyOf"):
            for number, option in enumerate(node.get(key, []), start=1):
                option = self.resolve(option)
                if not option.get("properties"):  # a key that must be given: said in words
                    continue
                title = option.get("title") or f"variant {number}"
                lines += self.variant(f"Keys of {' '.join(str(title).split())}", option, base)
        while lines and not lines[0]:
            lines.pop(0)
        return lines

    def variant(self, heading: str, node: dict, skip: frozenset) -> list[str]:
        node = self.resolve(node)
        lines = ["", f"{heading}:", ""]
        if node.get("description"):
            lines += [" ".join(node["description"].split()), ""]
        return lines + self.table(node, skip=skip)

    def condition(self, node: dict) -> str:
        properties = node.get("properties", {})
        parts = [f"`{k}` is {code(v['const'])}" for k, v in properties.items() if "const" in v]
        parts += [f"`{name}` is given" for name in node.get("required", [])]
        return " and ".join(parts) or "the condition holds"

    @staticmethod
    def discriminators(condition: dict) -> frozenset:
        return frozenset(condition["if"].get("properties", {}))

    def section(self, name: str, node: dict, required: bool) -> list[str]:
        node = self.resolve(node)
        lines = [f"## `{name}`" + (" (required)" if required else ""), ""]
        if node.get("description"):
            lines += [" ".join(node["description"].split()), ""]
        entry = node.get("additionalProperties")
        if node.get("type") == "object" and isinstance(entry, dict):
            names = self.resolve(node.get("propertyNames", {}))
            text = "A mapping from names to entries."
            if names.get("description"):
                text += f" Names: {' '.join(names['description'].split())}"
            if node.get("minProperties"):
                text += f" At least {node['minProperties']} entry."
            lines += [text, ""]
            resolved = self.resolve(entry)
            if resolved.get("description"):
                lines += [" ".join(resolved["description"].split()), ""]
            if resolved.get("properties"):
                lines += ["Keys of each entry:", ""]
            lines += self.entry(entry)
        elif node.get("type") == "object" and "properties" in node:
            lines += self.table(node)
        else:
            lines += [f"Type: {self.describe(node)}."]
            if "default" in node:
                lines += ["", f"Default: {code(node['default'])}."]
        return lines + [""]

    def document(self) -> str:
        lines = [HEADER]
        if self.schema.get("description"):
            lines += [" ".join(self.schema["description"].split()), ""]
        required = set(self.schema.get("required", []))
        for name, node in self.schema.get("properties", {}).items():
            lines += self.section(name, node, name in required)
        return "\n".join(lines).rstrip() + "\n"


def code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


PLURALS = {"integer": "integers", "number": "numbers", "string": "strings", "list": "lists"}


def plural(text: str) -> str:
    first, _, rest = text.partition(" ")
    return " ".join(part for part in (PLURALS.get(first, first), rest) if part)


def bounds(node: dict) -> str:
    parts = []
    if "minimum" in node:
        parts.append(f">= {node['minimum']}")
    if "exclusiveMinimum" in node:
        parts.append(f"> {node['exclusiveMinimum']}")
    if "maximum" in node:
        parts.append(f"<= {node['maximum']}")
    if "exclusiveMaximum" in node:
        parts.append(f"< {node['exclusiveMaximum']}")
    return f" ({', '.join(parts)})" if parts else ""


def length(node: dict, unit: str, low: str = "minItems", high: str = "maxItems") -> str:
    lo, hi = node.get(low), node.get(high)
    if lo is not None and lo == hi:
        text = f"exactly {lo} {unit}"
    elif lo is not None and hi is not None:
        text = f"{lo} to {hi} {unit}"
    elif lo == 1:
        text = "non-empty"
    elif lo:
        text = f"at least {lo} {unit}"
    elif hi is not None:
        text = f"at most {hi} {unit}"
    else:
        return ""
    return f" ({text})"


def render(schema: dict | None = None) -> str:
    return Renderer(load_schema() if schema is None else schema).document()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if config/README.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not README.exists() or README.read_text() != text:
            print(f"{README} is stale: run `make config-docs`", file=sys.stderr)
            return 1
        return 0
    README.write_text(text)
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
