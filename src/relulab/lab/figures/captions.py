"""What each of the lab's figures shows: the captions the HTML report prints under them.

Kept apart from the drawing code so that the report can caption figures without importing
matplotlib. Keys are the names :func:`relulab.lab.figures.make_figures` returns.
"""

from __future__ import annotations

CAPTIONS = {
    "activation_functions": (
        "Each activation of the grid (left) and its derivative (right) on x in [-4, 4]. The derivative is the "
        "backend's automatic differentiation of the function the lab trains with, so it is what backpropagation "
        "sees; the dot marks the value used at x = 0, where rectifiers have a kink. PReLU is drawn at its initial "
        "slope, RReLU at its inference slope (lower + upper) / 2."
    ),
    "learning_curves": (
        "Test accuracy after each epoch: the line is the mean over seeds, the band its 95% confidence interval "
        "(no band with one seed). One panel per architecture (at most four: the shallowest, the deepest and "
        "evenly spaced ones). With several learning rates each activation is shown at its best one, named in "
        "the legend."
    ),
    "loss_curves": (
        "Test loss (cross-entropy) after each epoch, mean and 95% confidence band over seeds. A test loss "
        "that rises while the training loss falls is overfitting."
    ),
    "dead_fraction": (
        "Fraction of dead hidden units (units whose pre-activation stays on the flat or small-slope side of the "
        "kink for every probed example), averaged over the hidden layers, per epoch: mean and 95% band over "
        "seeds. A dead ReLU unit passes no gradient to its weights, so it rarely comes back. Activations without "
        "a flat side (sigmoid, tanh, ...) have no dead fraction and are not drawn."
    ),
    "gradient_flow": (
        "Norm of the loss gradient for each layer's kernel in the deepest network, from the first hidden layer "
        "(1) to the softmax output (out), after the first and after the last epoch; log scale, geometric mean and "
        "95% band over seeds. A line that falls steeply towards layer 1 is the vanishing-gradient problem: the "
        "first layers barely learn."
    ),
    "accuracy_vs_depth": (
        "Final test accuracy per activation and architecture (shallow to deep), mean with 95% confidence "
        "interval over seeds as error bars. With a single architecture: one dot per activation. Overlapping "
        "error bars do not settle a comparison; the paired differences in the table do."
    ),
}


# Every figure by file name (``plots/<name>.png``), in reading order: all the PNGs relulab writes.
FIGURE_NAMES = tuple(CAPTIONS)
