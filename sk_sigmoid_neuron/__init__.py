"""One sigmoid neuron per output, trained by the delta rule, for scikit-learn."""

from ._cv import SigmoidNeuronRegressorCV
from ._plot import LossCurveDisplay
from ._sigmoid_neuron import SigmoidNeuronRegressor

__all__ = ["LossCurveDisplay", "SigmoidNeuronRegressor", "SigmoidNeuronRegressorCV"]
__version__ = "0.1.0"
