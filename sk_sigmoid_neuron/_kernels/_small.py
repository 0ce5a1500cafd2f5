"""The array engine's unit for the smallest numpy data: a call's overhead is the cost.

On data of at most ``SMALL_ELEMENTS`` elements an epoch's arithmetic costs
less than the overhead of the calls that make it, so this unit makes fewer,
cheaper calls than :class:`~._array.ArrayKernel` (the performance page gives
the measured difference): X is copied once with a column of ones (the bias is
one more weight), every call writes into a buffer allocated once and passes
its constants as arrays, and the losses of a batch of epochs are computed
after it from what each epoch kept. The arithmetic is the array engine's
sigmoid and the loss table's in-place forms, operation for operation.
"""

import numpy as np

from .._loss import get_loss
from ._base import SERIAL_BLAS_ELEMENTS, Kernel

# Elements of a loss history (what a batch of epochs keeps for its losses).
SMALL_HISTORY = 1 << 16


class SmallKernel(Kernel):
    """Small dense numpy X: see the module docstring (``tcol`` as for
    :class:`~._array.ArrayKernel`)."""

    path = "small"

    def __init__(
        self, X, T, sample_weight, learnrate, *, tcol=None, leave_out=True, **common
    ):
        self._take(X, T, sample_weight, learnrate, leave_out=leave_out, **common)
        X, k, dtype, s, T = self.X, self.n_neurons, self.dtype, self.s, self.T
        if tcol is not None and T.shape[1] > 1:
            T = T[:, tcol]  # small data: a copy costs less than a gather per epoch
        n, d = X.shape
        Xa = np.empty((n, d + 1), dtype=dtype)
        Xa[:, :d] = X
        Xa[:, d] = 1
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
        self._weighted = s is not None
        self._s1 = np.ones(n, dtype=dtype) if s is None else s
        self._coef_view = self._coef[0] if k == 1 else self._coef.T  # (d + 1, k)
        if k == 1:
            # 1-D views hit BLAS gemv through np.dot, the cheapest call
            self._t, shape = T[:, 0], (n,)
        else:
            self._t, shape = np.broadcast_to(T, (n, k)), (n, k)
        self._bufs = [np.empty(shape, dtype=dtype) for _ in range(2)]
        self._one = np.ones(shape, dtype=dtype)
        self._g = np.empty(self._coef_view.shape, dtype=dtype)

    def _run(self, n_epochs):
        """Epochs of about eight calls each; the losses after each batch."""
        H, Y = self._bufs
        forward, backward = self._Xa.dot, self._XaT.dot
        w, t, g, one, gscale = (
            self._coef_view,
            self._t,
            self._g,
            self._one,
            self._gscale,
        )
        negative, exp, add, divide = np.negative, np.exp, np.add, np.divide
        multiply = np.multiply
        loss = get_loss(self.loss)
        error_term = loss.error_term_into
        k = self.n_neurons
        W = self._coef[:, :-1]
        Wv = W[0] if k == 1 else W
        decay = None
        if self.alpha:
            decay = self.decay if k == 1 else self.decay[:, None]
        n_batch = max(1, min(n_epochs, SMALL_HISTORY // H.size))
        kept = np.empty((n_batch,) + H.shape, dtype=self.dtype)
        W_hist = (
            np.empty((n_batch,) + W.shape, dtype=self.dtype) if self.alpha else None
        )
        losses = np.empty((n_epochs, k))
        for start in range(0, n_epochs, n_batch):
            m = min(n_batch, n_epochs - start)
            for i, row in enumerate(kept[:m]):
                forward(w, H)  # h
                negative(H, out=Y)  # ŷ = 1 / (1 + exp(-h)), the array engine's
                exp(Y, out=Y)
                add(Y, one, out=Y)
                divide(one, Y, out=Y)
                error_term(t, Y, H, H, kept=row, one=one)  # δ into H
                backward(H, g)  # lr / S Σ s δ x
                if gscale is not None:
                    multiply(g, gscale, out=g)
                if decay is not None:
                    W_hist[i] = W
                    multiply(Wv, decay, out=Wv)
                add(w, g, out=w)
            losses[start : start + m] = self._losses(loss, kept[:m], W_hist)
        return losses

    def _epoch_sums(self):
        """An epoch's sums from the copy of X with the bias folded in: one
        product forward, one back (the bias's sum is the last column's)."""
        Xa, s1, t = self._Xa, self._s1, self._t
        loss = get_loss(self.loss)
        H = Xa.dot(self._coef_view)
        Y = 1 / (1 + np.exp(-H))
        D = loss.error_term(t, Y)
        L = loss.value(t, Y, H)
        if self._weighted:
            D *= s1 if D.ndim == 1 else s1[:, None]
        g = Xa.T.dot(D)  # (d + 1,) or (d + 1, k)
        lsum = np.atleast_1d(s1.dot(L))
        g = g.reshape(self.n_features + 1, -1).T
        return g[:, :-1], g[:, -1], lsum

    def _losses(self, loss, kept, W_hist):
        """Mean losses of a batch of epochs from what each epoch kept."""
        m = kept.shape[0]
        ell = loss.value_from_kept(self._t, kept)
        # each epoch's sum on its own, one product of the same shape per epoch
        # (a product over the batch could sum in an order that depends on the
        # batch's size: epochs in pieces would differ)
        s1 = self._s1
        sums = np.array([s1 @ e for e in ell])
        sums = sums[:, None] if kept.ndim == 2 else sums  # (m, k)
        if self.loss == "squared_error":
            sums *= 0.5
        out = sums.astype(np.float64) / self.weight_sum
        if W_hist is not None:
            Wh = W_hist[:m].astype(np.float64)
            out += 0.5 * self.alpha * np.einsum("mkd,mkd->mk", Wh, Wh)
        return out
