"""``predict MODEL DATA.csv``: a saved model's predictions, as CSV."""

import os
import sys

import numpy as np

from . import UsageError, _io


def predict_command(args):
    """Write the predictions of the model in ``args.model`` for ``args.data``.

    The model's feature columns are selected by name (for a model fitted on
    named columns, as ``fit`` saves it); the output has the ``--id`` column or
    the file's index first (see :func:`._io.write_predictions`).
    """
    import joblib

    _io.pandas()
    if not os.path.isfile(args.model):
        raise UsageError(f"cannot read {args.model}: no such file")
    try:
        model = joblib.load(args.model)
    except Exception as exc:  # unpickling fails in many ways
        raise UsageError(
            f"cannot load a model from {args.model} ({type(exc).__name__}: {exc}); "
            "give a file saved by `fit --model`"
        ) from None
    if not (hasattr(model, "predict") and hasattr(model, "n_features_in_")):
        raise UsageError(
            f"{args.model} holds a {type(model).__name__}, not a fitted model; give "
            "a file saved by `fit --model`"
        )
    table = _io.read_csv(args.data, args.sep, args.decimal, args.id)
    if args.id is not None:
        table.check_columns([args.id], "--id")
    features = getattr(model, "feature_names_in_", None)
    if features is None:
        # fitted from Python on an array: the columns in the file's order
        features = [name for name in table.columns if name != args.id]
        if len(features) != model.n_features_in_:
            but = " besides --id" if args.id is not None else ""
            raise UsageError(
                f"{args.data} has {len(features)} columns{but} but the model needs "
                f"{model.n_features_in_} features"
            )
        X = np.ascontiguousarray(table.numbers(features))
    else:
        X = table.numbers(list(features))
    y_pred = model.predict(X)
    if args.output is None:
        _io.write_predictions(sys.stdout, table, y_pred, args.id)
        return 0
    try:
        with open(args.output, "w", newline="", encoding="utf-8") as file:
            n = _io.write_predictions(file, table, y_pred, args.id)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"Wrote {n} predictions to {args.output}")
    return 0
