"""Code that several gates share: model checkpoints, evaluation data, the training loop's pieces.

Gate packages import from here, never from one another.
"""
