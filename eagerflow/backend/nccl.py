"""NCCL collectives on CuPy arrays (``cupy.cuda.nccl``), behind functions on opaque handles.

``eagerflow.distribute`` must not import cupy (DESIGN.md), so it talks to NCCL only
through this module: it creates a unique id here, broadcasts its bytes over MPI itself,
and passes the returned communicator handle back to the functions below. Every call is
enqueued on the current CuPy stream, so it is ordered after the kernels that produced
the gradients without a host synchronisation.

Example (on a 2-GPU host, one process per GPU, under ``mpiexec -n 2``)::

    uid = nccl.unique_id() if rank == 0 else numpy.zeros(nccl.UNIQUE_ID_BYTES, numpy.int8)
    # ... broadcast uid over MPI ...
    comm = nccl.communicator(size, uid, rank)
    nccl.all_reduce(comm, grads, "sum")
"""
import numpy as np

from . import _cupy

__all__ = ["UNIQUE_ID_BYTES", "available", "use_device", "unique_id", "communicator",
           "all_reduce", "broadcast", "all_gatherv", "all_to_allv"]

UNIQUE_ID_BYTES = 128  # NCCL_UNIQUE_ID_BYTES


def _nccl():
    _cupy.load()
    from cupy.cuda import nccl  # noqa: PLC0415  (backend/ is where cupy may be imported)
    return nccl


def available():
    """True when CuPy, a GPU and CuPy's NCCL bindings are all usable."""
    try:
        return bool(getattr(_nccl(), "available", True))
    except (ImportError, RuntimeError):
        return False


def use_device(local_rank):
    """Makes GPU ``local_rank % device_count`` current (one process per GPU)."""
    cp = _cupy.load()
    n = cp.cuda.runtime.getDeviceCount()
    cp.cuda.Device(int(local_rank) % n).use()


def device_count():
    """GPUs visible to this process."""
    return int(_cupy.load().cuda.runtime.getDeviceCount())


def unique_id():
    """A fresh NCCL unique id as an int8 array of ``UNIQUE_ID_BYTES`` (rank 0 makes it)."""
    raw = _nccl().get_unique_id()
    if isinstance(raw, (bytes, bytearray)):  # CuPy >= 14 hands the id out as bytes
        return np.frombuffer(bytes(raw), dtype=np.int8).copy()
    return np.asarray(raw, dtype=np.int8)  # older CuPy: a tuple of ints


def communicator(size, uid, rank):
    """The NCCL communicator of this rank, from the unique id every rank received."""
    ids = np.asarray(uid).astype(np.int8)
    make = _nccl().NcclCommunicator
    try:
        return make(int(size), ids.tobytes(), int(rank))
    except (TypeError, OverflowError):  # older CuPy takes a tuple of ints
        return make(int(size), tuple(int(b) for b in ids), int(rank))


def _dtype(nccl, dtype):
    table = {np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64,
             np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.int32): nccl.NCCL_INT32,
             np.dtype(np.int64): nccl.NCCL_INT64, np.dtype(np.int8): nccl.NCCL_INT8,
             np.dtype(np.uint8): nccl.NCCL_UINT8}
    try:
        return table[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"NCCL collectives do not support dtype {dtype}") from None


def _stream():
    return _cupy.load().cuda.get_current_stream().ptr


def all_reduce(comm, buf, op):
    """Reduces the contiguous CuPy array ``buf`` in place across ranks (``op``: 'sum',
    'max' or 'min')."""
    nccl = _nccl()
    ops = {"sum": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}
    comm.allReduce(buf.data.ptr, buf.data.ptr, buf.size, _dtype(nccl, buf.dtype), ops[op],
                   _stream())


def broadcast(comm, buf, root):
    """Overwrites ``buf`` on every rank with ``root``'s (in place)."""
    nccl = _nccl()
    comm.bcast(buf.data.ptr, buf.size, _dtype(nccl, buf.dtype), int(root), _stream())


def _grouped_exchange(comm, sends, recvs):
    """Posts the ``(array, peer)`` sends and receives as one NCCL group (no deadlock)."""
    nccl = _nccl()
    stream = _stream()
    nccl.groupStart()
    try:
        for buf, peer in sends:
            if buf.size:
                comm.send(buf.data.ptr, buf.size, _dtype(nccl, buf.dtype), peer, stream)
        for buf, peer in recvs:
            if buf.size:
                comm.recv(buf.data.ptr, buf.size, _dtype(nccl, buf.dtype), peer, stream)
    finally:
        nccl.groupEnd()


def all_gatherv(comm, send, recv, counts):
    """Gathers each rank's flat ``send`` (``counts[r]`` elements) into ``recv`` in rank
    order; NCCL has no all-gather-v, so it is a group of point-to-point transfers."""
    offsets = np.concatenate([[0], np.cumsum(counts)])
    peers = range(len(counts))
    _grouped_exchange(comm, [(send, p) for p in peers],
                      [(recv[offsets[p]:offsets[p + 1]], p) for p in peers])


def all_to_allv(comm, send, send_counts, recv, recv_counts):
    """Sends ``send``'s ``send_counts[p]``-element chunk to each rank ``p`` and receives
    ``recv_counts[p]`` elements from it, in rank order."""
    so = np.concatenate([[0], np.cumsum(send_counts)])
    ro = np.concatenate([[0], np.cumsum(recv_counts)])
    peers = range(len(send_counts))
    _grouped_exchange(comm, [(send[so[p]:so[p + 1]], p) for p in peers],
                      [(recv[ro[p]:ro[p + 1]], p) for p in peers])
