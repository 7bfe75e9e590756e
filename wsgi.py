"""WSGI entry point: ``gunicorn wsgi:app`` in production, ``flask --app wsgi`` for the CLI."""

import gc

from dsr import create_app

app = create_app()

# What start-up made (modules, models, mappers, the app: some 160,000 objects, a few hundred of them garbage)
# lives as long as the process, so the collector's full passes leave it alone from here. Each full pass
# walked all of it in the middle of whichever request set it off, 100-260 ms on the 2-core machine, once
# every few hundred requests of a gunicorn worker: one such pass among the 50 creations bench/queue.py
# times (0.5-0.6 s) took a quarter of their rate (issue 15, item 3). The passes now walk what was made
# since, 20-70 ms.
gc.freeze()
