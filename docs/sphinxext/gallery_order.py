"""The order of the examples in the gallery: the tour first, the rest by name."""

from pathlib import Path

# the first examples, in reading order; any other example follows, by file name
TOUR = [
    "plot_quick_start.py",
    "plot_seed_worked_example.py",
    "plot_learning_rates.py",
    "plot_grid_search_learnrate.py",
    "plot_training_diagnostics.py",
    "plot_proportions.py",
    "plot_early_stopping.py",
    "plot_partial_fit_stream.py",
]


class ExampleOrder:
    """sphinx-gallery ``within_subsection_order`` key (instantiated per folder)."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        rank = TOUR.index(name) if name in TOUR else len(TOUR)
        return (rank, name)

    def __repr__(self):
        return f"<{self.__class__.__name__}>"
