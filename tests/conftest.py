"""Fixtures that several test modules share: a dask cluster and its schedulers."""

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
