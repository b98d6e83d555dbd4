"""What moving one weight changes, for networks whose output is linear (MLPRegressor's).

The structured landscape paths (sklandscape.engine.structured) are built from two pieces:
- the centre state: every layer's activations at the trained weights, on a block
  of samples;
- a trace: the network's output along one axis (one weight over T values, every
  other weight fixed), and the last hidden layer's pre-activations and inputs along
  it. Only what the weight feeds is recomputed: its unit's pre-activation, then the
  layers above (a rank-1 update into the next layer, full layers after that).

Layer numbers are 1-based like the weight names: W{l} maps layer l-1 to layer l,
layer L = net.n_layers is the output, L-1 the last hidden layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sklandscape.model.network import ACTIVATIONS, Network, parse_parameter_name


@dataclass(frozen=True)
class Coordinate:
    """One named parameter: where it sits, and its trained (centre) value."""

    name: str
    layer: int
    unit: int  # the unit of layer `layer` it feeds
    source: int | None  # the unit of layer `layer - 1` it reads, None for a bias
    centre: float


def coordinate(net: Network, name: str) -> Coordinate:
    kind, layer, source, unit = parse_parameter_name(name)
    return Coordinate(name, layer, unit, source if kind == "weight" else None, net.value(name))


@dataclass
class CentreState:
    """Activations at the trained weights on one block of m samples."""

    hidden: list[np.ndarray]  # hidden[l]: output of layer l, (m, width); hidden[0]: scaled X
    pre: list[np.ndarray]  # pre[l]: pre-activation of layer l, (m, width); pre[0] unused
    residual: np.ndarray  # network output minus target, (m,)


def centre_state(net: Network, X: np.ndarray, y: np.ndarray) -> CentreState:
    activate = ACTIVATIONS[net.activation]
    hidden, pre = [net.scale_inputs(X)], [None]
    layers = net.layers()
    for coef, intercept in layers[:-1]:
        pre.append(hidden[-1] @ coef + intercept)
        hidden.append(activate(pre[-1]))
    coef, intercept = layers[-1]
    output = (hidden[-1] @ coef + intercept)[:, 0]
    return CentreState(hidden, pre, output - y)


def input_of(state: CentreState, coord: Coordinate) -> np.ndarray:
    """What the parameter multiplies at the centre: its source unit's output, or 1 for a bias."""
    if coord.source is None:
        return np.ones(len(state.residual))
    return state.hidden[coord.layer - 1][:, coord.source]


@dataclass
class Trace:
    """Along one axis (T values) on m samples. Arrays not changed by the move are views."""

    change: np.ndarray  # change of the network output from the centre, (T, m)
    pre_last: np.ndarray  # pre-activations of the last hidden layer, (T, m, width)
    below_last: np.ndarray  # inputs of the last hidden layer, (T, m, width)


def trace(net: Network, state: CentreState, coord: Coordinate, offsets: np.ndarray) -> Trace:
    """The output change and last-hidden-layer inputs when `coord` moves by each offset."""
    activate = ACTIVATIONS[net.activation]
    L = net.n_layers
    layers = net.layers()
    T, _m = len(offsets), len(state.residual)
    shift = offsets[:, None] * input_of(state, coord)[None, :]  # change of the unit's input sum

    def unchanged(array):
        return np.broadcast_to(array, (T, *array.shape))

    if coord.layer == L:  # the output is linear in its own weights
        return Trace(shift, unchanged(state.pre[L - 1]), unchanged(state.hidden[L - 2]))
    j = coord.unit
    unit_out = activate(state.pre[coord.layer][:, j] + shift)
    delta = unit_out - state.hidden[coord.layer][:, j]  # (T, m): change of the one unit
    if coord.layer == L - 1:
        pre_last = np.repeat(state.pre[L - 1][None], T, axis=0)
        pre_last[:, :, j] += shift
        change = delta * layers[L - 1][0][j, 0]
        return Trace(change, pre_last, unchanged(state.hidden[L - 2]))
    # Deeper: a rank-1 update into the next layer, then full layers up to the last hidden one.
    below = np.repeat(state.hidden[coord.layer][None], T, axis=0)
    below[:, :, j] = unit_out
    pre = state.pre[coord.layer + 1] + delta[:, :, None] * layers[coord.layer][0][j, :]
    for layer in range(coord.layer + 2, L):
        below = activate(pre)
        coef, intercept = layers[layer - 1]
        pre = below @ coef + intercept
    last = activate(pre)
    change = (last - state.hidden[L - 1]) @ layers[L - 1][0][:, 0]
    return Trace(change, pre, below)


def sample_rows(n_samples: int, T: int, width: int, budget: int) -> int:
    """Samples per block so that a trace's (T, m, width) arrays stay within `budget` bytes."""
    per_sample = 8 * T * (6 + 4 * max(1, width))
    return int(max(1, min(n_samples, budget // per_sample)))
