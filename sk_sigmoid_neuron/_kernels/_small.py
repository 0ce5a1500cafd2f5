"""The "small" unit (numpy): X copied once with the bias folded in."""

import numpy as np
from scipy.special import expit

from .._loss import get_loss
from ._base import SERIAL_BLAS_ELEMENTS, Kernel

# Elements of a loss history (the errors of a batch of epochs).
SMALL_HISTORY = 1 << 16


class SmallKernel(Kernel):
    """Small data: X copied once with a column of ones so that the bias folds
    into the products; per epoch eight numpy calls and no allocation; the
    losses of a batch of epochs computed after it, from a history."""

    path = "small"

    def __init__(self, X, T, sample_weight, learnrate, **common):
        super().__init__(X, T, sample_weight, learnrate, **common)
        T, s, dtype = self.T, self.sample_weight, self.dtype
        n, d, k = self.n_samples, self.n_features, self.n_neurons
        Xa = np.empty((n, d + 1), dtype=dtype)
        Xa[:, :d] = X
        Xa[:, d] = 1
        if self._zero_rows is not None:
            # records of weight 0 get h = b (finite): no 0 * NaN below
            Xa[self._zero_rows, :d] = 0
        self._Xa = Xa
        # once X is large enough for a BLAS to split a product over threads
        # (which can change its sums); below it the limit costs more than an
        # epoch
        self.serial_blas = Xa.size >= SERIAL_BLAS_ELEMENTS
        # steps = XaT_scaled @ δ: the sample weights, and the learning rate and
        # 1/S when the neurons share them, folded into X once
        XaT = Xa.T.copy()  # never a view of Xa (n == 1 makes Xa.T contiguous)
        if not self.fit_intercept:
            XaT[d] = 0
        if s is not None:
            XaT *= s
        self._gscale = self.step  # per-neuron steps, applied to the sums
        if np.all(self.step == self.step[0]):
            with np.errstate(over="ignore"):
                folded = XaT * self.step[0]
            # unless folding overflows where the rule itself would not (huge
            # X times a huge step: the sums of saturated records are 0)
            if np.isfinite(folded).all() or not np.isfinite(XaT).all():
                XaT, self._gscale = folded, None
        self._XaT = XaT
        self._s1 = np.ones(n, dtype=dtype) if s is None else s
        if k == 1:
            # 1-D views hit BLAS gemv through np.dot, the cheapest call
            self._w = self.coef_aug[0]
            self._t = T[:, 0]
            shape = (n,)
        else:
            self._w = self.coef_aug.T  # (d + 1, k) view
            self._t = T
            shape = (n, k)
        self._bufs = [np.empty(shape, dtype=dtype) for _ in range(3)]
        self._one = np.ones(shape, dtype=dtype)
        self._g = np.empty(self._w.shape, dtype=dtype)

    def _run(self, n_epochs):
        """Epochs with eight numpy calls each; losses after each batch.

        The loop keeps, per epoch, the errors ``t - ŷ`` (squared error) or
        ``h`` (log loss) in a history; the losses of a batch of epochs then
        take a few vectorised calls instead of several calls per epoch. Calls
        pass ``out`` by position and the constant 1 as an array: each call on
        small data costs its overhead, not its arithmetic. The loss formulas
        are inlined copies of ``_loss``'s, for that reason.
        """
        H, Y, D = self._bufs
        forward, backward = self._Xa.dot, self._XaT.dot
        w, t, g, one, gscale = self._w, self._t, self._g, self._one, self._gscale
        subtract, multiply, add = np.subtract, np.multiply, np.add
        squared = self.loss == "squared_error"
        alpha, k = self.alpha, self.n_neurons
        W = self.coef_aug[:, :-1]
        Wv = W[0] if k == 1 else W
        decay = self.decay if k == 1 else self.decay[:, None]
        n_batch = max(1, min(n_epochs, SMALL_HISTORY // H.size))
        hist = np.empty((n_batch,) + H.shape, dtype=self.dtype)
        W_hist = np.empty((n_batch,) + W.shape, dtype=self.dtype) if alpha else None
        plain = squared and gscale is None and not alpha
        losses = np.empty((n_epochs, k))
        for start in range(0, n_epochs, n_batch):
            m = min(n_batch, n_epochs - start)
            if plain:  # the documented rule: the common case, no branches
                for e in hist[:m]:
                    forward(w, H)  # h
                    expit(H, Y)  # ŷ
                    subtract(t, Y, e)  # e = t - ŷ
                    subtract(one, Y, D)
                    multiply(D, Y, D)
                    multiply(e, D, D)  # δ = e (1 - ŷ) ŷ
                    backward(D, g)  # lr / S Σ s δ x
                    add(w, g, w)
            else:
                for i, row in enumerate(hist[:m]):
                    if squared:
                        forward(w, H)
                        expit(H, Y)
                        subtract(t, Y, row)
                        subtract(one, Y, D)
                        multiply(D, Y, D)
                        multiply(row, D, D)
                    else:
                        forward(w, row)  # h
                        expit(row, Y)
                        subtract(t, Y, D)  # δ = t - ŷ
                    backward(D, g)
                    if gscale is not None:
                        multiply(g, gscale, g)
                    if alpha:
                        W_hist[i] = W
                        multiply(Wv, decay, Wv)
                    add(w, g, w)
            losses[start : start + m] = self._losses(hist[:m], W_hist)
        return losses

    def _epoch_sums(self):
        """An epoch's sums from the copy of X with the bias folded in: one
        product forward, one back (the bias's sum is the last column's)."""
        Xa, s1, t = self._Xa, self._s1, self._t
        loss = get_loss(self.loss)
        w = self._w  # (d + 1,) for one neuron, else a (d + 1, k) view
        H = Xa.dot(w)
        Y = expit(H)
        tmp = np.empty_like(Y)
        L = loss.value_into(t, Y, H, out=np.empty_like(Y), tmp=tmp)
        D = loss.error_term_into(t, Y, out=H, tmp=tmp)
        if self.sample_weight is not None:
            D *= s1 if D.ndim == 1 else s1[:, None]
        g = Xa.T.dot(D)  # (d + 1,) or (d + 1, k)
        lsum = np.atleast_1d(s1.dot(L))
        g = g.reshape(self.n_features + 1, -1).T
        return g[:, :-1], g[:, -1], lsum

    def _losses(self, hist, W_hist):
        """Mean losses of a batch of epochs from their recorded history."""
        m = hist.shape[0]
        if self.loss == "squared_error":
            ell = np.multiply(hist, hist, out=hist)  # e², the 1/2 applied below
        else:
            ell = get_loss(self.loss).value_into(
                self._t, None, hist, out=np.empty_like(hist), tmp=hist
            )
        if hist.ndim == 2:
            sums = np.dot(ell, self._s1)[:, None]  # (m, 1)
        else:
            sums = np.matmul(self._s1, ell)  # (m, k)
        if self.loss == "squared_error":
            sums *= 0.5
        out = sums.astype(np.float64) / self.weight_sum
        if W_hist is not None:
            pen = np.einsum("mkd,mkd->mk", W_hist[:m], W_hist[:m])
            out += 0.5 * self.alpha * pen.astype(np.float64)
        return out
