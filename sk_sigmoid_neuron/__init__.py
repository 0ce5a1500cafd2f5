"""A scikit-learn estimator: one sigmoid neuron per output, trained by the delta rule."""

from ._sigmoid_neuron import SigmoidNeuronRegressor

__all__ = ["SigmoidNeuronRegressor"]
__version__ = "0.1.0"
