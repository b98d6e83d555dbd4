"""Matrix-free curvature against PyHessian on the same network and data, single-threaded.

    .venv/bin/python benchmarks/curvature_benchmark.py [--torch-python PATH]

The network: digits (all 1,797 rows, standard-scaled), MLPClassifier hidden [64, 32], relu,
6,570 weights. Both sides get the same weights and data in float64:
- sklandscape: top-5 eigenvalues by Lanczos (eigsh on exact R-operator products, to machine
  precision), the trace exactly (relu: the Gauss-Newton diagonal, what the curvature analysis
  uses) and by Hutchinson (100 Rademacher probes, what it uses for smooth activations), the
  density by stochastic Lanczos quadrature (1 probe x 100 steps, PyHessian's default);
- PyHessian (Yao et al. 2020) on a torch copy of the network (CrossEntropyLoss, mean):
  top-5 by power iteration with deflation, the trace by Hutchinson (until its relative change
  is below tol, at most 100 probes), the density by SLQ (1 x 100). Run twice: with its
  defaults (tol 1e-3) and with tol 1e-7 (maxIter 1000), which the 1e-6 agreement asks for.

PyHessian needs PyTorch; it runs in `--torch-python` (an interpreter with torch and pyhessian,
e.g. a venv with `pip install torch pyhessian`), as a subprocess reading the weights from a
file (PyHessian 0.1's density calls torch.eig, removed from torch since 1.9: the runner
supplies it through torch.linalg.eigh). Times are process CPU seconds (user + sys) of each computation alone, one thread, so
the ratios hold on a loaded machine. Prints a Markdown table for docs/engine.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

TOP_N, TRACE_PROBES, SLQ_STEPS = 5, 100, 100


def cpu() -> float:
    times = os.times()
    return times.user + times.system


def fitted_digits():
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=200, random_state=0).fit(X, y)
    return model, X, y


def ours(model, X, y) -> dict:
    from sklandscape.analyses.spectrum import (
        HessianOperator,
        exact_trace,
        extreme_eigenpairs,
        hutchinson_trace,
        stochastic_lanczos_quadrature,
    )
    from sklandscape.model.network import Network

    net = Network.from_estimator(model)
    found = {"weights": len(net.flat)}
    start = cpu()
    op = HessianOperator(net, X, y)
    top = extreme_eigenpairs(op, TOP_N, "LA")
    found["top_seconds"], found["top"] = cpu() - start, top.values[::-1].tolist()
    found["top_products"] = op.products
    start = cpu()
    exact = exact_trace(HessianOperator(net, X, y))
    found["exact_trace_seconds"], found["exact_trace"] = cpu() - start, exact.value
    start = cpu()
    trace = hutchinson_trace(HessianOperator(net, X, y), TRACE_PROBES)
    found["trace_seconds"] = cpu() - start
    found["trace"], found["trace_se"] = trace.value, trace.standard_error
    start = cpu()
    slq = stochastic_lanczos_quadrature(HessianOperator(net, X, y), 1, SLQ_STEPS)
    found["density_seconds"], found["density_max"] = cpu() - start, float(slq.nodes.max())
    return found


PYHESSIAN_RUN = r'''
import json, os, sys, time
import numpy as np, torch
from pyhessian import hessian
torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


def eig(T, eigenvectors=False):
    # PyHessian 0.1's density calls torch.eig, removed in torch 1.9+; T is symmetric
    # tridiagonal, so eigh is its exact equivalent (values as torch.eig gave them: real, imag).
    values, vectors = torch.linalg.eigh(T)
    return torch.stack([values, torch.zeros_like(values)], dim=1), vectors


torch.eig = eig
saved = np.load(sys.argv[1])
sizes = [int(s) for s in saved["sizes"]]
layers = []
for k in range(len(sizes) - 1):
    layer = torch.nn.Linear(sizes[k], sizes[k + 1])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(saved[f"coef{k}"].T))
        layer.bias.copy_(torch.from_numpy(saved[f"intercept{k}"]))
    layers += [layer, torch.nn.ReLU()]
model = torch.nn.Sequential(*layers[:-1]).double()
inputs, targets = torch.from_numpy(saved["X"]), torch.from_numpy(saved["y"]).long()
criterion = torch.nn.CrossEntropyLoss()
cpu = lambda: sum(os.times()[:2])
found = {"loss": float(criterion(model(inputs), targets).detach())}
for label, tol, max_iter in (("default", 1e-3, 100), ("tight", 1e-7, 1000)):
    torch.manual_seed(0)
    np.random.seed(0)
    start = cpu()
    comp = hessian(model, criterion, data=(inputs, targets), cuda=False)
    top, _ = comp.eigenvalues(maxIter=max_iter, tol=tol, top_n=5)
    found[f"top_seconds_{label}"], found[f"top_{label}"] = cpu() - start, [float(v) for v in top]
    start = cpu()
    trace = comp.trace(maxIter=100, tol=tol)
    found[f"trace_seconds_{label}"] = cpu() - start
    found[f"trace_{label}"] = float(np.mean(trace))
    found[f"trace_se_{label}"] = float(np.std(trace, ddof=1) / np.sqrt(len(trace)))
    found[f"trace_probes_{label}"] = len(trace)
start = cpu()
eigen, weights = comp.density(iter=100, n_v=1)
found["density_seconds"], found["density_max"] = cpu() - start, float(np.max(eigen))
print(json.dumps(found))
'''


def pyhessian(model, X, y, python: str) -> dict | str:
    """PyHessian's numbers on the same weights, or why they could not be had."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "network.npz"
        arrays = {f"coef{k}": c for k, c in enumerate(model.coefs_)}
        arrays |= {f"intercept{k}": b for k, b in enumerate(model.intercepts_)}
        sizes = [X.shape[1], *model.hidden_layer_sizes, model.coefs_[-1].shape[1]]
        np.savez(path, X=X, y=y, sizes=np.array(sizes), **arrays)
        script = Path(folder) / "run.py"
        script.write_text(PYHESSIAN_RUN)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        done = subprocess.run([python, str(script), str(path)], capture_output=True, text=True,
                              env=env)
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return json.loads(done.stdout.strip().splitlines()[-1])


def slice_rows(model, X, y) -> list[str]:
    """The slice's gradient and 2x2 Hessian per grid point (curvature maps, optimizers): the
    forward jet from the lowest moving layer against the full backward pass and R-operator."""
    from sklandscape.analyses.curvature import PlaneLoss
    from sklandscape.model.network import Network
    from sklandscape.model.slice_jet import WeightSlice

    net = Network.from_estimator(model)
    rows = []
    for axes in (("W1[10,3]", "W2[3,4]"), ("W2[3,4]", "W3[4,7]"), ("W1[10,3]", "W1[20,5]")):
        points = np.array([net.value(a) for a in axes]) + np.random.default_rng(0).normal(
            0, 0.5, size=(200, 2))
        jet, full = WeightSlice(net, X, y, axes), PlaneLoss.over_weights(net, X, y, axes)
        timed = {}
        for label, method, count in (("jet gradient", jet.value_and_gradient, 200),
                                     ("full gradient", full.value_and_gradient, 40),
                                     ("jet hessian", jet.jet, 200),
                                     ("full hessian", full.jet, 40)):
            start = cpu()
            method(points[:count])
            timed[label] = (cpu() - start) / count * 1000
        rows.append(f"| {axes[0]} x {axes[1]} | {timed['jet gradient']:.2f} | "
                    f"{timed['full gradient']:.2f} | "
                    f"{timed['full gradient'] / timed['jet gradient']:.1f}x | "
                    f"{timed['jet hessian']:.2f} | {timed['full hessian']:.2f} | "
                    f"{timed['full hessian'] / timed['jet hessian']:.1f}x |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=sys.executable,
                        help="a Python with torch and pyhessian installed")
    args = parser.parse_args()
    model, X, y = fitted_digits()
    mine = ours(model, X, y)
    theirs = pyhessian(model, X, y, args.torch_python)
    print(f"machine: {platform.node()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; one thread; digits 1,797 rows, hidden [64, 32], "
          f"{mine['weights']} weights; CPU seconds")
    print("\nOn a slice over two weights, per grid point (ms of CPU): the forward jet against the "
          "full backward pass (gradient, optimizers) and two full R-operator products (2x2 "
          "Hessian, curvature maps)\n")
    print("| pair | jet gradient | full gradient | faster | jet 2x2 Hessian | full 2x2 Hessian "
          "| faster |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(slice_rows(model, X, y)))
    print()
    if isinstance(theirs, str):
        print(f"PyHessian could not run: {theirs}")
        print(json.dumps(mine, indent=1))
        return
    top = mine["top"][0]
    print()
    print("| quantity | sklandscape | PyHessian (tol 1e-3) | PyHessian (tol 1e-7) | "
          "sklandscape faster (vs 1e-3 / 1e-7) |")
    print("|---|---|---|---|---|")
    print(f"| top-5 eigenvalues, CPU s | {mine['top_seconds']:.2f} | "
          f"{theirs['top_seconds_default']:.2f} | {theirs['top_seconds_tight']:.2f} | "
          f"{theirs['top_seconds_default'] / mine['top_seconds']:.1f}x / "
          f"{theirs['top_seconds_tight'] / mine['top_seconds']:.1f}x |")
    print(f"| largest eigenvalue | {top:.10g} | {theirs['top_default'][0]:.10g} "
          f"(rel. diff {abs(theirs['top_default'][0] - top) / top:.1e}) | "
          f"{theirs['top_tight'][0]:.10g} (rel. diff "
          f"{abs(theirs['top_tight'][0] - top) / top:.1e}) | |")
    print(f"| trace, exact (relu: Gauss-Newton diagonal), CPU s | "
          f"{mine['exact_trace_seconds']:.3f} | | | "
          f"{theirs['trace_seconds_default'] / mine['exact_trace_seconds']:.1f}x / "
          f"{theirs['trace_seconds_tight'] / mine['exact_trace_seconds']:.1f}x |")
    print(f"| trace, exact | {mine['exact_trace']:.4f} | | | |")
    print(f"| trace, Hutchinson, CPU s | {mine['trace_seconds']:.2f} ({TRACE_PROBES} probes) | "
          f"{theirs['trace_seconds_default']:.2f} ({theirs['trace_probes_default']} probes) | "
          f"{theirs['trace_seconds_tight']:.2f} ({theirs['trace_probes_tight']} probes) | "
          f"{theirs['trace_seconds_default'] / mine['trace_seconds']:.1f}x / "
          f"{theirs['trace_seconds_tight'] / mine['trace_seconds']:.1f}x |")
    print(f"| trace | {mine['trace']:.4f} ± {mine['trace_se']:.4f} | "
          f"{theirs['trace_default']:.4f} ± {theirs['trace_se_default']:.4f} | "
          f"{theirs['trace_tight']:.4f} ± {theirs['trace_se_tight']:.4f} | |")
    print(f"| density (SLQ 1 x {SLQ_STEPS}), CPU s | {mine['density_seconds']:.2f} | "
          f"{theirs['density_seconds']:.2f} | | "
          f"{theirs['density_seconds'] / mine['density_seconds']:.1f}x |")
    print(f"\nother top eigenvalues: sklandscape {np.round(mine['top'], 6).tolist()}, "
          f"PyHessian (1e-7) {np.round(theirs['top_tight'], 6).tolist()}; "
          f"largest Ritz value of the density: sklandscape {mine['density_max']:.6g}, "
          f"PyHessian {theirs['density_max']:.6g}; Hessian-vector products for the top-5: "
          f"{mine['top_products']}")


if __name__ == "__main__":
    main()
