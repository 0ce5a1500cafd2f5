"""What every benchmark script reports the same way: the machine, times, tables,
and the source tree a child process ran.

The scripts run as ``python benchmarks/NAME.py``, which puts this folder on
``sys.path``: they import this module as ``_report``.
"""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path


def versions(*names):
    """``"name version"`` (or ``"name not installed"``) for each module name."""
    out = []
    for name in names:
        try:
            module = __import__(name)
        except ImportError:
            out.append(f"{name} not installed")
        else:
            out.append(f"{name} {module.__version__}")
    return out


def machine(extras=()):
    """The CPU (and its widest SIMD), cores, memory and OS; the BLAS; Python,
    numpy, scipy, scikit-learn and numba; then ``extras`` (strings)."""
    from threadpoolctl import threadpool_info

    cpu, flags = platform.processor() or platform.machine(), ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu in ("", platform.machine()):
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = line
                    break
    except OSError:
        pass
    simd = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "")
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        mem = f", {mem:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        mem = ""
    blas = ", ".join(
        f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    )
    listed = [f"Python {platform.python_version()}"]
    listed += versions("numpy", "scipy")
    listed += [v.replace("sklearn", "scikit-learn") for v in versions("sklearn")]
    listed += versions("numba") + list(extras)
    return (
        f"{cpu}{f' ({simd})' if simd else ''}, {os.cpu_count()} cores"
        f"{f' ({usable} usable)' if usable else ''}{mem}, {platform.system()}; "
        f"BLAS {blas}; " + ", ".join(listed)
    )


def fmt_time(seconds):
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return ""
    return f"{a / b:.2f}x"


def md_table(header, rows):
    """A markdown table: the first and last columns left, the others right."""
    lines = ["| " + " | ".join(header) + " |"]
    align = ["---"] + ["---:"] * (len(header) - 2) + ["---"]
    lines.append("|" + "|".join(align[: len(header)]) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def rst_table(header, rows):
    """The same table as an rst list-table (any cell may be empty)."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" if cell else "     -" for cell in row[1:]]
    return "\n".join(lines)


def write_results(results, name, md, rst, write=True):
    """Print the markdown; with ``write``, save it and the rst as
    ``results/name.md`` and ``results/name.rst`` (the user guide includes the
    rst)."""
    print("\n" + md)
    if write:
        results.mkdir(exist_ok=True)
        (results / f"{name}.md").write_text(md + "\n", encoding="utf-8")
        (results / f"{name}.rst").write_text(rst + "\n", encoding="utf-8")
        print(f"\nwrote {results / name}.md and .rst")


def describe_tree(tree):
    """The source tree's git commit ("+" when its package has uncommitted
    changes), or None outside git."""
    path = Path(tree).resolve()
    try:
        commit = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "sk_sigmoid_neuron"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+" if dirty else "")


def run_child(script, spec, tree):
    """Run ``script --child SPEC`` on the package of ``tree`` (None: the one
    that imports); its last ``RESULT {json}`` line, or ``{"error": ...}``.

    The child must report the package it imported as ``"package"``: a
    script run from another tree imports the editable install otherwise.
    """
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(tree)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
    proc = subprocess.run(
        [sys.executable, script, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        err = proc.stderr.strip().splitlines()
        return {"error": err[-1] if err else f"exit {proc.returncode}"}
    out = json.loads(lines[-1][len("RESULT ") :])
    if tree is not None:
        want = (Path(tree) / "sk_sigmoid_neuron").resolve()
        if Path(out["package"]).resolve() != want:
            sys.exit(f"imported {out['package']}, not {want}: check PYTHONPATH")
    return out
