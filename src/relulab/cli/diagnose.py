"""``relulab diagnose``: dead units, saturation and gradient flow of a saved Keras model, with advice."""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

from relulab.cli.train import positive_int

EXAMPLE = "relulab diagnose runs/digits-relu-seed0/model.keras --dataset digits --probe-size 512"


def register(subparsers: argparse._SubParsersAction) -> None:
    from relulab.cli import HelpFormatter
    from relulab.diagnostics import DEFAULT_PROBE_SIZE
    from relulab.diagnostics.activity import DEFAULT_BATCH_SIZE

    parser = subparsers.add_parser(
        "diagnose", help="are the units of a saved model dead, are its gradients vanishing?",
        formatter_class=HelpFormatter, description=f"{__doc__.strip()}\n\nexample:\n  {EXAMPLE}",
    )
    parser.add_argument("model", type=Path, help="a saved Keras model (.keras, or Keras 2's .h5), loaded in Keras' "
                                                 "safe mode")
    parser.add_argument("--dataset", help="built-in dataset (relulab list datasets) or a .npz/.csv file")
    parser.add_argument("--data-path", help="local copy of a built-in dataset; alone, a .npz/.csv file")
    parser.add_argument("--split", choices=["train", "test"], default="train", help="which part probes the model")
    parser.add_argument("--scaling", choices=["unit", "standard", "none"], default="unit",
                        help="input scaling, as the model was trained with (none: the values as stored, for a "
                             "model trained on raw features); the report names it")
    parser.add_argument("--probe-size", type=positive_int, default=DEFAULT_PROBE_SIZE,
                        help="examples probed, spread evenly over the split")
    parser.add_argument("--layer", action="append", dest="layers", metavar="NAME",
                        help="measure only this layer (repeat for several); default all")
    parser.add_argument("--loss", help="Keras loss for gradient norms; default the model's compiled loss, else one "
                                       "inferred from its output (softmax: sparse categorical cross-entropy, one "
                                       "sigmoid unit: binary, linear: mean squared error); labels are fitted to it")
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE,
                        help="examples per forward pass (lower it for large convolutional models)")
    parser.add_argument("--history", type=Path, metavar="FILE",
                        help="the run's training loss per epoch: Keras' CSVLogger file (a 'loss' column) or JSON "
                             "(History.history, or a list of numbers); a non-finite loss, or an epoch at three times "
                             "the loss of uniform predictions (ln k for k classes), is a finding")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the table")
    parser.add_argument("--import", action="append", dest="imports", metavar="MODULE",
                        help="import this module first, so the custom layers it registers load (its code runs; "
                             "repeat for several). Nothing a file names is ever imported")
    parser.set_defaults(run=run)


def import_modules(names: list[str] | None) -> None:
    """Import the modules the user named with ``--import`` (their code runs: that is the point), so that
    the custom layers they register are found when the model loads. Nothing else is ever imported: not a
    module that a file beside the model (a run folder's config.json) or the model itself names.

    Raises:
        UserError: a module that cannot be imported, or whose import fails.
    """
    import importlib

    from relulab.errors import UserError

    for name in names or ():
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise UserError(f"--import {name}: cannot import it ({error}); give an importable module name "
                            f"(installed, or on PYTHONPATH), e.g. mypackage.layers") from None
        except Exception as error:  # the user's own module failed while it ran
            raise UserError(f"--import {name}: importing it failed ({type(error).__name__}: {error})") from None


def load_model(path: Path, *, imports: list[str] | None = None) -> Any:
    """``path`` loaded with ``keras.saving.load_model(path, safe_mode=True)``, after importing the modules
    ``imports`` names (``--import``) and nothing else; a UserError if it cannot be loaded."""
    import keras

    from relulab.errors import UserError

    if not path.is_file():
        raise UserError(f"{path}: no such file; give a saved Keras model (.keras)")
    import_modules(imports)
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise UserError(f"{path} is not a Keras model: a .keras file is a zip archive (model.save's output), "
                        f"this one is not")
    try:
        with warnings.catch_warnings():  # a model compiled but saved before training: its optimizer is not used here
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # an untrusted file can fail in many ways; all are the user's to fix
        reason = " ".join(str(error).split()) or type(error).__name__
        # Keras 3's message for a .keras file; its legacy loader's for a Keras 2 .h5 ("Unknown layer: 'pkg>Name'")
        unknown = re.search(r"Could not (?:locate|deserialize) \w+ '([^']+)'|Unknown \w+: '([^']+)'", reason)
        if len(reason) > 300:
            reason = reason[:300].rsplit(" ", 1)[0] + " ..."
        hint = (f"; {unknown.group(1) or unknown.group(2)!r} is a custom class: pass --import MODULE, the module that "
                f"defines and registers it (its code runs)" if unknown else "")
        raise UserError(f"{path} is not a Keras model that loads in safe mode: {reason}{hint}") from error
    if not isinstance(model, keras.Model):
        raise UserError(f"{path} holds a {type(model).__name__}, not a Keras model")
    return model


def load_data(args: argparse.Namespace, input_shape: tuple | None, *, what: str = "probe data") -> tuple[Any, str]:
    """``(dataset, source)``: ``--dataset``/``--data-path`` loaded with ``--scaling``, its inputs shaped for a
    model whose per-example input shape is ``input_shape`` (None: unknown)."""
    import dataclasses

    import numpy as np

    from relulab import data
    from relulab.errors import UserError

    if args.dataset is None and args.data_path is None:
        raise UserError(f"give the {what} with --dataset NAME (or a .npz/.csv file) or --data-path FILE")
    source = args.dataset if args.dataset is not None else args.data_path
    data_path = args.data_path if args.dataset is not None else None
    flatten = input_shape is None or len(input_shape) == 1
    dataset = data.load(source, data_path=data_path, scaling=args.scaling, flatten=flatten)
    known = input_shape is not None and all(d is not None for d in input_shape)
    shape = dataset.input_shape
    if known and shape != tuple(input_shape) and math.prod(shape) == math.prod(input_shape):
        # (28, 28) images for a (28, 28, 1) input, and the like
        dataset = dataclasses.replace(
            dataset, x_train=np.ascontiguousarray(dataset.x_train.reshape((-1, *input_shape))),
            x_test=np.ascontiguousarray(dataset.x_test.reshape((-1, *input_shape))), input_shape=tuple(input_shape))
    return dataset, str(source)


def probe_data(args: argparse.Namespace, input_shape: tuple | None) -> tuple[Any, Any, str]:
    """``(x, y, description)``: ``--probe-size`` examples spread over the chosen split, shaped for the model."""
    import numpy as np

    from relulab.diagnostics.probe import subset

    dataset, source = load_data(args, input_shape)
    x, y = (dataset.x_train, dataset.y_train) if args.split == "train" else (dataset.x_test, dataset.y_test)
    x, y = subset(x, y, args.probe_size)
    return np.ascontiguousarray(x), y, f"{source} ({args.split}, {len(x)} examples, scaling {args.scaling})"


def read_history(path: Path) -> list[float]:
    """The training loss per epoch from ``path``: JSON (``History.history``'s dict, or a list of numbers) or a
    CSV with a ``loss`` column (``keras.callbacks.CSVLogger``'s file, any of its separators); a UserError
    naming the file otherwise."""
    import csv

    from relulab.diagnostics.diagnosis import training_losses
    from relulab.errors import UserError

    expected = "give Keras' CSVLogger file, or JSON: History.history or a list of per-epoch losses"
    if not path.exists():
        raise UserError(f"--history {path}: no such file; {expected}")
    if not path.is_file():
        raise UserError(f"--history {path}: not a file; {expected}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"--history {path}: cannot be read as text ({type(error).__name__}); {expected}") from None
    if text.lstrip()[:1] in ("{", "["):
        try:
            return _at_least_one_epoch(training_losses(json.loads(text)), path)
        except (ValueError, TypeError):  # json.JSONDecodeError is a ValueError
            raise UserError(f"--history {path}: not a training history; {expected}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t") if lines else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.DictReader(lines, dialect=dialect))
    columns = list(rows[0] if rows else next(csv.reader(lines[:1], dialect), []))
    if "loss" not in columns:
        raise UserError(f"--history {path}: no 'loss' column (CSVLogger writes epoch,loss,...); found "
                        f"{', '.join(columns) if columns else 'nothing'}")
    try:
        return _at_least_one_epoch([float(row["loss"]) for row in rows], path)
    except (TypeError, ValueError):
        raise UserError(f"--history {path}: its 'loss' column holds a value that is not a number; {expected}") \
            from None


def _at_least_one_epoch(losses: list[float], path: Path) -> list[float]:
    from relulab.errors import UserError

    if not losses:
        raise UserError(f"--history {path}: holds no epoch")
    return losses


def run(args: argparse.Namespace) -> int:
    from relulab.diagnostics import diagnose
    from relulab.diagnostics.probe import input_spec
    from relulab.errors import UserError, user_input

    logging.getLogger("absl").setLevel(logging.ERROR)  # Keras' legacy .h5 loader warns about unbuilt metrics
    model = load_model(args.model, imports=args.imports)
    history = None if args.history is None else read_history(args.history)
    with user_input(str(args.model)):
        spec = input_spec(model, owner="relulab diagnose")
    x, y, described = probe_data(args, None if spec is None else spec[0])
    with user_input(f"diagnosing {args.model} on {described}"):
        try:
            report = diagnose(model, x, y, layers=args.layers, loss=args.loss, batch_size=args.batch_size,
                              history=history)
        except (ValueError, TypeError, UserError):
            raise
        except Exception as error:  # the backend's own error, e.g. a --loss that does not fit the labels
            text = re.sub(r"\{\{.*?\}\}|\[Op:.*", "", str(error)).strip()  # TensorFlow's node and op names
            reason = text.splitlines()[0] if text else type(error).__name__
            loss = args.loss or getattr(model, "loss", None)
            raise UserError(f"diagnosing {args.model} with loss {loss!r} failed ({reason}); --loss must suit "
                            f"the labels and the model's output, e.g. sparse_categorical_crossentropy for "
                            f"integer class labels and a softmax output") from error
    note = (f"loss {report.loss} inferred from the model's output layer (it was saved without one); "
            f"--loss overrides") if report.loss_inferred else None
    if args.json:
        print(json.dumps({"model_path": str(args.model), "probe": described, "note": note, **report.to_dict()},
                         indent=2))
    else:
        print(f"{args.model} on {described}")
        print(report.to_text())  # its "loss:" line says when the loss was inferred
    return 0
