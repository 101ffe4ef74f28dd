"""The whole-network run at scale: its report, the run sharded over simulator processes with Dask (locally or
on a farm), and the probe of how much a second process gains on this machine.

    report   per-layer cycles and utilization, agreement, speed: built (one run or many chunks), printed, saved
    farm     shards, the code/data hash of a cached result, local cluster, scheduler or dask-jobqueue
    scaling  throughput of two processes against one
"""
