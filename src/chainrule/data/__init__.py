"""Data for training: toy sets, the real digits, real names, batching and splitting.

>>> import chainrule as cr
>>> X, y = cr.data.load_digits()
>>> X_tr, X_te, y_tr, y_te = cr.data.train_test_split(X, y, seed=0, stratify=y)
>>> loader = cr.data.DataLoader(cr.data.TensorDataset(X_tr, y_tr), batch_size=64,
...                             shuffle=True, seed=0)
>>> names = cr.data.load_names()  # 1990 US Census first names, for a character-level GPT
"""

from chainrule.data.digits import Digits, load_digits
from chainrule.data.loader import DataLoader, Dataset, Sampler, TensorDataset, train_test_split
from chainrule.data.names import load_names, load_surnames
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
    "load_names",
    "load_surnames",
    "make_moons",
    "make_spirals",
    "train_test_split",
]
