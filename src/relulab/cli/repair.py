"""``relulab repair``: diagnose a saved model, train it under the remedies the diagnosis points to, save the best.

Writes into --out (a new or empty folder; staged, then renamed into place): model.keras (the chosen
candidate trained on the first seed), repair.csv and repair.json (one row per candidate: test accuracy and
loss, mean and 95% t-interval over seeds, paired difference to the original), diagnosis.txt and
diagnosis.json, config.json (the command). The model file given is only read.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path

from relulab.cli.train import positive_int

FLAGS = {"epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--lr", "seeds": "--seeds",
         "name_or_path": "--dataset", "data_path": "--data-path"}
EXAMPLE = "relulab repair broken.keras --dataset digits --epochs 5 --seeds 3 --out repaired/"
FILES = ("model.keras", "repair.csv", "repair.json", "diagnosis.txt", "diagnosis.json", "config.json")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    from relulab.cli import HelpFormatter

    parser = subparsers.add_parser(
        "repair", help="train a saved model under the remedies its diagnosis points to; save the best",
        formatter_class=HelpFormatter, description=f"{__doc__.strip()}\n\nexample:\n  {EXAMPLE}",
    )
    parser.add_argument("model", type=Path, help="a saved Keras model (.keras, or Keras 2's .h5), loaded in Keras' "
                                                 "safe mode; never written")
    parser.add_argument("--dataset", help="built-in dataset (relulab list datasets) or a .npz/.csv file")
    parser.add_argument("--data-path", help="local copy of a built-in dataset; alone, a .npz/.csv file")
    parser.add_argument("--scaling", choices=["unit", "standard", "none"], default="unit",
                        help="input scaling, as the model was trained with and is fed (none: the values as "
                             "stored); the repaired model takes the same inputs, no scaling is added to it")
    parser.add_argument("--epochs", type=positive_int, default=5, help="epochs of each run")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="learning rate (default: the model's compiled optimizer's, else 1e-3)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="examples per step")
    parser.add_argument("--seeds", type=positive_int, default=3, help="runs per candidate, seeds 0 .. N-1")
    parser.add_argument("--loss", help="Keras loss; default the model's compiled loss, else one inferred from its "
                                       "output")
    parser.add_argument("--import", action="append", dest="imports", metavar="MODULE",
                        help="import this module first, so the custom layers it registers load (its code runs)")
    parser.add_argument("--out", type=Path, required=True, help="a new or empty folder for the results")
    parser.set_defaults(run=run)


def check_out(out: Path, model_path: Path) -> None:
    """Refuse an ``--out`` that is a file or a folder holding anything (nothing is touched)."""
    from relulab.errors import UserError

    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UserError(f"--out {out} exists and is not a folder; give a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        held = ", ".join(sorted(p.name for p in out.iterdir())[:5])
        raise UserError(f"--out {out} holds other files ({held}); relulab repair writes only into a new or empty "
                        f"folder and touched nothing: choose another folder")
    if out.resolve() == model_path.resolve():
        raise UserError(f"--out {out} is the model file itself; give a new folder")


def _write(stage: Path, result, args: argparse.Namespace, described: str) -> None:
    result.model.save(stage / "model.keras")
    rows = result.table_rows()
    with open(stage / "repair.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (stage / "repair.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    text = f"{args.model} on {described}\n{result.diagnosis.to_text()}\n"
    if result.trained_diagnosis is not None:
        text += f"\nafter training the original (seed 0):\n{result.trained_diagnosis.to_text()}\n"
    (stage / "diagnosis.txt").write_text(text)
    diagnoses = {"model": result.diagnosis.to_dict(), "trained_original": None if result.trained_diagnosis is None
                 else result.trained_diagnosis.to_dict()}
    (stage / "diagnosis.json").write_text(json.dumps(diagnoses, indent=2) + "\n")
    config = {"command": args.command_line, "model": str(args.model), "data": described, "epochs": args.epochs,
              "learning_rate": args.lr, "batch_size": args.batch_size, "seeds": list(range(args.seeds)),
              "scaling": args.scaling, "loss": args.loss, "best": result.best}
    (stage / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    from relulab.cli.diagnose import load_data, load_model
    from relulab.diagnostics.probe import input_spec
    from relulab.errors import UserError, user_input
    from relulab.progress import StepProgress
    from relulab.remedies import repair
    from relulab.run_folder import staged

    logging.getLogger("absl").setLevel(logging.ERROR)
    # one tf.function per candidate model is intended: TensorFlow's "triggered tf.function retracing" warning is not
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    check_out(args.out, args.model)
    model = load_model(args.model, imports=args.imports)
    with user_input(str(args.model)):
        spec = input_spec(model, owner="relulab repair")
    dataset, source = load_data(args, None if spec is None else spec[0], what="data")
    described = f"{source} ({dataset.n_train} train, {dataset.n_test} test examples)"
    with user_input(f"repairing {args.model} on {source}"), StepProgress(description="relulab repair") as progress:
        try:
            result = repair(model, dataset, epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
                            seeds=tuple(range(args.seeds)), loss=args.loss, progress=progress)
        except (ValueError, TypeError, UserError):
            raise
        except Exception as error:  # the backend's own error, e.g. a --loss that does not fit the labels
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise UserError(f"training {args.model} failed ({reason[:300]}); --loss must suit the labels and "
                            f"the model's output") from error
    check_out(args.out, args.model)  # still new or empty: nothing of anyone else's is replaced
    with staged(args.out) as stage:
        _write(stage, result, args, described)
    print(result.to_text())
    print(f"wrote {args.out}/ ({', '.join(FILES)})", file=sys.stderr)
    return 0
