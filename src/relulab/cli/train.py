"""``relulab train``: the article's model with any rectifier on real data, into a run folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from relulab.activations.spec import normalise_name

# The library's argument name -> the flag that sets it, for error messages (see relulab.cli.flag_named).
FLAGS = {"epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--lr", "dropout": "--dropout",
         "seed": "--seed", "hidden": "--hidden", "kernel_initializer": "--initializer", "scaling": "--scaling",
         "train_size": "--train-size", "test_size": "--test-size", "name_or_path": "--dataset",
         "data_path": "--data-path"}
EXAMPLE = 'relulab train --dataset digits --activation "leaky_relu(negative_slope=0.1)" --epochs 5 --out runs/leaky'


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def widths(text: str) -> list[int]:
    """``"100,10"`` -> ``[100, 10]``."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a width or comma-separated widths like 100,10, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"widths must be integers >= 1, got {text!r}")
    return values


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags that describe the model and its training, shared with other commands."""
    from relulab import models

    parser.add_argument("--dataset", default="digits", help="built-in dataset (relulab list datasets) or a .npz/.csv file")
    parser.add_argument("--data-path", help="local copy of a built-in dataset (mnist.npz, Fashion-MNIST IDX folder)")
    parser.add_argument("--hidden", type=widths, default=list(models.DEFAULT_HIDDEN),
                        help="hidden width, or comma-separated widths (100,10)")
    parser.add_argument("--initializer", default=models.DEFAULT_INITIALIZER,
                        help="kernel initializer: glorot_uniform, he_normal, lecun_normal, ...")
    parser.add_argument("--batch-norm", action="store_true", help="batch normalisation before each activation")
    parser.add_argument("--dropout", type=float, default=0.0, help="dropout rate after each hidden layer")
    parser.add_argument("--lr", type=float, default=models.DEFAULT_LEARNING_RATE, help="Adam learning rate")
    parser.add_argument("--epochs", type=positive_int, default=models.DEFAULT_EPOCHS, help="passes over the training set")
    parser.add_argument("--batch-size", type=positive_int, default=models.DEFAULT_BATCH_SIZE, help="examples per step")
    parser.add_argument("--scaling", choices=["unit", "standard"], default="unit",
                        help="inputs to [0, 1] or standardised")
    parser.add_argument("--train-size", type=positive_int, help="use only the first N training examples")
    parser.add_argument("--test-size", type=positive_int, help="use only the first N test examples")


def register(subparsers: argparse._SubParsersAction) -> None:
    from relulab.cli import HelpFormatter

    parser = subparsers.add_parser(
        "train", help="train the article's model with one activation", formatter_class=HelpFormatter,
        description=f"{__doc__.strip()}\n\nexample:\n  {EXAMPLE}",
    )
    parser.add_argument("--activation", default="relu", help="activation spec (relulab list activations)")
    add_model_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed for initial weights and data order")
    parser.add_argument("--monitor", action="store_true", help="record dead units and gradient flow every epoch")
    parser.add_argument("--out", type=Path, help="run folder (default: runs/<dataset>-<activation>-seed<seed>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a different run already in --out (only a run relulab wrote, proven by its "
                             ".relulab-run marker; never anything else)")
    parser.set_defaults(run=run)


def config_from_args(args: argparse.Namespace):
    """The :class:`~relulab.training.TrainConfig` the flags describe; bad values become UserErrors."""
    from relulab import layers, models
    from relulab.errors import UserError, user_input
    from relulab.training import TrainConfig

    with user_input("--activation"):
        activation = layers.canonical(args.activation)  # the spec resolved once, in its one spelling
        models.check_activation(activation, args.hidden)  # builds the layer on the input it will get
    try:
        return TrainConfig(
            dataset=args.dataset, data_path=args.data_path, activation=activation, hidden=tuple(args.hidden),
            kernel_initializer=args.initializer, batch_norm=args.batch_norm, dropout=args.dropout,
            learning_rate=args.lr, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
            scaling=args.scaling, train_size=args.train_size, test_size=args.test_size,
            monitor=getattr(args, "monitor", False),
        )
    except (ValueError, TypeError) as error:  # relulab.cli.main names the flag (FLAGS)
        raise UserError(str(error)) from error


def default_out(config) -> Path:
    name = normalise_name(Path(config.dataset).stem)
    spec = "".join(c if c.isalnum() or c in "._=-" else "_" for c in config.activation).strip("_")
    return Path("runs") / f"{name}-{spec}-seed{config.seed}"


def run(args: argparse.Namespace) -> int:
    from relulab import runs
    from relulab.progress import TrainingProgress

    config = config_from_args(args)
    out = args.out or default_out(config)
    result = runs.train_run(config, out, overwrite=args.overwrite, command=args.command_line,
                            callbacks=[TrainingProgress(description=f"{config.activation} on {config.dataset}")])
    if result is None:
        try:
            accuracy = f" (test accuracy {float(json.loads((out / runs.METRICS).read_text())['test_accuracy']):.4f})"
        except (OSError, ValueError, TypeError, KeyError):  # metrics.json missing or damaged: only a detail here
            accuracy = ""
        print(f"{out} already holds this run{accuracy}; pass --overwrite to train it again.")
        return 0
    print(f"test loss {result.test_loss:.4f}  test accuracy {result.test_accuracy:.4f}  "
          f"({result.seconds:.1f} s)  -> {out}")
    return 0
