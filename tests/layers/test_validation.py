"""Constructor arguments are checked where they enter; each message is pinned here."""

from __future__ import annotations

import pytest

from relulab import layers

BAD_ARGUMENTS = [
    (lambda: layers.LeakyReLU(negative_slope=float("nan")), ValueError,
     r"negative_slope of LeakyReLU must be a finite number >= 0\. Received: negative_slope=nan"),
    (lambda: layers.LeakyReLU(negative_slope=-1), ValueError,
     r"negative_slope of LeakyReLU must be a finite number >= 0\. Received: negative_slope=-1"),
    (lambda: layers.LeakyReLU(negative_slope="0.1"), TypeError,
     r"negative_slope of LeakyReLU must be a finite number >= 0\. Received: negative_slope='0\.1'"),
    (lambda: layers.LeakyReLU(negative_slope=True), TypeError, r"Received: negative_slope=True"),
    (lambda: layers.LeakyReLU(alpha=0.1), TypeError,
     r"LeakyReLU got an unknown argument alpha=0\.1\. Allowed arguments: negative_slope, plus Keras layer"),
    # None where a number is needed: ValueError, as Keras raises (its relu_test/leaky_relu_test pin the type)
    (lambda: layers.ReLU(threshold=None), ValueError, r"threshold of ReLU must be a finite number\. Received: threshold=None"),
    (lambda: layers.ReLU(negative_slope=None), ValueError, r"negative_slope of ReLU must be .* Received: negative_slope=None"),
    (lambda: layers.LeakyReLU(negative_slope=None), ValueError,
     r"negative_slope of LeakyReLU must be a finite number >= 0\. Received: negative_slope=None"),
    (lambda: layers.ELU(alpha=None), ValueError, r"alpha of ELU must be a finite number >= 0\. Received: alpha=None"),
    (lambda: layers.ReLU(max_value=-1.0), ValueError,
     r"max_value of ReLU must be a finite number >= 0 or None\. Received: max_value=-1\.0"),
    (lambda: layers.ReLU(threshold=float("inf")), ValueError, r"threshold of ReLU must be a finite number\."),
    (lambda: layers.RReLU(lower=0.4, upper=0.2), ValueError,
     r"lower of RReLU must be <= upper\. Received: lower=0\.4, upper=0\.2"),
    (lambda: layers.RReLU(seed=-3), ValueError, r"seed of RReLU must be an integer >= 0 or None\. Received: seed=-3"),
    (lambda: layers.RReLU(seed=1.5), ValueError, r"Received: seed=1\.5"),
    (lambda: layers.CELU(alpha=0.0), ValueError, r"alpha of CELU must be a finite number > 0\. Received: alpha=0\.0"),
    (lambda: layers.Softplus(threshold=-1), ValueError, r"threshold of Softplus must be a finite number > 0"),
    (lambda: layers.GELU(approximate="yes"), TypeError, r"approximate of GELU must be True or False"),
    (lambda: layers.SELU(alpha=1.0), TypeError, r"SELU got an unknown argument alpha=1\.0\. Allowed arguments: none"),
    (lambda: layers.PReLU(alpha_initializer=float("nan")), ValueError,
     r"alpha_initializer of PReLU must be a finite number\. Received: alpha_initializer=nan"),
    (lambda: layers.PReLU(alpha_initializer="no_such_init"), ValueError,
     r"alpha_initializer of PReLU must be a number, an initializer name or an Initializer"),
    (lambda: layers.PReLU(shared_axes=[0]), ValueError,
     r"shared_axes of PReLU must be None \(one slope per channel\), 'all' \(one slope\) or a list of axes >= 1"),
    (lambda: layers.PReLU(shared_axes="some"), ValueError, r"Received: shared_axes='some'"),
    (lambda: layers.PReLU(slope=0.1), TypeError,
     r"PReLU got an unknown argument slope=0\.1\. Allowed arguments: alpha_initializer, alpha_regularizer, "
     r"alpha_constraint, shared_axes"),
]


@pytest.mark.parametrize(("make", "error", "match"), BAD_ARGUMENTS)
def test_bad_constructor_arguments_raise_a_message_naming_them(make, error, match):
    with pytest.raises(error, match=match):
        make()
