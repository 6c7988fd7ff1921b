"""Data-parallel training across processes and machines, on MPI (mpi4py).

Start N copies of a script with an MPI launcher; each joins the group, works
on its share of the data, and the gradients are averaged between them::

    mpiexec -n 4 python train.py          # or: mpiexec -n 4 chainrule train

    import chainrule as cr
    from chainrule import distributed as dist

    dist.init_process_group()              # a world of 1 without mpiexec
    model = cr.nn.parallel.DistributedDataParallel(net)   # rank 0's weights everywhere
    sampler = cr.data.DistributedSampler(dataset, seed=0)  # this rank's share
    loader = cr.data.DataLoader(dataset, batch_size=32, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()   # .grad is now the mean over ranks
            opt.step()
    if dist.get_rank() == 0:
        cr.save(net.state_dict(), "model.npz")

``pip install 'chainrule[dist]'`` brings mpi4py and MPICH. mpi4py is
imported by :func:`init_process_group` only when a launcher started the
process. See ``docs/distributed.md``.
"""

from chainrule.distributed.group import (
    all_reduce,
    barrier,
    broadcast,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_initialized,
)

__all__ = [
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_initialized",
]
