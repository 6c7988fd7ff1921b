"""Data for training: toy sets, the real digits, batching and splitting.

>>> import chainrule as cr
>>> X, y = cr.data.load_digits()
>>> X_tr, X_te, y_tr, y_te = cr.data.train_test_split(X, y, seed=0, stratify=y)
>>> loader = cr.data.DataLoader(cr.data.TensorDataset(X_tr, y_tr), batch_size=64,
...                             shuffle=True, seed=0)
"""

from chainrule.data.digits import Digits, load_digits
from chainrule.data.loader import DataLoader, Dataset, Sampler, TensorDataset, train_test_split
from chainrule.data.sampler import DistributedSampler
from chainrule.data.synthetic import make_moons, make_spirals

__all__ = [
    "DataLoader",
    "Dataset",
    "Digits",
    "DistributedSampler",
    "Sampler",
    "TensorDataset",
    "load_digits",
    "make_moons",
    "make_spirals",
    "train_test_split",
]
