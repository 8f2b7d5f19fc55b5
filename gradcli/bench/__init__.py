"""gradcli's benchmark suite: ``python -m gradcli.bench`` (``--quick`` for a smoke run).

Every figure is measured in the same run as its NumPy floor and any installed peer
(HIPS autograd, PyTorch), and printed as a ratio. Benchmarks are not tests: the test
suite runs ``--quick`` only to see that the suite still runs.
"""
