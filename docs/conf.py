"""Sphinx configuration of the sk-sigmoid-neuron documentation.

Build (warnings as errors, gallery executed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

import sk_sigmoid_neuron

# the gallery's example order lives in docs/sphinxext
sys.path.insert(0, str(Path(__file__).parent / "sphinxext"))
# examples draw off screen
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sk-sigmoid-neuron"
author = "The sk-sigmoid-neuron developers"
copyright = author
version = release = sk_sigmoid_neuron.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_templates",
    "sphinxext",
]
default_role = "literal"

# -- API reference -------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
# numpydoc lists the methods in the class template's autosummary instead
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk-sigmoid-neuron {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {"changelog": [], "getting_started": []}

# -- Gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    # every example is executed; a failing example fails the build
    "plot_gallery": "True",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sk_sigmoid_neuron",),
    "reference_url": {"sk_sigmoid_neuron": None},
    "backreferences_dir": "gen_modules/backreferences",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "min_reported_time": 1,
}
