"""What the command line's tests share: CSV files of known numbers, the model
that `fit` should train on them, and running the command line in-process."""

import csv

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor
from sk_sigmoid_neuron._cli import main

PROG = "python -m sk_sigmoid_neuron"
# The command line fits on a pandas DataFrame, stored column by column; the
# references here fit on C-ordered arrays, whose sums run in another order:
# the results agree to rounding, not bit for bit.
RTOL = 1e-12


def write_csv(path, header, rows, sep=","):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file, delimiter=sep)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def make_data(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y = 20.0 + 5.0 * np.tanh(X @ [1.0, -0.5, 0.25]) + 0.1 * rng.normal(size=n)
    return X, y


def data_rows(X, y):
    return [
        [*map(repr, row), repr(t)]
        for row, t in zip(X.tolist(), y.tolist(), strict=True)
    ]


def reference(X, y, **params):
    """The pipeline that `fit` trains, fitted here on the arrays."""
    params = {"random_state": 0, **params}
    model = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(**params))
    return model.fit(X, y)


def run(argv, capsys):
    """Exit status, stdout and stderr of the command line on ``argv``."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err
