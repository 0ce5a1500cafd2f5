"""``fit DATA.csv --target COL``: train, evaluate and save a pipeline."""

import os
import sys
import time

from . import PROG, UsageError, _io
from ._flags import estimator_params, render
from ._progress import progress


def fit_command(args):
    """Train ``StandardScaler`` + ``SigmoidNeuronRegressor`` on ``args.data``.

    Prints what it reads and trains, the progress, the training R2 and the
    cross-validated R2 (``--cv``); saves the fitted pipeline (``--model``) and
    the loss curve (``--plot``). Every check of the input comes before the
    training.
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .._sigmoid_neuron import SigmoidNeuronRegressor

    params = estimator_params(args)
    _io.pandas()
    if args.plot:
        _check_plot(args.plot)
    if args.model:
        _check_output_path(args.model, "--model")
    table = _io.read_csv(args.data, args.sep, args.decimal, args.id)
    features, left_out = _feature_names(args, table)
    X = table.numbers(features, features=True)
    y = table.numbers([args.target]).iloc[:, 0].to_numpy()
    if args.cv > len(y):
        raise UsageError(
            f"--cv {args.cv} needs at least {args.cv} rows but {args.data} has "
            f"{len(y)}; use a smaller --cv (or 0)"
        )
    model = SigmoidNeuronRegressor(**params)
    pipe = make_pipeline(StandardScaler(), model)
    split = "" if table.sep == "," else f" (split at {_io.delimiter_name(table.sep)})"
    print(
        f"{args.data}: {len(y)} rows{split}; target {args.target!r}; "
        f"{len(features)} features: {', '.join(features)}"
    )
    if left_out:
        print(f"Not used as features: {', '.join(left_out)}")
    print(f"Training StandardScaler + {model!r}")
    start = time.perf_counter()
    with progress(model):
        pipe.fit(X, y)
    seconds = time.perf_counter() - start
    training_r2 = pipe.score(X, y)
    solver = {"lbfgs": "L-BFGS", "newton": "Newton's method"}.get(model.solver)
    steps = f"iterations of {solver}" if solver else "epochs"
    print(
        f"Trained {model.n_iter_} {steps} in {seconds:.2f} s: final loss "
        f"{model.loss_curve_[-1]:.6g}, training R2 {training_r2:.4f}"
    )
    if model.compute_inference:
        _print_coefficients(model, features)
    if args.cv:
        folds = KFold(args.cv, shuffle=True, random_state=model.random_state)
        # the folds score predictions: standard errors would cost time and warn
        unfitted = clone(pipe).set_params(
            sigmoidneuronregressor__compute_inference=False
        )
        scores = cross_val_score(unfitted, X, y, cv=folds, error_score="raise")
        print(
            f"Cross-validated R2 ({args.cv}-fold): {scores.mean():.4f} "
            f"(std {scores.std():.4f})"
        )
        if scores.mean() < 0:
            _warn_negative_r2(
                f"the cross-validated R2 {scores.mean():.4f}", args, model
            )
    elif training_r2 < 0:
        _warn_negative_r2(f"the training R2 {training_r2:.4f}", args, model)
    if args.model:
        import joblib

        try:
            joblib.dump(pipe, args.model)
        except OSError as exc:
            raise UsageError(f"cannot write {args.model}: {exc.strerror}") from None
        print(f"Saved the fitted pipeline to {args.model}")
    else:
        print("No --model given: the fitted pipeline is not saved.")
    if args.plot:
        _plot_loss(pipe, args)
        print(f"Saved the loss curve to {args.plot}")
    return 0


def _feature_names(args, table):
    """The feature columns, and the columns left out (for the user to see)."""
    table.check_columns([args.target], "--target")
    if args.id is not None:
        table.check_columns([args.id], "--id")
        if args.id == args.target:
            raise UsageError(
                f"--id and --target name the same column {args.id!r}; the id "
                "column identifies the rows, it cannot be learned"
            )
    if args.features is not None:
        features = list(dict.fromkeys(args.features))
        table.check_columns(features, "--features")
        for name, what in [(args.target, "the target"), (args.id, "the --id")]:
            if name in features:
                raise UsageError(
                    f"--features includes {what} column {name!r}; leave it out of "
                    "--features"
                )
        left_out = []
    else:
        excluded = list(dict.fromkeys(args.exclude))
        table.check_columns(excluded, "--exclude")
        left_out = [f"{args.id} (--id)"] if args.id is not None else []
        left_out += [name for name in excluded if name not in (args.target, args.id)]
        features = [
            name
            for name in table.columns
            if name not in (args.target, args.id, *excluded)
        ]
    if not features:
        besides = " and the columns --id and --exclude leave out" if left_out else ""
        raise UsageError(
            f"{args.data} has no column besides the target {args.target!r}"
            f"{besides} to learn from"
        )
    if table.has_index:
        left_out.insert(0, "the unnamed first column (the row index)")
    return features, left_out


def _print_coefficients(model, features):
    """The weights and the bias with their robust standard errors, as a table."""
    rows = [
        *zip(features, model.coef_, model.coef_se_, strict=True),
        ("(intercept)", model.intercept_, model.intercept_se_),
    ]
    width = max(12, *(len(name) for name, _, _ in rows))
    print(
        "Coefficients on the standardised features (the sigmoid's input, the "
        "target scaled to [0, 1]), with robust (HC0) standard errors:"
    )
    print(f"{'':<{width}}{'coef':>12}{'std. error':>12}")
    for name, coef, se in rows:
        print(f"{name:<{width}}{coef:>12.6g}{se:>12.6g}")


def _warn_negative_r2(what, args, model):
    """One line on stderr: the model predicts worse than the target's mean."""
    if model.solver == "gd" and model.learnrate != "auto":
        advice = f"try {render('learnrate', 'auto')} or a smaller --learnrate"
    else:
        check = "--epochs and --alpha" if model.solver == "gd" else "--alpha"
        advice = f"the features may not predict it; check them and {check}"
    print(
        f"{PROG} fit: warning: {what} is below 0: the model predicts "
        f"{args.target!r} worse than its mean does; {advice}",
        file=sys.stderr,
    )


def _check_output_path(path, option):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {folder} does not exist")


def _check_plot(path):
    """Fail before training if the loss curve could not be saved."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib, which is not installed; install it with "
            "pip install 'sk-sigmoid-neuron[plot]' or leave out --plot"
        ) from None
    _check_output_path(path, "--plot")
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    formats = Figure().canvas.get_supported_filetypes()
    if extension not in formats:
        what = f"cannot write .{extension} files" if extension else "needs a file type"
        raise UsageError(
            f"--plot {path}: matplotlib {what}; end the name with one of "
            + ", ".join("." + name for name in sorted(formats))
        )


def _plot_loss(pipe, args):
    from matplotlib.figure import Figure

    from .._plot import LossCurveDisplay

    model = pipe[-1]
    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    display = LossCurveDisplay.from_estimator(pipe, ax=figure.subplots())
    if min(model.loss_curve_) > 0:
        display.ax_.set_yscale("log")
    step = f"solver={model.solver}"
    if model.learnrate_ is not None:
        step = f"learnrate={model.learnrate_:.4g}"
    display.ax_.set(
        ylabel=f"Training loss ({model.loss}, target scaled to [0, 1])",
        title=f"{os.path.basename(args.data)}: target {args.target!r}, {step}",
    )
    try:
        figure.savefig(args.plot, dpi=120)
    except OSError as exc:
        raise UsageError(f"cannot write {args.plot}: {exc.strerror}") from None
