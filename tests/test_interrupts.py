"""Ctrl-C stops training on every path and leaves the previous model as it was.

Each case runs in a subprocess: a first fit, then a fit that would run for far
longer than the test waits; the parent sends SIGINT once the second fit is
under way. The child catches the KeyboardInterrupt, checks that the fitted
attributes are those of the first fit, and reports how long the interrupt
took to be handled. The assertion on time is only that the fit was cut short
(a bound many times the measured latency, which the performance page
reports): the machines are shared.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# name: (the setup code, the long call); the first fit is the same call with
# epochs=2, so the model that must survive is of the same kind
CASES = {
    "compiled, small data (all epochs in few calls)": (
        "X = rng.normal(size=(1000, 50)); y = X[:, 0]\n"
        "model = SigmoidNeuronRegressor(learnrate=0.5, random_state=0)",
        "model.set_params(epochs=3_000_000).fit(X, y)",
    ),
    "compiled, large data (epoch by epoch)": (
        "X = rng.normal(size=(100_000, 40)); y = X[:, 0]\n"
        "model = SigmoidNeuronRegressor(learnrate=0.5, random_state=0)",
        "model.set_params(epochs=1_000_000).fit(X, y)",
    ),
    "numpy, small data": (
        "_kernels.BACKEND = 'numpy'\n"
        "X = rng.normal(size=(1000, 50)); y = X[:, 0]\n"
        "model = SigmoidNeuronRegressor(learnrate=0.5, random_state=0)",
        "model.set_params(epochs=10_000_000).fit(X, y)",
    ),
    "numpy, blocked": (
        "_kernels.BACKEND = 'numpy'\n"
        "X = rng.normal(size=(100_000, 40)); y = X[:, 0]\n"
        "model = SigmoidNeuronRegressor(learnrate=0.5, random_state=0)",
        "model.set_params(epochs=1_000_000).fit(X, y)",
    ),
    "sparse": (
        "from scipy import sparse\n"
        "X = sparse.random(20_000, 200, density=0.05, format='csr', random_state=0)\n"
        "y = np.asarray(X.sum(axis=1)).ravel()\n"
        "model = SigmoidNeuronRegressor(learnrate=0.5, random_state=0)",
        "model.set_params(epochs=10_000_000).fit(X, y)",
    ),
    "dask, threads": (
        "import dask.array as da\n"
        "X = da.from_array(rng.normal(size=(20_000, 20)), chunks=5_000)\n"
        "y = X[:, 0]\n"
        "model = SigmoidNeuronRegressor(learnrate=0.5, random_state=0)",
        "model.set_params(epochs=1_000_000).fit(X, y)",
    ),
    "CV bank (compiled)": (
        "X = rng.normal(size=(20_000, 20)); y = X[:, 0]\n"
        "model = SigmoidNeuronRegressorCV(learnrates=np.geomspace(0.1, 10, 16), "
        "epochs=[2], cv=2, random_state=0)",
        "model.set_params(epochs=[10_000_000]).fit(X, y)",
    ),
}

CHILD = """
import json, signal, time
import numpy as np
# Ctrl-C raises KeyboardInterrupt here even when the tests run as a background
# job, whose SIGINT is ignored and inherited (Python then installs no handler)
signal.signal(signal.SIGINT, signal.default_int_handler)
from sk_sigmoid_neuron import SigmoidNeuronRegressor, SigmoidNeuronRegressorCV, _kernels
rng = np.random.default_rng(0)
{setup}
first = {call}
fitted = lambda: {{k: repr(v) for k, v in vars(model).items() if k.endswith("_")}}
before = fitted()
print("started", flush=True)
start = time.monotonic()
try:
    {long_call}
    outcome = "finished"
except KeyboardInterrupt:
    outcome = "interrupted"
end = time.monotonic()  # CLOCK_MONOTONIC: the parent's clock too
after = fitted()
changed = sorted(k for k in before.keys() | after.keys()
                 if before.get(k) != after.get(k))
print(json.dumps({{"outcome": outcome, "changed": changed,
                  "caught_at": end}}), flush=True)
"""


@pytest.mark.parametrize("case", list(CASES))
def test_ctrl_c_stops_the_fit_and_keeps_the_model(case):
    setup, long_call = CASES[case]
    first = long_call.replace("10_000_000", "2").replace("3_000_000", "2")
    first = first.replace("1_000_000", "2")
    code = CHILD.format(setup=textwrap.dedent(setup), call=first, long_call=long_call)
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout.readline().strip() == "started", child.stderr.read()
        time.sleep(1.0)  # well inside the long fit (imports and compiling done)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    report = json.loads(out.strip().splitlines()[-1])
    waited = report["caught_at"] - sent
    assert report["outcome"] == "interrupted", err
    assert report["changed"] == []
    print(f"{case}: handled {waited:.2f} s after SIGINT")
    # uninterrupted, each long fit runs for minutes; the interrupt is handled
    # within about 0.5 s (the performance page), asserted here with a margin
    # for a busy machine
    assert waited < 10, waited
