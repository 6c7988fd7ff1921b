"""Data-parallel training of a digits classifier: the loop of docs/distributed.md.

    mpiexec -n 2 python examples/distributed_digits.py     # or -n 1, or plain python

Every process builds the same model and takes its own share of each batch;
the gradients are averaged between the processes after every backward().
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn, optim
from chainrule.data import (
    DataLoader,
    DistributedSampler,
    TensorDataset,
    load_digits,
    train_test_split,
)
from chainrule.nn.parallel import DistributedDataParallel

dist.init_process_group()  # a world of 1 without mpiexec
rank, world = dist.get_rank(), dist.get_world_size()

X, y = load_digits()  # every process loads the data itself: nothing is sent
X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0, stratify=y)
train_set = TensorDataset(X_train, y_train)

cr.manual_seed(rank)  # different on purpose: the wrapper copies rank 0's weights
net = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
model = DistributedDataParallel(net)
opt = optim.Adam(net.parameters(), lr=1e-2)

global_batch = 64
sampler = DistributedSampler(train_set, seed=0)  # this process's share, by index
loader = DataLoader(train_set, batch_size=global_batch // world, sampler=sampler)

for epoch in range(12):
    sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
    totals = np.zeros(3)  # loss sum, correct, samples
    for xb, yb in loader:
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        opt.zero_grad()
        loss.backward()  # every .grad is now the mean over the processes
        opt.step()
        correct = int((logits.data.argmax(1) == yb.data).sum())
        totals += [float(loss.item()) * len(yb), correct, len(yb)]
    dist.all_reduce(totals)  # add up every process's share of the epoch
    if rank == 0:
        print(f"epoch {epoch}: loss {totals[0] / totals[2]:.4f}, "
              f"train accuracy {100 * totals[1] / totals[2]:.1f}% over {int(totals[2])} samples")

with cr.no_grad():
    accuracy = float((net(cr.tensor(X_test)).data.argmax(1) == y_test).mean())
if rank == 0:
    print(f"{world} process(es), test accuracy {100 * accuracy:.2f}%")
    cr.save(net.state_dict(), "digits-ddp.npz")  # rank 0 saves; every rank holds the same
