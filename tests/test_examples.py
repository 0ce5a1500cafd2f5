"""Every gallery example runs headless and draws a figure; the docs' doctests pass.

The examples are the scripts in ``examples/`` that the documentation build
executes. Each runs here in its own interpreter with matplotlib's Agg backend,
as a user would run it (``python examples/plot_x.py``), through a small runner
that reports how many figures the script left open.
"""

import doctest
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
# examples that need a library the test extra does not install
NEEDS = {"plot_array_api.py": "torch"}
# the pages written by hand (sphinx-gallery writes sg_execution_times.rst
# into docs/ when the site is built)
DOC_PAGES = sorted(
    page
    for page in (ROOT / "docs").glob("*.rst")
    if page.name != "sg_execution_times.rst"
) + sorted((ROOT / "docs" / "user_guide").glob("*.rst"))

# Runs the example as __main__ and exits with 3 if it made no figure.
RUNNER = """\
import runpy, sys
import matplotlib
import matplotlib.pyplot as plt
runpy.run_path(sys.argv[1], run_name="__main__")
n_figures = len(plt.get_fignums())
print(f"backend={matplotlib.get_backend()} figures={n_figures}")
sys.exit(0 if n_figures else 3)
"""


def test_there_are_examples():
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_headless_and_draws_a_figure(script, tmp_path):
    if script.name in NEEDS:
        pytest.importorskip(NEEDS[script.name])
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script)],
        cwd=tmp_path,  # anything an example writes stays out of the tree
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{script.name} exited with {result.returncode} (3: no figure)\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.lower().startswith("backend=agg figures=")


@pytest.mark.parametrize(
    "page", DOC_PAGES, ids=[str(p.relative_to(ROOT / "docs")) for p in DOC_PAGES]
)
def test_doc_page_doctests_pass(page):
    # the ``>>>`` examples in the getting-started page and the user guide
    failed, _ = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        globs={},
    )
    assert failed == 0, f"{page.name}: {failed} doctest(s) failed (output above)"
