"""gunicorn's settings for dsr, read from the working directory (``gunicorn wsgi:app`` run where this file is,
as the Procfile and the systemd unit of docs/deploy.md do). The command line still sets the workers, the
address and the timeouts; this file adds what each worker does when it starts."""

import gc
import time


def post_worker_init(worker):
    """Each worker, once its app is loaded and before its first request: the templates, translations and
    holidays its first pages would otherwise load while a person waits (:func:`dsr.web.warm_up`); then what
    that made is left out of the collector's full passes as the rest of start-up is (``wsgi.py``)."""
    from flask import Flask

    app = worker.wsgi
    if not isinstance(app, Flask):  # another WSGI app served from here (bench/hello_wsgi.py, the machine's floor)
        return
    from dsr.timeutil import today
    from dsr.web import warm_up

    started = time.perf_counter()
    with app.app_context():
        warm_up(app, today=today())
    gc.freeze()
    worker.log.info("dsr: worker %s warmed up in %.2f s", worker.pid, time.perf_counter() - started)
