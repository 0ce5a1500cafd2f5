"""The command line: ``python -m sk_sigmoid_neuron``."""

import argparse
import sys
import time


def demo(out=sys.stdout):
    """The main job on its embedded default: the diabetes data, held-out R2."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ._sigmoid_neuron import SigmoidNeuronRegressor

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    rows = []
    for name, model in [
        (
            "SigmoidNeuronRegressor",
            SigmoidNeuronRegressor(learnrate=5.0, epochs=1000, random_state=0),
        ),
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
        "StandardScaler in a pipeline; SigmoidNeuronRegressor(learnrate=5.0, "
        "epochs=1000, random_state=0).",
        file=out,
    )
    print(f"{'model':<24}{'held-out R2':>12}{'epochs':>8}{'fit time':>11}", file=out)
    for name, r2, epochs, seconds in rows:
        print(f"{name:<24}{r2:>12.4f}{epochs!s:>8}{seconds * 1e3:>9.1f}ms", file=out)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sk_sigmoid_neuron",
        description="Train a sigmoid neuron (the delta rule). Without a "
        "subcommand, runs the demo on scikit-learn's diabetes data.",
    )
    parser.parse_args(argv)
    return demo()
