"""One sigmoid neuron per output, trained by the delta rule, for scikit-learn."""

from ._cv import SigmoidNeuronRegressorCV
from ._diagnostics import TrainingWarning
from ._plot import LossCurveDisplay
from ._sigmoid_neuron import SigmoidNeuronRegressor

__all__ = [
    "LossCurveDisplay",
    "SigmoidNeuronRegressor",
    "SigmoidNeuronRegressorCV",
    "TrainingWarning",
]
__version__ = "0.1.0"
