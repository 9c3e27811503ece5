"""vae_core: Fashion-MNIST variational autoencoders, their training, evaluation and bundles.

Importing the package is cheap: TensorFlow/Keras load only when a module that needs them
(model, train, evaluate, bundle) is imported.
"""

__version__ = "0.1.0"
