"""The verbs of gate m4: `train` (the world model) and `pose` (its pose slot)."""

from __future__ import annotations


def add_verbs(app) -> None:
    from gates.m4.pose import add_pose_verb
    from gates.m4.train import add_train_verb

    add_train_verb(app)
    add_pose_verb(app)
