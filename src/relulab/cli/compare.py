"""``relulab compare``: train a grid of activations x depths x seeds, store it, and report on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from relulab.cli.train import positive_int, widths

# The library's argument name -> the flag that sets it, for error messages (see relulab.cli.flag_named).
FLAGS = {"activations": "--activations", "architectures": "--hidden/--depths", "learning_rates": "--lrs",
         "learning_rate": "--lrs", "seeds": "--seeds", "epochs": "--epochs", "batch_size": "--batch-size",
         "kernel_initializer": "--initializer", "scaling": "--scaling", "train_size": "--train-size",
         "test_size": "--test-size", "baseline": "--baseline", "name_or_path": "--dataset",
         "data_path": "--data-path", "model": "--model"}
EXAMPLE = ('relulab compare --dataset fashion_mnist --activations "relu,leaky_relu(negative_slope=0.1),prelu,'
           'sigmoid,tanh" --depths 1,3,10 --width 64 --seeds 3 --epochs 5 --out lab/first')


def split_specs(text: str) -> list[str]:
    """Split a comma-separated list of activation specs, keeping commas inside parentheses."""
    specs, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            specs.append(current.strip())
            current = ""
        else:
            current += char
    specs.append(current.strip())
    if any(not spec for spec in specs):
        raise argparse.ArgumentTypeError(f"has an empty entry: {text!r}")
    return specs


def numbers(kind: type) -> callable:
    def parse(text: str) -> list:
        try:
            return [kind(part) for part in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be comma-separated {kind.__name__}s, got {text!r}") from None
    return parse


def architectures(text: str) -> list[list[int]]:
    """``"10;100;10,10"`` -> ``[[10], [100], [10, 10]]``."""
    return [widths(part) for part in text.split(";")]


def register(subparsers: argparse._SubParsersAction) -> None:
    from relulab.cli import HelpFormatter
    from relulab.lab.presets import PRESETS
    from relulab.lab.runner import ENGINES

    presets = "\n".join(f"  {name:14s} {p['description']}" for name, p in PRESETS.items())
    parser = subparsers.add_parser(
        "compare", help="compare activations across depths and seeds", formatter_class=HelpFormatter,
        description=f"{__doc__.strip()}\n\npresets:\n{presets}\n\nexample:\n  {EXAMPLE}",
    )
    parser.add_argument("--preset", choices=list(PRESETS), help="start from a named experiment; flags override it")
    parser.add_argument("--dataset", help="built-in dataset or .npz/.csv file (default: digits)")
    parser.add_argument("--data-path", help="local copy of a built-in dataset")
    parser.add_argument("--activations", type=split_specs, help="comma-separated activation specs (default: relu)")
    parser.add_argument("--model", help="your own model instead of the MLP: 'package.module:build' (build(activation) "
                                        "returns a Keras model) or a saved model (.keras, .h5) whose activations "
                                        "are swapped per run")
    parser.add_argument("--depths", type=numbers(int), help="comma-separated numbers of hidden layers (default: 1)")
    parser.add_argument("--width", type=positive_int, help="units per hidden layer (default: 64)")
    parser.add_argument("--hidden", type=architectures,
                        help="explicit architectures instead of depths x width, e.g. '10;100;10,10'")
    parser.add_argument("--lrs", type=numbers(float), help="comma-separated Adam learning rates (default: 0.001)")
    parser.add_argument("--seeds", type=int, help="number of seeds per configuration (default: 3)")
    parser.add_argument("--epochs", type=positive_int, help="epochs per run (default: 5)")
    parser.add_argument("--batch-size", type=positive_int, help="examples per step (default: 32)")
    parser.add_argument("--initializer", help="kernel initializer name, or 'auto' per activation (default: glorot_uniform)")
    parser.add_argument("--scaling", choices=["unit", "standard"], help="input scaling (default: unit)")
    parser.add_argument("--train-size", type=positive_int, help="use only the first N training examples")
    parser.add_argument("--test-size", type=positive_int, help="use only the first N test examples")
    parser.add_argument("--baseline", help="activation the paired differences are taken against "
                                           "(default: relu if compared, else the first)")
    parser.add_argument("--engine", choices=ENGINES, default="stacked", help="how runs are trained")
    parser.add_argument("--address", help="Ray cluster address for --engine ray (default: start a local Ray)")
    parser.add_argument("--no-diagnostics", action="store_true", help="skip dead-unit and gradient-flow metrics")
    parser.add_argument("--out", type=Path, help="experiment folder (default: lab/<preset or 'compare'>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a different experiment already in --out (the same one is resumed)")
    parser.set_defaults(run=run)


def grid_from_args(args: argparse.Namespace):
    """The :class:`~relulab.lab.grid.Grid` the preset and flags describe."""
    from relulab.errors import UserError, user_input
    from relulab.lab.grid import Grid
    from relulab.lab.presets import preset
    from relulab.models import DEFAULT_HIDDEN

    settings = preset(args.preset) if args.preset else {}
    if args.address and args.engine != "ray":
        raise UserError(f"--address is for --engine ray; it would be ignored with --engine {args.engine}.")
    if args.model is not None:
        given = [flag for flag, value in (("--hidden", args.hidden), ("--depths", args.depths),
                                          ("--width", args.width), ("--initializer", args.initializer)) if value is not None]
        if given:
            raise UserError(f"--model brings its own architecture and initialisers; drop {', '.join(given)}.")
        settings["model"] = args.model
        settings.pop("architectures", None)
        settings.pop("kernel_initializer", None)
    if args.hidden is not None and (args.depths is not None or args.width is not None):
        raise UserError("--hidden gives the architectures itself; drop --depths and --width, or --hidden.")
    if args.seeds is not None:
        if args.seeds < 1:
            raise UserError(f"--seeds must be >= 1. Received: {args.seeds}")
        settings["seeds"] = tuple(range(args.seeds))
    if args.depths is not None and min(args.depths) < 1:
        raise UserError(f"--depths must all be >= 1. Received: {','.join(map(str, args.depths))}")
    if args.hidden is not None:
        settings["architectures"] = tuple(tuple(a) for a in args.hidden)
    elif args.depths is not None or args.width is not None:
        depths = args.depths or sorted({len(a) for a in settings.get("architectures", (DEFAULT_HIDDEN,))})
        settings["architectures"] = tuple((args.width or DEFAULT_HIDDEN[0],) * d for d in depths)
    simple = {"dataset": args.dataset, "data_path": args.data_path, "epochs": args.epochs,
              "batch_size": args.batch_size, "kernel_initializer": args.initializer, "scaling": args.scaling,
              "train_size": args.train_size, "test_size": args.test_size, "baseline": args.baseline,
              "diagnostics": False if args.no_diagnostics else None}
    settings.update({k: v for k, v in simple.items() if v is not None})
    if args.activations is not None:
        settings["activations"] = tuple(args.activations)
    if args.lrs is not None:
        settings["learning_rates"] = tuple(args.lrs)
    with user_input("invalid grid"):
        return Grid(**settings)


def run(args: argparse.Namespace) -> int:
    from relulab.lab import presets, stats
    from relulab.lab.runner import run_experiment
    from relulab.progress import StepProgress

    grid = grid_from_args(args)
    folder = args.out or Path("lab") / (args.preset or "compare")
    runs = len(grid.runs())
    shape = f"{len(grid.architectures)} architectures" if grid.model is None else f"the model {grid.model}"
    print(f"{runs} runs: {len(grid.activations)} activations x {shape} x "
          f"{len(grid.learning_rates)} learning rates x {len(grid.seeds)} seeds on {grid.dataset} -> {folder}")
    with StepProgress(description="compare") as bar:
        outcome = run_experiment(grid, folder, engine=args.engine, address=args.address, overwrite=args.overwrite,
                                 command=args.command_line, progress=bar.update)
    for note in outcome.notes:
        print(f"note: {note}")
    if outcome.skipped:
        print(f"resumed: {outcome.skipped} runs were already finished, {outcome.trained} trained now")
    rows = outcome.snapshot.rows
    print(stats.table(rows, grid.baseline))
    reference = presets.REFERENCES.get(args.preset or "")
    if reference:
        print("\npublished (Xiao et al. 2017, Table 3) beside ours:")
        for row in rows:
            paper = reference.get((row.activation, row.hidden))
            if paper is not None:
                ours = row.estimates["test_accuracy"]
                print(f"  {row.activation:6s} {list(row.hidden)!s:10s} paper {paper:.3f}   ours {ours.format(3)}")
    print(f"\nreport: {folder / 'report.html'}")
    return 0
