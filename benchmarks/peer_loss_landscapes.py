"""The peer side of benchmarks/peers_benchmark.py: loss-landscapes (torch) on the same weights.

Run by peers_benchmark.py with a Python that has torch and loss-landscapes (not this
project's environment; see that file). It reads one .npz per network (the scikit-learn
weights, the activation, the loss, X and y), builds the same network in torch (float64,
one thread) and prints, as JSON, per network: the loss at the trained weights (checked
against scikit-learn's by the caller) and the CPU seconds of `loss_landscapes.random_plane`
at each asked resolution, the whole call.
"""

from __future__ import annotations

import json
import sys
import time
from importlib import metadata

import loss_landscapes
import numpy as np
import torch
from loss_landscapes.metrics import Loss

ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "logistic": torch.nn.Sigmoid,
               "identity": torch.nn.Identity}


def half_mse(out, target):
    """scikit-learn's squared_error: half the mean over rows and outputs."""
    return 0.5 * torch.mean((out - target) ** 2)


def network(case):
    count = int(case["n_layers"])
    layers = []
    for k in range(count):
        weights, bias = case[f"coef_{k}"], case[f"intercept_{k}"]
        layer = torch.nn.Linear(*weights.shape).double()
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(weights.T.copy()))
            layer.bias.copy_(torch.from_numpy(bias))
        layers.append(layer)
        if k < count - 1:
            layers.append(ACTIVATIONS[str(case["activation"])]())
    return torch.nn.Sequential(*layers)


def metric(case):
    X = torch.from_numpy(case["X"])
    y = case["y"]
    loss = str(case["loss"])
    if loss == "squared_error":
        return Loss(half_mse, X, torch.from_numpy(y.reshape(len(y), -1)))
    if loss == "binary":  # one logit: the logistic output and log-loss, as one op
        return Loss(torch.nn.BCEWithLogitsLoss(), X,
                    torch.from_numpy(y.reshape(-1, 1).astype(np.float64)))
    return Loss(torch.nn.CrossEntropyLoss(), X, torch.from_numpy(y.astype(np.int64)))


def main() -> None:
    torch.set_num_threads(1)
    found, warm = {}, True
    for path, resolutions in json.loads(sys.argv[1]).items():
        case = np.load(path)
        model, loss = network(case), metric(case)
        row = {"center_loss": loss(loss_landscapes.model_interface.model_wrapper.wrap_model(
            model)), "seconds": {}}
        if warm:  # once, untimed, as the other side does
            loss_landscapes.random_plane(model, loss, steps=3, deepcopy_model=True)
            warm = False
        for resolution in resolutions:
            start = time.process_time()
            loss_landscapes.random_plane(model, loss, distance=1, steps=resolution,
                                         normalization="filter", deepcopy_model=True)
            row["seconds"][str(resolution)] = time.process_time() - start
        found[path] = row
    found["versions"] = {"torch": torch.__version__,
                         "loss-landscapes": metadata.version("loss-landscapes")}
    print(json.dumps(found))


if __name__ == "__main__":
    main()
