"""The estimator's parameters as flags of `fit` (sk_sigmoid_neuron/_cli/_flags.py)."""

import csv
import warnings

import joblib
import numpy as np
import pytest
from cli_helpers import PROG, run
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import SigmoidNeuronRegressor
from sk_sigmoid_neuron._cli._flags import FLAGS, estimator_params, render
from sk_sigmoid_neuron._cli._parser import parser

# the parameters that `fit` does not offer, each for a reason given in the
# user guide
NO_FLAG = {"warm_start", "verbose", "store_path"}


def fit_options():
    """The options of `fit`, by their destination."""
    commands = next(a for a in parser()._actions if a.dest == "command")
    return {action.dest: action for action in commands.choices["fit"]._actions}


def test_every_estimator_parameter_but_three_is_a_flag():
    params = SigmoidNeuronRegressor().get_params()
    assert set(FLAGS) == set(params) - NO_FLAG
    options = fit_options()
    for name in FLAGS:
        flags = options[name].option_strings
        assert flags[0] == "--" + name.replace("_", "-")
        if isinstance(params[name], bool):  # --name and --no-name
            assert flags[1] == "--no-" + name.replace("_", "-")


def test_a_flag_not_given_leaves_the_estimators_default():
    args = parser().parse_args(["fit", "d.csv", "--target", "y"])
    assert estimator_params(args) == {}
    # so that the model is the estimator's default, random_state=None included
    assert SigmoidNeuronRegressor(**estimator_params(args)).random_state is None


def test_the_help_shows_the_estimators_defaults(capsys):
    status, out, _ = run(["fit", "--help"], capsys)
    assert status == 0
    out = "".join(out.split())  # argparse wraps lines, also at hyphens
    for text in [
        "--solver {gd,lbfgs,newton}",
        "--loss {squared_error,log_loss}",
        "(default: gd)",
        "(default: squared_error)",
        "(default: auto)",
        "(default: 1000)",
        "(default: --fit-intercept)",
        "(default: --no-early-stopping)",
        "(default: --no-compute-inference)",
        "(default: minmax)",
        "--random-state INT|none",
        "(default: none)",
        "--exclude COL,COL,...",
        "--sep CHAR",
        "--decimal CHAR",
    ]:
        assert "".join(text.split()) in out, text


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--learnrate", "auto"], {"learnrate": "auto"}),
        (["--learnrate", "2"], {"learnrate": 2}),
        (["--learnrate", "0.5"], {"learnrate": 0.5}),
        (["--epochs", "30"], {"epochs": 30}),
        (["--tol", "none"], {"tol": None}),
        (["--tol", "1e-4"], {"tol": 1e-4}),
        (["--random-state", "none"], {"random_state": None}),
        (["--target-scaling", "none"], {"target_scaling": None}),
        (["--target-scaling", "0,100"], {"target_scaling": (0, 100)}),
        (["--target-scaling", "-1.5, 2"], {"target_scaling": (-1.5, 2)}),
        (["--no-fit-intercept"], {"fit_intercept": False}),
        (
            ["--early-stopping", "--solver", "gd"],
            {"early_stopping": True, "solver": "gd"},
        ),
        (["--compute-inference"], {"compute_inference": True}),
    ],
)
def test_a_flag_turns_text_into_the_parameters_value(argv, expected):
    args = parser().parse_args(["fit", "d.csv", "--target", "y", *argv])
    params = estimator_params(args)
    assert params == expected
    assert {k: type(v) for k, v in params.items()} == {
        k: type(v) for k, v in expected.items()
    }


@pytest.mark.parametrize(
    "flag, value, shown",
    [
        ("--epochs", "0", "0"),
        ("--epochs", "1.5", "1.5"),
        ("--epochs", "abc", "'abc'"),
        ("--learnrate", "-1", "-1"),
        ("--learnrate", "inf", "inf"),
        ("--learnrate", "fast", "'fast'"),
        ("--alpha", "-0.5", "-0.5"),
        ("--tol", "-1", "-1"),
        ("--solver", "irls", "'irls'"),
        ("--loss", "huber", "'huber'"),
        ("--random-state", "x", "'x'"),
        ("--validation-fraction", "1", "1"),
        ("--n-iter-no-change", "0", "0"),
        ("--target-scaling", "1", "1"),
    ],
)
def test_a_value_the_estimator_rejects_is_reported_for_the_flag(
    flag, value, shown, tmp_path, capsys, monkeypatch
):
    # the estimator's own check (scikit-learn's InvalidParameterError), in the
    # flag's name, before DATA.csv is read (it does not exist here)
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["fit", "d.csv", "--target", "y", flag, value], capsys)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"{PROG} fit: error: argument {flag}: must be ")
    assert f"Got {shown} instead" in err
    assert "parameter of SigmoidNeuronRegressor" not in err


def test_the_flags_reach_the_estimator(tmp_path, capsys):
    pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 2))
    y = 20.0 + 5.0 * np.tanh(X @ [1.0, -0.5]) + 0.1 * rng.normal(size=80)
    data = tmp_path / "d.csv"
    with open(data, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["a", "b", "y"])
        writer.writerows(
            [*map(repr, row), repr(t)]
            for row, t in zip(X.tolist(), y.tolist(), strict=True)
        )
    expected = dict(
        solver="gd",
        loss="log_loss",
        learnrate=0.5,
        epochs=40,
        alpha=0.01,
        tol=1e-4,
        n_iter_no_change=3,
        early_stopping=True,
        validation_fraction=0.2,
        fit_intercept=False,
        target_scaling=(10.0, 30.0),
        compute_inference=True,
        random_state=3,
    )
    argv = ["fit", str(data), "--target", "y", "--cv", "0"]
    for name, value in expected.items():
        argv += render(name, value).split()
    model_file = tmp_path / "m.joblib"
    status, _, err = run([*argv, "--model", str(model_file)], capsys)
    assert status == 0, err
    saved = joblib.load(model_file)[-1]
    params = saved.get_params()
    assert {key: params[key] for key in expected} == expected
    assert params["verbose"] == 0
    reference = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(**expected))
    with warnings.catch_warnings():
        # stopped early, away from the optimum: the standard errors say so
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X, y)
    assert saved.n_iter_ == reference[-1].n_iter_ < 40  # stopped early
    # the DataFrame's column order of sums: equal to rounding
    assert_allclose(saved.coef_, reference[-1].coef_, rtol=1e-12)
    assert_allclose(saved.coef_se_, reference[-1].coef_se_, rtol=1e-9)
    assert saved.intercept_ == 0.0


@pytest.mark.parametrize(
    "name, value, flags",
    [
        ("solver", "lbfgs", "--solver lbfgs"),
        ("learnrate", "auto", "--learnrate auto"),
        ("learnrate", 2.0, "--learnrate 2"),
        ("learnrate", np.float64(0.125), "--learnrate 0.125"),
        ("learnrate", 1 / 3, f"--learnrate {1 / 3!r}"),
        ("epochs", 5000, "--epochs 5000"),
        ("tol", None, "--tol none"),
        ("target_scaling", None, "--target-scaling none"),
        ("target_scaling", "minmax", "--target-scaling minmax"),
        ("target_scaling", (0.0, 100.0), "--target-scaling 0,100"),
        ("target_scaling", ("low", "high"), "--target-scaling LOW,HIGH"),
        ("target_scaling", (-1.0, 1.0), "--target-scaling=-1,1"),
        ("alpha", -1.0, "--alpha -1"),
        ("early_stopping", True, "--early-stopping"),
        ("compute_inference", False, "--no-compute-inference"),
        ("random_state", 0, "--random-state 0"),
        ("warm_start", True, "warm_start=True"),
        ("learnrates", ["auto"], "learnrates=['auto']"),
    ],
)
def test_render_writes_a_setting_as_flags(name, value, flags):
    assert render(name, value) == flags


@pytest.mark.parametrize(
    "name, value",
    [
        ("solver", "lbfgs"),
        ("learnrate", 0.1),
        ("learnrate", 1 / 3),
        ("alpha", 1e-6),
        ("tol", None),
        ("target_scaling", (-1.5, 100.0)),
        ("early_stopping", False),
        ("random_state", None),
    ],
)
def test_what_render_writes_the_flag_reads_back(name, value):
    argv = ["fit", "d.csv", "--target", "y", *render(name, value).split()]
    assert estimator_params(parser().parse_args(argv)) == {name: value}
