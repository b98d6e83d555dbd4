"""A batch of cells scored from the output layer's pre-activations, in place.

network.loss and network.accuracy allocate a fresh array per step (probabilities, the true
class's, clipped, logged, the predicted class, the hits): for a classifier that is the whole
per-sample cost of a cell. Here the same operations, in the same order, run on the logits'
own buffer and on scratch arrays allocated once, so every value is the bits of the plain pass
(scikit-learn's predict_proba, clipped as log_loss clips it) without a page fault per chunk.
"""

from __future__ import annotations

import numpy as np

from sklandscape.model.network import PROBABILITY_EPS, Network, mse


class Scorer:
    """Scores up to `cells` cells of a network on targets y: a regressor's mean squared error
    (over rows and outputs), a classifier's log-loss and accuracy."""

    def __init__(self, net: Network, y: np.ndarray, cells: int):
        self.net, self.y = net, y
        if net.is_classifier:
            self.index = np.asarray(y).astype(np.int64)
            self.positive = self.index == 1
            self.picked = np.broadcast_to(self.index[None, :, None], (cells, len(y), 1))
            self.work = np.empty((cells, len(y)))
            self.hits = np.empty((cells, len(y)), dtype=bool)

    def __call__(self, logits: np.ndarray) -> dict[str, np.ndarray]:
        """{"loss"} (the data loss, no penalty), and a classifier's {"accuracy"}, of the
        cells whose output pre-activations are `logits` (c, n, K); overwrites them."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if not self.net.is_classifier:  # identity output
                output = logits[..., 0] if logits.shape[-1] == 1 else logits
                return {"loss": mse(output, self.y)}
            c = len(logits)
            if self.net.out_activation == "logistic":
                p = logits[..., 0]  # 1 / (1 + exp(-z)), as network._logistic
                np.negative(p, out=p)
                np.exp(p, out=p)
                p += 1.0
                np.divide(1.0, p, out=p)
                hits = np.equal(p > 0.5, self.positive, out=self.hits[:c])
                true = self.work[:c]  # p for class 1, else 1 - p
                np.subtract(1.0, p, out=true)
                np.copyto(true, p, where=self.positive)
            else:  # softmax, as network._softmax: shift by the row's maximum, exponentiate, normalise
                logits -= logits.max(axis=-1, keepdims=True)
                np.exp(logits, out=logits)
                logits /= logits.sum(axis=-1, keepdims=True)
                hits = np.equal(np.argmax(logits, axis=-1), self.index, out=self.hits[:c])
                true = np.take_along_axis(logits, self.picked[:c], axis=-1)[..., 0]
            np.clip(true, PROBABILITY_EPS, 1.0 - PROBABILITY_EPS, out=true)
            np.log(true, out=true)
            return {"loss": -np.mean(true, axis=-1), "accuracy": np.mean(hits, axis=-1)}
