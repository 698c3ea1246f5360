"""The one place each activation default lives.

The pure functions, the layers, ``get`` and the command line all read these constants, so a default
cannot differ between ``leaky_relu(x)``, ``LeakyReLU()`` and ``get("leaky_relu")`` (Keras itself has
0.2 for the function and 0.3 for the layer).
"""

# LeakyReLU: Maas, Hannun & Ng 2013 ("Rectifier Nonlinearities Improve Neural Network Acoustic Models")
# introduced the leaky rectifier with slope 0.01; PyTorch uses the same. We follow the paper.
LEAKY_RELU_NEGATIVE_SLOPE = 0.01

# PReLU: He et al. 2015 ("Delving Deep into Rectifiers") initialise every slope at 0.25.
PRELU_ALPHA = 0.25

# RReLU: Xu et al. 2015 ("Empirical Evaluation of Rectified Activations in Convolutional Network")
# draw a ~ U(3, 8) and use slope 1/a; we draw the slope itself from U(lower, upper) with PyTorch's bounds
# 1/8 and 1/3, the same range (the distribution of 1/a differs: it is not uniform on [1/8, 1/3]).
RRELU_LOWER = 1.0 / 8.0
RRELU_UPPER = 1.0 / 3.0

# ReLU6: Krizhevsky 2010; the cap of MobileNet.
RELU6_MAX_VALUE = 6.0

# ELU: Clevert, Unterthiner & Hochreiter 2016.
ELU_ALPHA = 1.0

# CELU: Barron 2017.
CELU_ALPHA = 1.0

# SELU: Klambauer et al. 2017 ("Self-Normalizing Neural Networks"), fixed constants.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805

# Softplus: PyTorch's parametrisation (1/beta) * log(1 + exp(beta * x)), linear above threshold.
SOFTPLUS_BETA = 1.0
SOFTPLUS_THRESHOLD = 20.0

# GELU: Hendrycks & Gimpel 2016; the exact erf form unless approximate=True (tanh form).
GELU_APPROXIMATE = False
