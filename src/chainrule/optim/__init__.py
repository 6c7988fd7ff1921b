"""Optimizers and learning-rate schedules with PyTorch's update equations.

>>> import chainrule as cr
>>> opt = cr.optim.Adam(model.parameters(), lr=1e-3)                # doctest: +SKIP
>>> sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)  # doctest: +SKIP
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
