"""
=====================================
Serving a model with ONNX Runtime
=====================================

A fitted :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` can leave Python:
``import sk_sigmoid_neuron.onnx`` registers a converter with skl2onnx, which
turns the model, or a whole pipeline around it, into an ONNX graph that
ONNX Runtime executes from C++, C#, Java, JavaScript or Python. This example
exports a scaler-and-neuron pipeline and checks that ONNX Runtime predicts what
``predict`` predicts.
"""

# %%
# Fit a pipeline
# --------------
# The diabetes data: ten features, a disease-progression score between 25 and
# 346. The pipeline standardises the features, then one sigmoid neuron maps
# them to the score's range.
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sk_sigmoid_neuron.onnx  # noqa: F401  (registers the converter)
from sk_sigmoid_neuron import SigmoidNeuronRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = make_pipeline(
    StandardScaler(), SigmoidNeuronRegressor(epochs=500, random_state=0)
)
model.fit(X_train, y_train)
print(f"R2 on the test set: {model.score(X_test, y_test):.3f}")

# %%
# Convert and run
# ---------------
# One sample row fixes the graph's input type: float32 here, the type most
# runtimes serve. The graph is skl2onnx's ``Scaler`` for the scaler, then the
# neuron's ``MatMul``, ``Add``, ``Sigmoid`` and the affine map (``Mul``,
# ``Add``) back to the score's units.
X32 = X_test.astype(np.float32)
onx = to_onnx(model, X32[:1])
print("operators:", [node.op_type for node in onx.graph.node])

session = ort.InferenceSession(
    onx.SerializeToString(), providers=["CPUExecutionProvider"]
)
input_name = session.get_inputs()[0].name
y_onnx = session.run(None, {input_name: X32})[0]
print("ONNX output shape:", y_onnx.shape)  # (n_samples, 1) for 1-D y

# %%
# Compare with predict
# --------------------
# ``predict`` on the same float32 data, and on float64 data, against ONNX
# Runtime's float32 predictions. The differences are float32 rounding: about
# 1e-7 of the score's range.
y_pred32 = model.predict(X32)
y_pred64 = model.predict(X_test)
low, high = model[-1].target_range_
diff32 = (y_onnx[:, 0] - y_pred32) / (high - low)
diff64 = (y_onnx[:, 0] - y_pred64) / (high - low)
print(f"largest difference, float32 predict: {np.abs(diff32).max():.2e} of the range")
print(f"largest difference, float64 predict: {np.abs(diff64).max():.2e} of the range")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
ax1.scatter(y_pred64, y_onnx[:, 0], s=12, label="test records")
ax1.plot([low, high], [low, high], color="k", lw=1, label="equal predictions")
ax1.set_xlabel("predict (scikit-learn, float64)")
ax1.set_ylabel("ONNX Runtime (float32)")
ax1.set_title("Predictions of the exported pipeline")
ax1.legend()

bins = np.linspace(-2, 2, 33)
ax2.hist(1e7 * diff32, bins=bins, alpha=0.7, label="vs predict on float32 X")
ax2.hist(1e7 * diff64, bins=bins, alpha=0.7, label="vs predict on float64 X")
ax2.set_xlabel("ONNX Runtime - predict, in units of 1e-7 (high - low)")
ax2.set_ylabel("number of test records")
ax2.set_title("Differences are float32 rounding")
ax2.legend()
fig.tight_layout()
plt.show()

# %%
# Where to go from here
# ---------------------
# Save the graph with ``onx.SerializeToString()`` and load it in any ONNX
# runtime. For float64 serving, convert with a float64 sample
# (``to_onnx(model, X_test[:1])``): the predictions then equal ``predict`` to
# about 1e-15. The :ref:`persistence` page of the user guide compares ONNX with
# pickle and the skops format.
