"""The demo, ``python -m sk_sigmoid_neuron`` without a subcommand.

It needs only the package's dependencies (scikit-learn, numpy, scipy): the
data are scikit-learn's, no CSV file is read.
"""

import sys
import time


def demo(out=sys.stdout):
    """Fit on scikit-learn's diabetes data and print the held-out R2.

    ``SigmoidNeuronRegressor(random_state=0)`` (the default ``learnrate="auto"``)
    and ``LinearRegression``, each after a ``StandardScaler``, on the same
    split: their held-out R2, epochs and fit times, as a table on ``out``.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .._sigmoid_neuron import SigmoidNeuronRegressor

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    neuron = SigmoidNeuronRegressor(random_state=0)  # learnrate="auto"
    rows = []
    for name, model in [
        ("SigmoidNeuronRegressor", neuron),
        ("LinearRegression", LinearRegression()),
    ]:
        pipe = make_pipeline(StandardScaler(), model)
        start = time.perf_counter()
        pipe.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        epochs = getattr(pipe[-1], "n_iter_", "-")
        rows.append((name, pipe.score(X_test, y_test), epochs, seconds))
    print(
        f"Diabetes data (scikit-learn): {len(X_train)} training and "
        f"{len(X_test)} held-out records, {X.shape[1]} features, "
        "StandardScaler in a pipeline; SigmoidNeuronRegressor(random_state=0), "
        f"whose default learnrate='auto' chose the step learnrate_="
        f"{neuron.learnrate_:.3g}.",
        file=out,
    )
    print(f"{'model':<24}{'held-out R2':>12}{'epochs':>8}{'fit time':>11}", file=out)
    for name, r2, epochs, seconds in rows:
        print(f"{name:<24}{r2:>12.4f}{epochs!s:>8}{seconds * 1e3:>9.1f}ms", file=out)
    return 0
