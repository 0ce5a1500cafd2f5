"""Fixtures that several test modules share: a dask cluster and its schedulers,
and the array devices that work on this machine."""

import importlib
import logging
import warnings

import pytest


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A local cluster of two worker processes (one thread each), per module."""
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        # the scheduler's HTTP endpoint (no dashboard) moves off a busy port
        warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            local_directory=str(tmp_path_factory.mktemp("dask-workers")),
            memory_limit="1GiB",
            silence_logs=logging.ERROR,
        )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(params=["distributed", "threads"])
def scheduler(request, client):
    """The cluster through its client, or dask's threaded scheduler."""
    import dask

    if request.param == "distributed":
        yield client
    else:
        with dask.config.set(scheduler="threads"):
            yield None


@pytest.fixture(params=["hold", "stream"])
def chunks(request):
    """A dask fit's chunks held in memory, or streamed from their source at
    every pass (issue 24)."""
    dask = pytest.importorskip("dask")
    with dask.config.set({"sk-sigmoid-neuron.chunks": request.param}):
        yield request.param


def device_skip_reason(namespace, device_name):
    """Why arrays of ``namespace`` cannot live on ``device_name`` here, or None.

    A device counts only if it works: a torch built with CUDA on a machine
    without a GPU driver has ``torch.backends.cuda.is_built()`` but no usable
    GPU, so availability is asked of the runtime and a tiny operation is run
    on the device. Other namespaces and devices (dpnp's, for instance) are left
    to scikit-learn's ``_array_api_for_tests``, which skips what is absent.
    """
    if namespace not in ("torch", "cupy", "array_api_strict"):
        return None
    try:
        xp = importlib.import_module(namespace)
    except ImportError:
        return f"{namespace} is not installed"
    if namespace == "array_api_strict":
        return None
    if namespace == "cupy":
        try:
            xp.ones(2).sum().item()
        except Exception as exc:  # no driver, no GPU: CUDARuntimeError and kin
            return f"CuPy cannot run on a GPU here ({exc})"
        return None
    if device_name in (None, "cpu"):
        return None
    if device_name == "cuda":
        available = xp.cuda.is_available()
    elif device_name == "mps":
        available = xp.backends.mps.is_available()
    elif device_name == "xpu":
        available = hasattr(xp, "xpu") and xp.xpu.is_available()
    else:
        return None
    if not available:
        return f"torch has no working {device_name} device here"
    try:
        xp.ones(2, device=device_name).sum().item()
    except Exception as exc:  # a driver or runtime that cannot start
        return f"torch cannot run on {device_name} here ({exc})"
    return None


@pytest.fixture
def skip_unless_device_works():
    """A function ``(namespace, device_name)`` that skips the test, with the
    reason, unless that device of that array library works on this machine."""

    def skip(namespace, device_name):
        reason = device_skip_reason(namespace, device_name)
        if reason is not None:
            pytest.skip(reason)

    return skip
