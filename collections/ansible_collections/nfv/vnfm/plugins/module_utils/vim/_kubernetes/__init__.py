# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Internals of the ``kubernetes`` VIM driver (``vim/kubernetes.py``)."""
