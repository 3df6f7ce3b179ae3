"""Run one OpenStack API (a module's WSGI ``application``) under gunicorn.

usage: wsgi_serve.py MODULE HOST:PORT PROCNAME [THREADS [APP-ARGS...]]

This OpenStack series has no standalone API servers any more; every API is WSGI-only.
APP-ARGS become the application's ``sys.argv[1:]``: Neutron and Cinder parse their options
from ``sys.argv`` with oslo.config, and would otherwise choke on ours.
"""

import importlib
import sys

from gunicorn.app.base import BaseApplication

module, bind, name = sys.argv[1], sys.argv[2], sys.argv[3]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 8
sys.argv = [name, *sys.argv[5:]]


class App(BaseApplication):  # type: ignore[misc]
    def load_config(self) -> None:
        settings = {
            "bind": bind,
            # One process per API: the box has 2 cores, and threads are enough for tests.
            "workers": 1,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 300,
            # 'Connection: close' after each response: with keep-alive, idle pooled client
            # connections race the server's keep-alive close and see ECONNRESET under load.
            "keepalive": 0,
            "graceful_timeout": 5,
            "proc_name": name,
            "errorlog": "-",
            "loglevel": "warning",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        return importlib.import_module(module).application


App().run()
