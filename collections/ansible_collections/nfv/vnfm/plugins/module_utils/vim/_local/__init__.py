# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Private building blocks of the ``local`` VIM driver (see ``vim/local.py``)."""
