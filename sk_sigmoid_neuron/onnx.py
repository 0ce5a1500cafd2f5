"""ONNX export: a skl2onnx converter for the estimators of this package.

Importing this module registers, with :func:`skl2onnx.update_registered_converter`,
a shape calculator and a converter for :class:`SigmoidNeuronRegressor` and
:class:`SigmoidNeuronRegressorCV` (which converts its ``best_estimator_``), so
that :func:`skl2onnx.to_onnx` converts them, alone or inside a
:class:`~sklearn.pipeline.Pipeline`. It needs the ``onnx`` extra
(``pip install sk-sigmoid-neuron[onnx]``); ``import sk_sigmoid_neuron`` itself
never imports skl2onnx or onnx.

The graph computes what :meth:`SigmoidNeuronRegressor.predict` computes, in
the input's float type::

    MatMul(X, coef_.T) -> Add(intercept_) -> Sigmoid -> Mul(high - low) -> Add(low)

with ``(low, high)`` the rows of ``target_range_``. Its one output,
``variable``, has shape (n_samples, n_outputs), and (n_samples, 1) for a model
fitted on 1-D ``y``, as skl2onnx's other regressors.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as ort
>>> from skl2onnx import to_onnx
>>> import sk_sigmoid_neuron.onnx  # registers the converter
>>> from sk_sigmoid_neuron import SigmoidNeuronRegressor
>>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
>>> model = SigmoidNeuronRegressor(epochs=10, random_state=0).fit(X, [1, 2, 3])
>>> onx = to_onnx(model, X[:1])
>>> session = ort.InferenceSession(
...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
... )
>>> y_onnx = session.run(None, {"X": X})[0]
>>> y_onnx.shape
(3, 1)
>>> bool(np.allclose(y_onnx[:, 0], model.predict(X), rtol=1e-5))
True
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

try:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        guess_proto_type,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )
    from skl2onnx.proto import onnx_proto
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sk_sigmoid_neuron.onnx needs skl2onnx and onnx: install them with "
        "`pip install sk-sigmoid-neuron[onnx]` (onnxruntime runs the models)."
    ) from exc

from ._cv import SigmoidNeuronRegressorCV
from ._sigmoid_neuron import SigmoidNeuronRegressor

__all__ = ["convert_sigmoid_neuron", "sigmoid_neuron_shape_calculator"]


def _fitted_neuron(model):
    """The fitted SigmoidNeuronRegressor that predicts for ``model``."""
    check_is_fitted(model)
    return getattr(model, "best_estimator_", model)


def _output_type(input_type):
    """Float inputs keep their type; integer and boolean inputs give float."""
    if isinstance(input_type, (FloatTensorType, DoubleTensorType)):
        return type(input_type)
    return FloatTensorType


def sigmoid_neuron_shape_calculator(operator):
    """skl2onnx shape calculator: (N, n_features) -> (N, n_outputs).

    Parameters
    ----------
    operator : skl2onnx.common._topology.Operator
        The operator of the model being converted; its output type is set.
    """
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(
        operator,
        good_input_types=[
            FloatTensorType,
            DoubleTensorType,
            Int64TensorType,
            BooleanTensorType,
        ],
    )
    neuron = _fitted_neuron(operator.raw_operator)
    n_samples = operator.inputs[0].get_first_dimension()
    cls = _output_type(operator.inputs[0].type)
    operator.outputs[0].type = cls([n_samples, int(neuron.n_outputs_)])


def convert_sigmoid_neuron(scope, operator, container):
    """skl2onnx converter: ``low + Sigmoid(X @ coef_.T + intercept_) (high - low)``.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Gives unique names to variables and nodes.

    operator : skl2onnx.common._topology.Operator
        The operator of the model being converted.

    container : skl2onnx.common._container.ModelComponentContainer
        Receives the initializers and nodes of the graph.
    """
    neuron = _fitted_neuron(operator.raw_operator)
    input_type = operator.inputs[0].type
    proto = guess_proto_type(_output_type(input_type)())
    dtype = np.float64 if proto == onnx_proto.TensorProto.DOUBLE else np.float32

    coef = np.atleast_2d(neuron.coef_)  # (n_outputs, n_features)
    intercept = np.atleast_1d(neuron.intercept_)
    target_range = np.atleast_2d(neuron.target_range_)
    low, high = target_range[:, 0], target_range[:, 1]
    values = (coef, intercept, target_range, high - low)
    if (
        dtype == np.float32
        and max(np.abs(v).max() for v in values) > np.finfo(np.float32).max
    ):
        raise ValueError(
            "The model's weights or target range exceed float32 (up to 3.4e38), "
            "so a float32 graph would predict infinities; convert with float64 "
            "input: to_onnx(model, X[:1].astype(numpy.float64))."
        )
    # the same numbers predict uses: everything in the input's float type
    constants = {
        "coef": coef.T.astype(dtype),
        "intercept": intercept.astype(dtype),
        "span": (high - low).astype(dtype),
        "low": low.astype(dtype),
    }
    names = {}
    for key, value in constants.items():
        names[key] = scope.get_unique_variable_name(key)
        container.add_initializer(
            names[key], proto, list(value.shape), value.ravel().tolist()
        )

    X = operator.inputs[0].full_name
    if not isinstance(input_type, (FloatTensorType, DoubleTensorType)):
        cast = scope.get_unique_variable_name("cast_input")
        container.add_node(
            "Cast",
            [X],
            [cast],
            name=scope.get_unique_operator_name("Cast"),
            to=proto,
        )
        X = cast

    def node(op_type, inputs, output=None):
        output = output or scope.get_unique_variable_name(op_type.lower())
        container.add_node(
            op_type, inputs, [output], name=scope.get_unique_operator_name(op_type)
        )
        return output

    h = node("Add", [node("MatMul", [X, names["coef"]]), names["intercept"]])
    y_unit = node("Sigmoid", [h])
    scaled = node("Mul", [y_unit, names["span"]])
    node("Add", [scaled, names["low"]], output=operator.outputs[0].full_name)


for _model in (SigmoidNeuronRegressor, SigmoidNeuronRegressorCV):
    update_registered_converter(
        _model,
        f"SkSigmoidNeuron{_model.__name__}",
        sigmoid_neuron_shape_calculator,
        convert_sigmoid_neuron,
    )
del _model
