"""Golden model for the CNN accelerator: 4-bit QAT VGG16 on CIFAR-10, exact integer extraction,
the tiled psum reference of a weight-stationary array, and the course's text formats."""

__version__ = "0.2.0"
