"""
===========
Quick start
===========

Fit a :class:`~sk_sigmoid_neuron.SigmoidNeuronRegressor` in a pipeline on
scikit-learn's diabetes data, compare it with
:class:`~sklearn.linear_model.LinearRegression` on held-out data, and look at
its loss curve and its predictions.
"""

# %%
# Fit
# ---
# The neuron's steps are proportional to the features, so the pipeline
# standardises them first. ``learnrate`` is the step size: its default,
# ``"auto"``, computes from the data a step that cannot diverge (about 1 to 10
# on standardised features), stored in ``learnrate_``. ``epochs`` (1000 by
# default) is the number of steps.
import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.metrics import PredictionErrorDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_sigmoid_neuron import LossCurveDisplay, SigmoidNeuronRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

model = make_pipeline(StandardScaler(), SigmoidNeuronRegressor(random_state=0))
model.fit(X_train, y_train)
linear = make_pipeline(StandardScaler(), LinearRegression()).fit(X_train, y_train)

print(f"held-out R2, sigmoid neuron:    {model.score(X_test, y_test):.3f}")
print(f"held-out R2, LinearRegression:  {linear.score(X_test, y_test):.3f}")
print(f"the step learnrate='auto' chose: learnrate_ = {model[-1].learnrate_:.3g}")

# %%
# The loss per epoch
# ------------------
# ``loss_curve_`` holds the training loss (half the mean squared error on the
# targets scaled to [0, 1]) at the start of each epoch.
# :class:`~sk_sigmoid_neuron.LossCurveDisplay` draws it; it finds the neuron
# inside the pipeline.
fig, ax = plt.subplots(layout="constrained")
LossCurveDisplay.from_estimator(
    model, ax=ax, name=f"learnrate='auto' (step {model[-1].learnrate_:.2g})"
)
ax.set_yscale("log")
ax.set_title("Training loss of the sigmoid neuron")

# %%
# Predictions against the truth
# -----------------------------
# On the dashed line a prediction equals the truth. The two models make
# similar errors on this data; the neuron's predictions are bounded by the
# range of ``y`` seen in training (the sigmoid's range mapped back to the
# target's), here disease progression scores from 25 to 346.
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), layout="constrained")
for ax, (name, estimator) in zip(
    axes, [("Sigmoid neuron", model), ("LinearRegression", linear)], strict=True
):
    PredictionErrorDisplay.from_estimator(
        estimator, X_test, y_test, kind="actual_vs_predicted", ax=ax
    )
    r2 = estimator.score(X_test, y_test)
    ax.set_title(f"{name}: held-out R2 = {r2:.3f}")
plt.show()
