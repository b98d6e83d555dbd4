"""Networks trained from several seeds: `seeds: [0, 1, 2, 3]` in a network's entry.

The network itself is the seed equal to its `random_state` (the first seed where it gives
none); every other seed s becomes a network of its own, `{network}_seed{s}`, with the same
entry and `random_state: s`. Expanded while the Snakefile parses, after the schema check and
before its defaults, so that every rule, run and file treats those networks like any other;
the network itself keeps its `seeds` (a connectivity analysis reads its members from them),
which training ignores, so adding seeds retrains nothing that exists.
"""

from __future__ import annotations


def seed_name(network: str, seed: int) -> str:
    return f"{network}_seed{seed}"


def members(network: str, spec: dict) -> list[str]:
    """The networks of a network's seeds, itself first; [network] without seeds."""
    seeds = spec.get("seeds")
    if not seeds:
        return [network]
    own = spec.get("random_state", seeds[0])
    return [network] + [seed_name(network, s) for s in seeds if s != own]


def expand_seeds(config: dict) -> list[str]:
    """Add to config["networks"] one network per extra seed (right after its network); return
    the problems found instead, leaving the config as it was, if there are any."""
    networks = config.get("networks") or {}
    problems, expanded = [], {}
    for name, spec in networks.items():
        expanded[name] = spec
        seeds = spec.get("seeds") if isinstance(spec, dict) else None
        if not seeds:
            continue
        own = spec.get("random_state", seeds[0])
        if own not in seeds:
            problems.append(f"networks.{name}.seeds: {seeds} does not list the network's own "
                            f"random_state {own}; list it, or leave random_state out (the "
                            "first seed is then the network itself)")
            continue
        expanded[name] = {**spec, "random_state": own}
        for seed in seeds:
            if seed == own:
                continue
            copy = seed_name(name, seed)
            if copy in networks:
                problems.append(f"networks.{name}.seeds: seed {seed} makes the network {copy!r}, "
                                "which is already defined under networks; rename that one")
                continue
            expanded[copy] = {k: v for k, v in spec.items() if k != "seeds"} | {
                "random_state": seed}
    if not problems:
        config["networks"] = expanded
    return problems
